"""the monthly export summary as a record: its lists, customs' numbers and answers (CEB701 → CEB702 / CEB792)

Revision ID: summaries_0015
Revises: returns_0020
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "summaries_0015"
down_revision = "returns_0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summaries",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("cop_no", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("inventories", sa.Integer(), nullable=False),
        sa.Column("pre_no", sa.String(length=20), nullable=True),
        sa.Column("sum_no", sa.String(length=20), nullable=True),
        sa.Column("decl_seq_no", sa.String(length=20), nullable=True),
        sa.Column("dec_tmp_no", sa.String(length=20), nullable=True),
        sa.Column("dec_pre_no", sa.String(length=20), nullable=True),
        sa.Column("entry_id", sa.String(length=20), nullable=True),
        sa.Column("dec_state", sa.String(length=3), nullable=True),
        sa.Column("gross_weight", sa.String(length=30), nullable=True),
        sa.Column("net_weight", sa.String(length=30), nullable=True),
        sa.Column("refusal", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("receipts", sa.JSON(), nullable=False),
        sa.Column("customs_time", sa.String(length=17), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
        sa.UniqueConstraint("org_id", "cop_no", name=op.f("uq_summaries_org_id_cop_no")),
    )
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summaries_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_summaries_org_id_guid", ["org_id", "guid"], unique=False)
        batch_op.create_index("ix_summaries_org_id_sum_no", ["org_id", "sum_no"], unique=False)
        batch_op.create_index("ix_summaries_org_id_created_at_id", ["org_id", "created_at", "id"], unique=False)
    op.create_table(
        "summary_lists",
        sa.Column("summary_id", sa.String(length=36), nullable=False),
        sa.Column("declaration_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("invt_no", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_lists")),
        sa.UniqueConstraint(
            "org_id", "declaration_id", "active", name=op.f("uq_summary_lists_org_id_declaration_id_active")
        ),
    )
    with op.batch_alter_table("summary_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summary_lists_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_summary_lists_summary_id", ["summary_id"], unique=False)
        batch_op.create_index("ix_summary_lists_order_id", ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("summary_lists", schema=None) as batch_op:
        batch_op.drop_index("ix_summary_lists_order_id")
        batch_op.drop_index("ix_summary_lists_summary_id")
        batch_op.drop_index(batch_op.f("ix_summary_lists_org_id"))
    op.drop_table("summary_lists")
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_summaries_org_id_created_at_id")
        batch_op.drop_index("ix_summaries_org_id_sum_no")
        batch_op.drop_index("ix_summaries_org_id_guid")
        batch_op.drop_index(batch_op.f("ix_summaries_org_id"))
    op.drop_table("summaries")
