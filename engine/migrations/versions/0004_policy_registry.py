"""Many policies: a unit registry (aliases, groups), policy status and versions, task paths.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_aliases",
        sa.Column("alias", sa.String(100), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_unit_aliases_unit_id_units")),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_unit_aliases")),
    )
    op.create_index("ix_unit_aliases_unit_id", "unit_aliases", ["unit_id"])
    op.create_table(
        "unit_groups",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_unit_groups")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("source_kind", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["policies.id"],
                                name=op.f("fk_policy_versions_policy_id_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("policy_id", "version",
                            name=op.f("uq_policy_versions_policy_id_version")),
    )
    op.create_index("ix_policy_versions_policy_id", "policy_versions", ["policy_id"])
    op.create_table(
        "import_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("mappings", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("policy_id", sa.String(60), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_import_drafts_user_id_users")),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"],
                                name=op.f("fk_import_drafts_sha256_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_drafts")),
    )
    op.create_index("ix_import_drafts_user_id", "import_drafts", ["user_id"])
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("status", sa.Enum("active", "archived", name="policystatus",
                                                     native_enum=False, length=20),
                                   nullable=False, server_default="active"))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("policy_tasks") as batch:
        batch.add_column(sa.Column("label", sa.String(40), nullable=True))
        batch.add_column(sa.Column("path", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("notes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    op.execute("UPDATE policy_tasks SET path = '[]', notes = '[]'")
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("policy_id", sa.String(60), nullable=True))
        batch.create_index("ix_documents_policy_id", ["policy_id"])
    with op.batch_alter_table("policy_tasks") as batch:
        batch.alter_column("path", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("notes", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_policy_id")
        batch.drop_column("policy_id")
    with op.batch_alter_table("policy_tasks") as batch:
        for column in ("active", "notes", "path", "label"):
            batch.drop_column(column)
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("version")
        batch.drop_column("status")
    op.drop_table("import_drafts")
    op.drop_table("policy_versions")
    op.drop_table("unit_groups")
    op.drop_table("unit_aliases")
