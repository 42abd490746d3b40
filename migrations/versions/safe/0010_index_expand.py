"""index, expand: CREATE INDEX CONCURRENTLY orders_customer_created_idx, after dropping an INVALID leftover

Revision ID: 0010
Revises: 0009
CONCURRENTLY cannot run in a transaction block, so both statements run in an autocommit block. A CREATE INDEX
CONCURRENTLY that failed (lock_timeout while it waited for older transactions, statement_timeout, a cancel)
leaves an INVALID index of that name behind, which IF NOT EXISTS would then keep: online, pg_index.indisvalid
tells, and only an invalid one is dropped. Offline SQL cannot ask, so it drops any index of that name
(DROP INDEX CONCURRENTLY IF EXISTS): at revision 0009 one can only be a leftover of a failed run, and a valid
one is rebuilt, which costs time but not correctness. The build runs under the long statement timeout.
"""
from alembic import context, op
from sqlalchemy import text

import faultline_migrate as fm

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "orders_customer_created_idx"
VALIDITY = text("""SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace""")


def upgrade() -> None:
    with op.get_context().autocommit_block():
        if context.is_offline_mode():
            op.execute(f"-- online, only an INVALID {INDEX} (pg_index.indisvalid) is dropped\n"
                       f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        elif op.get_bind().execute(VALIDITY, {"name": INDEX}).scalar() is False:
            print(f"faultline-migrate: dropping the INVALID leftover {INDEX}")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        op.execute(fm.long_statement_timeout())
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON orders (customer_id, created_at)")
        op.execute(fm.timeout_statements()[1])


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
