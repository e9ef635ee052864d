"""Public explanations of recommendations (explainer)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from animerec_shared.contracts.explainer import (
    Explanation,
    ExplanationBatch,
    ExplanationBatchRequest,
    ExplanationRequest,
)

from ..deps import ExplainerDep
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS

router = APIRouter(prefix="/api/v1/explanations", tags=["explanations"], responses={**UPSTREAM_ERRORS, **NOT_FOUND})


@router.post("", summary="Why an anime is recommended", response_model=Explanation)
async def explain(explainer: ExplainerDep, body: ExplanationRequest) -> Response:
    """Returns an explanation grounded in computed facts for a user (or liked list) and one anime."""
    payload = body.model_dump(exclude_none=True)
    return relay("explainer", await explainer.request("POST", "/explanations", json_body=payload))


@router.post("/batch", summary="Explanations for up to 20 anime", response_model=ExplanationBatch)
async def explain_batch(explainer: ExplainerDep, body: ExplanationBatchRequest) -> Response:
    """Returns one explanation (or error) per distinct anime id, in request order."""
    payload = body.model_dump(exclude_none=True)
    return relay("explainer", await explainer.request("POST", "/explanations/batch", json_body=payload))
