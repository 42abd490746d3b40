"""naive twin of 0007-0009: rename orders.note to comment in place

Revision ID: n0003
Revises: n0002
The rename itself is quick, but every running application version that still says note fails from that
moment on: reads and writes break until the new version is everywhere.
"""
from alembic import op

revision = "n0003"
down_revision = "n0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders RENAME COLUMN note TO comment")


def downgrade() -> None:
    op.execute("ALTER TABLE orders RENAME COLUMN comment TO note")
