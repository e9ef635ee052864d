"""GET /datasets/current (raw manifest) and /datasets/processed/current (processed manifest)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from animerec_shared.contracts.ingestion import PROCESSED_MANIFEST_EXAMPLE, RAW_MANIFEST_EXAMPLE
from animerec_shared.errors import NotFoundError
from animerec_shared.storage import Storage

from ..deps import StorageDep

router = APIRouter(prefix="/datasets", tags=["datasets"])


def _current_manifest(storage: Storage, area: str) -> dict[str, Any]:
    ident = storage.get_current(area)
    if ident is None:
        what = "raw dataset has been ingested" if area == "raw" else "dataset has been processed"
        raise NotFoundError(f"no {what} yet", code=f"no_current_{area}_dataset")
    return storage.read_json(f"{area}/{ident}/manifest.json")


def _manifest_answer(what: str, example: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {"application/json": {"example": example}}}}


@router.get(
    "/current",
    summary="Manifest of the current raw dataset",
    responses=_manifest_answer("the manifest of raw/CURRENT: its files, rows and checksums", RAW_MANIFEST_EXAMPLE),
)
async def current_raw(storage: StorageDep) -> dict[str, Any]:
    """Returns the manifest of raw/CURRENT (404 no_current_raw_dataset when none)."""
    return await run_in_threadpool(_current_manifest, storage, "raw")


@router.get(
    "/processed/current",
    summary="Manifest of the current processed dataset",
    responses=_manifest_answer(
        "the manifest of processed/CURRENT: its raw dataset, counts and split", PROCESSED_MANIFEST_EXAMPLE
    ),
)
async def current_processed(storage: StorageDep) -> dict[str, Any]:
    """Returns the manifest of processed/CURRENT (404 no_current_processed_dataset when none)."""
    return await run_in_threadpool(_current_manifest, storage, "processed")
