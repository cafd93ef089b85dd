"""The objects a plan holds (factors, SWOT items, segments, customers, channels, products, innovations …)
share one life: created, read, patched and deleted inside their plan, by the roles of their layer, through
the write guard (archived plans, the strategy lock) and into the audit when the plan is active."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.planning.models import Plan
from services.plans.planning.service import Layer, WriteContext, audit, open_for_write
from shared.auth import Principal
from shared.db import get_scoped, scoped
from shared.errors import Conflict, FieldError, NotFound
from shared.etag import Precondition
from shared.money import to_columns
from shared.pagination import PageParams, paginate

#: a domain rule run on an object about to be saved (raise Unprocessable to refuse it)
Check = Callable[[AsyncSession, Plan, Any], Awaitable[None]]
#: run after an object was created, updated or deleted (action, object), in the same transaction: an event
Written = Callable[[AsyncSession, str, Any], Awaitable[None]]
#: rows shown before the stored ones on a list's first page (read models that are not the plan's own rows)
Leading = Callable[[AsyncSession, Plan], Awaitable[list[Any]]]


@dataclass(frozen=True)
class ChildKind:
    path: str
    entity: str
    model: type[Any]
    create: type[BaseModel]
    patch: type[BaseModel]
    out: type[BaseModel]
    layer: Layer
    writers: tuple[str, ...]
    check: Check | None = None
    tag: str = "plans"
    written: Written | None = None
    leading: Leading | None = None


async def load_plan(session: AsyncSession, principal: Principal, plan_id: str) -> Plan:
    return await get_scoped(session, Plan, plan_id, principal.org_id)


async def list_children(
    session: AsyncSession, principal: Principal, kind: ChildKind, plan_id: str, page: PageParams
) -> tuple[list[Any], str | None]:
    plan = await load_plan(session, principal, plan_id)
    stmt = scoped(kind.model, principal.org_id).where(kind.model.plan_id == plan_id)
    rows, cursor = await paginate(session, stmt, kind.model, page)
    if kind.leading is not None and page.cursor is None:
        rows = [*await kind.leading(session, plan), *rows]
    return rows, cursor


async def get_child(session: AsyncSession, principal: Principal, kind: ChildKind, plan_id: str, child_id: str) -> Any:
    obj = await get_scoped(session, kind.model, child_id, principal.org_id)
    if obj.plan_id != plan_id:
        raise NotFound(f"{kind.model.__label__} {child_id} not found in plan {plan_id[:64]}")
    return obj


def _override(body: BaseModel) -> str | None:
    return getattr(body, "override_reason", None)


async def flush_or_conflict(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} conflicts with data already stored (duplicate, or still in use)") from exc


async def create_child(
    session: AsyncSession, principal: Principal, kind: ChildKind, plan_id: str, body: BaseModel
) -> Any:
    ctx = await open_for_write(session, principal, plan_id, kind.layer, _override(body))
    obj = kind.model(org_id=principal.org_id, plan_id=plan_id, **to_columns(body, exclude={"override_reason"}))
    if kind.check:
        await kind.check(session, ctx.plan, obj)
    session.add(obj)
    await flush_or_conflict(session, f"this {kind.model.__label__}")
    await session.refresh(obj)
    audit(session, ctx, "create", kind.entity, obj.id, None, kind.out.model_validate(obj))
    if kind.written:
        await kind.written(session, "created", obj)
    return obj


def _apply(kind: ChildKind, obj: Any, body: BaseModel) -> None:
    columns = kind.model.__table__.c
    for key, value in to_columns(body, exclude={"override_reason"}, only_set=True).items():
        if value is None and not columns[key].nullable:
            field = key.removesuffix("_amount").removesuffix("_currency")
            raise FieldError(field, f"{field} cannot be null")
        setattr(obj, key, value)


async def update_child(
    session: AsyncSession,
    principal: Principal,
    kind: ChildKind,
    plan_id: str,
    child_id: str,
    body: BaseModel,
    precondition: Precondition,
) -> Any:
    ctx = await open_for_write(session, principal, plan_id, kind.layer, _override(body))
    obj = await get_child(session, principal, kind, plan_id, child_id)
    before = kind.out.model_validate(obj)
    precondition(before)
    _apply(kind, obj, body)
    if kind.check:
        await kind.check(session, ctx.plan, obj)
    await flush_or_conflict(session, f"this {kind.model.__label__}")
    await session.refresh(obj)
    audit(session, ctx, "update", kind.entity, obj.id, before, kind.out.model_validate(obj))
    if kind.written:
        await kind.written(session, "updated", obj)
    return obj


async def delete_child(
    session: AsyncSession,
    principal: Principal,
    kind: ChildKind,
    plan_id: str,
    child_id: str,
    override_reason: str | None,
    precondition: Precondition,
) -> None:
    ctx: WriteContext = await open_for_write(session, principal, plan_id, kind.layer, override_reason)
    obj = await get_child(session, principal, kind, plan_id, child_id)
    before = kind.out.model_validate(obj)
    precondition(before)
    await session.delete(obj)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{kind.model.__label__} {child_id} is still in use; remove what refers to it first") from exc
    audit(session, ctx, "delete", kind.entity, child_id, before, None)
    if kind.written:
        await kind.written(session, "deleted", obj)
