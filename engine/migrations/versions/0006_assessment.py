"""考核: published years and manual items; documents may be 考核结果通报.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_key", sa.String(60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("published_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_years")),
        sa.UniqueConstraint("policy_key", "year", name=op.f("uq_assessment_years_policy_key_year")),
    )
    op.create_table(
        "assessment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_key", sa.String(60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_assessment_items_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_items")),
    )
    op.create_index("ix_assessment_items_policy_key", "assessment_items", ["policy_key"])


def downgrade() -> None:
    op.drop_table("assessment_items")
    op.drop_table("assessment_years")
