"""Hyper-parameters of the ranking core, with defaults measured on the real MAL sample."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

COMPONENTS = ("item_item", "collaborative", "content", "franchise", "user_based", "popularity", "quality")

# Hybrid blend used when no tuning happens: what tuning on the val split of the real MAL sample
# chose (min 50 ratings, SVD embeddings, `benchmarks/bench_recommender.py`: test NDCG@10 0.507 vs
# item_item alone 0.424).
DEFAULT_WEIGHTS = {"item_item": 1.0, "collaborative": 0.0, "content": 0.2, "franchise": 0.2,
                   "user_based": 0.0, "popularity": 0.0, "quality": 0.0}


@dataclass(frozen=True)
class RankingParams:
    """Every knob of the ranking core; ``tune=True`` picks lambda and blend weights on val."""

    ease_lambda: float = 100.0
    ease_lambda_grid: tuple[float, ...] = (50.0, 100.0, 200.0, 400.0)
    # EASE inverts an N x N Gram matrix: only the N most rated anime take part
    # (memory 4 N^2 bytes served, 8 N^2 while fitting; time O(N^3)).
    ease_top_n: int = 2500
    liked_rating: int = 8            # ratings >= this count as "liked"
    unliked_weight: float = 0.3      # input weight of a rated but not liked anime (liked = 1)
    disliked_weight: float = -0.3    # cold start: input weight of an explicitly disliked anime
    similar_users: int = 30          # neighbours of the user-based strategy
    content_genre_weight: float = 0.5
    content_max_features: int = 30000
    franchise_neighbours: int = 10   # title neighbours kept per anime by the franchise component
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    tune: bool = True
    tune_users: int = 1000           # val users sampled for tuning (memory: users x anime x components)
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
        if "weights" in known:
            known["weights"] = {**self.weights, **known["weights"]}
        if "ease_lambda_grid" in known:
            known["ease_lambda_grid"] = tuple(known["ease_lambda_grid"])
        return replace(self, **known)

    def with_stored_blend(self, blend: dict[str, Any] | None) -> RankingParams:
        """Returns a copy serving a blend tuned earlier ({"weights", "ease_lambda"}) as is, without tuning.

        Components the blend does not name get weight 0; an empty blend changes nothing.
        """
        weights = (blend or {}).get("weights")
        if not isinstance(weights, dict) or not weights:
            return self
        full = {c: 0.0 for c in COMPONENTS}
        full.update({str(k): float(v) for k, v in weights.items() if k in full})
        out = replace(self, weights=full, tune=False)
        return replace(out, ease_lambda=float(blend["ease_lambda"])) if blend.get("ease_lambda") else out

    def as_dict(self) -> dict[str, Any]:
        """Returns the parameters as plain JSON-able values."""
        d = asdict(self)
        d["ease_lambda_grid"] = list(self.ease_lambda_grid)
        return d
