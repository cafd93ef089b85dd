"""``make run``: three real processes over HTTP; a token minted by plans works on all three, a forged one on none."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import TOKEN_AUDIENCE, TOKEN_ISSUER
from tests.system.procs import Stack, stack_on_new_databases

pytestmark = [pytest.mark.system, pytest.mark.db]

PROBES = {"plans": "/v1/api-keys", "campaigns": "/v1/campaign-kinds", "compliance": "/v1/compliance/items"}


async def test_make_run_serves_all_three(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_on_new_databases(databases, tmp_path / "data", "sys")
    try:
        stack.wait_up()
        out = stack.output()
        token_file = tmp_path / "data" / "bootstrap_token"
        bootstrap = token_file.read_text().strip()
        assert "shown once" in out and out.count(bootstrap) == 1
        for name, url in stack.urls.items():
            assert f"{name}" in out and url in out

        async with stack.client("plans") as plans:
            created = await plans.post("/v1/orgs", json={"name": "Company A"}, headers={"X-Bootstrap-Token": bootstrap})
            assert created.status_code == 201, created.text
            token_response = await plans.post("/v1/auth/token", json={"api_key": created.json()["admin_api_key"]})
            token = token_response.json()["access_token"]
            org_id = created.json()["org"]["id"]

        now = int(time.time())
        forged = jwt.encode(
            {
                "iss": TOKEN_ISSUER,
                "aud": TOKEN_AUDIENCE,
                "sub": "x",
                "org": org_id,
                "role": "admin",
                "iat": now,
                "exp": now + 300,
            },
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": jwt.get_unverified_header(token)["kid"]},
        )
        for name, probe in PROBES.items():
            async with stack.client(name) as client:
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.get("/readyz")).status_code == 200
                assert "xbm_http_requests_total" in (await client.get("/metrics")).text
                assert (await client.get("/openapi.json")).json()["info"]["title"] == f"XBM {name}"
                ok = await client.get(probe, headers={"Authorization": f"Bearer {token}"})
                assert ok.status_code == 200, (name, ok.text)
                bad = await client.get(probe, headers={"Authorization": f"Bearer {forged}"})
                assert bad.status_code == 401, (name, bad.text)
    finally:
        code = stack.stop(signal.SIGTERM)
    assert code == 0, stack.output()
    assert "XBM stopped." in stack.output()

    # a second start keeps the token it generated and does not print it again
    again = Stack(tmp_path / "data")
    try:
        again.wait_up()
        assert bootstrap not in again.output()
    finally:
        assert again.stop(signal.SIGINT) == 0
