"""Bodies and helpers shared by the campaigns tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.plans.client_fake import FakePlans
from tests.support import Tenant

#: valid settings for each built-in kind
BUILTIN_SETTINGS: dict[str, dict[str, Any]] = {
    "visual": {"page": "/golf-simulator", "variants": [{"key": "old"}, {"key": "new", "description": "hero video"}]},
    "sem": {
        "keywords": [{"text": "golf simulator", "match_type": "exact", "max_cpc": "1.20"}],
        "daily_budget": "50.00",
    },
    "social": {"platform": "tiktok", "handles": ["@companya"], "post_plan": [{"date": "2026-09-01", "topic": "demo"}]},
    "edm": {"audience": "office golfers", "subject_lines": ["Swing at your desk"], "send_time": "2026-09-01T08:00:00Z"},
    "service": {"channel": "whatsapp", "scripts": ["Hello!"], "sla_minutes": 30},
    "live_broadcast": {
        "platform": "alibaba_live",
        "host": "Ann",
        "slots": [{"starts_at": "2026-09-05T12:00:00Z", "minutes": 90}],
        "featured_skus": ["GS-200"],
    },
}


def campaign_body(sbu_id: str, kind: str = "sem", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sbu_id": sbu_id,
        "kind": kind,
        "name": f"{kind} push",
        "budget": {"amount": "3000.00", "currency": "USD"},
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "settings": BUILTIN_SETTINGS.get(kind, {}),
    }
    body.update(overrides)
    return body


async def new_campaign(
    campaigns: httpx.AsyncClient, fake_plans: FakePlans, tenant: Tenant, kind: str = "sem", **overrides: Any
) -> dict[str, Any]:
    sbu_id = overrides.pop("sbu_id", None) or fake_plans.add_sbu(tenant.org_id)
    response = await campaigns.post(
        "/v1/campaigns", json=campaign_body(sbu_id, kind, **overrides), headers=tenant.auth("specialist")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def row(day: str, variant: str | None = None, currency: str = "USD", **counts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "date": day,
        "impressions": 1000,
        "clicks": 50,
        "cost": {"amount": "25.00", "currency": currency},
        "conversions": 5,
        "revenue": {"amount": "100.00", "currency": currency},
    }
    for key in ("cost", "revenue"):
        if key in counts:
            base[key] = {"amount": counts.pop(key), "currency": currency}
    base.update(counts)
    if variant is not None:
        base["variant"] = variant
    return base


def unique_utm() -> str:
    return f"utm-{uuid.uuid4().hex[:10]}"
