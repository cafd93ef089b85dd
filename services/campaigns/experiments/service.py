"""Experiments on a campaign, their analysis from the campaign's metric rows per variant, and the decisions
writers record.

Reading an analysis changes nothing: an analysis is recomputed from the rows at every read, and only
``record_decision`` (``POST /v1/experiments/{id}/decision``) stores a decision. Event emission point:
``record_decision`` → ``experiment.decided`` (once per change of decision or winner).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.campaigns.models import Campaign, MetricRow
from services.campaigns.contracts import ArmCounts, ExperimentDecided
from services.campaigns.events import publish
from services.campaigns.experiments import stats
from services.campaigns.experiments.models import Experiment
from services.campaigns.experiments.schemas import (
    AnalysisOut,
    ExperimentIn,
    PlanOut,
    PriorOut,
    RatioOut,
    SrmOut,
    VariantResult,
)
from shared.auth import Principal
from shared.db import get_scoped, scoped, utcnow
from shared.errors import Conflict, NotFound

#: per metric: the units of the rate (n), its successes (x), and the exposures the weights split
METRIC_COLUMNS: dict[str, tuple[Any, Any, Any]] = {
    "conversion_rate": (MetricRow.clicks, MetricRow.conversions, MetricRow.impressions),
    "ctr": (MetricRow.impressions, MetricRow.clicks, MetricRow.impressions),
    "open_rate": (MetricRow.sends, MetricRow.opens, MetricRow.sends),
}


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
        min_conversions=body.min_conversions,
        prior_mean=body.prior.mean,
        prior_sd=body.prior.sd,
        sequential_tuning=body.sequential_tuning,
        loss_threshold=body.loss_threshold,
    )
    session.add(experiment)
    await session.flush()
    return experiment


async def get_experiment(session: AsyncSession, org_id: str, experiment_id: str) -> Experiment:
    return await get_scoped(session, Experiment, experiment_id, org_id)


async def lock_experiment(session: AsyncSession, org_id: str, experiment_id: str) -> Experiment:
    """The experiment, locked until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL), so two writers
    deciding at once decide one after the other. SQLite ignores the lock on a read; the compare-and-set in
    ``record_decision`` keeps the rule there."""
    await get_experiment(session, org_id, experiment_id)  # 404 for a malformed id or another org's experiment
    stmt = scoped(Experiment, org_id).where(Experiment.id == experiment_id).with_for_update()
    stmt = stmt.execution_options(populate_existing=True)
    experiment = (await session.execute(stmt)).scalar_one_or_none()
    if experiment is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return experiment


def settings_of(experiment: Experiment) -> stats.Settings:
    return stats.Settings(
        alpha=float(experiment.alpha),
        method=experiment.method,  # type: ignore[arg-type]
        min_sample=experiment.min_sample,
        min_conversions=experiment.min_conversions,
        prior_mean=float(experiment.prior_mean),
        prior_sd=float(experiment.prior_sd),
        sequential_tuning=float(experiment.sequential_tuning),
        loss_threshold=float(experiment.loss_threshold),
    )


async def arms_of(session: AsyncSession, experiment: Experiment) -> list[stats.Arm]:
    """Each variant's counts and days, summed in SQL over the campaign's metric rows."""
    units, successes, exposures = METRIC_COLUMNS[experiment.metric]
    keys = [v["key"] for v in experiment.variants]
    stmt = (
        select(
            MetricRow.variant,
            MetricRow.date,
            func.sum(units),
            func.sum(successes),
            func.sum(exposures),
            func.sum(MetricRow.revenue),
            func.sum(MetricRow.cost),
        )
        .where(
            MetricRow.org_id == experiment.org_id,
            MetricRow.campaign_id == experiment.campaign_id,
            MetricRow.variant.in_(keys),
        )
        .group_by(MetricRow.variant, MetricRow.date)
        .order_by(MetricRow.variant, MetricRow.date)
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    days: dict[str, list[stats.Day]] = defaultdict(list)
    for key, _, n, x, e, revenue, cost in (await session.execute(stmt)).all():
        total = totals[key]
        total[0] += int(n or 0)
        total[1] += int(x or 0)
        total[2] += int(e or 0)
        days[key].append(stats.Day(float(e or 0), float(revenue or 0), float(cost or 0)))
    return [
        stats.Arm(
            key=v["key"],
            weight=float(v["weight"]),
            n=totals[v["key"]][0],
            conversions=totals[v["key"]][1],
            exposures=totals[v["key"]][2],
            days=tuple(days[v["key"]]),
        )
        for v in experiment.variants
    ]


def _analyse(experiment: Experiment, arms: list[stats.Arm]) -> stats.Analysis:
    try:
        return stats.analyse(arms, settings_of(experiment))
    except ValueError as exc:
        raise Conflict(f"the campaign's metric rows cannot be analysed: {exc}") from exc


async def _currency(session: AsyncSession, experiment: Experiment) -> str:
    campaign = await get_scoped(session, Campaign, experiment.campaign_id, experiment.org_id)
    return campaign.currency


def _ratio_out(figure: stats.RatioFigure) -> RatioOut:
    return RatioOut(**asdict(figure))


def analysis_out(experiment: Experiment, analysis: stats.Analysis, currency: str) -> AnalysisOut:
    return AnalysisOut(
        experiment_id=experiment.id,
        metric=experiment.metric,  # type: ignore[arg-type]
        method=experiment.method,  # type: ignore[arg-type]
        alpha=float(experiment.alpha),
        min_sample=experiment.min_sample,
        min_conversions=experiment.min_conversions,
        prior=PriorOut(**experiment.prior),
        sequential_tuning=experiment.sequential_tuning,
        loss_threshold=float(experiment.loss_threshold),
        currency=currency,
        decision=analysis.decision,
        reasons=analysis.reasons,
        srm=SrmOut(p_value=analysis.srm_p_value, flagged=analysis.srm_flagged),
        variants=[
            VariantResult(
                **{k: v for k, v in asdict(a).items() if k not in ("significant", "revenue_per_exposure", "roas")},
                revenue_per_exposure=_ratio_out(a.revenue_per_exposure),
                roas=_ratio_out(a.roas),
            )
            for a in analysis.arms
        ],
        winner=analysis.winner,
    )


async def analyse_experiment(session: AsyncSession, org_id: str, experiment_id: str) -> AnalysisOut:
    """The analysis as of now; reads only."""
    experiment = await get_experiment(session, org_id, experiment_id)
    analysis = _analyse(experiment, await arms_of(session, experiment))
    return analysis_out(experiment, analysis, await _currency(session, experiment))


async def record_decision(session: AsyncSession, principal: Principal, experiment_id: str) -> AnalysisOut:
    """Record the current analysis' decision on the experiment; a change of decision or winner publishes
    ``experiment.decided`` (recording the same decision again publishes nothing).

    The row is locked while the analysis is made (PostgreSQL), and the decision is written by compare-and-set
    against what was read, so two writers deciding at once publish one event — on SQLite too, where a read
    takes no lock."""
    experiment = await lock_experiment(session, principal.org_id, experiment_id)
    arms = await arms_of(session, experiment)
    analysis = _analyse(experiment, arms)
    if analysis.decision == "insufficient_data":
        raise Conflict("nothing to decide yet: " + "; ".join(analysis.reasons))
    out = analysis_out(experiment, analysis, await _currency(session, experiment))
    seen = (experiment.decision, experiment.winner)
    if seen == (analysis.decision, analysis.winner):
        return out
    counts = [{"key": a.key, "exposures": a.exposed, "n": a.n, "conversions": a.conversions} for a in arms]
    decided_at = utcnow()
    org_id, campaign_id = experiment.org_id, experiment.campaign_id
    written = await session.execute(
        update(Experiment)
        .where(
            Experiment.id == experiment_id,
            Experiment.org_id == org_id,
            _is(Experiment.decision, seen[0]),
            _is(Experiment.winner, seen[1]),
        )
        .values(
            decision=analysis.decision,
            winner=analysis.winner,
            decided_at=decided_at,
            decided_by=principal.subject,
            decided_counts=counts,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(experiment)
    if written.rowcount != 1:  # type: ignore[attr-defined]
        return out  # another writer recorded a decision since the read: theirs stands, and was published
    data = ExperimentDecided(
        experiment_id=experiment_id,
        campaign_id=campaign_id,
        decision=analysis.decision,  # insufficient_data was refused above
        winner=analysis.winner,
        method=out.method,
        metric=out.metric,
        decided_by=principal.subject,
        counts=[ArmCounts(**c) for c in counts],
    )
    await publish(session, org_id, data, decided_at)
    return out


def _is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


async def plan_experiment(
    session: AsyncSession, org_id: str, experiment_id: str, mde: float, power: float, baseline: float | None
) -> PlanOut:
    """Units per arm needed to detect a relative lift ``mde`` at the experiment's α and ``power``, and the days
    left at the traffic of the slowest arm so far."""
    experiment = await get_experiment(session, org_id, experiment_id)
    arms = await arms_of(session, experiment)
    control = arms[0]
    rate = baseline if baseline is not None else control.rate
    needed = stats.sample_per_arm(rate, mde, float(experiment.alpha), power) if rate is not None else None
    smallest = min(arms, key=lambda a: a.n)
    daily = smallest.n / len(smallest.days) if smallest.days else None
    days_left = None
    if needed is not None and daily:
        days_left = math.ceil(max(0, needed - smallest.n) / daily)
    return PlanOut(
        experiment_id=experiment.id,
        metric=experiment.metric,  # type: ignore[arg-type]
        alpha=float(experiment.alpha),
        power=power,
        mde=mde,
        baseline_rate=rate,
        target_rate=rate * (1 + mde) if rate is not None else None,
        sample_per_arm=needed,
        smallest_arm=smallest.n,
        daily_units_per_arm=daily,
        days_left=days_left,
    )
