"""Which customs profile an order is declared under, and which one a declaration's messages are built from.

An organisation may declare under several profiles (say 1210 imports through a bonded zone and 9610 exports
through another customs office). An order is declared under the profile it names (its source's, see
``Source.customs_profile_id``), else the one of its direction and trade mode, else the organisation's default
if that one's trade mode can declare it. Once declared, the declaration records its profile: every message of
it (the list, re-declarations, the withdrawal, returns, master bills) is built from that one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.orders.models import Declaration, Order
from services.compliance.setup.models import CustomsProfile
from shared.db import scoped

#: the modes that only export; 9610 and 1210 go both ways
EXPORT_ONLY = ("9710", "9810")


@dataclass(frozen=True)
class Choice:
    """The profile to declare under, or why there is none (what the order waits for)."""

    profile: CustomsProfile | None
    missing: str | None = None


async def default_profile(session: AsyncSession, org_id: str) -> CustomsProfile | None:
    """The organisation's default profile (the one the singular ``/customs-profile`` acts on); a profile written
    without the flag (none is flagged) counts as the default when it is the oldest."""
    stmt = scoped(CustomsProfile, org_id).order_by(
        CustomsProfile.is_default.desc(), CustomsProfile.created_at, CustomsProfile.id
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def profiles_of(session: AsyncSession, org_id: str) -> list[CustomsProfile]:
    stmt = scoped(CustomsProfile, org_id).order_by(CustomsProfile.created_at, CustomsProfile.id)
    return list((await session.execute(stmt)).scalars())


def serves(profile: CustomsProfile, direction: str) -> bool:
    """Whether the profile's trade mode can declare orders of ``direction`` (an export-only mode imports nothing)."""
    return direction == "export" or profile.trade_mode not in EXPORT_ONLY


def pick(profiles: list[CustomsProfile], direction: str, document: dict[str, Any]) -> Choice:
    """The order's profile among the organisation's: the one it names; else one of its direction and trade mode;
    else one of its direction (the order's own trade mode is declared either way); else the default, if its mode
    can declare the order's direction. Among several, the default first, then the oldest."""
    named = document.get("customs_profile_id")
    if named:
        found = next((p for p in profiles if p.id == named), None)
        return Choice(found, None if found else f"customs profile {named} (named by the order's source) is gone")
    mode = document.get("trade_mode")
    ranked = sorted(profiles, key=lambda p: not p.is_default)  # stable: oldest first after the default
    same_way = [p for p in ranked if p.direction == direction]
    exact = [p for p in same_way if p.trade_mode == mode]
    default = ranked[0] if ranked and serves(ranked[0], direction) else None  # the flagged one, else the oldest
    chosen = (exact or same_way)[0] if exact or same_way else default
    if chosen is not None:
        return Choice(chosen)
    wanted = f"an {direction} profile" + (f" for trade mode {mode}" if mode else "")
    return Choice(None, f"no customs profile declares this order: add {wanted} (POST /v1/compliance/customs-profiles)")


async def choose(session: AsyncSession, order: Order) -> Choice:
    return pick(await profiles_of(session, order.org_id), order.trade_direction, order.document)


async def awaiting(session: AsyncSession, order: Order) -> str | None:
    """While matched (compared and passed, not declared): which customs profile the order waits for."""
    return (await choose(session, order)).missing if order.state == "matched" else None


async def declared_under(session: AsyncSession, declaration: Declaration | None, org_id: str) -> CustomsProfile | None:
    """The profile a declaration was made under (its messages are built from it); the default for a message that
    belongs to no declaration."""
    if declaration is not None and declaration.profile_id is not None:
        found = scoped(CustomsProfile, org_id).where(CustomsProfile.id == declaration.profile_id)
        return (await session.execute(found)).scalar_one_or_none()
    return await default_profile(session, org_id)
