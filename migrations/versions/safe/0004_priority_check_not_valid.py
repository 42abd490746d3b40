"""priority, contract 1/3: CHECK (priority IS NOT NULL) NOT VALID

Revision ID: 0004
Revises: 0003
NOT VALID skips the scan: ACCESS EXCLUSIVE for milliseconds, and new or updated rows are checked from now on.
Its own transaction, so the lock is gone before 0005 scans.
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD CONSTRAINT orders_priority_not_null CHECK (priority IS NOT NULL) NOT VALID")


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_priority_not_null")
