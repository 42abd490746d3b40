"""failing fixture, lock: ADD COLUMN orders.flagged, which needs ACCESS EXCLUSIVE on orders

Revision ID: f0003
Revises: f0002
A catalog-only change that succeeds at once on an idle table, and fails with lock_timeout (55P03) on every
try while a long transaction holds any lock on orders (even a reader's ACCESS SHARE): after
FAULTLINE_MIGRATE_LOCK_RETRIES tries (default 10, ~30 s; a test sets 2 or 3) the migration fails.
"""
from alembic import op

revision = "f0003"
down_revision = "f0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD COLUMN IF NOT EXISTS flagged boolean")


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN IF EXISTS flagged")
