"""A stand-in for plans as its callers see it (the test double of :class:`~services.plans.client.PlansClient`):
the JWKS, the revocation list and ``GET /v1/sbus/{id}`` from SBUs the test adds, as an httpx transport. An SBU
of another organisation than the token's is 404, as plans answers it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import jwt

_SBU = re.compile(r"^/v1/sbus/(?P<sbu_id>[^/]+)$")


class FakePlans:
    def __init__(self, jwks: dict[str, Any]):
        self.jwks = jwks
        self.sbus: dict[str, dict[str, Any]] = {}
        #: how many times an SBU was asked for
        self.sbu_calls = 0

    def add_sbu(self, org_id: str, status: str = "active") -> str:
        sbu_id = str(uuid.uuid4())
        self.sbus[sbu_id] = {"id": sbu_id, "org_id": org_id, "plan_id": str(uuid.uuid4()), "status": status}
        return sbu_id

    def transport(self, *, sbus_down: bool = False) -> httpx.MockTransport:
        """Plans answering; with ``sbus_down`` its SBU route cannot be reached (the connection fails)."""

        def handle(request: httpx.Request) -> httpx.Response:
            path = request.url.path
            if request.method == "GET" and path == "/v1/auth/jwks":
                return httpx.Response(200, json=self.jwks)
            if request.method == "GET" and path == "/internal/revocations":
                return httpx.Response(200, json={"revoked": []})
            found = _SBU.match(path)
            if request.method == "GET" and found:
                if sbus_down:
                    raise httpx.ConnectError("plans is down", request=request)
                return self._sbu(request, found["sbu_id"])
            return httpx.Response(404, json={"status": 404, "title": "Not Found", "detail": f"no route {path}"})

        return httpx.MockTransport(handle)

    def _sbu(self, request: httpx.Request, sbu_id: str) -> httpx.Response:
        self.sbu_calls += 1
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        org = jwt.decode(token, options={"verify_signature": False}).get("org")
        sbu = self.sbus.get(sbu_id)
        if sbu is None or sbu["org_id"] != org:
            return httpx.Response(404, json={"status": 404, "title": "Not Found", "detail": "no such sbu"})
        return httpx.Response(200, json=sbu)
