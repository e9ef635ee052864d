"""The franchise component: title neighbours find the other entries of franchises a user rated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import recommender_fixtures as rf
import scipy.sparse as sp
from animerec_shared.datasets import load_processed
from animerec_shared.evaluation import evaluate_strategy
from animerec_shared.ranking import RankingParams, blend, fit_ranking, strategies_of
from animerec_shared.ranking.franchise import fit_franchise, title_documents, top_k_rows
from animerec_shared.storage import FileStorage

TITLES = [  # (anime_id, romaji, English)
    (1, "Gintama", "Gintama"),
    (2, "Gintama'", "Gintama Season 2"),
    (3, "Gintama Movie 1: Shinyaku Benizakura-hen", ""),
    (4, "Naruto", "Naruto"),
    (5, "Naruto: Shippuuden", "Naruto Shippuden"),
    (6, "Cowboy Bebop", ""),
    (7, "Cowboy Bebop: Tengoku no Tobira", "Cowboy Bebop: The Movie"),
    (8, "Trigun", ""),
]


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame([{"anime_id": a, "name": n, "english_name": e or None} for a, n, e in TITLES])


def test_title_documents_fold_accents_case_and_repeats():
    frame = pd.DataFrame([{"anime_id": 10, "name": "Pokémon", "english_name": "POKÉMON"},
                          {"anime_id": 11, "name": "Kimi no Na wa.", "english_name": "Your Name."}])
    assert title_documents(frame, np.array([11, 10, 99])) == ["kimi no na wa your name", "pokemon", ""]
    assert title_documents(frame.drop(columns="english_name"), np.array([10, 11])) == ["pokemon", "kimi no na wa"]


def test_neighbours_are_the_same_franchise():
    ids = np.array([a for a, _, _ in TITLES])
    model = fit_franchise(_catalogue(), ids, neighbours=5)
    names = {i: n for i, (_, n, _) in enumerate(TITLES)}
    for row, expected in ((0, {1, 2}), (3, {4}), (5, {6})):
        idx, sims = model.similar(row)
        assert set(idx.tolist()) == expected, [names[i] for i in idx]
        assert np.all(np.diff(sims) <= 0) and np.all(sims > 0)
    assert len(model.similar(7)[0]) == 0  # Trigun shares no word with any other title
    assert model.neighbours.diagonal().sum() == 0


def test_top_k_rows_keeps_the_largest_entries_of_each_row():
    s = sp.csr_matrix(np.array([[0, 3, 1, 2], [5, 0, 0, 0], [1, 1, 1, 0]], dtype=np.float32))
    kept = top_k_rows(s, 2).toarray()
    np.testing.assert_array_equal(kept, [[0, 3, 0, 2], [5, 0, 0, 0], [1, 1, 0, 0]])


def test_batch_and_single_query_scores_agree():
    ids = np.array([a for a, _, _ in TITLES])
    model = fit_franchise(_catalogue(), ids)
    idx, vals = np.array([0, 3, 6]), np.array([1.0, 0.3, -0.3], dtype=np.float32)
    x = sp.csr_matrix((vals, (np.zeros(3, int), idx)), shape=(1, len(ids)))
    np.testing.assert_allclose(model.score(x)[0], model.score_sparse_row(idx, vals), rtol=1e-6)
    scores = model.score_sparse_row(np.array([0]), np.array([1.0], np.float32))
    assert set(np.argsort(-scores)[:2].tolist()) == {1, 2} and scores[[3, 4, 5, 6, 7]].max() == 0


def test_no_shared_words_means_no_component():
    frame = pd.DataFrame([{"anime_id": 1, "name": "Alpha", "english_name": None},
                          {"anime_id": 2, "name": "Beta", "english_name": None}])
    assert fit_franchise(frame, np.array([1, 2])) is None
    assert fit_franchise(frame.iloc[:0], np.array([1, 2])) is None


@pytest.fixture(scope="module")
def real_sample(real_data, tmp_path_factory):
    storage = FileStorage(tmp_path_factory.mktemp("franchise") / "storage")
    pid = rf.publish_real_sample(storage, real_data)
    return load_processed(storage.fetch_dir(f"processed/{pid}"))


def test_franchise_adds_to_item_item_on_the_real_sample(real_sample):
    """On the real MAL sample's holdout, item-item plus franchise beats item-item alone."""
    data = real_sample
    fitted = fit_ranking(data, params=RankingParams(tune=False, ease_top_n=800))
    strategies = strategies_of(fitted)
    model = fitted.model
    seen = data.matrix(data.train_part)

    def with_franchise(rows: np.ndarray) -> np.ndarray:
        return blend({n: model.component(n, rows) for n in ("item_item", "franchise")},
                     {"item_item": 1.0, "franchise": 0.1})

    alone = evaluate_strategy(strategies["item_item"], seen, data.test)["ndcg@10"]
    both = evaluate_strategy(with_franchise, seen, data.test)["ndcg@10"]
    franchise = evaluate_strategy(strategies["franchise"], seen, data.test)["ndcg@10"]
    content = evaluate_strategy(strategies["content"], seen, data.test)["ndcg@10"]
    assert both > alone + 0.02, (alone, both)
    assert franchise > 2 * content, (franchise, content)
