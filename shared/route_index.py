"""Routing by the path's first three segments, so a request is matched against the few routes that could take it.

The app's router tries its routes in order, each with its path's regular expression, and FastAPI matches the
chosen included router's routes a second time; with a hundred routes in a dozen routers that walk cost a request
~0.1 ms before any of its own work. A route whose path begins with other literal segments than the request's
(``/v1/plans/…`` for ``/v1/sbus/…``) can never match it, fully or partly, so leaving it out changes nothing:
:class:`RouteIndex` hands the router, per first three segments, only the routes whose paths could begin with
them, in their declared order. A request none of those routes takes (a 404, a slash to redirect, a
low-priority route) goes through the router whole, exactly as without the index.
tests/shared/test_route_index.py sends a request to every route of the three services through both and compares
what each one chose."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Router
from starlette.types import Receive, Scope, Send

#: how many leading path segments decide the candidates (``/v1/compliance/orders``: every compliance route
#: begins with the same two)
DEPTH = 3
#: a position a route's path leaves open (a parameter, or anything under a mount)
ANY = None
#: a request's segment no route names at that position: only open positions take it
OTHER = "\x00other"

Pattern = tuple[str | None, ...]


def pattern_of(path: str, *, prefix: bool = False) -> Pattern:
    """The first :data:`DEPTH` segments of a route's path: a literal segment as itself, a parameter (and all
    after it, since a ``{…:path}`` parameter spans segments) or anything under a mount (``prefix``) as
    :data:`ANY`. A path shorter than that ends in ``""``, as a request's path to it does."""
    segments = path.split("/")[1:] if path.startswith("/") else [path]
    out: list[str | None] = []
    open_from_here = False
    for position in range(DEPTH):
        if open_from_here:
            out.append(ANY)
            continue
        if position < len(segments):
            segment = segments[position]
            if "{" in segment:
                open_from_here = True
                out.append(ANY)
            else:
                out.append(segment)
        else:
            out.append(ANY if prefix else "")
            open_from_here = prefix
    return tuple(out)


def _paths(route: BaseRoute) -> list[tuple[str, bool]] | None:
    """(path, is a mount's prefix) of every route reachable through ``route`` (itself, or what a router included
    with include_router holds); None when it cannot be told (the route is then a candidate for every request)."""
    contexts = getattr(route, "effective_route_contexts", None)
    found: list[tuple[str, bool]] = []
    for context in contexts() if contexts is not None else [route]:
        path = getattr(context, "path_format", None) or getattr(context, "path", None)
        if not isinstance(path, str):
            return None
        found.append((path, isinstance(getattr(context, "original_route", context), Mount)))
    return found


def _fits(pattern: Pattern, key: tuple[str, ...]) -> bool:
    return all(p is ANY or p == k for p, k in zip(pattern, key, strict=True))


class RouteIndex:
    """The router's entry point (``router.middleware_stack``), narrowing the routes by the path's first
    segments (see the module's text)."""

    def __init__(self, router: Router):
        self.router = router
        self._built_for: tuple[int, int] | None = None
        self._patterns: list[list[Pattern] | None] = []
        self._literals: list[set[str]] = []
        self._narrowed: dict[tuple[str, ...], Router] = {}

    def _build(self) -> None:
        routes = self.router.routes
        self._patterns = []
        for route in routes:
            paths = _paths(route)
            self._patterns.append(None if paths is None else [pattern_of(p, prefix=m) for p, m in paths])
        self._literals = [set() for _ in range(DEPTH)]
        for patterns in self._patterns:
            for pattern in patterns or ():
                for position, segment in enumerate(pattern):
                    if segment is not ANY:
                        self._literals[position].add(segment)
        self._narrowed = {}
        self._built_for = (id(routes), len(routes))

    def key(self, path: str) -> tuple[str, ...]:
        """A request path's first segments, each one no route names at its position written :data:`OTHER` (so
        what clients send cannot grow the index)."""
        segments = path.split("/", DEPTH + 1)[1 : DEPTH + 1]
        segments += [""] * (DEPTH - len(segments))
        return tuple(s if s in self._literals[i] else OTHER for i, s in enumerate(segments))

    def candidates(self, key: tuple[str, ...]) -> list[BaseRoute]:
        routes = self.router.routes
        return [
            route
            for route, patterns in zip(routes, self._patterns, strict=True)
            if patterns is None or any(_fits(p, key) for p in patterns)
        ]

    def narrowed(self, scope: Scope) -> Router | None:
        """The router with only the routes that could take this request, or None to use the whole one."""
        if scope.get("root_path") or not isinstance(scope.get("path"), str):
            return None  # mounted under a prefix: the route path is not the path as sent
        routes = self.router.routes
        if self._built_for != (id(routes), len(routes)):
            self._build()
        key = self.key(scope["path"])
        router = self._narrowed.get(key)
        if router is None:
            router = copy.copy(self.router)
            router.routes = self.candidates(key)
            self._narrowed[key] = router
        return router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            narrowed = self.narrowed(scope)
            if narrowed is not None and _any_match(narrowed.routes, scope):
                scope.setdefault("router", self.router)  # url_for and the like see every route
                await narrowed.app(scope, receive, send)
                return
        await self.router.app(scope, receive, send)


def _any_match(routes: Iterable[BaseRoute], scope: Scope) -> bool:
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return True
    return False


def install(router: Router) -> None:
    """Route ``router``'s requests through a :class:`RouteIndex` (when nothing else wraps it)."""
    stack: Any = router.middleware_stack
    if stack == router.app:
        router.middleware_stack = RouteIndex(router)
