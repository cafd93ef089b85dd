"""`GET /v1/sbus/{id}` reads one row and writes its body and ETag from one dump (services/plans/sbus/router.py);
the writes answer with the SBU as the ORM loaded it (``_shaped``: ``SbuOut`` of the entity for the ETag, then its
labels). Pinned to each other: after a create, a change, a derivation and a retirement, with names in other
scripts and quotes, the read answers the write's body and ETag exactly; another organisation's SBU is a 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import BACKEND
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import Tenant, assert_problem


async def _same_as_read(plans: httpx.AsyncClient, tenant: Tenant, written: httpx.Response) -> None:
    assert written.status_code in (200, 201), written.text
    read = await plans.get(f"/v1/sbus/{written.json()['id']}", headers=tenant.auth("analyst"))
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/json"
    assert read.headers["etag"] == written.headers["etag"]
    assert read.content == written.content


async def test_the_read_answers_what_the_writes_answer(
    plans: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    plan = await new_plan(plans, tenant)
    base = f"/v1/plans/{plan['id']}"
    sup = "supervisor"
    customer = await post(
        plans,
        f"{base}/customers",
        {"name": 'Käufer "Nord" 北', "needs": [{"statement": "n", "demand": "weak"}]},
        tenant,
        sup,
    )
    channels = [
        await post(
            plans,
            f"{base}/channels",
            {
                "name": name,
                "platform": "tmall_global",
                "mode": "platform",
                "business_model": "B2C",
                "countries": ["CN"],
            },
            tenant,
            sup,
        )
        for name in ("天猫 \\ store", "Shop\ttwo")
    ]
    product = await post(
        plans,
        f"{base}/products",
        {
            "sku": "SKU-U.1",
            "name": "Kit ✓",
            "unit_cost": {"amount": "0", "currency": "CNY"},
            "price": {"amount": "199.9", "currency": "USD"},
        },
        tenant,
        sup,
    )
    body = sbu_body(customer, channels[0], product, need="need — “quoted”", budget={"amount": "0.5", "currency": "USD"})
    created = await plans.post(f"{base}/sbus", json=body, headers=tenant.auth(sup))
    await _same_as_read(plans, tenant, created)
    sbu_id = created.json()["id"]
    patched = await plans.patch(
        f"/v1/sbus/{sbu_id}",
        json={"need": "x" * 400, "owner": "王 芳", "revenue_target": {"amount": "1234567.8912", "currency": "USD"}},
        headers={**tenant.auth(sup), "If-Match": created.headers["etag"]},
    )
    await _same_as_read(plans, tenant, patched)
    derived = await plans.post(
        f"/v1/sbus/{sbu_id}/derive",
        json={"channel_id": channels[1]["id"], "reason": "new channel"},
        headers=tenant.auth(sup),
    )
    await _same_as_read(plans, tenant, derived)
    assert derived.json()["derived_from"] == sbu_id
    retired = await plans.post(
        f"/v1/sbus/{derived.json()['id']}/retire", json={"reason": "r"}, headers=tenant.auth(sup)
    )
    await _same_as_read(plans, tenant, retired)
    assert retired.json()["retired_at"] is not None
    other = await plans.get(f"/v1/sbus/{sbu_id}", headers=other_tenant.auth("analyst"))
    assert assert_problem(other, 404)["detail"] == f"sbu {sbu_id} not found"
    assert (await plans.get(f"/v1/sbus/{sbu_id}", headers=tenant.auth("integration"))).status_code == 403


async def test_the_read_opens_no_transaction(
    plans: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One SELECT and nothing around it: no BEGIN and no COMMIT round trip on PostgreSQL (the driver starts a
    transaction before a statement unless the connection is in autocommit); a write route still opens one."""
    if BACKEND != "postgres":
        pytest.skip("the BEGIN round trip is the PostgreSQL driver's")
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    started: list[int] = []
    real = AsyncAdapt_asyncpg_connection._start_transaction

    async def counted(self: Any) -> None:
        await real(self)
        if self._transaction is not None:  # BEGIN was sent
            started.append(1)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_start_transaction", counted)
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    started.clear()
    sbu = await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")
    assert started, "a write runs in a transaction"
    started.clear()
    for _ in range(3):
        read = await plans.get(f"/v1/sbus/{sbu['id']}", headers=tenant.auth("analyst"))
        assert read.status_code == 200 and read.json()["id"] == sbu["id"]
    assert started == []
    assert_problem(await plans.get(f"/v1/sbus/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=tenant.auth("analyst")),
                   404)  # fmt: skip
    assert started == []
