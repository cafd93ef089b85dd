"""A started service's objects are frozen out of the garbage collector's generations (shared/app_context.py
``settle_heap``): what it built while starting is not walked again by every full collection; and the collector
runs every 50,000 allocations, not every 700, so a large body does not set off dozens of collections."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import httpx

from shared.app_context import GC_THRESHOLDS
from shared.context import context_of
from tests.shared.toy.service import running


async def test_what_a_service_builds_while_starting_is_frozen(databases: Any, plans_app: Any, tmp_path: Path) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's defaults
    assert gc.get_freeze_count() == 0
    async with httpx.AsyncClient() as http, running(databases, plans_app, tmp_path, http) as (app, client):
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == GC_THRESHOLDS == (50_000, 20, 100)
        # the objects the start made are among them: the collector no longer tracks them in any generation
        built = [context_of(app).verifier, context_of(app).engine, app.router]
        assert not any(gc.is_tracked(o) and any(o is x for x in gc.get_objects()) for o in built)
        assert (await client.get("/healthz")).status_code == 200
