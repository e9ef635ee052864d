"""Franchise component: anime whose titles share rare words with the anime a user liked.

MyAnimeList users rate whole franchises (seasons, films, OVAs, specials), and a random holdout
of someone's ratings keeps hiding the other entries of franchises they rated. Title words
that are rare across the catalogue ("Gintama", "Monogatari", "Haikyuu") find those entries
even when too few users rated them for the item-item or embedding models to link them.

Each rated anime keeps its ``neighbours`` nearest anime by the cosine of word TF-IDF vectors
of its romaji and English titles (words in more than ``MAX_DF`` of titles, such as "season",
"movie" or "no", carry no franchise and are dropped). A user's score for anime j is
log(1 + sum_i w_i S[i, j]) over their rated anime i with the item-item input weights w.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ..text import normalise_title
from .sparse import weighted_row_sum

MAX_DF = 0.05


@dataclass
class FranchiseModel:
    """Top title neighbours of every rated anime: S [n_items, n_items], float32, zero diagonal."""

    neighbours: sp.csr_matrix

    def score(self, x: sp.csr_matrix) -> np.ndarray:
        """Returns float32 scores [n_rows, n_items] of weighted interaction rows x."""
        return _squash(np.asarray((x @ self.neighbours).toarray(), dtype=np.float32))

    def score_sparse_row(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        """Returns float32 scores [n_items] of one query given (anime indices, input weights)."""
        return _squash(weighted_row_sum(self.neighbours, idx, vals))

    def similar(self, anime_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns (anime indices, similarities) of one anime's title neighbours, best first."""
        a, b = self.neighbours.indptr[anime_index], self.neighbours.indptr[anime_index + 1]
        idx, sims = self.neighbours.indices[a:b], self.neighbours.data[a:b]
        order = np.argsort(-sims, kind="stable")
        return idx[order], sims[order]


def _squash(s: np.ndarray) -> np.ndarray:
    """Returns sign(s) log(1 + |s|): one liked franchise entry or five should not differ fivefold."""
    return (np.sign(s) * np.log1p(np.abs(s))).astype(np.float32)


def title_documents(anime: pd.DataFrame, anime_ids: np.ndarray) -> list[str]:
    """Returns the folded romaji + English titles of each anime id ("" when it has no metadata)."""
    meta = anime.drop_duplicates("anime_id").set_index("anime_id").reindex(np.asarray(anime_ids, np.int64))

    def fold(col: str) -> pd.Series:
        if col not in meta:
            return pd.Series("", index=meta.index)
        return meta[col].fillna("").astype(str).map(normalise_title)

    name, english = fold("name"), fold("english_name")
    return [n if n == e or not e else f"{n} {e}".strip() for n, e in zip(name, english)]


def top_k_rows(s: sp.spmatrix, k: int) -> sp.csr_matrix:
    """Returns s with only the k largest entries of each row kept (ties: lower column first)."""
    coo = s.tocoo()
    order = np.lexsort((coo.col, -coo.data, coo.row))
    r, c, v = coo.row[order], coo.col[order], coo.data[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    keep = rank < k
    return sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=s.shape, dtype=np.float32)


def fit_franchise(anime: pd.DataFrame, anime_ids: np.ndarray, neighbours: int = 10) -> FranchiseModel | None:
    """Returns the franchise model over the rated anime (anime_ids, in anime_index order).

    None when no two titles share a usable word (for example a catalogue of one anime).
    """
    docs = title_documents(anime, anime_ids)
    try:
        x = TfidfVectorizer(max_df=MAX_DF if len(docs) >= 100 else 1.0, sublinear_tf=True,
                            dtype=np.float32).fit_transform(docs)
    except ValueError:  # empty vocabulary
        return None
    s = (x @ x.T).tocsr()
    s.setdiag(0.0)
    s.eliminate_zeros()
    if s.nnz == 0:
        return None
    return FranchiseModel(neighbours=top_k_rows(s, neighbours))
