"""naive twin of 0010-0012: CREATE INDEX without CONCURRENTLY

Revision ID: n0004
Revises: n0003
A plain CREATE INDEX holds a SHARE lock for the whole build: reads go on, every INSERT, UPDATE and DELETE on
orders waits until the index is built.
"""
from alembic import op

revision = "n0004"
down_revision = "n0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX orders_customer_created_idx")
