"""priority, expand: add the nullable column orders.priority (no rewrite), new rows default to 0

Revision ID: 0002
Revises: 0001
A column without a default, or with a constant one, is a catalog change in PostgreSQL 11+: the table is not
rewritten and ACCESS EXCLUSIVE is held for milliseconds (acquired under lock_timeout, retried). SET DEFAULT
touches only future rows, so old application versions that do not know the column still insert valid rows;
existing rows stay NULL until 0003 backfills them.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("-- a priority is a small number\n-- squawk-ignore prefer-bigint-over-int\n"
               "ALTER TABLE orders ADD COLUMN IF NOT EXISTS priority int")
    op.execute("ALTER TABLE orders ALTER COLUMN priority SET DEFAULT 0")


def downgrade() -> None:
    # A 0003 stopped mid-backfill (a lost database, then a rollback) committed its helpers while the database
    # stayed at 0002: they go here too, or the rollback's schema would differ from 0001's.
    op.execute("DROP PROCEDURE IF EXISTS faultline_backfill_priority(int, float8)")
    op.execute("DROP FUNCTION IF EXISTS faultline_backfill_priority_batch(int)")
    op.execute("DROP TABLE IF EXISTS faultline_backfill")
    op.execute("ALTER TABLE orders DROP COLUMN IF EXISTS priority")
