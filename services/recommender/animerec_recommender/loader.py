"""Holds the served model version and swaps it atomically after a full load in a worker thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool

from animerec_ranking import COMPONENTS, RankingParams
from animerec_ranking.model_versions import InvalidModelVersion
from animerec_shared.errors import AnimeRecError, NotReadyError
from animerec_shared.service import settle_heap
from animerec_shared.storage import Storage, open_storage

from .config import Settings
from .state import ServingState, build_state

log = logging.getLogger("animerec.recommender")


def ranking_params(settings: Settings) -> RankingParams:
    """Returns the ranking parameters the settings ask for.

    Fixed weights (RECOMMENDER_HYBRID_WEIGHTS) switch tuning off and are the whole blend: the
    components they do not name get 0.
    """
    weights = settings.hybrid_weight_map()
    base = RankingParams(ease_top_n=settings.ease_top_n, tune=settings.tune and not weights)
    return replace(base, weights={c: weights.get(c, 0.0) for c in COMPONENTS}) if weights else base


class ModelHolder:
    """One reference to the current ServingState; readers take it once per request."""

    def __init__(self, settings: Settings, storage: Storage | None = None):
        self.settings = settings
        self.storage = storage or open_storage(settings.storage_url)
        self.params = ranking_params(settings)
        self.state: ServingState | None = None
        self.refused: dict[str, str] = {}
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._reuse: dict[str, dict[tuple[Any, ...], Any]] = {}

    def require(self) -> ServingState:
        """Returns the current state or raises NotReadyError while nothing is loaded."""
        state = self.state
        if state is None:
            # Why the last load failed is logged (_refuse, the start-up load) and on /readyz, not in public answers.
            raise NotReadyError("no model version is loaded yet", headers={"Retry-After": "5"})
        return state

    def reload(self, version: str | None = None) -> ServingState:
        """Loads a version (default: models/CURRENT) fully, then swaps it in; blocking, one at a time.

        A version that fails to load is refused (InvalidModelVersion) and the old one keeps serving.
        """
        with self._lock:
            target = version or self.storage.get_current("models")
            if not target:
                raise NotReadyError("no model version is promoted yet", code="no_model")
            current = self.state
            if current is not None and current.version == target:
                return current
            try:
                new = build_state(self.storage, target, self.params, self._reuse)
            except AnimeRecError as exc:
                self._refuse(target, exc.message)
                if isinstance(exc, InvalidModelVersion) or exc.status_code == 404:
                    raise InvalidModelVersion(exc.message) from exc
                raise
            except Exception as exc:  # a corrupt file can fail in many ways: refuse, keep serving
                self._refuse(target, f"{type(exc).__name__}: {exc}")
                raise InvalidModelVersion(f"model version {target} could not be loaded: {exc}") from exc
            self.state = new  # the swap: one reference assignment, atomic for readers
            self.refused.pop(target, None)
            self.last_error = None
            for pid in [p for p in self._reuse if p != new.processed_id]:
                del self._reuse[pid]  # fitted parts of datasets no longer served
            settle_heap()  # the new state's objects: out of the GC's full sweeps (p99 under load)
            return new

    def _refuse(self, version: str, message: str) -> None:
        self.refused[version] = message
        self.last_error = message
        log.error(
            "model version %s refused, still serving %s: %s",
            version,
            self.state.version if self.state else None,
            message,
        )

    async def poll_forever(self, interval: float) -> None:
        """Checks models/CURRENT every interval seconds and loads a newly promoted version."""
        while True:
            await asyncio.sleep(interval)
            await self.poll_once()

    async def poll_once(self) -> None:
        """Loads models/CURRENT when it differs from the served version and was not refused before."""
        try:
            current = await run_in_threadpool(self.storage.get_current, "models")
        except Exception as exc:
            log.warning("cannot read models/CURRENT: %s", exc)
            return
        state = self.state
        if current and (state is None or current != state.version) and current not in self.refused:
            try:
                await run_in_threadpool(self.reload, current)
            except Exception as exc:
                log.warning("reload of %s failed: %s", current, exc)
