"""A model version that carries the blend tuned at training time is served with that blend."""

from __future__ import annotations

import json

import pytest
from recommender_fixtures import planted_frames, publish_processed, publish_svd_model

from animerec_ranking import COMPONENTS, RankingParams
from animerec_recommender.state import build_state


def _publish_with_blend(storage, blend):
    ratings, meta, synopsis = planted_frames(seed=7)
    publish_processed(storage, "p-blend", ratings, meta, synopsis, min_ratings=10)
    publish_svd_model(storage, "p-blend", "v-plain", dim=32, promote=False)
    src = storage.fetch_dir("models/v-plain")
    with storage.publish("models/v-blend") as staging:
        for f in src.iterdir():
            if f.name != "_PUBLISHED.json":
                (staging / f.name).write_bytes(f.read_bytes())
        (staging / "metrics.json").write_text(json.dumps({"hybrid_params": blend}))
    return "v-blend"


def test_stored_blend_is_served_without_tuning_again(file_storage):
    version = _publish_with_blend(file_storage, {"weights": {"content": 1.0, "item_item": 0.5}, "ease_lambda": 50.0})
    state = build_state(file_storage, version, RankingParams(ease_top_n=200, tune=True), {})
    expected = {c: 0.0 for c in COMPONENTS} | {"content": 1.0, "item_item": 0.5}
    assert state.ranking.weights == expected
    assert state.ranking.params.ease_lambda == 50.0
    assert state.ranking.report.get("tuned") is False


def test_explicit_weights_in_settings_win_over_stored_blend(file_storage):
    version = _publish_with_blend(file_storage, {"weights": {"content": 1.0}})
    params = RankingParams(ease_top_n=200, tune=False).with_overrides({"weights": {"popularity": 1.0}})
    state = build_state(file_storage, version, params, {})
    assert state.ranking.weights["popularity"] == 1.0
    assert state.ranking.weights["item_item"] == params.weights["item_item"]


def test_weights_setting_is_checked_at_start_up():
    from pydantic import ValidationError

    from animerec_recommender.config import Settings

    assert Settings(hybrid_weights=" item_item=1, franchise=0.2 ").hybrid_weight_map() == {
        "item_item": 1.0,
        "franchise": 0.2,
    }
    assert Settings().hybrid_weight_map() == {}
    for bad, said in (
        ("item_itme=1", "unknown component 'item_itme'"),
        ("content=abc", "'content=abc'"),
        ("content", "'content'"),
        ("content=-1", "must be a number >= 0"),
        ("content=nan", "must be a number >= 0"),
    ):
        with pytest.raises(ValidationError, match="hybrid_weights") as err:
            Settings(hybrid_weights=bad)
        assert said in str(err.value), (bad, str(err.value))
