"""The franchise relation on the real MAL catalogue: a labelled set of title pairs (precision first)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from animerec_ingestion.anime_metadata import clean_anime
from animerec_ranking.franchise_relations import fit_franchises, japanese_base, latin_base

PAIRS = Path(__file__).parent / "data" / "franchise_pairs.csv"


@pytest.fixture(scope="module")
def catalogue(real_data: Path) -> pd.DataFrame:
    """anime.parquet's frame as processing writes it from the real anime.csv (17,562 titles)."""
    return clean_anime(real_data / "anime.csv", None).to_pandas()


@pytest.fixture(scope="module")
def relations(catalogue):
    return fit_franchises(catalogue)


def test_labelled_pairs_precision_and_recall(catalogue, relations):
    """At least 60 pairs of the real catalogue: precision >= 0.97, recall >= 0.85."""
    pairs = pd.read_csv(PAIRS)
    assert len(pairs) >= 60 and pairs["same_franchise"].sum() >= 30 and (pairs["same_franchise"] == 0).sum() >= 30
    row = {int(a): i for i, a in enumerate(catalogue["anime_id"])}
    said = [relations.same(row[a], row[b]) for a, b in zip(pairs["anime_id_a"], pairs["anime_id_b"], strict=False)]
    truth = pairs["same_franchise"].astype(bool).tolist()
    tp = sum(s and t for s, t in zip(said, truth, strict=False))
    fp = [
        f"{a} / {b}" for s, t, a, b in zip(said, truth, pairs["title_a"], pairs["title_b"], strict=False) if s and not t
    ]
    fn = sum(t and not s for s, t in zip(said, truth, strict=False))
    precision, recall = tp / max(tp + len(fp), 1), tp / max(tp + fn, 1)
    assert precision >= 0.97, (precision, fp)
    assert recall >= 0.85, recall


def test_a_single_shared_word_is_never_a_franchise(catalogue, relations):
    row = {str(n): i for i, n in enumerate(catalogue["name"])}
    for a, b in (
        ("Death Note", "Death Parade"),
        ("Kimi no Na wa.", "Shigatsu wa Kimi no Uso"),
        ("Monster", "Monster Musume no Iru Nichijou"),
        ("Air", "Air Gear"),
    ):
        assert not relations.same(row[a], row[b]), (a, b)
    assert relations.same(row["Steins;Gate"], row["Steins;Gate 0"])
    evidence = relations.evidence(row["Steins;Gate"], row["Steins;Gate 0"])
    assert evidence["relation"] == "same_franchise" and evidence["base"] == "steins gate"
    assert evidence["path"][0] == 9253 and evidence["path"][-1] == 30484 and evidence["rules"]


def test_watch_order_follows_air_dates(catalogue, relations):
    row = {int(a): i for i, a in enumerate(catalogue["anime_id"])}
    members = relations.members(row[16498])  # Shingeki no Kyojin
    ids = catalogue["anime_id"].to_numpy()[members].tolist()
    assert ids.index(16498) < ids.index(25777) < ids.index(35760)  # 2013, Season 2 (2017), Season 3 (2018)
    dates = catalogue["aired_from"].to_numpy()[members]
    known = [d for d in dates if d]
    assert known == sorted(known)


def test_bases_drop_markers_but_keep_the_title():
    assert latin_base("Shingeki no Kyojin Season 2") == "shingeki no kyojin"
    assert latin_base("Shingeki no Kyojin: Kuinaki Sentaku") == "shingeki no kyojin"
    assert latin_base("Steins;Gate 0") == "steins gate"
    assert latin_base("Hunter x Hunter (2011)") == "hunter x hunter"
    assert latin_base("K-On!") == "k on"
    assert latin_base("Unknown") == "" and latin_base("Movie 2") == ""
    assert japanese_base("劇場版 銀魂 完結篇") == "銀魂"
    assert japanese_base("進撃の巨人 Season2") == "進撃の巨人"


def test_any_catalogue_gets_relations_without_japanese_or_english_titles():
    frame = pd.DataFrame({"anime_id": [1, 2, 3, 4], "name": ["Alpha Beta", "Alpha Beta 2nd Season", "Gamma", "Alpha"]})
    rel = fit_franchises(frame)
    assert rel.same(0, 1) and not rel.same(0, 2) and not rel.same(3, 0)
    assert rel.evidence(0, 2) is None and len(rel.members(2)) == 1
