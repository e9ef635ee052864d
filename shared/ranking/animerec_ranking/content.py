"""Content model: TF-IDF over genres and synopsis for every anime in the metadata (rated or not)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .sparse import weighted_row_sum


@dataclass
class ContentModel:
    """L2-normalised content vectors of every anime; ``rated_rows`` maps anime_index -> row."""

    vectors: sp.csr_matrix  # [n_anime_in_metadata, vocab], rows L2-normalised
    anime_ids: np.ndarray  # int64 [n_anime_in_metadata], row order
    rated_rows: np.ndarray  # int64 [n_rated_anime]: row of each anime_index (-1 if no metadata)

    def __post_init__(self) -> None:
        rows = np.where(self.rated_rows >= 0, self.rated_rows, 0)
        rated = self.vectors[rows]
        rated = rated.multiply((self.rated_rows >= 0)[:, None]).tocsr()
        self.rated_vectors = rated  # [n_rated, vocab]
        self.rated_vectors_t = rated.T.tocsr()  # for profile @ vectors.T
        self.vectors_t = self.vectors.T.tocsr()

    def profiles(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Returns L2-normalised taste profiles: rows of x (weights over rated anime) times content."""
        return normalize(sp.csr_matrix(x) @ self.rated_vectors)

    def score_rated(self, profiles: sp.spmatrix) -> np.ndarray:
        """Returns float32 cosine scores [n_rows, n_rated_anime] of profiles against rated anime."""
        return np.asarray((profiles @ self.rated_vectors_t).toarray(), dtype=np.float32)

    def score_all(self, profile: sp.spmatrix) -> np.ndarray:
        """Returns float32 cosine scores [n_anime_in_metadata] of one profile against every anime."""
        return np.asarray((profile @ self.vectors_t).toarray(), dtype=np.float32).ravel()

    def profile_of(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Returns a dense unit taste profile: the weighted sum of content vectors of meta rows."""
        prof = weighted_row_sum(self.vectors, rows, weights)
        norm = float(np.linalg.norm(prof))
        return prof / norm if norm > 1e-12 else prof

    def score_profile(self, profile: np.ndarray, rated_only: bool = True) -> np.ndarray:
        """Returns float32 cosine scores of a dense profile against rated anime (or every anime)."""
        mat = self.rated_vectors if rated_only else self.vectors
        return np.asarray(mat @ profile, dtype=np.float32).ravel()

    def similar_rows(self, row: int) -> np.ndarray:
        """Returns cosine similarities [n_anime_in_metadata] of one anime (by row) to every anime."""
        return self.score_profile(np.asarray(self.vectors[row].toarray(), np.float32).ravel(), rated_only=False)


def _genre_tokens(genres: object) -> str:
    items = list(genres) if isinstance(genres, (list, tuple, np.ndarray)) else []
    return " ".join("g_" + str(g).lower().replace(" ", "_").replace("-", "_") for g in items)


def fit_content(
    anime: pd.DataFrame, rated_anime_ids: np.ndarray, genre_weight: float = 0.5, max_features: int = 30000
) -> ContentModel:
    """Returns the content model of an anime metadata frame (docs/architecture.md anime.parquet)."""
    ids = anime["anime_id"].to_numpy(np.int64)
    genre_docs = anime["genres"].map(_genre_tokens).tolist()
    synopsis = anime["synopsis"].fillna("").astype(str).tolist()
    g = (
        TfidfVectorizer(token_pattern=r"\S+", lowercase=False, norm="l2").fit_transform(genre_docs)
        if any(genre_docs)
        else sp.csr_matrix((len(ids), 0))
    )
    try:
        s = TfidfVectorizer(
            stop_words="english",
            min_df=2 if len(ids) > 50 else 1,
            max_df=0.5,
            sublinear_tf=True,
            max_features=max_features,
            norm="l2",
            dtype=np.float32,
        ).fit_transform(synopsis)
    except ValueError:  # no usable words at all (e.g. no synopses): genres alone
        s = sp.csr_matrix((len(ids), 0), dtype=np.float32)
    vectors = normalize(sp.hstack([g * genre_weight, s * (1.0 - genre_weight)]).tocsr().astype(np.float32))
    pos = {int(a): i for i, a in enumerate(ids)}
    rated_rows = np.array([pos.get(int(a), -1) for a in rated_anime_ids], dtype=np.int64)
    return ContentModel(vectors=vectors, anime_ids=ids, rated_rows=rated_rows)
