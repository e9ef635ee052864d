"""/models: the published model versions, which one is current, and promotion (roll forward/back)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from animerec_shared.contracts.common import VERSION_PATTERN, error_doc
from animerec_shared.contracts.training import ModelList, Promotion

from ..deps import StorageDep
from ..versions import list_models, promote

router = APIRouter(prefix="/models", tags=["models"])

VersionPath = Path(pattern=VERSION_PATTERN)


@router.get("", response_model=ModelList)
async def get_models(storage: StorageDep) -> dict:
    """Returns every published model version with its metrics, newest first, and the current one."""
    return await run_in_threadpool(list_models, storage)


@router.post("/{version}/promote", response_model=Promotion, responses={404: error_doc("model_not_found")})
async def promote_model(storage: StorageDep, version: str = VersionPath) -> dict:
    """Makes a published version current (atomic pointer update); 404 model_not_found otherwise."""
    result = await run_in_threadpool(promote, storage, version, "api")
    return {"model_version": result["current"], **result}
