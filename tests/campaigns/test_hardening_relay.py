"""campaigns' relay job announces each changed SBU on its own: one whose figures cannot be computed does not
hold back every other tenant's."""

from __future__ import annotations

from typing import Any

import pytest

import services.campaigns.events as events
from services.campaigns.events import announce_changed_sbus
from shared.context import context_of
from tests.campaigns.support import new_campaign
from tests.campaigns.test_events import _events, _metrics


async def test_one_sbu_that_cannot_be_summed_does_not_hold_back_the_others(
    campaigns, campaigns_app, fake_plans, tenant, other_tenant, monkeypatch: pytest.MonkeyPatch
):
    bad = await new_campaign(campaigns, fake_plans, tenant)
    good = await new_campaign(campaigns, fake_plans, other_tenant)
    for campaign, who in ((bad, tenant), (good, other_tenant)):
        r = await campaigns.put(
            f"/v1/campaigns/{campaign['id']}/metrics",
            json=_metrics(1, "10.00", "30.00"),
            headers=who.auth("specialist"),
        )
        assert r.status_code == 200, r.text
    real = events.sbu_figures

    async def figures(session: Any, org_id: str, sbu_id: str) -> Any:
        if sbu_id == bad["sbu_id"]:
            raise OverflowError("integer overflow")
        return await real(session, org_id, sbu_id)

    monkeypatch.setattr(events, "sbu_figures", figures)
    await announce_changed_sbus(context_of(campaigns_app).sessionmaker)
    assert [e["sbu_id"] for e in await _events(campaigns_app, other_tenant.org_id, "sbu.performance_changed")] == [
        good["sbu_id"]
    ]
    assert await _events(campaigns_app, tenant.org_id, "sbu.performance_changed") == []
