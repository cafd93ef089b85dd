"""personal data: the record of each erasure (who, when, what — no person in it)

Revision ID: pii_0012
Revises: inbox_0012
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "pii_0012"
down_revision = "inbox_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=True),
        sa.Column("erased_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.create_index("ix_erasures_org_id_erased_at", ["org_id", "erased_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_erasures_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasures_org_id"))
        batch_op.drop_index("ix_erasures_org_id_erased_at")
    op.drop_table("erasures")
