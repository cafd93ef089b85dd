from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from services.campaigns.campaigns.service import get_campaign
from services.campaigns.experiments import service
from services.campaigns.experiments.models import Experiment
from services.campaigns.experiments.schemas import AnalysisOut, ExperimentIn, ExperimentOut
from shared.auth import Principal, Reader, require
from shared.db import DbSession, scoped
from shared.etag import set_etag
from shared.pagination import Pagination, paginate
from shared.schemas import Page

router = APIRouter(prefix="/v1", tags=["experiments"])
ExperimentWriter = Annotated[Principal, Depends(require("specialist"))]
Id = Annotated[str, Path(max_length=64)]


@router.post("/campaigns/{campaign_id}/experiments", response_model=ExperimentOut, status_code=201)
async def create_experiment(
    campaign_id: Id, body: ExperimentIn, principal: ExperimentWriter, session: DbSession, response: Response
) -> ExperimentOut:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    out = ExperimentOut.model_validate(await service.create_experiment(session, campaign, body))
    response.headers["Location"] = f"/v1/experiments/{out.id}"
    set_etag(response, out)
    return out


@router.get("/campaigns/{campaign_id}/experiments", response_model=Page[ExperimentOut])
async def list_experiments(
    campaign_id: Id, principal: Reader, session: DbSession, page: Pagination
) -> Page[ExperimentOut]:
    campaign = await get_campaign(session, principal.org_id, campaign_id)
    stmt = scoped(Experiment, principal.org_id).where(Experiment.campaign_id == campaign.id)
    rows, cursor = await paginate(session, stmt, Experiment, page)
    return Page(items=[ExperimentOut.model_validate(e) for e in rows], next_cursor=cursor)


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
async def get_experiment(experiment_id: Id, principal: Reader, session: DbSession, response: Response) -> ExperimentOut:
    out = ExperimentOut.model_validate(await service.get_experiment(session, principal.org_id, experiment_id))
    set_etag(response, out)
    return out


@router.get(
    "/experiments/{experiment_id}/analysis",
    response_model=AnalysisOut,
    responses={409: {"description": "the metric rows are inconsistent (more successes than units)"}},
)
async def analyse(experiment_id: Id, principal: Reader, session: DbSession) -> AnalysisOut:
    return await service.analyse_experiment(session, principal.org_id, experiment_id)
