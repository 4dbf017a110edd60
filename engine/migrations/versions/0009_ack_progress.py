"""签收 and 进展报送: work items get a kind; progress reports with their attachments.

Revision ID: 0009
Revises: 0008
"""
import warnings

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch copy of work_items would lose its expression index on SQLite
    op.add_column("work_items", sa.Column("kind", sa.Enum("ack", "progress", "plan", "evidence",
                                                   "contribution", "review", name="itemkind",
                                                native_enum=False, length=20),
                                  server_default="evidence", nullable=False))
    op.execute("UPDATE work_items SET kind = 'contribution' WHERE role = 'supporting'")
    op.execute("UPDATE work_items SET kind = 'review' WHERE role = 'supervisor'")
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("submitted_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"],
                                name=op.f("fk_progress_reports_instance_id_instances")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_progress_reports_unit_id_units")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_progress_reports_user_id_users")),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"],
                                name=op.f("fk_progress_reports_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
    )
    op.create_index(op.f("ix_progress_reports_instance_id"), "progress_reports", ["instance_id"])
    op.create_index(op.f("ix_progress_reports_work_item_id"), "progress_reports",
                    ["work_item_id"])
    # the batch copy reflects the tables attachments reaches (work_items' expression index)
    with warnings.catch_warnings(), op.batch_alter_table("attachments") as batch:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        batch.add_column(sa.Column("progress_report_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_attachments_progress_report_id_progress_reports"),
                                 "progress_reports", ["progress_report_id"], ["id"])
    op.create_index(op.f("ix_attachments_progress_report_id"), "attachments",
                    ["progress_report_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_progress_report_id"), "attachments")
    with warnings.catch_warnings(), op.batch_alter_table("attachments") as batch:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        batch.drop_constraint(op.f("fk_attachments_progress_report_id_progress_reports"),
                              type_="foreignkey")
        batch.drop_column("progress_report_id")
    op.drop_table("progress_reports")
    op.drop_column("work_items", "kind")
