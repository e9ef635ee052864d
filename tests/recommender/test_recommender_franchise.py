"""The franchise component and franchise-aware lists over the strict relation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import recommender_fixtures as rf
import scipy.sparse as sp

from animerec_ranking import RankingParams, blend, fit_ranking, strategies_of
from animerec_ranking.datasets import load_processed
from animerec_ranking.evaluation import evaluate_strategy
from animerec_ranking.franchise import co_membership, fit_franchise
from animerec_ranking.franchise_relations import fit_franchises
from animerec_ranking.lists import FranchiseLists
from animerec_shared.storage import FileStorage

TITLES = [  # (anime_id, romaji, English, first aired)
    (1, "Gintama", "Gintama", "2006-04-04"),
    (2, "Gintama'", "Gintama Season 2", "2011-04-04"),
    (3, "Gintama Movie 1: Shinyaku Benizakura-hen", "", "2010-04-24"),
    (4, "Naruto", "Naruto", "2002-10-03"),
    (5, "Naruto: Shippuuden", "Naruto Shippuden", "2007-02-15"),
    (6, "Cowboy Bebop", "", "1998-04-03"),
    (7, "Cowboy Bebop: Tengoku no Tobira", "Cowboy Bebop: The Movie", "2001-09-01"),
    (8, "Trigun", "", "1998-04-01"),
]
JAPANESE = {1: "銀魂", 2: "銀魂'", 3: "劇場版 銀魂 新訳紅桜篇", 4: "NARUTO -ナルト-", 5: "NARUTO -ナルト- 疾風伝"}


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"anime_id": a, "name": n, "english_name": e or None, "japanese_name": JAPANESE.get(a, ""), "aired_from": d}
            for a, n, e, d in TITLES
        ]
    )


def test_entries_of_one_franchise_are_neighbours():
    ids = np.array([a for a, *_ in TITLES])
    model = fit_franchise(_catalogue(), ids)
    s = model.neighbours.toarray()
    assert set(np.flatnonzero(s[0]).tolist()) == {1, 2}
    assert set(np.flatnonzero(s[3]).tolist()) == {4} and set(np.flatnonzero(s[5]).tolist()) == {6}
    assert s[7].sum() == 0 and model.neighbours.diagonal().sum() == 0


def test_co_membership_links_every_pair_of_a_label_once():
    s = co_membership(np.array([5, 5, 7, 5, 9])).toarray()
    np.testing.assert_array_equal(s, [[0, 1, 0, 1, 0], [1, 0, 0, 1, 0], [0] * 5, [1, 1, 0, 0, 0], [0] * 5])


def test_batch_and_single_query_scores_agree():
    ids = np.array([a for a, *_ in TITLES])
    model = fit_franchise(_catalogue(), ids)
    idx, vals = np.array([0, 3, 6]), np.array([1.0, 0.3, -0.3], dtype=np.float32)
    x = sp.csr_matrix((vals, (np.zeros(3, int), idx)), shape=(1, len(ids)))
    np.testing.assert_allclose(model.score(x)[0], model.score_sparse_row(idx, vals), rtol=1e-6)
    scores = model.score_sparse_row(np.array([0]), np.array([1.0], np.float32))
    assert set(np.flatnonzero(scores > 0).tolist()) == {1, 2}


def test_no_relation_means_no_component_but_a_relation_object():
    frame = pd.DataFrame(
        [{"anime_id": 1, "name": "Alpha", "english_name": None}, {"anime_id": 2, "name": "Beta", "english_name": None}]
    )
    model = fit_franchise(frame, np.array([1, 2]))
    assert model.neighbours.nnz == 0 and len(model.relations.members(0)) == 1


def test_discovery_caps_franchises_with_the_earliest_entry_and_leaves_out_rated_ones():
    rel = fit_franchises(_catalogue())
    lists = FranchiseLists(rel)
    scores = np.array([0.1, 0.9, 0.8, 0.5, 0.95, 0.2, 0.3, 0.4], np.float32)
    allowed = np.ones(8, bool)
    got = lists.discovery(scores, allowed, 10, 1)
    # Naruto's best entry (Shippuuden 0.95) ranks it, Naruto (2002) stands for it; Gintama (2006) for Gintama
    assert [e.row for e in got] == [3, 0, 7, 5]
    assert got[0].ranked_by == 4 and got[0].franchise_size == 2 and got[1].franchise_size == 3
    assert got[1].franchise_id == 1
    rated = lists.discovery(scores, allowed, 10, 1, exclude_rows=np.array([2]))  # rated the Gintama movie
    assert 0 not in [e.row for e in rated] and 1 not in [e.row for e in rated]
    plain = lists.discovery(scores, allowed, 10, 0)
    assert [e.row for e in plain] == [4, 1, 2, 3, 7, 6, 5, 0]


def test_continue_lists_the_unrated_entries_in_watch_order_best_franchise_first():
    rel = fit_franchises(_catalogue())
    lists = FranchiseLists(rel)
    scores = np.array([0.0, 0.1, 0.2, 0.0, 0.9, 0.0, 0.0, 0.0], np.float32)
    allowed = np.ones(8, bool)
    got = lists.continue_list(scores, allowed, np.array([0, 3, 7]), 10)
    assert [e.row for e in got] == [4, 2, 1]  # Naruto's next (0.9) first; Gintama: the 2010 movie, then 2011
    assert lists.continue_list(scores, allowed, np.array([7]), 10) == []


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
        return blend(
            {n: model.component(n, rows) for n in ("item_item", "franchise")}, {"item_item": 1.0, "franchise": 0.1}
        )

    alone = evaluate_strategy(strategies["item_item"], seen, data.test)["ndcg@10"]
    both = evaluate_strategy(with_franchise, seen, data.test)["ndcg@10"]
    franchise = evaluate_strategy(strategies["franchise"], seen, data.test)["ndcg@10"]
    content = evaluate_strategy(strategies["content"], seen, data.test)["ndcg@10"]
    assert both > alone + 0.02, (alone, both)
    assert franchise > content, (franchise, content)
