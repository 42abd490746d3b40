"""failing fixture, harmless expand: ADD COLUMN customers.phone (nullable, no default)

Revision ID: f0002
Revises: 0001
A test fixture (the [failing] history, scripts/migrate --failing), not part of the application's schema: a
step that commits before a later one fails, so `up`'s rollback has something to undo.
"""
from alembic import op

revision = "f0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE customers ADD COLUMN IF NOT EXISTS phone text")


def downgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN IF EXISTS phone")
