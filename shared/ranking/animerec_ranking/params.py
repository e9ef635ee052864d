"""Hyper-parameters of the ranking core, with defaults measured on the real MAL sample."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

COMPONENTS = ("item_item", "collaborative", "content", "franchise", "user_based", "popularity", "quality")

# Hybrid blend used when no tuning happens: what tuning on the val split of the real MAL sample
# chose (min 50 ratings, SVD embeddings, `benchmarks/bench_recommender.py`: test NDCG@10 0.507 vs
# item_item alone 0.424).
DEFAULT_WEIGHTS = {
    "item_item": 1.0,
    "collaborative": 0.0,
    "content": 0.2,
    "franchise": 0.2,
    "user_based": 0.0,
    "popularity": 0.0,
    "quality": 0.0,
}
# Cold-start blend (a few liked anime, no account) used when no tuning happens: what cold-start
# tuning chose on the same split (`bench_recommender.py`, 5 liked anime a query: test NDCG@10
# 0.112 vs 0.088 for the blend above and 0.096 for popularity on the same queries).
DEFAULT_COLD_START_WEIGHTS = {
    "item_item": 0.0,
    "collaborative": 1.0,
    "content": 0.0,
    "franchise": 0.1,
    "user_based": 0.0,
    "popularity": 0.35,
    "quality": 0.1,
}


@dataclass(frozen=True)
class RankingParams:
    """Every knob of the ranking core; ``tune=True`` picks lambda and blend weights on val."""

    ease_lambda: float = 100.0
    ease_lambda_grid: tuple[float, ...] = (50.0, 100.0, 200.0, 400.0)
    # EASE inverts an N x N Gram matrix: only the N most rated anime take part
    # (memory 4 N^2 bytes served, 8 N^2 while fitting; time O(N^3)).
    ease_top_n: int = 2500
    liked_rating: int = 8  # ratings >= this count as "liked"
    unliked_weight: float = 0.3  # input weight of a rated but not liked anime (liked = 1)
    disliked_weight: float = -0.3  # cold start: input weight of an explicitly disliked anime
    similar_users: int = 30  # neighbours of the user-based strategy
    content_genre_weight: float = 0.5
    content_max_features: int = 30000
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # Blend of the hybrid cold start (POST /recommendations), tuned on val with simulated queries
    # of ``cold_start_liked`` liked anime each (see cold_start.py).
    cold_start_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COLD_START_WEIGHTS))
    cold_start_liked: int = 5
    tune: bool = True
    tune_users: int = 1000  # val users sampled for tuning (memory: users x anime x components)
    # Cut-off of the val NDCG used for tuning. A val split holds ~2 relevant anime per user, so
    # NDCG@10 on it is noisy; a deeper cut-off ranks the same lists with less variance.
    tune_k: int = 50
    # A blend change is kept only when it lifts val NDCG by this fraction: smaller gains are
    # within the noise of a few hundred users and, taken greedily, overfit the val split.
    tune_min_gain: float = 0.01
    # True when the user embeddings were trained on train + val (metrics.json "val_in_training"):
    # tuning then folds user vectors in from their train ratings, so val stays unseen.
    embeddings_saw_val: bool = False
    seed: int = 42

    def with_overrides(self, overrides: dict[str, Any] | None) -> RankingParams:
        """Returns a copy with the known keys of overrides applied (unknown keys are ignored)."""
        if not overrides:
            return self
        known = {k: v for k, v in overrides.items() if k in asdict(self)}
        for key in ("weights", "cold_start_weights"):
            if key in known:
                known[key] = {**getattr(self, key), **known[key]}
        if "ease_lambda_grid" in known:
            known["ease_lambda_grid"] = tuple(known["ease_lambda_grid"])
        return replace(self, **known)

    def with_stored_blend(self, blend: dict[str, Any] | None) -> RankingParams:
        """Returns a copy serving a blend tuned earlier as is, without tuning.

        ``blend`` is {"weights", "ease_lambda", "cold_start_weights"} as the tuning report stores it.
        Components the blend does not name get weight 0; an empty blend changes nothing; a blend
        without cold-start weights (tuned before they existed) keeps the default ones.
        """
        blend = blend or {}
        weights = blend.get("weights")
        if not isinstance(weights, dict) or not weights:
            return self

        def full(named: dict[str, Any]) -> dict[str, float]:
            out = {c: 0.0 for c in COMPONENTS}
            out.update({str(k): float(v) for k, v in named.items() if k in out})
            return out

        out = replace(self, weights=full(weights), tune=False)
        cold = blend.get("cold_start_weights")
        if isinstance(cold, dict) and cold:
            out = replace(out, cold_start_weights=full(cold))
        return replace(out, ease_lambda=float(blend["ease_lambda"])) if blend.get("ease_lambda") else out

    def as_dict(self) -> dict[str, Any]:
        """Returns the parameters as plain JSON-able values."""
        d = asdict(self)
        d["ease_lambda_grid"] = list(self.ease_lambda_grid)
        return d
