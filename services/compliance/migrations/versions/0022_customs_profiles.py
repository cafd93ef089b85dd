"""customs profiles: several per organisation (one per direction, trade mode, customs office and port), each
named, one of them the default; the DxpMsg ids they send under kept one organisation's each in ``dxp_owners``;
sources may name the profile their orders are declared under, and each declaration (and each message over
several lists) records its own.

The organisation's one profile becomes its default (direction export for the export-only modes 9710 and 9810,
import otherwise) and every declaration made so far is recorded as declared under it.

Revision ID: profiles_0016
Revises: summaries_0015
"""

import sqlalchemy as sa
from alembic import op

revision = "profiles_0016"
down_revision = "summaries_0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dxp_owners",
        sa.Column("dxp_id", sa.String(length=30), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("dxp_id", name=op.f("pk_dxp_owners")),
        sa.UniqueConstraint("dxp_id", "org_id", name=op.f("uq_dxp_owners_dxp_id_org_id")),
    )
    with op.batch_alter_table("dxp_owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dxp_owners_org_id"), ["org_id"], unique=False)
    # dxp_id is unique across profiles until now (inbox_0012): each id has one organisation
    op.execute("INSERT INTO dxp_owners (dxp_id, org_id) SELECT dxp_id, org_id FROM customs_profiles")
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), server_default="Default", nullable=False))
        batch_op.add_column(sa.Column("direction", sa.String(length=6), server_default="import", nullable=False))
        batch_op.add_column(sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE customs_profiles SET direction = 'export' WHERE trade_mode IN ('9710', '9810')")
    op.execute("UPDATE customs_profiles SET is_default = true")  # one per organisation so far
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customs_profiles_org_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_customs_profiles_dxp_id"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_customs_profiles_mode", ["org_id", "direction", "trade_mode", "customs_code", "port_code"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_customs_profiles_dxp_id_dxp_owners"), "dxp_owners", ["dxp_id", "org_id"],
            ["dxp_id", "org_id"],
        )  # fmt: skip
        batch_op.create_index(
            "ix_customs_profiles_one_default", ["org_id"], unique=True, sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )  # fmt: skip
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customs_profile_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_id", sa.String(length=36), nullable=True))
    # the exceptions queue lists the matched orders too: matched and not declared, they wait for a profile
    _needing_attention(ATTENTION_AFTER)
    op.execute(
        "UPDATE declarations SET profile_id = (SELECT p.id FROM customs_profiles p "
        "WHERE p.org_id = declarations.org_id AND p.is_default)"
    )


ATTENTION_BEFORE = (
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents', 'rejected', 'needs_customs_declaration') "
    "OR changed_after_declaration IS true)"
)
ATTENTION_AFTER = (
    "(state IN ('mismatch', 'incomplete', 'awaiting_documents', 'rejected', 'needs_customs_declaration', 'matched') "
    "OR changed_after_declaration IS true)"
)


def _needing_attention(where: str) -> None:
    op.drop_index("ix_orders_needing_attention", table_name="orders")
    op.create_index(
        "ix_orders_needing_attention", "orders", ["org_id", "created_at", "id"], unique=False,
        sqlite_where=sa.text(where), postgresql_where=sa.text(where),
    )  # fmt: skip


def downgrade() -> None:
    _needing_attention(ATTENTION_BEFORE)
    with op.batch_alter_table("customs_messages", schema=None) as batch_op:
        batch_op.drop_column("profile_id")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_column("profile_id")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("customs_profile_id")
    # back to one profile per organisation: its default
    op.execute("DELETE FROM customs_profiles WHERE NOT is_default")
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_customs_profiles_one_default")
        batch_op.drop_constraint(batch_op.f("fk_customs_profiles_dxp_id_dxp_owners"), type_="foreignkey")
        batch_op.drop_constraint("uq_customs_profiles_mode", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_customs_profiles_org_id"), ["org_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_customs_profiles_dxp_id"), ["dxp_id"])
        batch_op.drop_column("is_default")
        batch_op.drop_column("direction")
        batch_op.drop_column("name")
    with op.batch_alter_table("dxp_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dxp_owners_org_id"))
    op.drop_table("dxp_owners")
