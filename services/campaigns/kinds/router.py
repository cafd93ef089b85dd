from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.campaigns.kinds import service
from services.campaigns.kinds.schemas import KindIn, KindOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession
from shared.schemas import Page

router = APIRouter(prefix="/v1", tags=["campaign kinds"])
KindWriter = Annotated[Principal, Depends(require("supervisor"))]


@router.get("/campaign-kinds", response_model=Page[KindOut])
async def list_kinds(principal: Reader, session: DbSession) -> Page[KindOut]:
    """The built-in kinds and the organisation's own (a short list, returned whole)."""
    return Page(items=await service.list_kinds(session, principal.org_id))


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
async def get_kind(key: Annotated[str, Path(max_length=64)], principal: Reader, session: DbSession) -> KindOut:
    return await service.get_kind(session, principal.org_id, key)
