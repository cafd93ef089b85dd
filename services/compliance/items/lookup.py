"""Reading item records by the SKUs an order's lines carry."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.items.models import ItemRecord
from shared.db import scoped


async def records_by_no(session: AsyncSession, org_id: str, item_nos: Iterable[str]) -> dict[str, ItemRecord]:
    """The organisation's item records of ``item_nos``, by SKU (one query; an SKU without a record is absent)."""
    stmt = scoped(ItemRecord, org_id).where(ItemRecord.item_no.in_(set(item_nos)))
    return {r.item_no: r for r in (await session.execute(stmt)).scalars()}
