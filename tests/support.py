"""Test helpers: tenants with a token for every role, and signed headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx

from shared.auth import ROLES

BOOTSTRAP_TOKEN = "test-bootstrap-token"
#: the in-process services' shared secret (signs their internal events)
SERVICE_SECRET = "test-service-secret"


@dataclass
class Tenant:
    org_id: str
    admin_key: str
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def exchange(plans: httpx.AsyncClient, api_key: str) -> str:
    response = await plans.post("/v1/auth/token", json={"api_key": api_key})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def make_tenant(plans: httpx.AsyncClient, name: str | None = None) -> Tenant:
    response = await plans.post(
        "/v1/orgs",
        json={"name": name or f"Company {uuid.uuid4().hex[:6]}"},
        headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    tenant = Tenant(org_id=body["org"]["id"], admin_key=body["admin_api_key"])
    tenant.tokens["admin"] = await exchange(plans, tenant.admin_key)
    for role in ROLES:
        if role == "admin":
            continue
        created = await plans.post("/v1/api-keys", json={"name": f"{role} key", "role": role}, headers=tenant.auth())
        assert created.status_code == 201, created.text
        tenant.tokens[role] = await exchange(plans, created.json()["key"])
    return tenant


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body
