"""形象进度: plan versions and their milestones (engine.plans).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Enum("submitted", "returned", "approved", name="planstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_plans_decided_by_users")),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"],
                                name=op.f("fk_plans_instance_id_instances")),
        sa.ForeignKeyConstraint(["submitted_by"], ["users.id"],
                                name=op.f("fk_plans_submitted_by_users")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_plans_unit_id_units")),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"],
                                name=op.f("fk_plans_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("work_item_id", "version", name="uq_plans_item_version"),
    )
    op.create_index(op.f("ix_plans_instance_id"), "plans", ["instance_id"])
    op.create_index(op.f("ix_plans_work_item_id"), "plans", ["work_item_id"])
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=True),
        sa.Column("reached_report_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_milestones_plan_id_plans")),
        sa.ForeignKeyConstraint(["reached_report_id"], ["progress_reports.id"],
                                name=op.f("fk_milestones_reached_report_id_progress_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    op.create_index(op.f("ix_milestones_plan_id"), "milestones", ["plan_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_milestones_plan_id"), "milestones")
    op.drop_table("milestones")
    op.drop_index(op.f("ix_plans_work_item_id"), "plans")
    op.drop_index(op.f("ix_plans_instance_id"), "plans")
    op.drop_table("plans")
