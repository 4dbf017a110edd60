"""Reliability: owned outbox claims, the retry window and notes; the simulated clock's start.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("first_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    # a row that was already tried before the upgrade starts its retry window now
    op.execute("UPDATE outbox_messages SET first_attempt_at = next_attempt_at "
               "WHERE attempts > 0")
    with op.batch_alter_table("clock_state") as batch:
        batch.add_column(sa.Column("start_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ticked_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clock_state") as batch:
        batch.drop_column("ticked_on")
        batch.drop_column("start_on")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("note")
        batch.drop_column("claimed_by")
        batch.drop_column("last_attempt_at")
        batch.drop_column("first_attempt_at")
