from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Response

from services.compliance.items import service
from services.compliance.items.models import ItemRecord
from services.compliance.items.schemas import ItemNo, ItemRecordIn, ItemRecordOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import Page

router = APIRouter(prefix="/v1/compliance", tags=["item records"])
Writer = Annotated[Principal, Depends(require("integration"))]


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
    out, created = await service.put_item(session, principal.org_id, item_no, body.model_dump(), version.check)
    if created:
        response.status_code = 201
        response.headers["Location"] = f"/v1/compliance/items/{quote(item_no, safe='')}"  # a SKU may be any text
    return version.answer(out)


@router.get("/items", response_model=Page[ItemRecordOut])
async def list_items(principal: Reader, session: DbSession, page: Pagination) -> Page[ItemRecordOut]:
    rows, cursor = await paginate(session, scoped(ItemRecord, principal.org_id), ItemRecord, page)
    return Page(items=[ItemRecordOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/items/{item_no}", response_model=ItemRecordOut)
async def get_item(
    item_no: Annotated[str, Path(min_length=1, max_length=255)], principal: Reader, session: DbSession, version: Version
) -> ItemRecordOut:
    return version.answer(ItemRecordOut.model_validate(await service.get_item(session, principal.org_id, item_no)))
