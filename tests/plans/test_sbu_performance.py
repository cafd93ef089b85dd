"""The SBU grid's read model of campaigns' figures: newest figures win, out-of-order events never move it back;
and the database itself keeps one live SBU per triple."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from services.plans.sbus.models import Sbu
from services.plans.sbus.service import apply_sbu_performance
from shared.context import context_of
from shared.errors import NotFound
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import Tenant

T0 = datetime(2027, 3, 1, 12, tzinfo=UTC)


async def _sbu(plans: httpx.AsyncClient, tenant: Tenant) -> dict:
    plan = await new_plan(plans, tenant)
    customer, channel, product = await tactics(plans, tenant, plan["id"], None)
    return await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor")


async def _apply(plans_app, org_id: str, sbu_id: str, spend: str, revenue: str, as_of: datetime) -> bool:  # type: ignore[no-untyped-def]
    async with context_of(plans_app).sessionmaker() as session:
        applied = await apply_sbu_performance(session, org_id, sbu_id, Decimal(spend), Decimal(revenue), "USD", as_of)
        await session.commit()
    return applied


async def test_figures_arrive_in_any_order(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    sbu = await _sbu(plans, tenant)
    grid_url = f"/v1/plans/{sbu['plan_id']}/sbu-grid"
    cell = (await plans.get(grid_url, headers=tenant.auth("analyst"))).json()["cells"][0]
    assert cell["performance_known"] is False and cell["spend"] is None and cell["roas"] is None

    assert await _apply(plans_app, tenant.org_id, sbu["id"], "200", "900", T0) is True
    assert await _apply(plans_app, tenant.org_id, sbu["id"], "400", "1000", T0 + timedelta(hours=2)) is True
    # a late event computed before the stored figures is ignored, and so is a replay of the same one
    assert await _apply(plans_app, tenant.org_id, sbu["id"], "250", "950", T0 + timedelta(hours=1)) is False
    assert await _apply(plans_app, tenant.org_id, sbu["id"], "400", "1000", T0 + timedelta(hours=2)) is False

    cell = (await plans.get(grid_url, headers=tenant.auth("analyst"))).json()["cells"][0]
    assert cell["performance_known"] is True
    assert cell["spend"] == {"amount": "400.00", "currency": "USD"}
    assert cell["revenue"] == {"amount": "1000.00", "currency": "USD"} and cell["roas"] == "2.50"
    assert cell["performance_as_of"].startswith("2027-03-01T14:00:00")


async def test_figures_for_another_org_are_refused(
    plans: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    plans_app,  # type: ignore[no-untyped-def]
) -> None:
    sbu = await _sbu(plans, tenant)
    with pytest.raises(NotFound):
        await _apply(plans_app, other_tenant.org_id, sbu["id"], "1", "1", T0)


async def test_the_database_keeps_one_live_sbu_per_triple(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    sbu = await _sbu(plans, tenant)
    fields = {
        k: sbu[k] for k in ("org_id", "plan_id", "customer_id", "channel_id", "product_id", "need", "demand", "owner")
    }
    money = {
        "budget_amount": Decimal(1),
        "budget_currency": "USD",
        "revenue_target_amount": Decimal(1),
        "revenue_target_currency": "USD",
    }
    async with context_of(plans_app).sessionmaker() as session:
        session.add(Sbu(**fields, **money, status="draft"))
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()
    async with context_of(plans_app).sessionmaker() as session:  # a retired one beside the live one is fine
        session.add(Sbu(**fields, **money, status="retired"))
        await session.commit()
