"""Settings of the recommender service (env vars, laptop defaults)."""

from __future__ import annotations

from pydantic import Field

from animerec_shared.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """Recommender settings; every field is read from the upper-cased env var of its name."""

    recommender_poll_seconds: float = 30.0       # poll models/CURRENT this often (0 = never)
    recommender_cache_ttl: int = 3600            # seconds a cached similarity result lives in Redis
    recommender_local_cache_ttl: float = 30.0    # seconds of the in-process copy in front of Redis
    recommender_local_cache_size: int = 20000    # entries of that in-process copy
    recommender_hybrid_weights: str = ""         # "item_item=1,content=0.2,..."; empty = tuned on val
    recommender_tune: bool = True                # tune EASE lambda and blend weights on val at load
    recommender_ease_top_n: int = 2500           # anime taking part in the item-item model
    recommender_load_on_start: bool = True       # load the promoted model when the app starts
    # Threads that score requests; 0 scores on the event loop itself. Scoring holds the GIL, so
    # threads add no throughput in one process, and under load their queue serves cache misses
    # last: cold start alone through the gateway at 64 clients (benchmarks/bench_load.py --per-kind 5),
    # 388 req/s and p99 609 ms with 4 threads vs 692 req/s and p99 185 ms inline.
    recommender_worker_threads: int = Field(0, ge=0, le=64)

    def hybrid_weights(self) -> dict[str, float]:
        """Returns the configured blend weights ({} when they are to be tuned)."""
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in self.recommender_hybrid_weights.split(","))):
            name, _, value = part.partition("=")
            out[name.strip()] = float(value)
        return out
