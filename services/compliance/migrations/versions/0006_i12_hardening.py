"""the principal an idempotent response belongs to

Revision ID: i12_compliance_hardening
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "i12_compliance_hardening"
down_revision = 'i11_compliance_senders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("principal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("principal")
