"""payment providers by kind (bank or non-bank) under Decree 768; customs' tax bill compared per line and type,
a disagreement listed until resolved; the quota year of declared orders is their declaration's (China time)

Revision ID: institutions_0019
Revises: broker_0018
"""

import sqlalchemy as sa
from alembic import op

revision = "institutions_0019"
down_revision = "broker_0018"
branch_labels = None
depends_on = None

TAX_DISAGREES = sa.text("tax_disagrees IS true")
# China keeps no daylight saving time: its calendar is UTC + 8 hours
DECLARED_YEAR = {
    "postgresql": "CAST(EXTRACT(YEAR FROM (d.declared_at AT TIME ZONE 'Asia/Shanghai')) AS INTEGER)",
    "sqlite": "CAST(strftime('%Y', d.declared_at, '+8 hours') AS INTEGER)",
}
QUOTA_YEAR = """
UPDATE orders SET quota_year = (SELECT {year} FROM declarations d WHERE d.id = orders.declaration_id)
WHERE declaration_id IS NOT NULL AND EXISTS (SELECT 1 FROM declarations d WHERE d.id = orders.declaration_id)
"""


def upgrade() -> None:
    with op.batch_alter_table("payment_institutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default="non_bank", nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_lines", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tax_review", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("tax_disagrees", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_tax_disagrees", ["org_id", "created_at", "id"], unique=False,
            sqlite_where=TAX_DISAGREES, postgresql_where=TAX_DISAGREES,
        )  # fmt: skip
    year = DECLARED_YEAR.get(op.get_bind().dialect.name)
    if year is not None:
        op.execute(QUOTA_YEAR.format(year=year))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_tax_disagrees")
        batch_op.drop_column("tax_disagrees")
        batch_op.drop_column("tax_review")
        batch_op.drop_column("tax_lines")
    with op.batch_alter_table("payment_institutions", schema=None) as batch_op:
        batch_op.drop_column("kind")
