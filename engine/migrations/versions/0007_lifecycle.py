"""The lifecycle: work items' escalation level, the transitions table, 约谈 records.

The level of existing items is read from the two stamps the sweeps wrote before: marked
overdue and escalated since (for the current due date) -> noticed; marked only -> urged.
The BPMN ``escalation:overdue`` events are no longer raised or read (docs/scheduler.md): the
open ones are closed here so nothing waits on them.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LEVELS = ("none", "urged", "noticed", "principal", "criticized", "interviewed")


def upgrade() -> None:
    op.add_column("work_items", sa.Column(
        "escalation", sa.Enum(*LEVELS, name="escalationlevel", native_enum=False, length=20),
        server_default="none", nullable=False))
    op.execute("UPDATE work_items SET escalation = 'urged' WHERE overdue_marked_at IS NOT NULL")
    op.execute("UPDATE work_items SET escalation = 'noticed' WHERE overdue_marked_at IS NOT NULL"
               " AND escalated_at IS NOT NULL AND escalated_at >= overdue_marked_at")
    op.execute("UPDATE engine_events SET handled_at = created_at "
               "WHERE kind = 'escalation:overdue' AND handled_at IS NULL")
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ref_type", sa.String(40), nullable=True),
        sa.Column("ref_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    op.create_index("ix_transitions_object", "transitions", ["object_type", "object_id", "at"])
    op.create_index("ix_transitions_to", "transitions", ["field", "to_state", "at"])
    op.create_table(
        "interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("interviewee", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"],
                                name=op.f("fk_interviews_work_item_id_work_items")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_interviews_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviews")),
    )
    op.create_index("ix_interviews_work_item_id", "interviews", ["work_item_id"])


def downgrade() -> None:
    op.drop_table("interviews")
    op.drop_table("transitions")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("escalation")
