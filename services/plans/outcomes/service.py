"""Keeping the read models of campaigns, experiments and customs orders from their events. Each write is one
atomic upsert that only moves forward in time, so redeliveries and events arriving out of order never move a
figure backwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.contracts import CampaignFigures, ExperimentDecided
from services.compliance.contracts import OrderChanged
from services.plans.outcomes.models import CampaignOutcome, CustomsOrder, ExperimentOutcome
from shared.db import upsert, utcnow


async def _upsert(session: AsyncSession, model: Any, keys: list[str], values: dict[str, Any], clock: str) -> bool:
    now = utcnow()
    values = {**values, "created_at": now, "updated_at": now}
    changing = [k for k in values if k not in (*keys, "created_at")]
    return await upsert(
        session,
        model,
        values,
        [getattr(model, k) for k in keys],
        changing,
        where=lambda excluded: getattr(model, clock) < excluded[clock],  # forward in time only
    )


async def apply_campaigns(
    session: AsyncSession, org_id: str, sbu_id: str, campaigns: list[CampaignFigures], as_of: datetime
) -> None:
    """The campaigns of an SBU (already checked to be the organisation's) with their totals and variants."""
    for c in campaigns:
        await _upsert(
            session,
            CampaignOutcome,
            ["org_id", "campaign_id"],
            {
                "campaign_id": c.campaign_id,
                "org_id": org_id,
                "sbu_id": sbu_id,
                "name": c.name,
                "kind": c.kind,
                "status": c.status,
                "currency": c.currency,
                "budget_amount": c.budget,
                "starts_on": c.starts_on,
                "ends_on": c.ends_on,
                "impressions": sum(v.impressions for v in c.variants),
                "clicks": sum(v.clicks for v in c.variants),
                "conversions": sum((v.conversions for v in c.variants), start=c.budget * 0),
                "spend_amount": sum((v.spend for v in c.variants), start=c.budget * 0),
                "revenue_amount": sum((v.revenue for v in c.variants), start=c.budget * 0),
                "released_revenue_amount": c.released_revenue,
                "variants": [v.model_dump(mode="json") for v in c.variants],
                "as_of": as_of,
            },
            "as_of",
        )


async def apply_campaign_status(session: AsyncSession, org_id: str, campaign_id: str, status: str) -> None:
    """A status change between two figure updates (a campaign paused, completed)."""
    await session.execute(
        update(CampaignOutcome)
        .where(CampaignOutcome.org_id == org_id, CampaignOutcome.campaign_id == campaign_id)
        .values(status=status, updated_at=utcnow())
    )


async def apply_experiment(session: AsyncSession, org_id: str, data: ExperimentDecided, at: datetime) -> bool:
    return await _upsert(
        session,
        ExperimentOutcome,
        ["org_id", "experiment_id"],
        {
            "experiment_id": data.experiment_id,
            "org_id": org_id,
            "campaign_id": data.campaign_id,
            "decision": data.decision,
            "winner": data.winner,
            "decided_at": at,
        },
        "decided_at",
    )


async def apply_order(session: AsyncSession, org_id: str, data: OrderChanged, at: datetime) -> bool:
    values: dict[str, Any] = {
        "org_id": org_id,
        "ebp_code": data.ebp_code,
        "order_no": data.order_no,
        "state": data.state,
        "utm_campaign": data.utm_campaign,
        "amount": data.amount,
        "currency": data.currency,
        "as_of": at,
    }
    if data.state == "mismatch":
        values["failing_rules"] = list(data.failing_rules)
    stored = await _upsert(session, CustomsOrder, ["org_id", "ebp_code", "order_no"], values, "as_of")
    return stored
