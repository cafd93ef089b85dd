"""A stand-in for the three services behind httpx.MockTransport: it records every request and answers
plausibly, so the CLI is tested without the routes other parts of XBM are still building."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PORTS = {8001: "plans", 8002: "campaigns", 8003: "compliance"}


@dataclass
class Sent:
    service: str
    method: str
    path: str
    body: Any
    headers: httpx.Headers
    created_id: str | None = None


def problem(status: int, detail: str, errors: list[dict] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": "refused", "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


@dataclass
class FakeXbm:
    #: (method, path) -> response, for answers a test wants to dictate
    overrides: dict[tuple[str, str], Callable[[Sent], httpx.Response]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    #: each service's real OpenAPI document, which the CLI checks bodies against before sending
    specs: dict[str, Any] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:  # a body sent as it is (a platform's CSV report)
            body = request.content
        service = PORTS.get(request.url.port or 80, request.url.host)
        sent = Sent(service, request.method, request.url.raw_path.decode(), body, request.headers)
        self.sent.append(sent)
        override = self.overrides.get((request.method, sent.path))
        if override:
            return override(sent)
        return self.default(sent)

    def default(self, sent: Sent) -> httpx.Response:
        if sent.path == "/openapi.json" and sent.service in self.specs:
            return httpx.Response(200, json=self.specs[sent.service])
        if sent.path == "/v1/auth/token":
            return httpx.Response(200, json={"access_token": "tok-1", "token_type": "bearer", "expires_in": 900})
        if sent.method == "POST":
            sent.created_id = f"id-{next(self.counter)}"
            return httpx.Response(201, json={**(sent.body or {}), "id": sent.created_id})
        if sent.method == "PUT":
            return httpx.Response(200, json=sent.body)
        if sent.path.endswith("/report"):
            return httpx.Response(200, text="<html><body>plan</body></html>", headers={"content-type": "text/html"})
        return httpx.Response(200, json={})

    def requests(self, *, besides_token: bool = True) -> list[Sent]:
        """What the CLI sent, besides reading the schemas (and, unless asked, the token exchange)."""
        return [
            s for s in self.sent if s.path != "/openapi.json" and not (besides_token and s.path == "/v1/auth/token")
        ]

    def writes(self) -> list[Sent]:
        """Every request that could change something (all but GET)."""
        return [s for s in self.sent if s.method != "GET"]
