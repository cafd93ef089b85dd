"""Item records: written whole by the integration (one PUT per item number), read by everyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs import waiting
from services.compliance.items.models import ItemRecord
from services.compliance.items.schemas import ItemRecordOut
from services.compliance.orders.rematch import rematch_waiting
from shared.db import scoped
from shared.errors import NotFound
from shared.etag import Precondition


async def find_item(session: AsyncSession, org_id: str, item_no: str) -> ItemRecord | None:
    stmt = scoped(ItemRecord, org_id).where(ItemRecord.item_no == item_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_item(session: AsyncSession, org_id: str, item_no: str) -> ItemRecord:
    item = await find_item(session, org_id, item_no)
    if item is None:
        raise NotFound(f"item record {item_no} not found")
    return item


async def put_item(
    session: AsyncSession, org_id: str, item_no: str, fields: dict[str, Any], precondition: Precondition
) -> tuple[ItemRecordOut, bool]:
    """Create or replace the record of ``item_no`` (replacing it only while the client's copy is current), then
    compare again the orders held for want of it and try the messages that wait for what it gives. Answers the
    record as written, and whether it was created."""
    item = await find_item(session, org_id, item_no)
    created = item is None
    if item is None:
        item = ItemRecord(org_id=org_id, item_no=item_no, **fields)
        session.add(item)
    else:
        precondition(ItemRecordOut.model_validate(item))
        for field, value in fields.items():
            setattr(item, field, value)
    await session.flush()
    out = ItemRecordOut.model_validate(item)
    # the orders held in mismatch for want of this record are compared again (and declared when they pass)
    await rematch_waiting(session, org_id, item_no=item_no)
    # messages waiting for what an item record gives (a net weight, an account-book record number) are tried now
    await waiting.wake_setup(session, org_id)
    return out, created
