"""Group-chat robots per unit (企业微信 / 钉钉) and the queue of their messages.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.Enum("wecom", "dingtalk", name="chatkind", native_enum=False,
                                  length=20), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_chat_hooks_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_hooks")),
    )
    op.create_index("ix_chat_hooks_unit_id", "chat_hooks", ["unit_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hook_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("pending", "sending", "sent", "failed", name="chatstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("sent_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hook_id"], ["chat_hooks.id"],
                                name=op.f("fk_chat_messages_hook_id_chat_hooks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_chat_messages_dedupe_key")),
    )
    op.create_index("ix_chat_messages_hook_id", "chat_messages", ["hook_id"])
    op.create_index("ix_chat_messages_due", "chat_messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_table("chat_hooks")
