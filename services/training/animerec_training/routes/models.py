"""/models: the published model versions, which one is current, and promotion (roll forward/back)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from animerec_shared.auth import SERVICE_TOKEN_RESPONSES, ServiceToken
from animerec_shared.contracts.common import VERSION_PATTERN, error_doc
from animerec_shared.contracts.training import ModelList, Promotion

from ..deps import StorageDep
from ..versions import list_models, promote

router = APIRouter(prefix="/models", tags=["models"])

VersionPath = Path(pattern=VERSION_PATTERN)


@router.get("", response_model=ModelList)
async def get_models(storage: StorageDep) -> dict:
    """Returns every published model version with its metrics, newest first, and the current one.

    A corrupt models/CURRENT (not JSON, or no string "id") still answers 200: ``current`` is null and
    ``current_error`` names the key and quotes what it holds (at most 100 characters), so the list to
    choose from stays readable; promoting a version overwrites the pointer.
    """
    return await run_in_threadpool(list_models, storage)


@router.post(
    "/{version}/promote",
    response_model=Promotion,
    responses={404: error_doc("model_not_found"), 422: error_doc("invalid_model_version"), **SERVICE_TOKEN_RESPONSES},
    dependencies=[ServiceToken],
)
async def promote_model(storage: StorageDep, version: str = VersionPath) -> dict:
    """Makes a published version current (atomic pointer update); 404 model_not_found otherwise.

    The whole version is validated first (marker, every file, shapes, dtypes, finite values): a broken
    one answers 422 invalid_model_version and the pointer does not move. A corrupt pointer is
    overwritten (``previous`` is then null).
    """
    result = await run_in_threadpool(promote, storage, version, "api")
    return {"model_version": result["current"], **result}
