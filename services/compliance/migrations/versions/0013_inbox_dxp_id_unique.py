"""customs profiles: dxp_id unique across organisations (receipts addressed to it go to the one organisation
whose profile names it). Profiles that share an id today keep it on the oldest (the one that had it first); each
later one is given ``DUP`` and the start of its profile id, which no e-port id looks like, and must be saved
again with its own (until then no receipt reaches those organisations — none did while the id was shared).

Revision ID: inbox_0012
Revises: cas_0012
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "inbox_0012"
down_revision = "cas_0012"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    profiles = sa.table(
        "customs_profiles", sa.column("id", sa.String), sa.column("org_id", sa.String),
        sa.column("dxp_id", sa.String), sa.column("created_at", sa.DateTime),
    )  # fmt: skip
    rows = bind.execute(
        sa.select(profiles.c.id, profiles.c.org_id, profiles.c.dxp_id).order_by(
            profiles.c.dxp_id, profiles.c.created_at, profiles.c.id
        )
    ).all()
    seen: set[str] = set()
    for profile_id, org_id, dxp_id in rows:
        if dxp_id not in seen:
            seen.add(dxp_id)
            continue
        placeholder = "DUP" + str(profile_id).replace("-", "")[:13].upper()
        bind.execute(sa.update(profiles).where(profiles.c.id == profile_id).values(dxp_id=placeholder))
        log.warning(
            "customs profile of organisation %s shared dxp_id %s with an older profile; set to %s until saved "
            "again with its own", org_id, dxp_id, placeholder,
        )  # fmt: skip
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_customs_profiles_dxp_id"), ["dxp_id"])


def downgrade() -> None:
    with op.batch_alter_table("customs_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customs_profiles_dxp_id"), type_="unique")
