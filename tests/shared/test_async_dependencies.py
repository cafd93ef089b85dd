"""Every route's endpoint and every dependency it declares is a coroutine. FastAPI runs a plain function or a
class used as a dependency in a worker thread: a thread hop (and a wait for a free worker under load) on every
request that declares it, for work that takes microseconds."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from shared.openapi import dependants

SERVICES = ("plans", "campaigns", "compliance")


def _runs_in_a_thread(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return False
    if inspect.isclass(call):
        return True
    method = type(call).__call__  # an instance whose __call__ is a coroutine runs on the loop
    return not (inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method))


def test_no_route_runs_a_dependency_or_endpoint_in_a_worker_thread(apps: dict[str, Any]) -> None:
    found: set[str] = set()
    routes = 0
    for name in SERVICES:
        for context in iter_route_contexts(apps[name].routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                continue
            routes += 1
            for dependant in dependants(route.dependant):
                if dependant.call is not None and _runs_in_a_thread(dependant.call):
                    found.add(f"{name} {route.path}: {dependant.call.__module__}.{dependant.call.__qualname__}")
    assert routes > 200
    assert not found, "\n".join(sorted(found))
