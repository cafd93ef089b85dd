"""Campaigns and plans as real processes: a campaign binds to an SBU created through plans' API, and a
retired or foreign SBU is refused by asking the real plans."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.campaigns.support import campaign_body
from tests.plans.support import new_plan, post, sbu_body, tactics
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import stack_on_new_databases

pytestmark = [pytest.mark.system, pytest.mark.db]


async def test_campaigns_on_a_real_sbu(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_on_new_databases(
        databases, tmp_path / "data", "cwp", extra_env={"XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN}
    )
    try:
        stack.wait_up()
        async with stack.client("plans") as plans, stack.client("campaigns") as campaigns:
            tenant = await make_tenant(plans)
            stranger = await make_tenant(plans)
            plan = await new_plan(plans, tenant)
            customer, channel, product = await tactics(plans, tenant, plan["id"], None)
            sbu = await post(
                plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(customer, channel, product), tenant, "supervisor"
            )

            kind = await campaigns.post(
                "/v1/campaign-kinds",
                json={
                    "key": "trade_show",
                    "name": "Trade show",
                    "settings_schema": {"type": "object", "required": ["city"]},
                },
                headers=tenant.auth("supervisor"),
            )
            assert kind.status_code == 201, kind.text
            for body in (
                campaign_body(sbu["id"], "sem"),
                campaign_body(sbu["id"], "trade_show", settings={"city": "Las Vegas"}),
            ):
                created = await campaigns.post("/v1/campaigns", json=body, headers=tenant.auth("specialist"))
                assert created.status_code == 201, created.text
                assert created.json()["sbu_id"] == sbu["id"]

            foreign = await campaigns.post(
                "/v1/campaigns", json=campaign_body(sbu["id"]), headers=stranger.auth("specialist")
            )
            assert foreign.status_code == 422, foreign.text

            retired = await plans.post(
                f"/v1/sbus/{sbu['id']}/retire",
                json={"reason": "moving to Amazon B2C"},
                headers=tenant.auth("supervisor"),
            )
            assert retired.status_code == 200, retired.text
            refused = await campaigns.post(
                "/v1/campaigns", json=campaign_body(sbu["id"]), headers=tenant.auth("specialist")
            )
            assert refused.status_code == 422 and "retired" in refused.json()["detail"], refused.text

            listed = await campaigns.get("/v1/campaigns", params={"sbu_id": sbu["id"]}, headers=tenant.auth("analyst"))
            assert [c["kind"] for c in listed.json()["items"]] == ["sem", "trade_show"]
    finally:
        code = stack.stop(signal.SIGTERM)
    assert code == 0, stack.output()
