"""Server-side sessions, shared login throttling, case-insensitive usernames, forced change.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(80), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute("UPDATE users SET username_key = lower(username)")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(80), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(80), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_user", "login_failures", ["username_key", "at"])
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("user_sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("must_change_password")
        batch.drop_column("username_key")
