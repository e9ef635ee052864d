"""Public read-only list of model versions (training)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from animerec_shared.contracts.training import ModelList

from ..deps import TrainingDep
from ..upstreams import relay
from .common import UPSTREAM_ERRORS

router = APIRouter(prefix="/api/v1/models", tags=["models"], responses=UPSTREAM_ERRORS)


@router.get("", summary="Model versions and the promoted one", response_model=ModelList)
async def list_models(training: TrainingDep) -> Response:
    """Returns every stored model version with its metrics, and which one is current."""
    return relay("training", await training.request("GET", "/models"))
