"""returns by customs' clock: the release time from customs' receipt, the goods of an import return back in the
supervised area, export returns (CEB213/CEB215), master bills and the logistics receipts (CEB508/510/608)

Revision ID: returns_0020
Revises: institutions_0019
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "returns_0020"
down_revision = "institutions_0019"
branch_labels = None
depends_on = None


def _ids() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customs_released_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("customs_returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("goods_back_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "export_returns",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("cop_no", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("transport", sa.JSON(), nullable=False),
        sa.Column("customs_status", sa.Integer(), nullable=True),
        sa.Column("customs_note", sa.String(length=1000), nullable=True),
        sa.Column("decided_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tally_cop_no", sa.String(length=20), nullable=True),
        sa.Column("tally", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("tally_state", sa.String(length=12), server_default="none", nullable=False),
        sa.Column("tally_note", sa.String(length=1000), nullable=True),
        *_ids(),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_returns")),
        sa.UniqueConstraint("org_id", "cop_no", name=op.f("uq_export_returns_org_id_cop_no")),
    )
    op.create_index("ix_export_returns_order_id", "export_returns", ["order_id"], unique=False)
    op.create_index(op.f("ix_export_returns_org_id"), "export_returns", ["org_id"], unique=False)
    op.create_table(
        "master_bills",
        sa.Column("cop_no", sa.String(length=20), nullable=False),
        sa.Column("bill_no", sa.String(length=37), nullable=False),
        sa.Column("traf_name", sa.String(length=100), nullable=False),
        sa.Column("voyage_no", sa.String(length=32), nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("lists", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        *_ids(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_bills")),
        sa.UniqueConstraint("org_id", "cop_no", name=op.f("uq_master_bills_org_id_cop_no")),
    )
    op.create_index(op.f("ix_master_bills_org_id"), "master_bills", ["org_id"], unique=False)
    op.create_table(
        "master_bill_orders",
        sa.Column("master_bill_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        *_ids(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_bill_orders")),
        sa.UniqueConstraint("master_bill_id", "order_id", name=op.f("uq_master_bill_orders_master_bill_id_order_id")),
    )
    op.create_index("ix_master_bill_orders_order_id", "master_bill_orders", ["order_id"], unique=False)
    op.create_index(op.f("ix_master_bill_orders_org_id"), "master_bill_orders", ["org_id"], unique=False)
    op.create_table(
        "logistics_manifests",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("cop_no", sa.String(length=30), nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=False),
        sa.Column("bill_no", sa.String(length=37), nullable=True),
        sa.Column("logistics_nos", sa.JSON(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        *_ids(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_manifests")),
        sa.UniqueConstraint(
            "org_id",
            "kind",
            "logistics_code",
            "cop_no",
            name=op.f("uq_logistics_manifests_org_id_kind_logistics_code_cop_no"),
        ),
    )
    op.create_index(op.f("ix_logistics_manifests_org_id"), "logistics_manifests", ["org_id"], unique=False)
    op.create_table(
        "logistics_events",
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("master_bill_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("cop_no", sa.String(length=30), nullable=False),
        sa.Column("logistics_code", sa.String(length=18), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("return_time", sa.String(length=17), nullable=False),
        sa.Column("time", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        *_ids(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_events")),
    )
    op.create_index("ix_logistics_events_order_id", "logistics_events", ["order_id"], unique=False)
    op.create_index("ix_logistics_events_master_bill_id", "logistics_events", ["master_bill_id"], unique=False)
    op.create_index("ix_logistics_events_org_id_cop_no", "logistics_events", ["org_id", "cop_no"], unique=False)
    op.create_index(op.f("ix_logistics_events_org_id"), "logistics_events", ["org_id"], unique=False)


def downgrade() -> None:
    for table in ("logistics_events", "logistics_manifests", "master_bill_orders", "master_bills", "export_returns"):
        op.drop_table(table)
    with op.batch_alter_table("customs_returns", schema=None) as batch_op:
        batch_op.drop_column("goods_back_at")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("customs_released_at")
