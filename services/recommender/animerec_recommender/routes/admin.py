"""Operations: reload the promoted model version."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from animerec_shared.auth import SERVICE_TOKEN_RESPONSES, ServiceToken
from animerec_shared.contracts.recommender import ReloadAnswer, ReloadRequest

from ..deps import HolderDep

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    response_model=ReloadAnswer,
    summary="Load models/CURRENT (or a given version) and swap to it; 422 keeps the old one serving",
    responses=SERVICE_TOKEN_RESPONSES,
    dependencies=[ServiceToken],
)
async def post_reload(holder: HolderDep, body: ReloadRequest | None = None) -> ReloadAnswer:
    previous = holder.state.version if holder.state else None
    state = await run_in_threadpool(holder.reload, body.version if body else None)
    return ReloadAnswer(model_version=state.version, previous=previous)
