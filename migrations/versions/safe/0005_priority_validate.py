"""priority, contract 2/3: VALIDATE CONSTRAINT orders_priority_not_null

Revision ID: 0005
Revises: 0004
VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on; the scan is one long
statement, so it runs under the long statement timeout (FAULTLINE_MIGRATE_LONG_STATEMENT_TIMEOUT, 30min).
It fails if a row still has no priority (the backfill did not finish): nothing else changes then.
"""
from alembic import op

import faultline_migrate as fm

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(fm.long_statement_timeout())
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_priority_not_null")
    op.execute(fm.timeout_statements()[1])


def downgrade() -> None:
    pass  # A validated constraint is a NOT VALID one that was checked: 0004's downgrade drops it.
