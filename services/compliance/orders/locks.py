"""The order-number locks: every request that changes orders locks the match keys of the order numbers it touches
first, always in sorted order, so two requests never wait on each other in a cycle (the buyer's quota lock in
``quota.py`` comes after these)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import MatchKey
from shared.db import new_id, touch, utcnow


async def lock_order_no(session: AsyncSession, org_id: str, order_no: str) -> None:
    values = {"id": new_id(), "org_id": org_id, "order_no": order_no, "touched_at": utcnow()}
    await touch(session, MatchKey, values, ["org_id", "order_no"], "touched_at")


async def lock_order_nos(session: AsyncSession, org_id: str, order_nos: Iterable[str]) -> None:
    """Lock several order numbers' match keys in sorted order. Every request that changes orders takes these
    locks before touching an order, always in this order, so two requests never wait on each other in a cycle."""
    for order_no in sorted(set(order_nos)):
        await lock_order_no(session, org_id, order_no)
