"""The route index (shared/route_index.py) chooses what the whole router chooses: for a request to every route of
the three services, with each of its methods and with a method it does not take, the route the narrowed list
selects (fully or partly matched) is the one the router's full walk selects; paths no route takes fall through to
the whole router; and what clients send cannot grow the index."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Match

from shared.route_index import RouteIndex, pattern_of

SERVICES = ("plans", "campaigns", "compliance")


def _selected(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[BaseRoute, Match] | None:
    """What Starlette's router loop picks: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return route, match
        if match is Match.PARTIAL and partial is None:
            partial = (route, match)
    return partial


def _scope(app: Any, method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "app": app, "headers": []}


def _concrete(path: str) -> str:
    path = re.sub(r"\{[^}:]+:path\}", "a/b", path)
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_every_route_is_chosen_as_the_whole_router_chooses_it(apps: dict[str, Any]) -> None:
    checked = 0
    for name in SERVICES:
        app = apps[name]
        index = app.router.middleware_stack
        assert isinstance(index, RouteIndex), name
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                continue
            path = _concrete(context.path_format)
            for method in [*sorted(route.methods), "TRACE"]:
                scope = _scope(app, method, path)
                whole = _selected(app.router.routes, scope)
                narrowed = index.narrowed(scope)
                assert narrowed is not None
                assert _selected(narrowed.routes, scope) == whole, (name, method, path)
                assert whole is not None, (name, method, path)
                checked += 1
    assert checked > 250


def test_the_hot_requests_are_matched_against_a_few_routes(apps: dict[str, Any]) -> None:
    for name, method, path in (("plans", "GET", "/v1/sbus/x1"), ("compliance", "POST", "/v1/compliance/orders")):
        app = apps[name]
        narrowed = app.router.middleware_stack.narrowed(_scope(app, method, path))
        assert len(narrowed.routes) <= len(app.router.routes) // 2, name


def test_patterns_of_route_paths() -> None:
    assert pattern_of("/v1/sbus/{sbu_id}") == ("v1", "sbus", None)
    assert pattern_of("/v1/compliance/orders/{ebp}/{no}") == ("v1", "compliance", "orders")
    assert pattern_of("/healthz") == ("healthz", "", "")
    assert pattern_of("/{rest:path}") == (None, None, None)
    assert pattern_of("/docs-assets", prefix=True) == ("docs-assets", None, None)
    assert pattern_of("/v1/{kind}/x") == ("v1", None, None)


async def test_unknown_paths_fall_through_and_do_not_grow_the_index(apps: dict[str, Any]) -> None:
    app = apps["plans"]
    index = app.router.middleware_stack
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        for n in range(300):
            response = await client.get(f"/v{n}/nothing-{n}/here")
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
        # a slash too many is redirected, as the whole router does
        response = await client.get("/healthz/")
        assert response.status_code == 307
        assert response.headers["location"].endswith("/healthz")
        # a method the route does not take: 405, with the methods it does
        response = await client.delete("/healthz")
        assert response.status_code == 405
    bound = 1
    for literals in index._literals:
        bound *= len(literals) + 1
    assert len(index._narrowed) <= bound
