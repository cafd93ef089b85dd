"""an order known by the platform's own id; item records by the platform's SKU (up to 255 characters) with the
customs item number it declares under

Revision ID: senders_0009
Revises: i17_compliance_order_scans
"""

import sqlalchemy as sa
from alembic import op

revision = "senders_0009"
down_revision = "i17_compliance_order_scans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("platform_id", sa.String(length=40), nullable=True))
    op.create_index("ix_orders_org_id_ebp_code_platform_id", "orders", ["org_id", "ebp_code", "platform_id"])
    with op.batch_alter_table("item_records") as batch:
        batch.alter_column("item_no", existing_type=sa.String(length=64), type_=sa.String(length=255),
                           existing_nullable=False)  # fmt: skip
        batch.add_column(sa.Column("customs_item_no", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_records") as batch:
        batch.drop_column("customs_item_no")
        batch.alter_column("item_no", existing_type=sa.String(length=255), type_=sa.String(length=64),
                           existing_nullable=False)  # fmt: skip
    op.drop_index("ix_orders_org_id_ebp_code_platform_id", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("platform_id")
