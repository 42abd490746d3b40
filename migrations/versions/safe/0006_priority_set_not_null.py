"""priority, contract 3/3: SET NOT NULL through the validated check, then drop the check

Revision ID: 0006
Revises: 0005
PostgreSQL 12+ sees the valid CHECK (priority IS NOT NULL) and skips SET NOT NULL's full scan, so
ACCESS EXCLUSIVE is held for milliseconds; the check is redundant afterwards.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("-- no scan: 0005 validated CHECK (priority IS NOT NULL)\n-- squawk-ignore adding-not-nullable-field\n"
               "ALTER TABLE orders ALTER COLUMN priority SET NOT NULL")
    op.execute("-- the NOT NULL column now guarantees what the check did\n-- squawk-ignore ban-drop-constraint\n"
               "ALTER TABLE orders DROP CONSTRAINT orders_priority_not_null")


def downgrade() -> None:
    op.execute("ALTER TABLE orders ADD CONSTRAINT orders_priority_not_null CHECK (priority IS NOT NULL) NOT VALID")
    op.execute("ALTER TABLE orders ALTER COLUMN priority DROP NOT NULL")
