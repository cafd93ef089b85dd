"""Every service accepts plans' tokens and nothing else: forged, expired, alg-none and HMAC tokens are 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.plans.context import plans_context
from shared.auth import TOKEN_AUDIENCE, TOKEN_ISSUER
from tests.support import Tenant, assert_problem

# one authenticated read per service
PROBES = {"plans": "/v1/api-keys", "campaigns": "/v1/campaign-kinds", "compliance": "/v1/compliance/items"}


def _claims(tenant: Tenant, **over: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": "k",
        "org": tenant.org_id,
        "role": "admin",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(over)
    return claims


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _hs256(claims: dict[str, object], secret: bytes, kid: str) -> str:
    signing_input = f"{_b64({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


async def _kid(plans: httpx.AsyncClient) -> str:
    return str((await plans.get("/v1/auth/jwks")).json()["keys"][0]["kid"])


async def test_a_plans_token_is_accepted_everywhere(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> None:
    for name, client in clients.items():
        response = await client.get(PROBES[name], headers=tenant.auth())
        assert response.status_code == 200, (name, response.text)


async def test_no_token_is_401_with_www_authenticate(clients: dict[str, httpx.AsyncClient]) -> None:
    for name, client in clients.items():
        for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
            response = await client.get(PROBES[name], headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"


async def test_forged_tokens_are_401(clients: dict[str, httpx.AsyncClient], tenant: Tenant) -> None:
    kid = await _kid(clients["plans"])
    other_key = Ed25519PrivateKey.generate()
    public_pem = other_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = {
        "another key, plans' kid": jwt.encode(_claims(tenant), other_key, algorithm="EdDSA", headers={"kid": kid}),
        "another key, unknown kid": jwt.encode(_claims(tenant), other_key, algorithm="EdDSA", headers={"kid": "x1"}),
        "alg none": f"{_b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{_b64(_claims(tenant))}.",
        "HS256 keyed with a public key": _hs256(_claims(tenant), public_pem, kid),
        "garbage": "not.a.token",
    }
    for name, client in clients.items():
        for label, token in forged.items():
            response = await client.get(PROBES[name], headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (name, label, response.text)


async def test_expired_and_misaddressed_tokens_are_401(plans_app, clients, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    signing = plans_context(plans_app).signing_key
    expired = signing.mint(subject="k", org_id=tenant.org_id, role="admin", ttl_seconds=-60)
    wrong_aud = jwt.encode(
        _claims(tenant, aud="someone-else"), signing._private, algorithm="EdDSA", headers={"kid": signing.kid}
    )
    bad_role = jwt.encode(
        _claims(tenant, role="root"), signing._private, algorithm="EdDSA", headers={"kid": signing.kid}
    )
    for name, client in clients.items():
        for token in (expired, wrong_aud, bad_role):
            assert_problem(await client.get(PROBES[name], headers={"Authorization": f"Bearer {token}"}), 401)


async def test_a_verified_token_is_remembered_until_it_expires(plans_app, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    from shared.auth import StaticKeys, TokenVerifier
    from shared.errors import Unauthorized

    signing = plans_context(plans_app).signing_key
    verifier = TokenVerifier(StaticKeys(signing.jwks()), cache_size=2)
    short = signing.mint(subject="k", org_id=tenant.org_id, role="analyst", ttl_seconds=60)
    first = await verifier.verify(short)
    verifier.keys = StaticKeys({"keys": []})  # a remembered token needs no key look-up …
    assert await verifier.verify(short) == first
    tampered = short[:-4] + ("AAAA" if not short.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):  # … but any other string is verified afresh
        await verifier.verify(tampered)
    verifier._verified[short] = (first, time.time() - 1)  # expired: verified again, and refused without its key
    with pytest.raises(Unauthorized):
        await verifier.verify(short)
    verifier.keys = StaticKeys(signing.jwks())
    for n in range(3):  # the memory stays bounded
        await verifier.verify(signing.mint(subject=str(n), org_id=tenant.org_id, role="analyst", ttl_seconds=60))
    assert len(verifier._verified) == 2
