"""/training-runs: start a training run (one at a time) and follow its progress."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from animerec_shared.auth import SERVICE_TOKEN_RESPONSES, ServiceToken
from animerec_shared.contracts.common import error_doc
from animerec_shared.contracts.training import TrainingRunCreate, TrainingRunCreated, TrainingRunPublic

from ..deps import RunsDep

router = APIRouter(prefix="/training-runs", tags=["training runs"])


@router.post(
    "",
    status_code=202,
    response_model=TrainingRunCreated,
    responses={409: error_doc("training_in_progress"), **SERVICE_TOKEN_RESPONSES},
    dependencies=[ServiceToken],
)
async def start_training_run(body: TrainingRunCreate, runs: RunsDep) -> dict:
    """Starts a training run in its own process; 409 training_in_progress while one runs."""
    return await run_in_threadpool(
        runs.start, model=body.model, epochs=body.epochs, processed_id=body.processed_id, promote=body.promote
    )


@router.get("/{run_id}", response_model=TrainingRunPublic, responses={404: error_doc("training_run_not_found")})
async def get_training_run(run_id: str, runs: RunsDep) -> dict:
    """Returns the run's state, epoch, progress, live metrics, version and promotion."""
    return await run_in_threadpool(runs.get, run_id)
