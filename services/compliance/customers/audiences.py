"""Remarketing audiences: export buyers with a usable email or phone, by stage and tier, as the SHA-256 hashes
ad platforms match on — the identifier itself never leaves."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customers import identity
from services.compliance.customers.models import Customer, CustomerOrder, Tier
from services.compliance.customers.schemas import AudienceMember, Stage
from services.compliance.customers.service import MAX_WINDOW
from services.compliance.customers.summary import Scope, Windows, lifecycle_windows, reaching, tiers_of
from services.compliance.pii import Pii
from shared.db import is_uuid, utcnow
from shared.errors import NotFound, Unprocessable


@dataclass(frozen=True)
class AudienceQuery:
    stage: Stage | None = None
    tier_id: str | None = None
    limit: int = 1000
    cursor: str | None = None


def stage_of(first: datetime, last: datetime, now: datetime, w: Windows) -> Stage:
    if first >= now - timedelta(days=w.new_days):
        return "new"
    if last >= now - timedelta(days=w.active_days):
        return "active"
    if last >= now - timedelta(days=w.at_risk_days):
        return "at_risk"
    return "lapsed"


def _cursor(customer_id: str) -> str:
    return base64.urlsafe_b64encode(customer_id.encode()).decode().rstrip("=")


def _after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    if not is_uuid(value):
        raise Unprocessable("cursor is not one this service issued", loc=["query", "cursor"])
    return value


async def _tier_members(session: AsyncSession, org_id: str, tier_id: str, now: datetime, w: Windows) -> set[str]:
    tier = await session.get(Tier, tier_id) if is_uuid(tier_id) else None
    if tier is None or tier.org_id != org_id or tier.deleted:
        raise NotFound(f"membership tier {tier_id} not found")
    scope = Scope(org_id, now - MAX_WINDOW, now)
    members: set[str] = set()
    for other in await tiers_of(session, org_id, tier.plan_id):  # highest first: a member of a higher tier
        found = set(await reaching(session, scope, other, now)) - members  # is not also in this one
        if other.id == tier.id:
            return found
        members |= found
    return set()


async def audience(
    session: AsyncSession, pii: Pii, org_id: str, q: AudienceQuery
) -> tuple[list[AudienceMember], str | None]:
    """Export buyers with a usable email or phone, as the hashes ad platforms match on; never the identifier."""
    now = utcnow()
    w = await lifecycle_windows(session, org_id)
    in_tier = await _tier_members(session, org_id, q.tier_id, now, w) if q.tier_id else None
    after = _after(q.cursor)
    out: list[AudienceMember] = []
    last_id: str | None = None
    async for customer, first, last in _export_customers(session, org_id, after):
        last_id = customer.id
        if q.stage is not None and stage_of(first, last, now, w) != q.stage:
            continue
        if in_tier is not None and customer.id not in in_tier:
            continue
        out.append(_member(pii, customer))
        if len(out) == q.limit:
            break
    more = len(out) == q.limit and last_id is not None
    return out, _cursor(last_id) if more and last_id else None


async def _export_customers(
    session: AsyncSession, org_id: str, after: str | None, chunk: int = 500
) -> AsyncIterator[tuple[Customer, datetime, datetime]]:
    """Export customers with counted orders, by id, with their first and last order."""
    while True:
        stmt = (
            select(Customer, func.min(CustomerOrder.released_at), func.max(CustomerOrder.released_at))
            .join(CustomerOrder, CustomerOrder.customer_id == Customer.id)
            .where(
                Customer.org_id == org_id,
                Customer.trade_direction == "export",
                CustomerOrder.released_at.is_not(None),
                # an erased customer keeps its counted orders, and no contact
                or_(Customer.email_encrypted.is_not(None), Customer.phone_encrypted.is_not(None)),
            )
            .group_by(Customer.id)
            .order_by(Customer.id)
            .limit(chunk)
        )
        if after is not None:
            stmt = stmt.where(Customer.id > after)
        rows = (await session.execute(stmt)).all()
        for customer, first, last in rows:
            yield customer, first or last or utcnow(), last or utcnow()
        if len(rows) < chunk:
            return
        after = rows[-1][0].id


def _member(pii: Pii, customer: Customer) -> AudienceMember:
    email = (
        pii.decrypt(customer.email_encrypted, f"customer-email:{customer.org_id}") if customer.email_encrypted else None
    )
    phone = (
        pii.decrypt(customer.phone_encrypted, f"customer-phone:{customer.org_id}") if customer.phone_encrypted else None
    )
    return AudienceMember(
        email_sha256=identity.audience_hash(email) if email else None,
        phone_sha256=identity.audience_hash(phone) if phone else None,
        country=customer.country,
    )
