"""failing fixture, constraint: a validated CHECK (status <> 'cancelled') that the seed data violates

Revision ID: f0004
Revises: f0003
seed.sql makes about one order in eight 'cancelled', so the validating scan fails with check_violation
(23514) on seeded data; an empty table passes. Not retried (not a lock timeout): the migration fails at once.
"""
from alembic import op

revision = "f0004"
down_revision = "f0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD CONSTRAINT orders_not_cancelled CHECK (status <> 'cancelled')")


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_not_cancelled")
