"""customs declaration route: B2B exports (9710/9810) above ¥5,000, or of goods needing a licence or inspection,
are held for a customs declaration (报关单) instead of the inventory list. The seller's CNY exchange rates by
currency and day, each order's route (why, the value and rate named, the broker's entry number), the item
records' licence and inspection flags, the order state widened for ``needs_customs_declaration`` and those
orders listed among the exceptions.

Revision ID: broker_0018
Revises: fields_0017
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "broker_0018"
down_revision = "fields_0017"
branch_labels = None
depends_on = None

BEFORE = sa.text(
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents', 'rejected') OR changed_after_declaration IS true)"
)
ATTENTION = sa.text(
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents', 'rejected', 'needs_customs_declaration') "
    "OR changed_after_declaration IS true)"
)


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint("org_id", "currency", "day", name=op.f("uq_exchange_rates_org_id_currency_day")),
    )
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_rates_org_id"), ["org_id"], unique=False)
    op.create_table(
        "customs_declaration_routes",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("goods_value", shared.db.ScaledDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value_cny", shared.db.ScaledDecimal(), nullable=True),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("rate_day", sa.Date(), nullable=False),
        sa.Column("rate_source", sa.String(length=100), nullable=True),
        sa.Column("entry_id", sa.String(length=18), nullable=True),
        sa.Column("declared_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customs_declaration_routes")),
        sa.UniqueConstraint("order_id", name=op.f("uq_customs_declaration_routes_order_id")),
    )
    with op.batch_alter_table("customs_declaration_routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customs_declaration_routes_org_id"), ["org_id"], unique=False)
    with op.batch_alter_table("item_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("licence_required", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("inspection_required", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sa.String(length=24), type_=sa.String(length=32), existing_nullable=False
        )
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
        batch_op.alter_column(
            "state", existing_type=sa.String(length=32), type_=sa.String(length=24), existing_nullable=False
        )
    with op.batch_alter_table("item_records", schema=None) as batch_op:
        batch_op.drop_column("inspection_required")
        batch_op.drop_column("licence_required")
    with op.batch_alter_table("customs_declaration_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customs_declaration_routes_org_id"))
    op.drop_table("customs_declaration_routes")
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_rates_org_id"))
    op.drop_table("exchange_rates")
