from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.compliance.customs import waiting
from services.compliance.items.models import ItemRecord
from services.compliance.items.schemas import ItemNo, ItemRecordIn, ItemRecordOut
from services.compliance.orders.rematch import rematch_waiting
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped
from shared.errors import NotFound
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import Page

router = APIRouter(prefix="/v1/compliance", tags=["item records"])
Writer = Annotated[Principal, Depends(require("integration"))]


async def _find(session: DbSession, org_id: str, item_no: str) -> ItemRecord | None:
    stmt = scoped(ItemRecord, org_id).where(ItemRecord.item_no == item_no)
    return (await session.execute(stmt)).scalar_one_or_none()


@router.put(
    "/items/{item_no}",
    response_model=ItemRecordOut,
    responses={201: {"description": "created"}, 412: {"description": "stale If-Match"}},
)
async def put_item(
    item_no: Annotated[ItemNo, Path()],
    body: ItemRecordIn,
    principal: Writer,
    session: DbSession,
    version: Version,
    response: Response,
) -> ItemRecordOut:
    item = await _find(session, principal.org_id, item_no)
    if item is None:
        item = ItemRecord(org_id=principal.org_id, item_no=item_no, **body.model_dump())
        session.add(item)
        response.status_code = 201
        response.headers["Location"] = f"/v1/compliance/items/{item_no}"
    else:
        version.check(ItemRecordOut.model_validate(item))
        for field, value in body.model_dump().items():
            setattr(item, field, value)
    await session.flush()
    out = ItemRecordOut.model_validate(item)
    # the orders held in mismatch for want of this record are compared again (and declared when they pass)
    await rematch_waiting(session, principal.org_id, item_no=item_no)
    # messages waiting for what an item record gives (a net weight, an account-book record number) are tried now
    await waiting.wake_setup(session, principal.org_id)
    return version.answer(out)


@router.get("/items", response_model=Page[ItemRecordOut])
async def list_items(principal: Reader, session: DbSession, page: Pagination) -> Page[ItemRecordOut]:
    rows, cursor = await paginate(session, scoped(ItemRecord, principal.org_id), ItemRecord, page)
    return Page(items=[ItemRecordOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/items/{item_no}", response_model=ItemRecordOut)
async def get_item(
    item_no: Annotated[str, Path(min_length=1, max_length=255)], principal: Reader, session: DbSession, version: Version
) -> ItemRecordOut:
    item = await _find(session, principal.org_id, item_no)
    if item is None:
        raise NotFound(f"item record {item_no} not found")
    out = ItemRecordOut.model_validate(item)
    return version.answer(out)
