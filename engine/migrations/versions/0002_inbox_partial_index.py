"""Inbox index: a partial index on (unit, due date with no-date last, id) of actionable items.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FILTER = sa.text("work_items.status IN ('open', 'returned') AND work_items.role != 'supervisor'")


def upgrade() -> None:
    op.drop_index("ix_work_items_inbox", table_name="work_items")
    op.create_index("ix_work_items_inbox", "work_items",
                    ["unit_id", sa.text("coalesce(due_date, '9999-12-31')"), "id"],
                    sqlite_where=FILTER, postgresql_where=FILTER)


def downgrade() -> None:
    op.drop_index("ix_work_items_inbox", table_name="work_items")
    op.create_index("ix_work_items_inbox", "work_items", ["unit_id", "status", "due_date"])
