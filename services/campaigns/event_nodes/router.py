from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.campaigns.event_nodes import service
from services.campaigns.event_nodes.schemas import EventNodeIn, EventNodeOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession, utcnow
from shared.etag import Version
from shared.pagination import Pagination
from shared.schemas import IsoDate, Page, PathId

router = APIRouter(prefix="/v1", tags=["event nodes"])
#: event nodes carry a budget set for a platform's sales event: a supervisor's decision, like campaign kinds
NodeWriter = Annotated[Principal, Depends(require("supervisor"))]
AsOf = Annotated[IsoDate | None, Query(description="pacing as of this day (default today, UTC)")]


@router.post("/event-nodes", response_model=EventNodeOut, status_code=201)
async def create_node(
    body: EventNodeIn, principal: NodeWriter, session: DbSession, response: Response, version: Version
) -> EventNodeOut:
    node = await service.create_node(session, principal.org_id, body)
    out = await service.describe_node(session, node, utcnow().date())
    response.headers["Location"] = f"/v1/event-nodes/{node.id}"
    return version.answer(out)


@router.get("/event-nodes", response_model=Page[EventNodeOut])
async def list_nodes(principal: Reader, session: DbSession, page: Pagination, as_of: AsOf = None) -> Page[EventNodeOut]:
    items, cursor = await service.list_nodes(session, principal.org_id, page, as_of or utcnow().date())
    return Page(items=items, next_cursor=cursor)


@router.get("/event-nodes/{node_id}", response_model=EventNodeOut)
async def get_node(
    node_id: PathId, principal: Reader, session: DbSession, version: Version, as_of: AsOf = None
) -> EventNodeOut:
    out = await service.get_node(session, principal.org_id, node_id, as_of or utcnow().date())
    return version.answer(out)
