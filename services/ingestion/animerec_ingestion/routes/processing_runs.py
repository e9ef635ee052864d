"""POST /processing-runs and GET /processing-runs/{id}."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from animerec_shared.auth import SERVICE_TOKEN_RESPONSES, ServiceToken
from animerec_shared.contracts.common import error_doc
from animerec_shared.contracts.ingestion import JobAccepted, ProcessingRunCreate, ProcessingRunPublic
from animerec_shared.errors import NotFoundError

from ..deps import JobsDep, SettingsDep, StorageDep
from ..jobs import Job
from ..processing import process_dataset

router = APIRouter(prefix="/processing-runs", tags=["processing"])


def _public(job: Job) -> ProcessingRunPublic:
    return ProcessingRunPublic(**job.public_fields(), processed_id=(job.result or {}).get("id"))


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    summary="Start processing a raw dataset",
    responses={
        404: error_doc("raw_dataset_not_found"),
        409: error_doc("another job is running (job_in_progress)"),
        **SERVICE_TOKEN_RESPONSES,
    },
    dependencies=[ServiceToken],
)
async def create_processing_run(
    body: ProcessingRunCreate, settings: SettingsDep, storage: StorageDep, jobs: JobsDep
) -> JobAccepted:
    """Returns the queued run; the work happens in the service's worker thread."""
    raw_id = body.raw_dataset or await run_in_threadpool(storage.get_current, "raw")
    if raw_id is None or not await run_in_threadpool(storage.is_published, f"raw/{raw_id}"):
        raise NotFoundError(
            "no raw dataset has been ingested yet" if raw_id is None else f"raw dataset {raw_id!r} does not exist",
            code="raw_dataset_not_found",
        )
    min_ratings = body.min_ratings or settings.min_user_ratings
    seed = settings.process_seed if body.seed is None else body.seed
    job = jobs.submit("processing", lambda say: process_dataset(storage, raw_id, min_ratings, seed, progress=say))
    return JobAccepted(id=job.id, state=job.state)


@router.get("/{run_id}", response_model=ProcessingRunPublic, summary="State of a processing run")
async def get_processing_run(run_id: str, jobs: JobsDep) -> ProcessingRunPublic:
    """Returns the run's state, and its manifest once it succeeded (404 processing_run_not_found)."""
    return _public(jobs.get(run_id, "processing"))
