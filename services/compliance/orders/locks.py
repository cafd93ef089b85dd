"""The order-number locks: every request that changes orders locks the match keys of the order numbers it touches
first, always in sorted order, so two requests never wait on each other in a cycle (the buyer's quota lock in
``quota.py`` comes after these).

The lock that precedes storing a document also notes, in the same statement, what is stored under the number:
``has_order`` once an order is, ``mixed`` once documents of more than one platform (ebp code) are. The exceptions
queue finds payments and waybills with no order from those few match keys, not from every document stored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from sqlalchemy import and_, func
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import MatchKey
from shared.db import insert_for, new_id, utcnow
from shared.driver import DriverStatement

Kind = Literal["order", "payment", "waybill"]


def _touch(dialect: str) -> Any:
    """The lock: an upsert of the order number's match key that always writes the row (so it is locked until the
    transaction ends) and notes what is about to be stored under it, built once per dialect."""
    stmt = insert_for(dialect, MatchKey)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["org_id", "order_no"],
        set_={
            "touched_at": new.touched_at,
            "has_order": MatchKey.has_order | new.has_order,
            "ebp_code": func.coalesce(MatchKey.ebp_code, new.ebp_code),
            "mixed": MatchKey.mixed
            | and_(MatchKey.ebp_code.is_not(None), new.ebp_code.is_not(None), MatchKey.ebp_code != new.ebp_code),
        },
    )


_LOCK = DriverStatement("lock_order_no", _touch)


async def lock_order_no(
    session: AsyncSession, org_id: str, order_no: str, *, storing: Kind | None = None, ebp_code: str | None = None
) -> None:
    """Lock one order number's match key. ``storing``: the kind of document about to be stored under it, with its
    ``ebp_code``."""
    values = {
        "id": new_id(), "org_id": org_id, "order_no": order_no, "touched_at": utcnow(),
        "has_order": storing == "order", "ebp_code": ebp_code if storing else None, "mixed": False,
    }  # fmt: skip
    await _LOCK.first(session, values)


async def lock_order_nos(session: AsyncSession, org_id: str, order_nos: Iterable[str]) -> None:
    """Lock several order numbers' match keys in sorted order. Every request that changes orders takes these
    locks before touching an order, always in this order, so two requests never wait on each other in a cycle."""
    for order_no in sorted(set(order_nos)):
        await lock_order_no(session, org_id, order_no)
