"""query optimisation: CREATE INDEX CONCURRENTLY orders_lower_comment_idx ON orders (lower(comment))

Revision ID: 0014
Revises: 0013
The slow-query workload's case-insensitive memo search (`WHERE lower(comment) = lower($1)`) cannot use an index on
comment as written: the function is applied to the column. An expression index on lower(comment) serves it as
written. Proposed by `faultline queries report` from the plan's Seq Scan filter and costed by HypoPG first
(docs/query-optimization.md). An INVALID leftover of a failed build is dropped first.
"""
import faultline_migrate as fm

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "orders_lower_comment_idx"


def upgrade() -> None:
    fm.create_index_concurrently(INDEX, "ON orders (lower(comment))")


def downgrade() -> None:
    fm.drop_index_concurrently(INDEX)
