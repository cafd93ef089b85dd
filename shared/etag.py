"""ETags over a resource's JSON representation, and If-Match checks for PATCH/PUT/DELETE."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request, Response
from pydantic import BaseModel

from shared.errors import PreconditionFailed, Unprocessable

#: far longer than the few ETags a client could name; the OpenAPI documents declare this bound
MAX_IF_MATCH = 1024


def etag_of(representation: BaseModel | dict[str, Any]) -> str:
    if isinstance(representation, BaseModel):
        data = representation.model_dump(mode="json")
    else:
        data = representation
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


def set_etag(response: Response, representation: BaseModel | dict[str, Any]) -> None:
    response.headers["ETag"] = etag_of(representation)


def check_if_match(request: Request, current: BaseModel | dict[str, Any] | None) -> None:
    """Refuse a write based on a stale copy: ``If-Match`` must name the current ETag (or ``*``). With no current
    resource (a PUT that would create it) any ``If-Match`` fails, ``*`` included (RFC 9110 §13.1.1)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    if len(header) > MAX_IF_MATCH:
        raise Unprocessable(f"If-Match is longer than {MAX_IF_MATCH} characters", loc=["header", "If-Match"])
    if current is None:
        raise PreconditionFailed("If-Match names a version, but the resource does not exist yet")
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags:
        return
    if etag_of(current) not in tags:
        raise PreconditionFailed("the resource changed since you read it (If-Match does not match its ETag)")


#: what a write's domain code is given (a route's ``version.check``) to check the client's copy against the
#: current representation, at the moment it holds that representation and before it changes anything
Precondition = Callable[[BaseModel | None], None]
R = TypeVar("R", bound=BaseModel | dict[str, Any])


class Versioned:
    """ETag and If-Match, the one way every XBM route handles them: a route that answers with a versioned
    representation, or writes one, takes ``version: Version`` and calls :meth:`answer` on what it returns (the
    ETag header). A write hands ``version.check`` to its service function as the :data:`Precondition`; the
    service calls it with the current representation once it holds it (after its own permission and lock checks,
    before it changes anything: the If-Match rules of :func:`check_if_match`). Routers never check by hand, and
    never write an ETag themselves (tests/shared/test_etag_routes.py)."""

    def __init__(self, request: Request, response: Response) -> None:
        self.request, self.response = request, response

    def check(self, current: BaseModel | dict[str, Any] | None) -> None:
        check_if_match(self.request, current)

    def answer(self, representation: R) -> R:
        set_etag(self.response, representation)
        return representation

    def answer_dumped(self, data: dict[str, Any], covering: Iterable[str]) -> Response:
        """A hot read's answer from a representation already dumped to JSON (no response model validates and
        serialises it again): the body, with the ETag over the ``covering`` fields only, the same tag
        :meth:`answer` gives a model of just those fields (what the route's writes check If-Match against)."""
        response = Response(orjson.dumps(data), media_type="application/json")
        response.headers["ETag"] = etag_of({name: data[name] for name in covering})
        return response


async def _versioned(request: Request, response: Response) -> Versioned:
    # a coroutine, so FastAPI calls it in the event loop: the class itself, a plain callable, would be run in
    # the thread pool (a thread hand-off on every request that declares ``Version``)
    return Versioned(request, response)


Version = Annotated[Versioned, Depends(_versioned)]
