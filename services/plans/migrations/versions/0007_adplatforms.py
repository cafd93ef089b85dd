"""released revenue (customs-released, returns deducted) beside the platforms' claimed value; fractional
conversions in the campaign read model

Revision ID: adplatforms_0007
Revises: i15_plans_currency_and_report
"""

import sqlalchemy as sa
from alembic import op

revision = "adplatforms_0007"
down_revision = "i15_plans_currency_and_report"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # conversions were whole counts; they are now kept in 10^-6 units (ScaledDecimal(6))
    op.execute("UPDATE campaign_outcomes SET conversions = conversions * 1000000")
    with op.batch_alter_table("campaign_outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_revenue_amount", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("sbu_performance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_revenue_amount", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sbu_performance", schema=None) as batch_op:
        batch_op.drop_column("released_revenue_amount")
    with op.batch_alter_table("campaign_outcomes", schema=None) as batch_op:
        batch_op.drop_column("released_revenue_amount")
    op.execute("UPDATE campaign_outcomes SET conversions = conversions / 1000000")
