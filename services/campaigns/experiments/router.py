from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.campaigns.campaigns.service import get_campaign
from services.campaigns.experiments import service
from services.campaigns.experiments.models import Experiment
from services.campaigns.experiments.schemas import AnalysisOut, ExperimentIn, ExperimentOut, PlanOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped
from shared.etag import Version
from shared.pagination import Pagination, paginate
from shared.schemas import Page, PathId

router = APIRouter(prefix="/v1", tags=["experiments"])
ExperimentWriter = Annotated[Principal, Depends(require("specialist"))]


@router.post("/campaigns/{campaign_id}/experiments", response_model=ExperimentOut, status_code=201)
async def create_experiment(
    campaign_id: PathId,
    body: ExperimentIn,
    principal: ExperimentWriter,
    session: DbSession,
    response: Response,
    version: Version,
) -> ExperimentOut:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    out = ExperimentOut.model_validate(await service.create_experiment(session, campaign, body))
    response.headers["Location"] = f"/v1/experiments/{out.id}"
    return version.answer(out)


@router.get("/campaigns/{campaign_id}/experiments", response_model=Page[ExperimentOut])
async def list_experiments(
    campaign_id: PathId, principal: Reader, session: DbSession, page: Pagination
) -> Page[ExperimentOut]:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    stmt = scoped(Experiment, principal.org_id).where(Experiment.campaign_id == campaign.id)
    rows, cursor = await paginate(session, stmt, Experiment, page)
    return Page(items=[ExperimentOut.model_validate(e) for e in rows], next_cursor=cursor)


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
async def get_experiment(
    experiment_id: PathId, principal: Reader, session: DbSession, version: Version
) -> ExperimentOut:
    out = ExperimentOut.model_validate(await service.get_experiment(session, principal.org_id, experiment_id))
    return version.answer(out)


@router.get(
    "/experiments/{experiment_id}/analysis",
    response_model=AnalysisOut,
    responses={409: {"description": "the metric rows are inconsistent (more successes than units)"}},
)
async def analyse(experiment_id: PathId, principal: Reader, session: DbSession) -> AnalysisOut:
    """The analysis as of the campaign's metric rows now. Reading it records nothing, however often it is read:
    a decision is recorded only by ``POST …/decision``."""
    return await service.analyse_experiment(session, principal.org_id, experiment_id)


@router.post(
    "/experiments/{experiment_id}/decision",
    response_model=AnalysisOut,
    responses={
        409: {
            "description": "nothing to decide yet (insufficient data: the reasons are in the detail), or the "
            "metric rows are inconsistent"
        }
    },
)
async def decide(experiment_id: PathId, principal: ExperimentWriter, session: DbSession) -> AnalysisOut:
    """Record the current analysis' decision and winner on the experiment, with who decided and the counts per
    arm it saw; a change publishes ``experiment.decided``."""
    return await service.record_decision(session, principal, experiment_id)


@router.get("/experiments/{experiment_id}/plan", response_model=PlanOut)
async def plan(
    experiment_id: PathId,
    principal: Reader,
    session: DbSession,
    mde: Annotated[
        float, Query(ge=0.0001, le=10, description="the smallest relative lift worth detecting (0.1 = +10%)")
    ] = 0.1,
    power: Annotated[float, Query(ge=0.5, le=0.99, description="the chance to detect that lift")] = 0.8,
    baseline: Annotated[
        float | None,
        Query(ge=0.000001, le=0.999999, description="the control's rate, when the data so far should not be used"),
    ] = None,
) -> PlanOut:
    """Units per arm (in the metric's units: clicks for conversion_rate) needed for a fixed-horizon test to detect
    ``mde`` at the experiment's α with ``power``, and the days left at the slowest arm's traffic so far."""
    return await service.plan_experiment(session, principal.org_id, experiment_id, mde, power, baseline)
