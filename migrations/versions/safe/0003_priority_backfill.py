"""priority, migrate: backfill orders.priority in batches keyed by id ranges, resumable

Revision ID: 0003
Revises: 0002
One batch is `faultline_backfill_priority_batch(batch_size)`: it updates the rows whose id lies in the next
range (last_id, last_id + batch_size] and have no priority yet, and records last_id in faultline_backfill in the
same transaction, so a run stopped anywhere resumes after the last committed batch. It returns the rows it
updated, or -1 once last_id has passed max(id). Rows inserted meanwhile get the default 0 (0002).

Online: a loop outside any transaction block, one batch a transaction (each retried on lock_timeout), with a
pause between batches, then a VACUUM (ANALYZE) of the table. Offline: a procedure that loops the same function with COMMIT after each batch
(PostgreSQL 11+), CALLed outside a transaction block under the long statement timeout.
Batch size FAULTLINE_MIGRATE_BATCH_ROWS (default 5000), pause FAULTLINE_MIGRATE_BATCH_PAUSE seconds (0.05).
"""
import time

from alembic import context, op
from sqlalchemy import text

import faultline_migrate as fm

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH_FUNCTION = """
CREATE OR REPLACE FUNCTION faultline_backfill_priority_batch(batch_size int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    top bigint;
    n bigint;
BEGIN
    INSERT INTO faultline_backfill (name, last_id) VALUES ('orders.priority', 0) ON CONFLICT (name) DO NOTHING;
    SELECT last_id INTO lo FROM faultline_backfill WHERE name = 'orders.priority' FOR UPDATE;
    SELECT max(id) INTO top FROM orders;
    IF top IS NULL OR lo >= top THEN
        RETURN -1;
    END IF;
    UPDATE orders SET priority = CASE WHEN amount_cents >= 50000 THEN 2 WHEN amount_cents >= 10000 THEN 1 ELSE 0 END
     WHERE id > lo AND id <= lo + batch_size AND priority IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE faultline_backfill SET last_id = lo + batch_size WHERE name = 'orders.priority';
    RETURN n;
END
$$"""

BATCH_PROCEDURE = """
CREATE OR REPLACE PROCEDURE faultline_backfill_priority(batch_size int, pause_s float8)
LANGUAGE plpgsql AS $$
BEGIN
    LOOP
        EXIT WHEN faultline_backfill_priority_batch(batch_size) < 0;
        COMMIT;
        PERFORM pg_sleep(pause_s);
    END LOOP;
    COMMIT;
END
$$"""


def upgrade() -> None:
    rows, pause = fm.backfill_settings()
    op.execute("""CREATE TABLE IF NOT EXISTS faultline_backfill (
        name text PRIMARY KEY,
        last_id bigint NOT NULL
    )""")
    op.execute(BATCH_FUNCTION)
    op.execute(BATCH_PROCEDURE)
    with op.get_context().autocommit_block():
        if context.is_offline_mode():
            op.execute(fm.long_statement_timeout())
            op.execute(f"CALL faultline_backfill_priority({rows}, {pause})")
        else:
            bind = op.get_bind()
            def batch() -> int:
                return bind.execute(text("SELECT faultline_backfill_priority_batch(:n)"), {"n": rows}).scalar_one()
            while fm.with_lock_retries(batch) >= 0:
                time.sleep(pause)
        # The backfill left a dead tuple per row. Vacuumed here, autovacuum does not start on the table just as the
        # contract's ALTERs (0004, 0006) ask for ACCESS EXCLUSIVE: they would queue behind it for their whole lock_timeout,
        # and the application behind them (measured: a 948 ms stall of every statement on orders). VACUUM's own
        # SHARE UPDATE EXCLUSIVE blocks no reads or writes; if autovacuum got there first it waits (retried on lock_timeout).
        op.execute(fm.long_statement_timeout())
        if context.is_offline_mode():
            op.execute("VACUUM (ANALYZE) orders")
        else:
            fm.with_lock_retries(lambda: bind.execute(text("VACUUM (ANALYZE) orders")))
        for statement in fm.timeout_statements():
            op.execute(statement)


def downgrade() -> None:
    # The values stay (0002's downgrade drops the column); the progress row goes, so a new upgrade starts over.
    op.execute("DROP PROCEDURE IF EXISTS faultline_backfill_priority(int, float8)")
    op.execute("DROP FUNCTION IF EXISTS faultline_backfill_priority_batch(int)")
    op.execute("DROP TABLE IF EXISTS faultline_backfill")
