-- Demo data for the orders application, at revision 0001 (before 0002: the naive twin n0002 then has a
-- table worth rewriting): :customers customers and :orders orders, inserted :batch rows a transaction.
-- psql only (its variables and \if); not a migration:
--   psql "$URL" -v orders=1000000 -f migrations/seed.sql
-- Defaults: 10000 customers, 1000000 orders, batches of 50000. Rerunning adds as many rows again.
\if :{?customers} \else \set customers 10000 \endif
\if :{?orders} \else \set orders 1000000 \endif
\if :{?batch} \else \set batch 50000 \endif
\set ON_ERROR_STOP on

CREATE OR REPLACE PROCEDURE faultline_seed(customers int, orders bigint, batch int)
LANGUAGE plpgsql AS $$
DECLARE
    first_customer bigint;
    done bigint := 0;
    n bigint;
BEGIN
    SELECT coalesce(max(id), 0) + 1 INTO first_customer FROM customers;
    INSERT INTO customers (name, email)
    SELECT 'customer ' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'c' || g || '@example.test' END
      FROM generate_series(1, customers) g;
    COMMIT;
    WHILE done < orders LOOP
        n := least(batch, orders - done);
        INSERT INTO orders (customer_id, status, amount_cents, note, created_at)
        SELECT first_customer + (random() * (customers - 1))::bigint,
               (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + (random() * 4)::int],
               (random() * 100000)::bigint,
               CASE WHEN random() < 0.3 THEN 'note ' || md5(random()::text) END,
               now() - random() * interval '365 days'
          FROM generate_series(1, n);
        done := done + n;
        COMMIT;
        RAISE NOTICE 'seed: % of % orders', done, orders;
    END LOOP;
END
$$;

CALL faultline_seed(:customers, :orders, :batch);
DROP PROCEDURE faultline_seed(int, bigint, int);
ANALYZE customers;
ANALYZE orders;
