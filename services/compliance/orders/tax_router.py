"""The ways back from a customs tax bill that disagrees with XBM's tax (orders/tax.py): accept customs' figure,
or compute XBM's tax again once the item records' rates are corrected."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import StringConstraints

from services.compliance.orders import corrections, views
from services.compliance.orders.schemas import OrderOut
from services.compliance.roles import Ingest
from shared.auth import Admin
from shared.db import DbSession
from shared.schemas import NOT_BLANK, Schema, Trimmed, examples

router = APIRouter(prefix="/v1/compliance", tags=["compliance orders"])
Ebp = Annotated[str, Path(max_length=18)]
OrderNo = Annotated[str, Path(max_length=60)]
CONFLICT: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such order"},
    409: {"description": "no customs tax bill disagrees with XBM's"},
}


class TaxAcceptIn(Schema):
    """Accepting customs' tax bill over XBM's figure."""

    model_config = examples({"note": "customs levies consumption tax on this serum; item record corrected"})

    note: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK), Trimmed]
    """Why customs' figure is accepted (kept on the order, shown in its check)."""


@router.post("/orders/{ebp_code}/{order_no}/tax/accept", response_model=OrderOut, responses=CONFLICT)
async def accept_customs_tax(
    ebp_code: Ebp, order_no: OrderNo, body: TaxAcceptIn, principal: Admin, session: DbSession
) -> OrderOut:
    """Accept the tax on customs' bill (CEB816) where it disagrees with XBM's: the order leaves the exceptions'
    `tax_disagreements`, its `customs_tax` check passes and says who accepted it and why."""
    order = await corrections.accept_tax(session, principal.org_id, ebp_code, order_no, body.note, principal.subject)
    return await views.order_view(session, order)


@router.post("/orders/{ebp_code}/{order_no}/tax/recompute", response_model=OrderOut, responses=CONFLICT)
async def recompute_tax(ebp_code: Ebp, order_no: OrderNo, principal: Ingest, session: DbSession) -> OrderOut:
    """Compute XBM's tax again on the item records as they are now (after their rates are corrected) and compare
    it with customs' bill: agreeing, the order leaves the exceptions; otherwise it stays, with the new figures."""
    order = await corrections.recompute_tax(session, principal.org_id, ebp_code, order_no)
    return await views.order_view(session, order)
