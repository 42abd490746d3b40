"""naive twin of 0002-0006: ADD COLUMN priority with a volatile default, NOT NULL at once

Revision ID: n0002
Revises: 0001
A volatile default (random()) must be evaluated for every existing row: PostgreSQL rewrites the whole table
under ACCESS EXCLUSIVE, and every read and write of orders waits for the rewrite.
"""
from alembic import op

revision = "n0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT (random() * 10)::int")


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN priority")
