"""note -> comment, contract: once nothing reads note, rename the column and drop note from the view

Revision ID: 0009
Revises: 0008
Online, faultline_migrate.unused_column_check("orders", "note") runs first and refuses (the migration fails,
`scripts/migrate up` rolls back) when a statement naming note and orders or orders_v2 ran during its window
(pg_stat_statements, FAULTLINE_MIGRATE_UNUSED_WINDOW seconds, default 10).
The rename itself is a catalog change (ACCESS EXCLUSIVE for milliseconds, under lock_timeout); it is safe
here, unlike the naive twin's, because no running version uses the old name. orders_v2 is then recreated with
comment only, in the same transaction; it stays as an alias of orders until a later release drops it.
"""
from alembic import context, op

import faultline_migrate as fm

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VIEW_V2 = "SELECT id, customer_id, status, amount_cents, comment, created_at, priority FROM orders"


def upgrade() -> None:
    if not context.is_offline_mode():
        fm.unused_column_check("orders", "note", views=("orders_v2",))
    else:
        op.execute("-- faultline_migrate.unused_column_check('orders', 'note') runs here online: "
                   "nothing may read orders.note or orders_v2.note any more\nSELECT 1")
    # The view first, then the table (LOCK on a view locks it, then the tables it reads): the order in which an
    # application statement on orders_v2 takes them. Renaming orders first and dropping the view after took them the
    # other way round, and a v2 write through the view deadlocked with it once (40P01, after deadlock_timeout).
    op.execute("LOCK TABLE orders_v2 IN ACCESS EXCLUSIVE MODE")
    op.execute("COMMENT ON COLUMN orders.note IS NULL")
    op.execute("-- nothing reads the old name any more (unused_column_check)\n-- squawk-ignore renaming-column\n"
               "ALTER TABLE orders RENAME COLUMN note TO comment")
    # Dropped and created again in one transaction: readers of orders_v2.comment never see it missing.
    op.execute("-- recreated in the same transaction\n-- squawk-ignore ban-drop-view\nDROP VIEW orders_v2")
    op.execute(f"CREATE VIEW orders_v2 AS {VIEW_V2}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS orders_v2")
    op.execute("-- squawk-ignore renaming-column\nALTER TABLE orders RENAME COLUMN comment TO note")
    op.execute("""CREATE VIEW orders_v2 AS
        SELECT id, customer_id, status, amount_cents, note, note AS comment, created_at, priority FROM orders""")
    op.execute("COMMENT ON COLUMN orders.note IS 'deprecated: read and write orders_v2.comment (revision 0009 renames it)'")
