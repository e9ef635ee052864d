"""One explanation end to end: facts from the recommender, cache, LLM wording or template."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram

from animerec_shared.cache import LocalCache
from animerec_shared.errors import AnimeRecError
from animerec_shared.service import ServiceMetrics

from .catalogue import CatalogueKeeper
from .facts import clean_text, fact_items, is_cold_start, template_text
from .llm import LLMWriter
from .prompt import facts_payload

log = logging.getLogger("animerec.explainer")
CACHE_PREFIX = "explain:v2"  # v2: only verified relations (v1 texts could claim unverified franchises)


@dataclass(frozen=True)
class Subject:
    """Whom an explanation is for: a user id, or a liked set (sorted, distinct)."""

    user_id: int | None = None
    liked: tuple[int, ...] | None = None

    def cache_part(self) -> str:
        """Returns the subject's part of the cache key: ``u<id>`` or ``l<hash of the liked set>``."""
        if self.user_id is not None:
            return f"u{self.user_id}"
        digest = hashlib.sha256(",".join(map(str, self.liked or ())).encode()).hexdigest()[:24]
        return f"l{digest}"


class ExplainerMetrics:
    """Explainer counters in the app's registry."""

    def __init__(self, metrics: ServiceMetrics):
        self.explanations: Counter = metrics.counter(
            "explanations_total", "Explanations answered", ("source", "fallback_reason")
        )
        self.cache: Counter = metrics.counter("explanation_cache_total", "Explanation cache lookups", ("result",))
        self.llm_seconds = Histogram(
            "explainer_llm_seconds",
            "Time spent waiting for the LLM",
            buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10),
            registry=metrics.registry,
        )


class Explainer:
    """Builds explanations; holds no model, only clients (recommender, LLM, cache)."""

    def __init__(
        self,
        recommender: Any,
        cache: LocalCache,
        *,
        writer: LLMWriter | None,
        catalogue: CatalogueKeeper,
        metrics: ExplainerMetrics,
        cache_ttl_s: int,
        llm_model: str | None,
    ):
        self.recommender = recommender
        self.cache = cache
        self.writer = writer
        self.catalogue = catalogue
        self.metrics = metrics
        self.cache_ttl_s = cache_ttl_s
        self.llm_model = llm_model if writer is not None else None

    def cache_key(
        self, subject: Subject, anime_id: int, model_version: str | None, source: str, strategy: str | None
    ) -> str:
        """Returns the Redis key of an explanation: subject, anime, model version, source (+LLM model)."""
        src = f"llm={self.llm_model}" if source == "llm" else "template"
        return f"{CACHE_PREFIX}:{subject.cache_part()}:{anime_id}:{model_version or '-'}:{src}:{strategy or '-'}"

    async def explain(self, subject: Subject, anime_id: int, strategy: str | None) -> dict[str, Any]:
        """Returns the explanation body for one anime (see contracts.explainer ``Explanation``)."""
        facts = await self.recommender.explanation_facts(
            user_id=subject.user_id,
            liked=list(subject.liked) if subject.liked else None,
            anime_id=anime_id,
            strategy=strategy,
        )
        model_version = facts.get("model_version")
        wanted = "llm" if self.writer is not None else "template"
        key = self.cache_key(subject, anime_id, model_version, wanted, strategy)
        cached = await asyncio.to_thread(self.cache.get_json, key)
        if isinstance(cached, dict):
            self.metrics.cache.labels("hit").inc()
            self.metrics.explanations.labels(cached.get("source", wanted), "").inc()
            return {**cached, "cached": True}
        self.metrics.cache.labels("miss").inc()
        cold_start = is_cold_start(facts, subject.liked is not None)  # a liked list, or no ratings at all
        body: dict[str, Any] = {
            "anime_id": int(facts.get("anime_id", anime_id)),
            "title": clean_text(facts.get("title")) or None,
            "facts": fact_items(facts, cold_start),
            "model_version": model_version,
            "strategy": facts.get("strategy", strategy),
            "llm_model": None,
            "fallback_reason": None,
        }
        reason = None
        if self.writer is not None:
            self.catalogue.refresh_if_stale()
            synopsis = await self.recommender.synopsis(anime_id)
            start = time.perf_counter()
            result = await self.writer.write(
                facts_payload(facts, synopsis, cold_start), facts, self.catalogue.catalogue, cold_start
            )
            self.metrics.llm_seconds.observe(time.perf_counter() - start)
            if result.text is not None:
                body.update(text=result.text, source="llm", llm_model=self.llm_model)
            reason = result.reason
        if reason is not None or self.writer is None:
            body.update(text=template_text(facts, cold_start), source="template", fallback_reason=reason)
        self.metrics.explanations.labels(body["source"], reason or "").inc()
        if reason is None:  # a fallback is not cached: the LLM may answer next time
            await asyncio.to_thread(self.cache.set_json, key, body, self.cache_ttl_s)
        return {**body, "cached": False}

    async def explain_many(
        self, subject: Subject, anime_ids: list[int], strategy: str | None, concurrency: int
    ) -> list[dict[str, Any]]:
        """Returns one entry per anime (explanation or per-anime error), at most `concurrency` at once.

        Raises:
            AnimeRecError: an error that concerns the whole batch (unknown user, recommender down).
        """
        slots = asyncio.Semaphore(concurrency)

        async def one(aid: int) -> dict[str, Any]:
            async with slots:
                try:
                    return await self.explain(subject, aid, strategy)
                except AnimeRecError as exc:
                    if exc.code != "anime_not_found":
                        raise
                    return {"anime_id": aid, "error": {"code": exc.code, "message": exc.message}}

        tasks = [asyncio.ensure_future(one(a)) for a in anime_ids]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:  # one batch-wide error: stop the rest instead of letting them run on
                task.cancel()
            raise
