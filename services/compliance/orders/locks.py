"""The order-number locks: every request that changes orders locks the match keys of the order numbers it touches
first, always in sorted order, so two requests never wait on each other in a cycle (the buyer's quota lock in
``quota.py`` comes after these)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import MatchKey
from shared.db import insert_for, new_id, prepared, utcnow


def _touch(dialect: str) -> Any:
    """The lock: an upsert of the order number's match key that always writes the row (so it is locked until the
    transaction ends), built once per dialect."""
    stmt = insert_for(dialect, MatchKey)
    return stmt.on_conflict_do_update(
        index_elements=["org_id", "order_no"], set_={"touched_at": stmt.excluded.touched_at}
    )


async def lock_order_no(session: AsyncSession, org_id: str, order_no: str) -> None:
    values = {"id": new_id(), "org_id": org_id, "order_no": order_no, "touched_at": utcnow()}
    await session.execute(prepared(session, "lock_order_no", _touch), values)


async def lock_order_nos(session: AsyncSession, org_id: str, order_nos: Iterable[str]) -> None:
    """Lock several order numbers' match keys in sorted order. Every request that changes orders takes these
    locks before touching an order, always in this order, so two requests never wait on each other in a cycle."""
    for order_no in sorted(set(order_nos)):
        await lock_order_no(session, org_id, order_no)
