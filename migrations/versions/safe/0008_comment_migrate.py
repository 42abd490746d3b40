"""note -> comment, migrate: the application moves to orders_v2.comment; orders.note is marked deprecated

Revision ID: 0008
Revises: 0007
Nothing moves in the database (the view is the bridge); this revision is the point in the history where every
application instance must read and write comment through orders_v2 before 0009 may run. The column comment
says so to whoever reads the catalog.
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("COMMENT ON COLUMN orders.note IS 'deprecated: read and write orders_v2.comment (revision 0009 renames it)'")


def downgrade() -> None:
    op.execute("COMMENT ON COLUMN orders.note IS NULL")
