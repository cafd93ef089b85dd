"""The revocation list fetched incrementally: after one whole fetch the services ask plans only for what changed
since its cursor (with an overlap, so a revocation committed late is not missed); a plans that gives no cursor
is fetched whole as before; a revoked key's tokens still stop within seconds on every service
(tests/security/test_hardening_tokens.py runs the services through this path)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import update

from services.plans.identity.models import ApiKey
from shared.auth import RevocationList, RevocationPage
from shared.context import context_of
from shared.http import revocations_fetcher
from tests.support import SERVICE_SECRET, Tenant, assert_problem

INTERNAL = {"Authorization": f"Bearer {SERVICE_SECRET}"}


async def _revoked_key(plans: httpx.AsyncClient, tenant: Tenant) -> str:
    r = await plans.post("/v1/api-keys", json={"name": "to revoke", "role": "analyst"}, headers=tenant.auth())
    assert r.status_code == 201, r.text
    key_id: str = r.json()["id"]
    assert (await plans.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth())).status_code == 204
    return key_id


async def _stamp(plans_app, key_id: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    async with context_of(plans_app).sessionmaker() as session, session.begin():
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=at))


async def test_since_a_cursor_plans_lists_only_what_changed_with_an_overlap(plans, plans_app, tenant):
    old = await _revoked_key(plans, tenant)
    whole = await plans.get("/internal/revocations", headers=INTERNAL)
    assert whole.status_code == 200
    first = whole.json()
    assert old in first["revoked"] and first["complete"] is True and first["cursor"]  # as before, and a cursor
    cursor = datetime.fromisoformat(first["cursor"])
    await _stamp(plans_app, old, cursor - timedelta(minutes=5))  # revoked well before the cursor

    new = await _revoked_key(plans, tenant)
    late = await _revoked_key(plans, tenant)
    # stamped 10 s before the cursor but committed after it was given (a slow transaction): still listed
    await _stamp(plans_app, late, cursor - timedelta(seconds=10))
    r = await plans.get("/internal/revocations", params={"since": first["cursor"]}, headers=INTERNAL)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["complete"] is False
    assert new in page["revoked"] and late in page["revoked"]
    assert old not in page["revoked"]  # only what changed
    assert datetime.fromisoformat(page["cursor"]) >= cursor

    # the whole list is still there without a cursor
    assert old in (await plans.get("/internal/revocations", headers=INTERNAL)).json()["revoked"]
    for bad in ("yesterday", "2026-01-01T00:00:00", "２０２６-01-01T00:00:00+00:00"):
        assert_problem(await plans.get("/internal/revocations", params={"since": bad}, headers=INTERNAL), 422)
    assert_problem(await plans.get("/internal/revocations", params={"since": first["cursor"]}), 401)


async def test_the_services_fetch_whole_once_then_incrementally_and_merge(plans, plans_app, plans_over_asgi, tenant):
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.url.params.get("since", "-"))

    plans_over_asgi.event_hooks["request"].append(record)
    try:
        fetcher = revocations_fetcher(plans_over_asgi, "http://plans", SERVICE_SECRET)
        revocations = RevocationList(fetcher, refresh_seconds=0, fetch_since=fetcher.since)
        before = await _revoked_key(plans, tenant)
        assert await revocations.is_revoked(before)
        after = await _revoked_key(plans, tenant)
        assert await revocations.is_revoked(after) and await revocations.is_revoked(before)  # merged
        assert not await revocations.is_revoked("never-revoked")
    finally:
        plans_over_asgi.event_hooks["request"].remove(record)
    assert seen[0] == "-" and len(seen) >= 3 and all(s != "-" for s in seen[1:]), seen


async def test_a_full_fetch_every_resync_replaces_what_is_held_and_an_old_plans_is_fetched_whole():
    calls: list[str] = []
    whole = ["a", "b"]

    async def fetch() -> RevocationPage:
        calls.append("whole")
        return RevocationPage(list(whole), "c1", True)

    async def since(cursor: str) -> RevocationPage:
        calls.append(cursor)
        return RevocationPage(["c"], "c2", False)

    revocations = RevocationList(fetch, refresh_seconds=0, fetch_since=since, resync_seconds=3600)
    assert await revocations.is_revoked("a")
    assert await revocations.is_revoked("c") and await revocations.is_revoked("a")
    assert calls == ["whole", "c1", "c2"]  # each check fetches (refresh 0): whole once, then from each cursor
    revocations.resync_seconds = 0  # the next fetch is whole again: what aged out of plans' window drops out
    whole.remove("a")
    assert not await revocations.is_revoked("a")
    assert calls[-1] == "whole"

    async def old_plans() -> list[str]:  # a fetcher of the old kind (a list, no cursor): whole every time
        calls.append("old")
        return ["x"]

    legacy = RevocationList(old_plans, refresh_seconds=0, fetch_since=since)
    assert await legacy.is_revoked("x") and await legacy.is_revoked("x")
    assert calls[-2:] == ["old", "old"]
