"""orders, exceptions and orphans by index, whatever the number of orders stored: (org_id, created_at, id) for
the order list's keyset; the few orders the exceptions queue may list; match keys that note what is
stored under each number (the orphans queue reads the few with no order); payments by order number first

Revision ID: i17_compliance_order_scans
Revises: i18_compliance_customers
"""

import sqlalchemy as sa
from alembic import op

revision = "i17_compliance_order_scans"
down_revision = "i18_compliance_customers"
branch_labels = None
depends_on = None

ATTENTION = sa.text(
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents') OR changed_after_declaration IS true)"
)
UNPAIRED = sa.text("has_order IS false OR mixed IS true")

# what is stored under each number today: whether an order is, and the platforms of its documents
HAS_ORDER = """
UPDATE match_keys SET has_order = true
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.org_id = match_keys.org_id AND o.order_no = match_keys.order_no)
"""
PLATFORMS = """
UPDATE match_keys SET ebp_code = d.first, mixed = d.platforms > 1
FROM (
    SELECT org_id, order_no, min(ebp_code) AS first, count(DISTINCT ebp_code) AS platforms FROM (
        SELECT org_id, order_no, ebp_code FROM orders
        UNION ALL SELECT org_id, order_no, ebp_code FROM payments
        UNION ALL SELECT org_id, order_no, ebp_code FROM waybills
    ) documents GROUP BY org_id, order_no
) d
WHERE match_keys.org_id = d.org_id AND match_keys.order_no = d.order_no
"""


def upgrade() -> None:
    with op.batch_alter_table("match_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_order", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("ebp_code", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("mixed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(HAS_ORDER)
    op.execute(PLATFORMS)
    with op.batch_alter_table("match_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_match_keys_unpaired", ["org_id", "order_no"], unique=False,
            sqlite_where=UNPAIRED, postgresql_where=UNPAIRED,
        )  # fmt: skip
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_org_id_created_at_id", ["org_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_orders_needing_attention", ["org_id", "created_at", "id"], unique=False,
            sqlite_where=ATTENTION, postgresql_where=ATTENTION,
        )  # fmt: skip
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_org_id_order_no_ebp_code", ["org_id", "order_no", "ebp_code"], unique=False)
        batch_op.drop_index("ix_payments_org_id_ebp_code_order_no")


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_org_id_ebp_code_order_no", ["org_id", "ebp_code", "order_no"], unique=False)
        batch_op.drop_index("ix_payments_org_id_order_no_ebp_code")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_needing_attention")
        batch_op.drop_index("ix_orders_org_id_created_at_id")
    with op.batch_alter_table("match_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_match_keys_unpaired")
        batch_op.drop_column("mixed")
        batch_op.drop_column("ebp_code")
        batch_op.drop_column("has_order")
