"""The per-buyer lock behind the annual limit.

The limit is a sum over the buyer's other declared orders, so two of one buyer's orders settled at once would
both see the same remaining allowance. Every decision about a buyer's quota takes this lock first, after the
order-number locks (always in that order), and holds it until the transaction ends."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


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
