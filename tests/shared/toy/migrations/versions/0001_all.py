"""the toy service's tables

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from tests.shared.toy.service import Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    Base.metadata.create_all(op.get_bind())


def downgrade() -> None:
    Base.metadata.drop_all(op.get_bind())
