"""CORS for frontends on other origins (``XBM_CORS_ORIGINS``).

Only the listed origins get CORS headers. A request from any other origin passes to the app untouched, so a
browser there sees no ``Access-Control-Allow-Origin`` and refuses the response; a preflight from it is
answered as any unknown OPTIONS would be (405), with no CORS headers that could be mistaken for consent.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: what a browser may send besides the CORS-safelisted headers
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID")
#: what a page may read from a response besides the safelisted ones
EXPOSED_HEADERS = ("ETag", "Location", "X-Request-ID", "Retry-After")
ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: how long (seconds) a browser may cache a preflight answer
PREFLIGHT_MAX_AGE = 600


def normalise_origin(origin: str) -> str:
    """``https://App.example.com/`` and ``https://app.example.com`` are the same origin to a browser."""
    origin = origin.strip().rstrip("/")
    scheme, sep, rest = origin.partition("://")
    return f"{scheme.lower()}{sep}{rest.lower()}" if sep else origin.lower()


class ListedOriginsCORS:
    """Starlette's CORS handling, applied only to requests whose ``Origin`` is listed."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]):
        self.app = app
        self.origins = frozenset(normalise_origin(o) for o in origins if o.strip())
        self.cors = CORSMiddleware(
            app,
            allow_origins=sorted(self.origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,  # bearer tokens, never cookies
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is not None and normalise_origin(origin) in self.origins:
            await self.cors(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            # the answer depends on Origin: a shared cache must not hand this one to a listed origin
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_vary)
