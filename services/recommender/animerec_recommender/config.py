"""Settings of the recommender service (RECOMMENDER_* variables, laptop defaults)."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from animerec_ranking import COMPONENTS
from animerec_shared.settings import SERVICE_PORTS, BaseServiceSettings, service_config


def parse_weights(text: str) -> dict[str, float]:
    """Returns {component: weight} of "item_item=1,content=0.2"; ValueError names the bad part."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = (x.strip() for x in part.partition("="))
        if name not in COMPONENTS:
            raise ValueError(f"unknown component {name!r} in {part!r} (known: {', '.join(COMPONENTS)})")
        try:
            weight = float(value) if sep else math.nan
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"{part!r}: the weight must be a number >= 0, as in {name}=0.2")
        out[name] = weight
    return out


class Settings(BaseServiceSettings):
    """Recommender settings; every field reads RECOMMENDER_<FIELD> (RECOMMENDER_POLL_INTERVAL_SECONDS, ...)."""

    model_config = service_config("recommender")

    port: int = SERVICE_PORTS["recommender"]
    poll_interval_seconds: float = 30.0  # poll models/CURRENT this often (0 = never)
    cache_ttl_seconds: int = 3600  # a cached similarity result lives this long in Redis
    local_cache_ttl_seconds: float = 30.0  # the in-process copy in front of Redis lives this long
    local_cache_size: int = 20000  # entries of that in-process copy
    hybrid_weights: str = ""  # "item_item=1,content=0.2,..."; empty = tuned on val
    tune: bool = True  # tune EASE lambda and blend weights on val at load
    ease_top_n: int = 2500  # anime taking part in the item-item model
    load_on_start: bool = True  # load the promoted model when the app starts
    # Threads that score requests; 0 scores on the event loop itself. Scoring holds the GIL, so
    # threads add no throughput in one process, and under load their queue serves cache misses
    # last: cold start alone through the gateway at 64 clients (benchmarks/bench_load.py --per-kind 5),
    # 388 req/s and p99 609 ms with 4 threads vs 692 req/s and p99 185 ms inline.
    worker_threads: int = Field(0, ge=0, le=64)

    @field_validator("hybrid_weights")
    @classmethod
    def _check_weights(cls, value: str) -> str:
        parse_weights(value)
        return value

    def hybrid_weight_map(self) -> dict[str, float]:
        """Returns the configured blend weights ({} when they are to be tuned)."""
        return parse_weights(self.hybrid_weights)
