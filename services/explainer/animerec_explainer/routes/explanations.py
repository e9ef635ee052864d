"""/explanations: why an anime was recommended, for a user or a liked set."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from animerec_shared.contracts.common import error_doc
from animerec_shared.contracts.explainer import (
    Explanation,
    ExplanationBatch,
    ExplanationBatchRequest,
    ExplanationRequest,
)

from ..deps import ExplainerDep, SettingsDep
from ..explainer import Subject

router = APIRouter(prefix="/explanations", tags=["explanations"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: error_doc("user_not_found or anime_not_found (from the recommender)"),
    422: error_doc("validation_error"),
    503: error_doc("upstream_unavailable: the recommender cannot be reached"),
}


def _subject(body: ExplanationRequest | ExplanationBatchRequest) -> Subject:
    return Subject(user_id=body.user_id, liked=tuple(body.liked) if body.liked is not None else None)


@router.post(
    "",
    response_model=Explanation,
    responses=_ERRORS,
    summary="Explain why an anime suits a user (or someone who liked some anime)",
)
async def create_explanation(body: ExplanationRequest, explainer: ExplainerDep) -> Explanation:
    """Returns the facts, the text written from them, and whether an LLM or the template wrote it."""
    return Explanation(**await explainer.explain(_subject(body), body.anime_id, body.strategy))


@router.post(
    "/batch",
    response_model=ExplanationBatch,
    responses=_ERRORS,
    summary="Explain up to 20 anime at once (answered concurrently, with a bound)",
)
async def create_explanations(
    body: ExplanationBatchRequest, explainer: ExplainerDep, settings: SettingsDep
) -> ExplanationBatch:
    """Returns one entry per distinct anime id; an unknown anime is an entry with an error."""
    start = time.perf_counter()
    items = await explainer.explain_many(_subject(body), body.anime_ids, body.strategy, settings.batch_concurrency)
    version = next((i.get("model_version") for i in items if i.get("model_version")), None)
    return ExplanationBatch(items=items, model_version=version, took_ms=round((time.perf_counter() - start) * 1000, 2))
