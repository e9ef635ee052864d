"""The fitted ranking components and their per-user / per-query scores (numpy, scipy, scikit-learn)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .content import ContentModel, fit_content
from .franchise import FranchiseModel, fit_franchise
from .item_item import EaseModel, fit_ease
from .params import RankingParams
from .user_based import favourites_matrix, user_based_scores


def interaction_weights(ratings: np.ndarray, params: RankingParams) -> np.ndarray:
    """Returns the item-item input weight of each rating: 1 when liked, ``unliked_weight`` otherwise."""
    return np.where(ratings >= params.liked_rating, 1.0, params.unliked_weight).astype(np.float32)


def content_weights(ratings: np.ndarray, params: RankingParams) -> np.ndarray:
    """Returns taste-profile weights: the rating of liked anime (all ratings when none is liked)."""
    liked = ratings >= params.liked_rating
    if not liked.any():
        return ratings.astype(np.float32) / 10.0
    return np.where(liked, ratings / 10.0, 0.0).astype(np.float32)


def rows_matrix(ratings: pd.DataFrame, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    return sp.csr_matrix(
        (values, (ratings["user_index"].to_numpy(), ratings["anime_index"].to_numpy())), shape=shape, dtype=np.float32
    )


@dataclass
class RankingModel:
    """Every component fitted on one set of ratings (the train part when serving or testing)."""

    params: RankingParams
    n_users: int
    n_items: int
    inputs: sp.csr_matrix  # item-item input weights [n_users, n_items]
    content_inputs: sp.csr_matrix  # taste-profile weights [n_users, n_items]
    ease: EaseModel
    content: ContentModel | None
    franchise: FranchiseModel | None
    user_vectors: np.ndarray | None
    item_vectors: np.ndarray | None
    favourites: sp.csr_matrix
    popularity: np.ndarray  # float32 [n_items] log(1 + ratings)
    quality: np.ndarray  # float32 [n_items] smoothed share of "liked" ratings

    def available(self) -> list[str]:
        """Returns the names of the components this model can score."""
        names = ["item_item", "popularity", "quality"]
        if self.content is not None:
            names.append("content")
        if self.franchise is not None and self.franchise.neighbours.nnz:
            names.append("franchise")
        if self.user_vectors is not None and self.item_vectors is not None:
            names += ["collaborative", "user_based"]
        return names

    def component(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Returns float32 scores [len(rows), n_items] of one component for known users."""
        rows = np.asarray(rows, dtype=np.int64)
        if name == "item_item":
            return self.ease.score(self.inputs[rows])
        users, items = self.user_vectors, self.item_vectors
        if name == "collaborative" and users is not None and items is not None:
            return np.asarray(users[rows] @ items.T, dtype=np.float32)
        if name == "content" and self.content is not None:
            return self.content.score_rated(self.content.profiles(self.content_inputs[rows]))
        if name == "franchise" and self.franchise is not None:
            return self.franchise.score(self.inputs[rows])
        if name == "user_based" and users is not None:  # in chunks: the similarity block is [chunk, n_users]
            parts = [
                user_based_scores(
                    users[rows[i : i + 32]], users, self.favourites, self.params.similar_users, exclude=rows[i : i + 32]
                )
                for i in range(0, len(rows), 32)
            ]
            return np.vstack(parts) if parts else np.zeros((0, self.n_items), np.float32)
        if name in ("popularity", "quality"):
            return np.broadcast_to(getattr(self, name), (len(rows), self.n_items)).copy()
        raise KeyError(f"unknown or unavailable ranking component {name!r}")

    def query_components(
        self,
        names: list[str],
        idx: np.ndarray,
        weights: np.ndarray,
        profile_weights: np.ndarray,
        user_vector: np.ndarray | None,
        exclude_user: int = -1,
    ) -> dict[str, np.ndarray]:
        """Returns {component: float32 [n_items]} for one query (a known user's ratings or a liked set).

        idx/weights are the item-item input (anime indices, weights), profile_weights the content
        weights of the same anime, user_vector the (possibly folded-in) user embedding.
        """
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name == "item_item":
                out[name] = self.ease.score_sparse_row(idx, weights)
            elif name == "franchise" and self.franchise is not None:
                out[name] = self.franchise.score_sparse_row(idx, weights)
            elif name == "collaborative" and user_vector is not None:
                out[name] = np.asarray(self.item_vectors @ user_vector, dtype=np.float32)
            elif name == "content" and self.content is not None:
                profile = self.content.profile_of(self.content.rated_rows[idx], profile_weights)
                out[name] = self.content.score_profile(profile)
            elif name == "user_based" and user_vector is not None and self.user_vectors is not None:
                out[name] = user_based_scores(
                    user_vector[None, :],
                    self.user_vectors,
                    self.favourites,
                    self.params.similar_users,
                    exclude=np.array([exclude_user]),
                )[0]
            elif name in ("popularity", "quality"):
                out[name] = getattr(self, name)
        return out


def fit_model(
    ratings: pd.DataFrame,
    n_users: int,
    n_items: int,
    anime: pd.DataFrame | None,
    anime_ids: np.ndarray,
    params: RankingParams,
    user_vectors: np.ndarray | None = None,
    item_vectors: np.ndarray | None = None,
    content: ContentModel | None = None,
    ease: EaseModel | None = None,
    franchise: FranchiseModel | None = None,
) -> RankingModel:
    """Returns every component fitted on a ratings frame (user_index, anime_index, rating).

    The metadata-only components (content, franchise) are taken as given or, when None, fitted
    from ``anime`` (when given).
    """
    r = ratings["rating"].to_numpy()
    shape = (n_users, n_items)
    inputs = rows_matrix(ratings, interaction_weights(r, params), shape)
    liked = (r >= params.liked_rating).astype(np.float32)
    users = ratings["user_index"].to_numpy()
    any_liked = np.bincount(users, weights=liked, minlength=n_users) > 0
    cw = np.where(any_liked[users], liked * r / 10.0, r / 10.0).astype(np.float32)
    counts = np.bincount(ratings["anime_index"].to_numpy(), minlength=n_items).astype(np.float64)
    liked_counts = np.bincount(ratings["anime_index"].to_numpy(), weights=liked, minlength=n_items)
    prior = liked.mean() if len(liked) else 0.0
    if ease is None:
        ease = fit_ease(inputs, params.ease_lambda, params.ease_top_n)
    if content is None and anime is not None and len(anime):
        content = fit_content(anime, anime_ids, params.content_genre_weight, params.content_max_features)
    if franchise is None and anime is not None and len(anime):
        franchise = fit_franchise(anime, anime_ids)
    return RankingModel(
        params=params,
        n_users=n_users,
        n_items=n_items,
        inputs=inputs,
        content_inputs=rows_matrix(ratings, cw, shape),
        ease=ease,
        content=content,
        franchise=franchise,
        user_vectors=user_vectors,
        item_vectors=item_vectors,
        favourites=favourites_matrix(ratings, n_users, n_items),
        popularity=np.log1p(counts).astype(np.float32),
        quality=((liked_counts + 10 * prior) / (counts + 10)).astype(np.float32),
    )
