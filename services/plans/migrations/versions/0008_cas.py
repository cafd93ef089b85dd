"""compare-and-set for every write with If-Match: a ``version`` on every plan-owned row (SBUs had one) and the event
subscriptions, named in every UPDATE's and DELETE's WHERE clause (shared.db.VersionedMixin)

Revision ID: cas_0008
Revises: adplatforms_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "cas_0008"
down_revision = "adplatforms_0007"
branch_labels = None
depends_on = None

TABLES = (
    "environment_factors",
    "swot_items",
    "segments",
    "positionings",
    "customers",
    "channels",
    "products",
    "innovations",
    "plan_reviews",
    "status_snapshots",
    "membership_tiers",
    "service_channels",
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
