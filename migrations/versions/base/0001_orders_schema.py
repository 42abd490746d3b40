"""base: the orders application's schema (customers, orders)

Revision ID: 0001
Revises:
Shared by both histories (safe and naive). Rows come from migrations/seed.sql, not from a migration.
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables in a new database: nothing to lock, and the transaction makes a failed run leave nothing.
    # bigserial is the schema's choice (identity columns would do as well).
    op.execute("""-- squawk-ignore prefer-robust-stmts
        CREATE TABLE customers (
            -- squawk-ignore prefer-identity
            id bigserial PRIMARY KEY,
            name text NOT NULL,
            email text
        )""")
    op.execute("""-- squawk-ignore prefer-robust-stmts
        CREATE TABLE orders (
            -- squawk-ignore prefer-identity
            id bigserial PRIMARY KEY,
            customer_id bigint NOT NULL REFERENCES customers (id),
            status text NOT NULL,
            amount_cents bigint NOT NULL,
            note text, -- free text
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    # The foreign key's own index; the index migration's composite index supersedes it (0012 drops it).
    op.execute("-- squawk-ignore prefer-robust-stmts\nCREATE INDEX orders_customer_id_idx ON orders (customer_id)")


def downgrade() -> None:
    op.execute("DROP TABLE orders")
    op.execute("DROP TABLE customers")
