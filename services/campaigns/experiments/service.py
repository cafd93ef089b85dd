"""Experiments on a campaign and their analysis from the campaign's metric rows per variant.

Event emission point: ``record_decision`` → ``experiment.decided`` (once per new final decision).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.models import Campaign, MetricRow
from services.campaigns.events import publish
from services.campaigns.experiments import stats
from services.campaigns.experiments.models import Experiment
from services.campaigns.experiments.schemas import AnalysisOut, ExperimentIn, SrmOut, VariantResult
from shared.db import get_scoped, utcnow
from shared.errors import Conflict

#: which metric-row columns give the units (n) and the successes (x) of each metric
METRIC_COLUMNS: dict[str, tuple[Any, Any]] = {
    "conversion_rate": (MetricRow.clicks, MetricRow.conversions),
    "ctr": (MetricRow.impressions, MetricRow.clicks),
    "open_rate": (MetricRow.sends, MetricRow.opens),
}
FINAL = ("winner", "no_winner", "srm")


async def create_experiment(session: AsyncSession, campaign: Campaign, body: ExperimentIn) -> Experiment:
    experiment = Experiment(
        org_id=campaign.org_id,
        campaign_id=campaign.id,
        name=body.name,
        metric=body.metric,
        variants=[{"key": v.key, "weight": str(v.weight)} for v in body.variants],
        alpha=body.alpha,
        method=body.method,
        min_sample=body.min_sample,
    )
    session.add(experiment)
    await session.flush()
    return experiment


async def get_experiment(session: AsyncSession, org_id: str, experiment_id: str) -> Experiment:
    return await get_scoped(session, Experiment, experiment_id, org_id)


async def variant_counts(session: AsyncSession, experiment: Experiment) -> dict[str, tuple[int, int]]:
    """(n, x) per variant key, summed in SQL over the campaign's metric rows."""
    units, successes = METRIC_COLUMNS[experiment.metric]
    keys = [v["key"] for v in experiment.variants]
    stmt = (
        select(MetricRow.variant, func.sum(units), func.sum(successes))
        .where(
            MetricRow.org_id == experiment.org_id,
            MetricRow.campaign_id == experiment.campaign_id,
            MetricRow.variant.in_(keys),
        )
        .group_by(MetricRow.variant)
    )
    return {key: (int(n or 0), int(x or 0)) for key, n, x in (await session.execute(stmt)).all()}


async def record_decision(session: AsyncSession, experiment: Experiment, analysis: stats.Analysis) -> None:
    """Keep the latest final decision; a new one publishes ``experiment.decided``."""
    if analysis.decision not in FINAL:
        return
    if (experiment.decision, experiment.winner) == (analysis.decision, analysis.winner):
        return
    experiment.decision = analysis.decision
    experiment.winner = analysis.winner
    experiment.decided_at = utcnow()
    await session.flush()
    await publish(
        session,
        experiment.org_id,
        "experiment.decided",
        {
            "experiment_id": experiment.id,
            "campaign_id": experiment.campaign_id,
            "decision": analysis.decision,
            "winner": analysis.winner,
        },
        experiment.decided_at,
    )


async def analyse_experiment(session: AsyncSession, org_id: str, experiment_id: str) -> AnalysisOut:
    experiment = await get_experiment(session, org_id, experiment_id)
    counts = await variant_counts(session, experiment)
    arms = [
        stats.Arm(
            key=v["key"],
            weight=float(v["weight"]),
            n=counts.get(v["key"], (0, 0))[0],
            conversions=counts.get(v["key"], (0, 0))[1],
        )
        for v in experiment.variants
    ]
    try:
        analysis = stats.analyse(arms, float(experiment.alpha), experiment.min_sample, experiment.method)
    except ValueError as exc:
        raise Conflict(f"the campaign's metric rows cannot be analysed: {exc}") from exc
    await record_decision(session, experiment, analysis)
    return AnalysisOut(
        experiment_id=experiment.id,
        metric=experiment.metric,  # type: ignore[arg-type]
        method=experiment.method,  # type: ignore[arg-type]
        alpha=float(experiment.alpha),
        min_sample=experiment.min_sample,
        decision=analysis.decision,
        srm=SrmOut(p_value=analysis.srm_p_value, flagged=analysis.srm_flagged),
        variants=[VariantResult(**{k: v for k, v in asdict(a).items() if k != "significant"}) for a in analysis.arms],
        winner=analysis.winner,
    )
