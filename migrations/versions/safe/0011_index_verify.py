"""index, migrate: fail unless orders_customer_created_idx exists and is valid

Revision ID: 0011
Revises: 0010
The point where queries on (customer_id, created_at) may rely on the index; a DO block, so online and offline
run the same check.
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE c.relname = 'orders_customer_created_idx'
                      AND c.relnamespace = current_schema()::regnamespace AND i.indisvalid) THEN
        RAISE EXCEPTION 'orders_customer_created_idx is missing or INVALID: downgrade to 0009 and upgrade again';
    END IF;
END
$$""")


def downgrade() -> None:
    pass
