"""Events campaigns consumes: plans' ``sbu.retired`` pauses the SBU's campaigns; compliance's
``order.released`` attributes the order to the campaign its ``utm_campaign`` names, and ``order.returned``
deducts what came back of it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.service import attribute_order, deduct_return, pause_campaigns_of_sbu
from services.campaigns.events import EVENTS
from services.compliance.contracts import OrderReleased, OrderReturned
from services.plans.contracts import SbuRetired
from shared.errors import Unprocessable
from shared.events.inbox import Inbox, Outcome, Received

INBOX = Inbox("campaigns", EVENTS)


@INBOX.handles(SbuRetired)
async def sbu_retired(session: AsyncSession, event: Received[SbuRetired]) -> Outcome:
    paused = await pause_campaigns_of_sbu(session, event.org_id, event.data.sbu_id)
    return {"status": "applied", "paused": [c.id for c in paused]}


@INBOX.handles(OrderReleased)
async def order_released(session: AsyncSession, event: Received[OrderReleased]) -> Outcome:
    order = event.data
    if not order.utm_campaign:
        return {"status": "ignored"}
    outcome = await attribute_order(
        session,
        event.org_id,
        order.utm_campaign,
        f"{order.ebp_code}/{order.order_no}",
        order.amount,
        order.currency,
        event.occurred_at,
    )
    return {"status": outcome}


@INBOX.handles(OrderReturned)
async def order_returned(session: AsyncSession, event: Received[OrderReturned]) -> Outcome:
    """Goods of a released order came back: the campaign's released revenue deducts them."""
    order = event.data
    if not order.utm_campaign:
        return {"status": "ignored"}
    amount = order.returned_amount if order.returned_amount is not None else order.amount
    if amount is None:
        raise Unprocessable("malformed order.returned: it carries no returned amount")
    outcome = await deduct_return(session, event.org_id, f"{order.ebp_code}/{order.order_no}", amount)
    return {"status": outcome}


router = INBOX.router()
