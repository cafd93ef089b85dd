"""compare-and-set for every write with If-Match: a ``version`` on item records, the customs profile, payment
institutions, sources and the event subscriptions, named in every UPDATE's and DELETE's WHERE clause
(shared.db.VersionedMixin)

Revision ID: cas_0012
Revises: outbox_0009
"""

import sqlalchemy as sa
from alembic import op

revision = "cas_0012"
down_revision = "outbox_0009"
branch_labels = None
depends_on = None

TABLES = (
    "item_records",
    "customs_profiles",
    "payment_institutions",
    "sources",
    "event_subscriptions",
)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
