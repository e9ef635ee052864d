"""Facts for the explainer: why an anime suits a user or a liked set."""

from __future__ import annotations

from fastapi import APIRouter

from animerec_shared.contracts.recommender import ExplanationFacts, ExplanationFactsRequest

from ..deps import StateDep
from ..facts import explanation_facts
from ..offload import offload

router = APIRouter(tags=["explanations"])


@router.post("/explanation-facts", response_model=ExplanationFacts, summary="Grounded facts for an explanation")
async def post_explanation_facts(body: ExplanationFactsRequest, state: StateDep) -> dict:
    return await offload(explanation_facts, state, body.user_id, body.liked, body.anime_id, body.strategy)
