"""Per-organisation request limits: one organisation's burst (or its large bodies) meets 429 with Retry-After,
while another organisation is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from shared.settings import ServiceSettings
from shared.tenant_limits import cost_of
from tests.shared.toy.service import running
from tests.support import Tenant, assert_problem


@pytest.fixture
async def limited(databases, plans_app, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with (
        httpx.AsyncClient() as http,
        running(databases, plans_app, tmp_path, http, org_requests="20/minute") as (
            _,
            client,
        ),
    ):
        yield client


async def test_one_organisations_burst_meets_429_and_another_is_served(
    limited: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    statuses = []
    for n in range(25):
        r = await limited.post("/v1/toys", json={"name": f"toy {n}"}, headers=tenant.auth("specialist"))
        statuses.append(r.status_code)
    assert statuses[:20] == [201] * 20 and set(statuses[20:]) == {429}, statuses
    assert 1 <= int(r.headers["retry-after"]) <= 61
    assert "organisation" in assert_problem(r, 429)["detail"]
    other = await limited.post("/v1/toys", json={"name": "theirs"}, headers=other_tenant.auth("specialist"))
    assert other.status_code == 201, other.text


async def test_large_bodies_cost_more(limited: httpx.AsyncClient, tenant: Tenant) -> None:
    big = {"name": "putter", "padding": "x" * 300_000}  # refused by the route (422), counted by its size first
    r = await limited.post("/v1/toys", json=big, headers=tenant.auth("specialist"))
    assert r.status_code == 422
    assert cost_of(300_030) == 5 and cost_of(20) == 1 and cost_of(1_048_576) == 17
    statuses = [
        (await limited.post("/v1/toys", json={"name": f"t{n}"}, headers=tenant.auth("specialist"))).status_code
        for n in range(16)
    ]
    assert statuses[:15] == [201] * 15 and statuses[15:] == [429], statuses


def test_a_limit_that_does_not_parse_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="XBM_ORG_REQUESTS"):
        ServiceSettings(org_requests="plenty")
