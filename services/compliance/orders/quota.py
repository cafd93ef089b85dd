"""The buyer's annual quota: what it has used (:func:`quota_used`) and the per-buyer lock behind the limit.

The limit is a sum over the buyer's other declared orders, so two of one buyer's orders settled at once would
both see the same remaining allowance. Every decision about a buyer's quota takes this lock first, after the
order-number locks (always in that order), and holds it until the transaction ends."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.order_states import COUNTED_IN_QUOTA
from services.compliance.orders.models import Order
from shared.money import MoneyAmount

#: the quota year is the calendar year in China
CHINA = ZoneInfo("Asia/Shanghai")
_UNITS = MoneyAmount()


def quota_year(declared_at: datetime) -> int:
    """The year an order counts in: its declaration's, in customs' calendar (China time), not the year XBM took
    the order in. An order taken on 31 December at 23:30 and declared on 1 January counts in the new year; one
    declared at 1 January 00:10 China time (16:10 UTC on 31 December) too."""
    return declared_at.astimezone(CHINA).year


def buyer_lock_key(org_id: str, buyer_key: str, year: int) -> int:
    """A signed 64-bit advisory-lock key for one buyer's year in one organisation."""
    digest = hashlib.sha256(f"xbm-quota\x00{org_id}\x00{buyer_key}\x00{year}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_buyer(session: AsyncSession, org_id: str, buyer_key: str, year: int) -> None:
    """Serialise annual-limit decisions for one buyer and year until this transaction ends.

    PostgreSQL: a transaction-level advisory lock (released at commit or rollback, so a crashed request
    never leaves it held). SQLite has one writer at a time, and the order-number lock already made this
    transaction that writer, so nothing more is needed there."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": buyer_lock_key(org_id, buyer_key, year)})


async def quota_used(
    session: AsyncSession, org_id: str, id_hash: str, year: int, excluding: str | None = None
) -> Decimal:
    """Dutiable values of the buyer's declared, not returned orders of that calendar year."""
    stmt = select(func.sum(type_coerce(Order.dutiable_value, BigInteger))).where(
        Order.org_id == org_id,
        Order.buyer_id_hash == id_hash,
        Order.quota_year == year,
        Order.state.in_(COUNTED_IN_QUOTA),
    )
    if excluding is not None:
        stmt = stmt.where(Order.id != excluding)
    return _UNITS.from_units(await session.scalar(stmt)) or Decimal(0)
