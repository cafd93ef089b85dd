"""Revoked keys, token lifetimes and signing-key rotation."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from services.plans.identity.keys import SigningKey
from services.plans.settings import PlansSettings
from shared.auth import MAX_TOKEN_LIFETIME, TOKEN_AUDIENCE, TOKEN_ISSUER, StaticKeys, TokenVerifier
from shared.errors import Unauthorized
from tests.support import Tenant, assert_problem, exchange

PROBES = {"plans": "/v1/plans", "campaigns": "/v1/campaign-kinds", "compliance": "/v1/compliance/items"}


async def _key(plans, tenant: Tenant, role: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    r = await plans.post("/v1/api-keys", json={"name": f"{role} to revoke", "role": role}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["key"]


async def test_a_revoked_keys_token_is_401_on_all_three_services_within_5_seconds(plans, clients, tenant):
    key_id, key = await _key(plans, tenant, "analyst")
    headers = {"Authorization": f"Bearer {await exchange(plans, key)}"}
    for name, client in clients.items():
        assert (await client.get(PROBES[name], headers=headers)).status_code == 200, name

    assert (await plans.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth())).status_code == 204
    revoked_at = time.monotonic()
    pending = dict(clients)
    while pending and time.monotonic() - revoked_at < 5:
        for name, client in list(pending.items()):
            if (await client.get(PROBES[name], headers=headers)).status_code == 401:
                del pending[name]
        await asyncio.sleep(0.1)
    assert not pending, f"still accepted after 5 s by {sorted(pending)}"
    for name, client in clients.items():
        response = await client.get(PROBES[name], headers=headers)
        assert "revoked" in assert_problem(response, 401)["detail"]
    # and the tenant's other keys are untouched
    for name, client in clients.items():
        assert (await client.get(PROBES[name], headers=tenant.auth("analyst"))).status_code == 200


async def test_a_revoked_admins_token_cannot_mint_a_new_admin_key(plans, tenant):
    key_id, key = await _key(plans, tenant, "admin")
    token = {"Authorization": f"Bearer {await exchange(plans, key)}"}
    assert (await plans.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth())).status_code == 204
    minted = await plans.post("/v1/api-keys", json={"name": "backdoor", "role": "admin"}, headers=token)
    assert_problem(minted, 401)
    assert "xbm_" not in minted.text


def _private_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


async def test_token_lifetime_is_capped_by_setting_and_by_every_verifier(tmp_path):
    with pytest.raises(ValidationError):
        PlansSettings(data_dir=tmp_path, token_ttl_seconds=MAX_TOKEN_LIFETIME + 1)
    signing = SigningKey.from_pem(_private_pem())
    verifier = TokenVerifier(StaticKeys(signing.jwks()))
    await verifier.verify(signing.mint(subject="k", org_id="o", role="analyst", ttl_seconds=MAX_TOKEN_LIFETIME))
    now = int(time.time())
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": "k", "org": "o", "role": "analyst",
              "iat": now, "exp": now + MAX_TOKEN_LIFETIME + 60}  # fmt: skip
    too_long = jwt.encode(claims, signing._private, algorithm="EdDSA", headers={"kid": signing.kid})
    with pytest.raises(Unauthorized, match="at most"):
        await verifier.verify(too_long)


async def test_the_jwks_carries_the_previous_signing_key_after_a_rotation(tmp_path):
    old_pem, new_pem = _private_pem(), _private_pem()
    before = SigningKey.from_settings(PlansSettings(data_dir=tmp_path, signing_key=old_pem))
    old_token = before.mint(subject="k", org_id="o", role="analyst", ttl_seconds=600)
    after = SigningKey.from_settings(
        PlansSettings(data_dir=tmp_path, signing_key=new_pem, previous_signing_key=old_pem)
    )
    assert [k["kid"] for k in after.jwks()["keys"]] == [after.kid, before.kid]
    verifier = TokenVerifier(StaticKeys(after.jwks()))
    assert (await verifier.verify(old_token)).subject == "k"
    new_token = after.mint(subject="n", org_id="o", role="analyst", ttl_seconds=600)
    assert jwt.get_unverified_header(new_token)["kid"] == after.kid
    assert (await verifier.verify(new_token)).subject == "n"
