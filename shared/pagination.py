"""Keyset pagination over (created_at, id): ``{"items": [...], "next_cursor": ...}``, stable under inserts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from shared.errors import Unprocessable

M = TypeVar("M")


@dataclass(frozen=True)
class PageParams:
    limit: int = 50
    cursor: str | None = None


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="page size (1–200)")] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> PageParams:
    # a coroutine: FastAPI runs a plain function or a class dependency in a worker thread, a hop per request
    return PageParams(limit, cursor)


Pagination = Annotated[PageParams, Depends(_page_params)]


def encode_cursor(created_at: datetime, object_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), object_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, object_id = json.loads(raw)
        return datetime.fromisoformat(created), str(object_id)
    except Exception as exc:
        raise Unprocessable("cursor is not one this service issued", loc=["query", "cursor"]) from exc


async def paginate(
    session: AsyncSession, stmt: Select[Any], model: Any, page: PageParams
) -> tuple[list[Any], str | None]:
    """Run ``stmt`` (already scoped and filtered) one page at a time, oldest first."""
    if page.cursor:
        created, object_id = decode_cursor(page.cursor)
        # a row-value comparison: the database seeks straight to the cursor in a (…, created_at, id) index,
        # where the equivalent OR would read every row before it
        stmt = stmt.where(
            tuple_(model.created_at, model.id)
            > tuple_(literal(created, model.created_at.type), literal(object_id, model.id.type))
        )
    stmt = stmt.order_by(model.created_at, model.id).limit(page.limit + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, next_cursor
