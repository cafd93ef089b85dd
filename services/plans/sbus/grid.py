"""The SBU grid as a model, for the report: the route's own answer (:mod:`services.plans.sbus.grid_json`, the one
builder of the grid) read back into :class:`~services.plans.sbus.schemas.GridOut`, so the report shows what
`GET /v1/plans/{id}/sbu-grid` answers and nothing computed a second way.

Money in several currencies is never mixed: spend against budget, margins and the plan's totals are converted
with the plan's exchange rates (each naming the rate), or left side by side with the missing rate named."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.sbus.grid_json import sbu_grid_json
from services.plans.sbus.schemas import GridOut
from shared.auth import Principal


async def sbu_grid(session: AsyncSession, principal: Principal, plan_id: str) -> GridOut:
    """The grid as the route answers it, as a model (its decimal strings read back as decimals, its times as
    times: the same values)."""
    return GridOut.model_validate_json(await sbu_grid_json(session, principal, plan_id))
