"""note -> comment, expand: the view orders_v2 exposes the column under both names

Revision ID: 0007
Revises: 0006
The bridge is a view, not a copy: orders_v2 is a simple (automatically updatable) view over orders with note
also selected AS comment. Old application versions go on reading and writing orders.note; the new version
reads and writes orders_v2 and its comment column. No data moves, no trigger, no table lock beyond the view's
creation.
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""CREATE VIEW orders_v2 AS
        SELECT id, customer_id, status, amount_cents, note, note AS comment, created_at, priority FROM orders""")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS orders_v2")
