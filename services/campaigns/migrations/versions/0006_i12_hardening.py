"""a version for compare-and-set on campaigns; the principal an idempotent response belongs to

Revision ID: i12_campaigns_hardening
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from shared.idempotency_migration import add_idempotency_principal, drop_idempotency_principal

revision = "i12_campaigns_hardening"
down_revision = 'i13_campaigns_experiments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    add_idempotency_principal(op)


def downgrade() -> None:
    drop_idempotency_principal(op)
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("version")
