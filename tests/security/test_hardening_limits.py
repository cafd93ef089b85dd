"""Guessing API keys or the bootstrap token is rate limited (429 with Retry-After), with the defaults a
deployment gets; production refuses a short bootstrap token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from services.plans.context import plans_context
from services.plans.identity.ratelimit import GuessLimiter, storage_url
from services.plans.settings import PlansSettings
from tests.support import BOOTSTRAP_TOKEN, assert_problem

DEFAULTS = PlansSettings.model_fields


@pytest.fixture
async def default_limits(plans_app: Any) -> AsyncIterator[None]:
    """The shared test app counts with limits no test reaches; here the deployment's defaults apply."""
    kept = plans_context(plans_app).guess_limiter
    plans_context(plans_app).guess_limiter = GuessLimiter(
        None, DEFAULTS["auth_failures_per_address"].default, DEFAULTS["auth_failures_per_key"].default
    )
    yield
    plans_context(plans_app).guess_limiter = kept


def _client(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://plans")


async def test_eighty_wrong_keys_in_a_burst_meet_429_with_retry_after(plans_app, default_limits, tenant):
    async with _client(plans_app, "198.51.100.7") as attacker, _client(plans_app, "198.51.100.8") as other:
        guesses = [f"xbm_guess{n:04d}{'x' * 30}" for n in range(80)]
        responses = await asyncio.gather(*(attacker.post("/v1/auth/token", json={"api_key": g}) for g in guesses))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {401, 429} and 429 in statuses, statuses
        assert statuses.count(401) <= 20
        limited = next(r for r in responses if r.status_code == 429)
        assert_problem(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 61
        # while limited, even the right key gets no token from that address: a guess cannot be confirmed
        assert_problem(await attacker.post("/v1/auth/token", json={"api_key": tenant.admin_key}), 429)
        # another address with the right key is served
        assert (await other.post("/v1/auth/token", json={"api_key": tenant.admin_key})).status_code == 200


async def test_guesses_for_one_key_prefix_are_limited_across_addresses(plans_app, default_limits):
    prefix = "xbm_SAMEPREF"
    statuses = []
    for n in range(15):
        async with _client(plans_app, f"203.0.113.{n + 1}") as client:
            r = await client.post("/v1/auth/token", json={"api_key": f"{prefix}{n:030d}"})
            statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses


async def test_a_keys_prefix_is_never_enough_to_lock_the_key(plans_app, default_limits, tenant):
    prefix = tenant.admin_key[:12]  # what anyone who saw the key in a listing or a log knows
    statuses = []
    for n in range(20):
        async with _client(plans_app, f"203.0.113.{100 + n}") as client:
            r = await client.post("/v1/auth/token", json={"api_key": f"{prefix}{n:040d}"})
            statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses
    async with _client(plans_app, "198.51.100.200") as owner:
        r = await owner.post("/v1/auth/token", json={"api_key": tenant.admin_key})
        assert r.status_code == 200, r.text
        # …and the prefix still refuses wrong keys
        assert_problem(await owner.post("/v1/auth/token", json={"api_key": f"{prefix}{'9' * 40}"}), 429)


async def test_bootstrap_guesses_meet_429(plans_app, default_limits):
    async with _client(plans_app, "192.0.2.50") as attacker, _client(plans_app, "192.0.2.51") as admin:
        responses = [
            await attacker.post("/v1/orgs", json={"name": "x"}, headers={"X-Bootstrap-Token": f"guess-{n}"})
            for n in range(30)
        ]
        statuses = [r.status_code for r in responses]
        assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}, statuses
        assert "retry-after" in responses[-1].headers
        ok = await admin.post("/v1/orgs", json={"name": "Real"}, headers={"X-Bootstrap-Token": BOOTSTRAP_TOKEN})
        assert ok.status_code == 201


def test_production_needs_a_bootstrap_token_of_32_characters(tmp_path):
    key = "not parsed by the settings"  # a production key is checked when plans starts, not here
    common = {"environment": "production", "data_dir": tmp_path, "signing_key": key}
    with pytest.raises(ValidationError, match="32 characters"):
        PlansSettings(**common, bootstrap_token="hunter")
    assert PlansSettings(**common, bootstrap_token="b" * 32).bootstrap_token is not None


def test_rate_limit_storage_is_redis_when_a_url_is_given():
    assert storage_url(None) == "async+memory://"
    assert storage_url("redis://cache:6379/0") == "async+redis://cache:6379/0"
    with pytest.raises(ValidationError):
        PlansSettings(auth_failures_per_address="lots")
