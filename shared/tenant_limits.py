"""Per-organisation request limits: one tenant's burst of requests (or of large bodies) is refused with 429 and
``Retry-After`` before it takes the capacity every other tenant shares.

Each request an organisation makes costs one unit, plus one per whole 64 KiB of its body (a 1 MiB upsert costs
17), counted over a moving window per organisation (``XBM_ORG_REQUESTS``, e.g. ``6000/minute``; unset: no limit,
the embedded default). The counts live in this process, or in Redis when ``XBM_RATE_LIMIT_URL`` is set, so every
replica of a service counts together. Requests without a valid token are not counted here (they are refused by
the route, and login attempts have limits of their own)."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import bearer_principal
from shared.errors import send_problem

#: body bytes one unit of cost stands for
UNIT_BYTES = 65_536


def storage_url(url: str | None) -> str:
    """``redis://…`` as the asynchronous storage `limits` expects; memory when no URL is given."""
    if not url:
        return "async+memory://"
    return url if url.startswith("async+") else f"async+{url}"


def cost_of(content_length: int) -> int:
    return 1 + max(content_length, 0) // UNIT_BYTES


class TenantLimitMiddleware:
    def __init__(self, app: ASGIApp, rate: str, storage: str | None = None):
        self.app = app
        self.item: RateLimitItem = parse(rate)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url(storage)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        principal = await bearer_principal(scope)
        if principal is None:  # the route answers 401 itself
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = 0
        if not await self.limiter.hit(self.item, "org", principal.org_id, cost=cost_of(length)):
            stats = await self.limiter.get_window_stats(self.item, "org", principal.org_id)
            retry_after = max(1, int(stats.reset_time - time.time()) + 1)
            detail = "this organisation has used up its requests for now; retry after Retry-After seconds"
            await send_problem(send, 429, "Too Many Requests", detail, retry_after=retry_after)
            return
        await self.app(scope, receive, send)
