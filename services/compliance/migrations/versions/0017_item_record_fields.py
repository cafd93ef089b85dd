"""customs fields by mode: an item record's account-book record number (itemRecordNo) and net weight per unit
(netWeight); the customs profile's special-area warehouse enterprise (iacCode, iacName, 1210 export) and the
producer of the goods (ownerCode, ownerName on the export list)

Existing rows keep working: every new column is nullable. A record without a net weight declares the net weight
from its legal quantity when its legal unit is the kilogram; otherwise the message waits, naming the record,
until the seller gives it (docs/customs-fields.md).

Revision ID: fields_0017
Revises: pii_0012
"""

import sqlalchemy as sa
from alembic import op

revision = "fields_0017"
down_revision = "pii_0012"
branch_labels = None
depends_on = None

ITEM_COLUMNS = (
    ("item_record_no", sa.String(30)),
    ("net_weight_kg", sa.Numeric(19, 5)),
)
PROFILE_COLUMNS = (
    ("iac_code", sa.String(18)),
    ("iac_name", sa.String(100)),
    ("owner_code", sa.String(18)),
    ("owner_name", sa.String(100)),
)


def upgrade() -> None:
    with op.batch_alter_table("item_records", schema=None) as batch_op:
        for name, kind in ITEM_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        for name, kind in PROFILE_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        for name, _ in reversed(PROFILE_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("item_records", schema=None) as batch_op:
        for name, _ in reversed(ITEM_COLUMNS):
            batch_op.drop_column(name)
