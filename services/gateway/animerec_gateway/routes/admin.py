"""Admin API (bearer GATEWAY_ADMIN_TOKEN): orchestrated training runs and promotion/rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from animerec_shared.contracts.common import VERSION_PATTERN, error_doc

from ..deps import AdminDep, OrchestratorDep
from ..schemas import PipelineRun, PipelineRunList, PromoteResult, TrainingRunCreate
from .common import UPSTREAM_ERRORS

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    dependencies=[AdminDep],
    responses={
        **UPSTREAM_ERRORS,
        401: error_doc("no bearer token (`unauthorized`)"),
        403: error_doc("wrong token (`forbidden`)"),
    },
)


@router.post(
    "/training-runs",
    summary="Start ingestion -> processing -> training -> promotion -> reload",
    status_code=202,
    response_model=PipelineRun,
    responses={409: error_doc("a run is in progress (`training_in_progress`)")},
)
async def start_training_run(orchestrator: OrchestratorDep, body: TrainingRunCreate) -> PipelineRun:
    """Returns the new run (state `queued`); poll GET /api/v1/admin/training-runs/{id} until it ends."""
    return orchestrator.start(body)


@router.get("/training-runs", summary="Recent training runs", response_model=PipelineRunList)
async def list_training_runs(orchestrator: OrchestratorDep) -> PipelineRunList:
    """Returns the runs this gateway process started, newest first."""
    return PipelineRunList(items=sorted(orchestrator.runs.values(), key=lambda r: r.created_at, reverse=True))


@router.get(
    "/training-runs/{run_id}",
    summary="State of a training run",
    response_model=PipelineRun,
    responses={404: error_doc("unknown run (`training_run_not_found`)")},
)
async def get_training_run(
    orchestrator: OrchestratorDep, run_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$")]
) -> PipelineRun:
    """Returns the state of each step, the new version, whether it was promoted and what the recommender serves."""
    return orchestrator.get(run_id)


@router.post(
    "/models/{version}/promote",
    summary="Promote a stored model version (rollback)",
    response_model=PromoteResult,
    responses={404: error_doc("unknown version")},
)
async def promote_model(
    orchestrator: OrchestratorDep,
    version: Annotated[str, Path(pattern=VERSION_PATTERN, examples=["20261127-041500-ab12"])],
) -> PromoteResult:
    """Returns the promoted version and the version the recommender serves after reloading."""
    return await orchestrator.promote(version)
