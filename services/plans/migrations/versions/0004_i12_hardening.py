"""versions for compare-and-set on plans and SBUs; the principal an idempotent response belongs to; revoked keys
found by index

Revision ID: i12_plans_hardening
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from shared.idempotency_migration import add_idempotency_principal, drop_idempotency_principal

revision = "i12_plans_hardening"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("sbus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    add_idempotency_principal(op)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_revoked_at"), ["revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_revoked_at"))
    drop_idempotency_principal(op)
    with op.batch_alter_table("sbus", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("version")
