"""customs outbox: each message waits on its own (its next attempt, failed attempts, cause and reason), so one
message that cannot be built, signed or written yet never holds up another; the relay's due work by index

Revision ID: outbox_0009
Revises: ways_back_0009
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "outbox_0009"
down_revision = "ways_back_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("failure_cause", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("failing_since", shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_customs_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_customs_messages_status_next_attempt_at")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("failure_cause")
        batch_op.drop_column("attempts")
        batch_op.drop_column("next_attempt_at")
