"""Routes for one kind of plan-owned object: list, create, get, patch, delete under
``/v1/plans/{plan_id}/<path>``. (No postponed annotations here: the body and response types are the kind's.)"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel

from services.plans.planning import children
from services.plans.planning.children import ChildKind
from shared.auth import Principal, Reader, require
from shared.db import DbSession
from shared.etag import Version, Versioned
from shared.pagination import Pagination
from shared.schemas import Page, PathId

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "plan archived, strategy locked (give override_reason), duplicate or still in use"},
    412: {"description": "stale If-Match"},
}


def child_router(kind: ChildKind) -> APIRouter:
    router = APIRouter(prefix="/v1/plans/{plan_id}", tags=[kind.tag])
    Writer = Annotated[Principal, Depends(require(*kind.writers))]
    label = kind.model.__label__
    article = "an" if label[:1].lower() in "aeiou" else "a"
    who = " or ".join([*kind.writers, "admin"])
    name = kind.path.replace("-", "_")

    def shaped(obj: Any, version: Versioned) -> BaseModel:
        return version.answer(kind.out.model_validate(obj))

    async def list_items(plan_id: PathId, principal: Reader, session: DbSession, page: Pagination) -> Any:
        rows, cursor = await children.list_children(session, principal, kind, plan_id, page)
        return Page[kind.out](items=[kind.out.model_validate(r) for r in rows], next_cursor=cursor)  # type: ignore[name-defined]

    async def create_item(
        plan_id: PathId,
        body: kind.create,  # type: ignore[name-defined]
        principal: Writer,
        session: DbSession,
        response: Response,
        version: Version,
    ) -> Any:
        obj = await children.create_child(session, principal, kind, plan_id, body)
        response.headers["Location"] = f"/v1/plans/{plan_id}/{kind.path}/{obj.id}"
        return shaped(obj, version)

    async def get_item(
        plan_id: PathId, item_id: PathId, principal: Reader, session: DbSession, version: Version
    ) -> Any:
        return shaped(await children.get_child(session, principal, kind, plan_id, item_id), version)

    async def patch_item(
        plan_id: PathId,
        item_id: PathId,
        body: kind.patch,  # type: ignore[name-defined]
        principal: Writer,
        session: DbSession,
        version: Version,
    ) -> Any:
        obj = await children.update_child(session, principal, kind, plan_id, item_id, body, version.check)
        return shaped(obj, version)

    async def delete_item(
        plan_id: PathId,
        item_id: PathId,
        principal: Writer,
        session: DbSession,
        version: Version,
        override_reason: Annotated[str | None, Query(max_length=500)] = None,
    ) -> Response:
        await children.delete_child(session, principal, kind, plan_id, item_id, override_reason, version.check)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    collection, item = f"/{kind.path}", f"/{kind.path}/{{item_id}}"
    router.add_api_route(
        collection,
        list_items,
        methods=["GET"],
        response_model=Page[kind.out],  # type: ignore[name-defined]
        name=f"list_{name}",
        summary=f"List the plan's {kind.path.replace('-', ' ')} (every role but integration)",
    )
    router.add_api_route(
        collection,
        create_item,
        methods=["POST"],
        status_code=201,
        response_model=kind.out,
        name=f"create_{name}",
        summary=f"Create {article} {label} ({who})",
        responses=WRITE_RESPONSES,
    )
    router.add_api_route(
        item, get_item, methods=["GET"], response_model=kind.out, name=f"get_{name}", summary=f"Get {article} {label}"
    )
    router.add_api_route(
        item,
        patch_item,
        methods=["PATCH"],
        response_model=kind.out,
        name=f"patch_{name}",
        summary=f"Change {article} {label} ({who})",
        responses=WRITE_RESPONSES,
    )
    router.add_api_route(
        item,
        delete_item,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{name}",
        summary=f"Delete {article} {label} ({who})",
        responses=WRITE_RESPONSES,
    )
    return router
