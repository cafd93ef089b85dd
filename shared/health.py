"""``/healthz`` (alive), ``/readyz`` (database answers and its schema is at Alembic head), ``/metrics``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.context import context_of
from shared.migrations import current_revision, head_revision

# Which process answers: `make run` hands each child an id and says "up" only when /healthz answers with it, so
# another stack already listening on the port cannot pass for this one.
INSTANCE_ID = os.environ.get("XBM_INSTANCE_ID") or uuid.uuid4().hex


def ops_router(migrations_dir: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    head = head_revision(migrations_dir)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "instance": INSTANCE_ID}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        engine = context_of(request.app).engine
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await current_revision(engine)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "detail": f"database does not answer: {type(exc).__name__}"},
                status_code=503,
            )
        if current != head:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "detail": "database schema is not at the latest migration",
                    "schema_revision": current,
                    "head_revision": head,
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "schema_revision": current})

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        body, content_type = context_of(request.app).metrics.render()
        return Response(body, media_type=content_type)

    return router
