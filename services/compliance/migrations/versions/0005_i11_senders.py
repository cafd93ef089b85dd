"""platform senders: raw deliveries, source secrets given and rotated, order versions and incomplete orders

Revision ID: i11_compliance_senders
Revises: 0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

import shared.db


revision = 'i11_compliance_senders'
down_revision = 'i10_compliance_customs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_deliveries',
    sa.Column('source_id', sa.String(length=36), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('platform_id', sa.String(length=40), nullable=True),
    sa.Column('ebp_code', sa.String(length=18), nullable=True),
    sa.Column('order_no', sa.String(length=60), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_deliveries')),
    sa.UniqueConstraint('source_id', 'dedupe_key', name=op.f('uq_platform_deliveries_source_id_dedupe_key'))
    )
    with op.batch_alter_table('platform_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_platform_deliveries_org_id_outcome', ['org_id', 'outcome'], unique=False)
        batch_op.create_index('ix_platform_deliveries_source_id_platform_id', ['source_id', 'platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_deliveries_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trade_direction', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_encrypted', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_until', shared.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('platform_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('held', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('changed_after_declaration', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('later_version', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('platform_refunds', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('platform_refunds')
        batch_op.drop_column('later_version')
        batch_op.drop_column('changed_after_declaration')
        batch_op.drop_column('held')
        batch_op.drop_column('platform_version')
        batch_op.drop_column('test')

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('previous_secret_until')
        batch_op.drop_column('previous_secret_encrypted')
        batch_op.drop_column('trade_direction')

    with op.batch_alter_table('platform_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_deliveries_org_id'))
        batch_op.drop_index('ix_platform_deliveries_source_id_platform_id')
        batch_op.drop_index('ix_platform_deliveries_org_id_outcome')

    op.drop_table('platform_deliveries')
