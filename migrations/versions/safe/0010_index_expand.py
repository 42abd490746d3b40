"""index, expand: CREATE INDEX CONCURRENTLY orders_customer_created_idx, after dropping an INVALID leftover

Revision ID: 0010
Revises: 0009
CONCURRENTLY cannot run in a transaction block, so both statements run in an autocommit block. A CREATE INDEX
CONCURRENTLY that failed (lock_timeout while it waited for older transactions, statement_timeout, a cancel)
leaves an INVALID index of that name behind, which IF NOT EXISTS would then keep: online, pg_index.indisvalid
tells, and only an invalid one is dropped. Offline SQL cannot ask, so it drops any index of that name
(DROP INDEX CONCURRENTLY IF EXISTS): at revision 0009 one can only be a leftover of a failed run, and a valid
one is rebuilt, which costs time but not correctness. The build runs under the long statement timeout
(faultline_migrate.create_index_concurrently, which the query-optimisation revisions use too).
"""
import faultline_migrate as fm

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "orders_customer_created_idx"


def upgrade() -> None:
    fm.create_index_concurrently(INDEX, "ON orders (customer_id, created_at)")


def downgrade() -> None:
    fm.drop_index_concurrently(INDEX)
