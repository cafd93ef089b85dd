"""experiments: guards, prior, sequential tuning, loss threshold, and who decided on which counts

Revision ID: i13_campaigns_experiments
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa



revision = "i13_campaigns_experiments"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_conversions", sa.Integer(), server_default="10", nullable=False))
        batch_op.add_column(sa.Column("prior_mean", sa.Numeric(8, 4), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("prior_sd", sa.Numeric(8, 4), server_default="0.3", nullable=False))
        batch_op.add_column(sa.Column("sequential_tuning", sa.BigInteger(), server_default="5000", nullable=False))
        batch_op.add_column(sa.Column("loss_threshold", sa.Numeric(10, 8), server_default="0.001", nullable=False))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("decided_counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_column("decided_counts")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("loss_threshold")
        batch_op.drop_column("sequential_tuning")
        batch_op.drop_column("prior_sd")
        batch_op.drop_column("prior_mean")
        batch_op.drop_column("min_conversions")
