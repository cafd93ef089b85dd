"""the principal an idempotent response belongs to

Revision ID: i12_compliance_hardening
Revises: 0003
"""

from alembic import op

from shared.idempotency_migration import add_idempotency_principal, drop_idempotency_principal

revision = "i12_compliance_hardening"
down_revision = 'i11_compliance_senders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_idempotency_principal(op)


def downgrade() -> None:
    drop_idempotency_principal(op)
