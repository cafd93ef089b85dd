from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.plans.report.service import render_report
from shared.auth import Reader
from shared.db import DbSession
from shared.schemas import PathId

router = APIRouter(prefix="/v1/plans", tags=["report"])


@router.get("/{plan_id}/report", response_class=HTMLResponse)
async def plan_report(plan_id: PathId, principal: Reader, session: DbSession) -> HTMLResponse:
    """The one-page plan as printable HTML (every role but integration)."""
    return HTMLResponse(await render_report(session, principal, plan_id))
