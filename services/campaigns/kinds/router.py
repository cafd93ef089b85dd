from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from services.campaigns.kinds import service
from services.campaigns.kinds.schemas import KindIn, KindOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession
from shared.errors import Unprocessable
from shared.pagination import Pagination
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1", tags=["campaign kinds"])
KindWriter = Annotated[Principal, Depends(require("supervisor"))]


@router.get("/campaign-kinds", response_model=Page[KindOut])
async def list_kinds(principal: Reader, session: DbSession, page: Pagination) -> Page[KindOut]:
    """The built-in kinds, then the organisation's own by key, a page at a time like every other list."""
    kinds = await service.list_kinds(session, principal.org_id)
    start = 0
    if page.cursor is not None:
        # the cursor is the key of the last kind on the previous page
        keys = [k.key for k in kinds]
        if page.cursor not in keys:
            raise Unprocessable("cursor is not one this service issued", loc=["query", "cursor"])
        start = keys.index(page.cursor) + 1
    items = kinds[start : start + page.limit]
    more = start + page.limit < len(kinds)
    return Page(items=items, next_cursor=items[-1].key if more and items else None)


@router.post(
    "/campaign-kinds",
    response_model=KindOut,
    status_code=201,
    responses={409: {"description": "the key is built in or already used in this organisation"}},
)
async def add_kind(body: KindIn, principal: KindWriter, session: DbSession, response: Response) -> KindOut:
    out = await service.add_kind(session, principal.org_id, body)
    response.headers["Location"] = f"/v1/campaign-kinds/{out.key}"
    return out


@router.get("/campaign-kinds/{key}", response_model=KindOut)
async def get_kind(key: PathId, principal: Reader, session: DbSession) -> KindOut:
    return await service.get_kind(session, principal.org_id, key)
