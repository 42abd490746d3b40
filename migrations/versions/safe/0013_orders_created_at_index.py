"""query optimisation: CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at)

Revision ID: 0013
Revises: 0012
The slow-query workload's time-window lookup (`WHERE created_at >= $1 AND created_at < $2`) scans every order:
(customer_id, created_at) cannot serve it without a customer. `faultline queries report` proposed this index
from the plan's Seq Scan filter and HypoPG costed it lower before it was built (docs/query-optimization.md).
An INVALID leftover of a failed build is dropped first (faultline_migrate.create_index_concurrently).
"""
import faultline_migrate as fm

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "orders_created_at_idx"


def upgrade() -> None:
    fm.create_index_concurrently(INDEX, "ON orders (created_at)")


def downgrade() -> None:
    fm.drop_index_concurrently(INDEX)
