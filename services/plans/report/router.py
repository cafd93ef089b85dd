from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.plans.report.service import render_report
from shared.auth import Reader
from shared.db import DbSession
from shared.schemas import PathId

router = APIRouter(prefix="/v1/plans", tags=["report"])

#: the report is self-contained: its styles and its SVG chart are inline, nothing is fetched, nothing runs
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


@router.get("/{plan_id}/report", response_class=HTMLResponse)
async def plan_report(plan_id: PathId, principal: Reader, session: DbSession) -> HTMLResponse:
    """The one-page plan as printable HTML (every role but integration)."""
    return HTMLResponse(await render_report(session, principal, plan_id), headers=SECURITY_HEADERS)
