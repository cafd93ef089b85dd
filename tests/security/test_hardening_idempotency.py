"""Idempotency-Key replays only to the API key that made the request, and a key whose request died is
released after its lease."""

from __future__ import annotations

from datetime import timedelta

import jwt

from services.plans.events import IdempotencyKey
from shared.context import context_of
from shared.db import utcnow
from shared.idempotency import LEASE, request_fingerprint
from tests.support import assert_problem


def _subject(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def test_an_analyst_replaying_an_admins_key_gets_no_key_or_secret(plans, compliance, tenant):
    body = {"name": "deploy bot", "role": "admin"}
    first = await plans.post("/v1/api-keys", json=body, headers={**tenant.auth(), "Idempotency-Key": "k-1"})
    assert first.status_code == 201
    secret_key = first.json()["key"]
    for role in ("analyst", "integration", "specialist"):
        replay = await plans.post("/v1/api-keys", json=body, headers={**tenant.auth(role), "Idempotency-Key": "k-1"})
        problem = assert_problem(replay, 422)
        assert "another API key" in problem["detail"]
        assert secret_key not in replay.text and "idempotent-replayed" not in replay.headers
    # the admin who made it still gets its own response again
    again = await plans.post("/v1/api-keys", json=body, headers={**tenant.auth(), "Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["key"] == secret_key
    assert again.headers["idempotent-replayed"] == "true"

    source = {"name": "Pay", "kind": "standard_webhooks", "role": "payment", "pay_code": "PAY0000009"}
    made = await compliance.post(
        "/v1/compliance/sources", json=source, headers={**tenant.auth(), "Idempotency-Key": "src-1"}
    )
    assert made.status_code == 201 and made.json()["secret"]
    stolen = await compliance.post(
        "/v1/compliance/sources", json=source, headers={**tenant.auth("integration"), "Idempotency-Key": "src-1"}
    )
    assert_problem(stolen, 422)
    assert made.json()["secret"] not in stolen.text


async def test_a_key_whose_request_died_is_released_after_its_lease(plans, plans_app, tenant):
    body = b'{"name":"ci","role":"analyst"}'
    started = utcnow() - LEASE - timedelta(seconds=1)
    async with context_of(plans_app).sessionmaker() as session:
        for key, created in (("dead", started), ("alive", utcnow())):
            session.add(
                IdempotencyKey(
                    scope=f"org:{tenant.org_id}",
                    key=key,
                    fingerprint=request_fingerprint("/v1/api-keys", b"", body),
                    principal=_subject(tenant.tokens["admin"]),
                    state="running",
                    created_at=created,
                    expires_at=created + timedelta(hours=24),
                )
            )
        await session.commit()
    headers = {**tenant.auth(), "Content-Type": "application/json"}
    retried = await plans.post("/v1/api-keys", content=body, headers={**headers, "Idempotency-Key": "dead"})
    assert retried.status_code == 201, retried.text
    replay = await plans.post("/v1/api-keys", content=body, headers={**headers, "Idempotency-Key": "dead"})
    assert replay.status_code == 201 and replay.json()["id"] == retried.json()["id"]
    # a request still inside its lease keeps the key: 409
    assert_problem(await plans.post("/v1/api-keys", content=body, headers={**headers, "Idempotency-Key": "alive"}), 409)
