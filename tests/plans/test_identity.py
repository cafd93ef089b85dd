"""Organisations, API keys and tokens: the identity slice every other route stands on."""

from __future__ import annotations

import httpx

from shared.context import context_of
from tests.support import BOOTSTRAP_TOKEN, Tenant, assert_problem, exchange


async def test_create_org_needs_the_bootstrap_token(plans: httpx.AsyncClient) -> None:
    missing = await plans.post("/v1/orgs", json={"name": "Company A"})
    assert_problem(missing, 401)
    wrong = await plans.post("/v1/orgs", json={"name": "Company A"}, headers={"X-Bootstrap-Token": "nope"})
    assert_problem(wrong, 401)

    created = await plans.post("/v1/orgs", json={"name": "Company A"}, headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN})
    assert created.status_code == 201
    body = created.json()
    assert body["org"]["name"] == "Company A"
    assert created.headers["location"] == f"/v1/orgs/{body['org']['id']}"
    assert body["admin_api_key"].startswith("xbm_")

    token = await exchange(plans, body["admin_api_key"])
    got = await plans.get(created.headers["location"], headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.json()["id"] == body["org"]["id"]


async def test_org_name_is_validated(plans: httpx.AsyncClient) -> None:
    for bad in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "A\x00B"}, {"name": "A", "extra": 1}):
        response = await plans.post("/v1/orgs", json=bad, headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN})
        body = assert_problem(response, 422)
        assert body["errors"] and all("loc" in e and "msg" in e for e in body["errors"])


async def test_api_keys_are_shown_once_and_stored_hashed(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:
    created = await plans.post("/v1/api-keys", json={"name": "CI", "role": "analyst"}, headers=tenant.auth())
    assert created.status_code == 201
    key = created.json()["key"]
    assert created.headers["location"] == f"/v1/api-keys/{created.json()['id']}"

    listed = await plans.get("/v1/api-keys", headers=tenant.auth())
    assert listed.status_code == 200
    assert all("key" not in item for item in listed.json()["items"])
    fetched = await plans.get(f"/v1/api-keys/{created.json()['id']}", headers=tenant.auth())
    assert fetched.json()["role"] == "analyst" and "key" not in fetched.json()

    from sqlalchemy import select

    from services.plans.identity.models import ApiKey

    async with context_of(plans_app).sessionmaker() as session:
        stored = (await session.execute(select(ApiKey).where(ApiKey.id == created.json()["id"]))).scalar_one()
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64


async def test_only_admins_manage_keys(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    for role in ("executive", "supervisor", "specialist", "analyst", "integration"):
        assert_problem(
            await plans.post("/v1/api-keys", json={"name": "x", "role": "admin"}, headers=tenant.auth(role)), 403
        )
        assert_problem(await plans.get("/v1/api-keys", headers=tenant.auth(role)), 403)
    assert_problem(await plans.get("/v1/api-keys"), 401)


async def test_another_orgs_key_is_not_found(plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    created = await plans.post("/v1/api-keys", json={"name": "x", "role": "analyst"}, headers=tenant.auth())
    key_id = created.json()["id"]
    assert_problem(await plans.get(f"/v1/api-keys/{key_id}", headers=other_tenant.auth()), 404)
    assert_problem(await plans.delete(f"/v1/api-keys/{key_id}", headers=other_tenant.auth()), 404)
    assert_problem(await plans.get(f"/v1/orgs/{tenant.org_id}", headers=other_tenant.auth()), 404)
    still = await plans.get(f"/v1/api-keys/{key_id}", headers=tenant.auth())
    assert still.json()["revoked_at"] is None


async def test_revoked_keys_get_no_token(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    created = (await plans.post("/v1/api-keys", json={"name": "x", "role": "specialist"}, headers=tenant.auth())).json()
    await exchange(plans, created["key"])
    revoked = await plans.delete(f"/v1/api-keys/{created['id']}", headers=tenant.auth())
    assert revoked.status_code == 204
    assert_problem(await plans.post("/v1/auth/token", json={"api_key": created["key"]}), 401)
    assert (await plans.get(f"/v1/api-keys/{created['id']}", headers=tenant.auth())).json()["revoked_at"]


async def test_the_last_admin_key_cannot_be_revoked(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    keys = (await plans.get("/v1/api-keys?limit=200", headers=tenant.auth())).json()["items"]
    admin_key = next(k for k in keys if k["role"] == "admin")
    body = assert_problem(await plans.delete(f"/v1/api-keys/{admin_key['id']}", headers=tenant.auth()), 409)
    assert "last active admin key" in body["detail"]


async def test_token_exchange(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await plans.post("/v1/auth/token", json={"api_key": tenant.admin_key})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert_problem(await plans.post("/v1/auth/token", json={"api_key": "xbm_not-a-key"}), 401)
    assert_problem(await plans.post("/v1/auth/token", json={}), 422)


async def test_jwks_publishes_the_ed25519_key(plans: httpx.AsyncClient) -> None:
    keys = (await plans.get("/v1/auth/jwks")).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and keys[0]["alg"] == "EdDSA"
    assert keys[0]["kid"] and "d" not in keys[0]


async def test_key_listing_paginates(plans: httpx.AsyncClient, tenant: Tenant) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/api-keys?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await plans.get(url, headers=tenant.auth())).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6  # one key per role
    assert_problem(await plans.get("/v1/api-keys?cursor=garbage", headers=tenant.auth()), 422)
    assert_problem(await plans.get("/v1/api-keys?limit=0", headers=tenant.auth()), 422)
    assert_problem(await plans.get("/v1/api-keys?limit=201", headers=tenant.auth()), 422)
