"""index, contract: drop orders_customer_id_idx, which the composite index supersedes

Revision ID: 0012
Revises: 0011
(customer_id, created_at) serves every lookup by customer_id (and the foreign key's checks) that
(customer_id) did. DROP INDEX CONCURRENTLY, outside a transaction block, so reads and writes go on.
"""
from alembic import op

import faultline_migrate as fm

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(fm.long_statement_timeout())
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id)")
        op.execute(fm.timeout_statements()[1])
