"""ways back: a refused declaration is declared again under its copNo (each declaration a round, each message
with the appType it carries), the refusal kept on the order, and refused orders listed among the exceptions

Revision ID: ways_back_0009
Revises: senders_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "ways_back_0009"
down_revision = "senders_0009"
branch_labels = None
depends_on = None

BEFORE = sa.text("(state IN ('mismatch', 'incomplete', 'awaiting_documents') OR changed_after_declaration IS true)")
ATTENTION = sa.text(
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents', 'rejected') OR changed_after_declaration IS true)"
)


def upgrade() -> None:
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("app_type", sa.String(length=1), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusal", sa.JSON(), nullable=True))
        batch_op.drop_index("ix_orders_needing_attention")
        batch_op.create_index(
            "ix_orders_needing_attention", ["org_id", "created_at", "id"], unique=False,
            sqlite_where=ATTENTION, postgresql_where=ATTENTION,
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_needing_attention")
        batch_op.create_index(
            "ix_orders_needing_attention", ["org_id", "created_at", "id"], unique=False,
            sqlite_where=BEFORE, postgresql_where=BEFORE,
        )  # fmt: skip
        batch_op.drop_column("refusal")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_column("round")
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.drop_column("round")
        batch_op.drop_column("app_type")
