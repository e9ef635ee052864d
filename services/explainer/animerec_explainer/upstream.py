"""The recommender as seen from the explainer: facts, synopses and readiness over pooled HTTP."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import ValidationError

from animerec_shared.contracts.recommender import ExplanationFacts, ExplanationFactsRequest
from animerec_shared.errors import AnimeNotFound, AnimeRecError, UpstreamUnavailable, UserNotFound
from animerec_shared.logs import request_id_var

log = logging.getLogger("animerec.explainer.upstream")

_PASSTHROUGH = {"user_not_found": UserNotFound, "anime_not_found": AnimeNotFound}


def _request_headers() -> dict[str, str]:
    rid = request_id_var.get()
    return {"X-Request-ID": rid} if rid else {}


def _error_of(resp: httpx.Response) -> dict[str, Any]:
    try:
        err = resp.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return err if isinstance(err, dict) else {}


class RecommenderClient:
    """Calls the recommender through one pooled ``httpx.AsyncClient`` owned by the app lifespan."""

    def __init__(self, client: httpx.AsyncClient, base_url: str):
        self.client = client
        self.base_url = base_url.rstrip("/")

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self.client.post(f"{self.base_url}{path}", json=body, headers=_request_headers())
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(
                f"recommender unreachable: {type(exc).__name__}", details={"upstream": "recommender"}
            ) from exc

    async def explanation_facts(
        self, *, user_id: int | None, liked: list[int] | None, anime_id: int, strategy: str | None
    ) -> dict[str, Any]:
        """Returns the recommender's facts about why anime_id suits the user (or liked set).

        The answer is checked against the contract (``ExplanationFacts``) and returned as its JSON object.

        Raises:
            UserNotFound, AnimeNotFound: passed through from the recommender's 404.
            AnimeRecError: another 4xx of the recommender, with its status and code.
            UpstreamUnavailable: the recommender is down, times out or answers 5xx/garbage (facts outside
                the contract included).
        """
        ask = ExplanationFactsRequest(user_id=user_id, liked=liked, anime_id=anime_id, strategy=strategy)
        resp = await self._post("/explanation-facts", ask.model_dump())
        if resp.status_code == 200:
            try:
                facts = resp.json()
            except ValueError as exc:
                raise UpstreamUnavailable("recommender sent a non-JSON answer") from exc
            try:
                ExplanationFacts.model_validate(facts)
            except ValidationError as exc:
                fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})[:10]
                raise UpstreamUnavailable(
                    "recommender sent facts outside the contract", details={"upstream": "recommender", "fields": fields}
                ) from exc
            return facts  # validated: a JSON object of the contract
        err = _error_of(resp)
        code, message = str(err.get("code") or ""), str(err.get("message") or resp.reason_phrase)
        if resp.status_code == 404 and code in _PASSTHROUGH:
            raise _PASSTHROUGH[code](message, details=err.get("details"))
        if 400 <= resp.status_code < 500 and code and resp.status_code not in (404, 408, 429):
            # The recommender judged the input we forwarded (e.g. an unknown liked id): say so.
            raise AnimeRecError(message, code=code, status_code=resp.status_code, details=err.get("details"))
        log.warning("recommender answered %s (%s) to /explanation-facts", resp.status_code, code or "-")
        raise UpstreamUnavailable(
            f"recommender answered {resp.status_code}",
            details={"upstream": "recommender", "status": resp.status_code, "code": code or None},
        )

    async def synopsis(self, anime_id: int) -> str:
        """Returns the anime's synopsis from ``GET /anime/{id}``, or "" when it cannot be had."""
        try:
            resp = await self.client.get(f"{self.base_url}/anime/{anime_id}", headers=_request_headers())
            if resp.status_code != 200:
                return ""
            value = resp.json().get("synopsis")
        except (httpx.HTTPError, ValueError, AttributeError):
            return ""
        return value if isinstance(value, str) else ""

    async def readiness(self, timeout: float = 1.0) -> str:
        """Returns "ready", "not_ready" (it answered non-200) or "unreachable"."""
        try:
            resp = await self.client.get(f"{self.base_url}/readyz", timeout=timeout, headers=_request_headers())
        except httpx.HTTPError:
            return "unreachable"
        return "ready" if resp.status_code == 200 else "not_ready"
