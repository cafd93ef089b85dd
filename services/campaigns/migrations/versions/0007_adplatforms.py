"""platform reports: conversions as decimals (6 places), metric money in micros (6 places), a campaign's external
platform ids, returns deducted from attributed orders

Revision ID: adplatforms_0007
Revises: i12_campaigns_hardening
"""

import sqlalchemy as sa
from alembic import op

revision = "adplatforms_0007"
down_revision = "i12_campaigns_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # conversions were whole counts; they are now kept in 10^-6 units (ScaledDecimal(6)), as money is in 10^-4
    op.execute("UPDATE metric_rows SET conversions = conversions * 1000000")
    # cost and revenue were in 10^-4 units; they are now in 10^-6 (micros, as Google Ads reports cost)
    op.execute("UPDATE metric_rows SET cost = cost * 100, revenue = revenue * 100")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_refs", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("attributed_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned_amount", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "campaign_external_refs",
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_external_refs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_external_refs")),
        sa.UniqueConstraint(
            "org_id", "platform", "external_id", name=op.f("uq_campaign_external_refs_org_id_platform_external_id")
        ),
    )
    with op.batch_alter_table("campaign_external_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_external_refs_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_external_refs_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_table("campaign_external_refs")
    with op.batch_alter_table("attributed_orders", schema=None) as batch_op:
        batch_op.drop_column("returned_amount")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("external_refs")
    op.execute("UPDATE metric_rows SET conversions = conversions / 1000000")
    op.execute("UPDATE metric_rows SET cost = cost / 100, revenue = revenue / 100")
