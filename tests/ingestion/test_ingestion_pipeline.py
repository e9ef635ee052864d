"""Ingest + process end to end: real files, both storage backends, the cap, duplicates, the split."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from ingestion_helpers import animelist_rows, storage_snapshot, write_animelist

from animerec_ingestion.ingest import ingest_dataset
from animerec_ingestion.processing import process_dataset
from animerec_ranking.datasets import load_processed
from animerec_shared.errors import DataValidationError, InvalidInputError, NotFoundError


def test_real_rating_complete_sample_gives_reference_counts(real_source, file_storage):
    raw = ingest_dataset(file_storage, real_source, max_rows=5_000_000)
    assert (raw["rows_read"], raw["rows_kept"], raw["capped"]) == (99_999, 99_999, False)
    assert raw["ratings_kind"] == "rating_complete"
    src = (real_source / "rating_complete.csv").read_bytes()
    assert b"\r\n" in src  # the real file has CRLF line endings
    assert raw["files"]["ratings.parquet"]["source_sha256"] == hashlib.sha256(src).hexdigest()
    assert raw["files"]["anime.csv"]["rows"] == 17_562
    raw_dir = file_storage.fetch_dir(f"raw/{raw['id']}")
    assert (raw_dir / "anime.csv").read_bytes() == (real_source / "anime.csv").read_bytes()
    assert json.loads((raw_dir / "manifest.json").read_text()) == raw

    m = process_dataset(file_storage, min_ratings=50, seed=42)
    assert (m["users"], m["ratings"], m["unscored_dropped"], m["duplicates_dropped"]) == (423, 96_620, 0, 0)
    assert m["train_ratings"] + m["val_ratings"] + m["test_ratings"] == 96_620
    assert file_storage.get_current("processed") == m["id"]
    data = load_processed(file_storage.fetch_dir(f"processed/{m['id']}"))
    anime = data.anime.set_index("anime_id")
    assert anime.loc[1, "genres"].tolist()[:2] == ["Action", "Adventure"]  # from the "Genders" column
    assert anime.loc[1, "title"] == "Cowboy Bebop" and anime.loc[1, "year"] == 1998
    assert anime.loc[1, "synopsis"].startswith("In the year 2071")  # joined from "sypnopsis"
    unknown_english = anime[anime["english_name"] == ""]
    assert (unknown_english["title"] == unknown_english["name"]).all() and len(unknown_english) > 5000
    assert anime["score"].isna().sum() == 5141  # "Unknown" scores
    rated = data.anime[data.anime["anime_index"] >= 0]
    assert len(rated) == data.n_items == m["anime"]


def test_real_animelist_zeros_dropped_and_counted(real_data, real_source, file_storage):
    (real_source / "rating_complete.csv").unlink()
    (real_source / "animelist.csv").write_bytes((real_data / "animelist_sample.csv").read_bytes())
    with open(real_data / "animelist_sample.csv", newline="") as f:
        ratings = [int(r["rating"]) for r in csv.DictReader(f)]
    ingest_dataset(file_storage, real_source, max_rows=5_000_000)
    m = process_dataset(file_storage, min_ratings=1)
    zeros = ratings.count(0)
    assert zeros > 1000
    assert m["source_rows"] == len(ratings) == 5000
    assert m["unscored_dropped"] == zeros
    assert m["ratings"] == len(ratings) - zeros - m["duplicates_dropped"]
    data = load_processed(file_storage.fetch_dir(f"processed/{m['id']}"), with_anime=False)
    assert data.train_part["rating"].min() >= 1


def test_ingest_and_process_on_both_backends(any_storage, source):
    raw = ingest_dataset(any_storage, source, max_rows=1_000_000)
    assert any_storage.get_current("raw") == raw["id"]
    assert any_storage.read_json(f"raw/{raw['id']}/manifest.json")["rows_kept"] == raw["rows_kept"]
    m = process_dataset(any_storage, min_ratings=10, seed=7)
    assert any_storage.get_current("processed") == m["id"]
    data = load_processed(any_storage.fetch_dir(f"processed/{m['id']}"))
    assert len(data.train) + len(data.val) + len(data.test) == m["ratings"]
    for name in ("train", "val", "test"):
        assert pq.read_schema(data.path / f"ratings_{name}.parquet").names == [
            "user_index",
            "anime_index",
            "rating",
            "rating_norm",
        ]


def test_cap_keeps_exactly_the_first_rows(source, file_storage, monkeypatch):
    import animerec_ingestion.ratings_stream as rs

    monkeypatch.setattr(rs, "BLOCK_BYTES", 4096)  # the cap lands in the middle of a block
    rows = np.tile(animelist_rows(users=40, per_user=30), (2, 1))[:2000]
    rows[:, 0] = np.arange(2000) // 7
    path = write_animelist(source, rows)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # no line break after the last row
    raw = ingest_dataset(file_storage, source, max_rows=1000)
    assert (raw["rows_kept"], raw["rows_read"], raw["capped"]) == (1000, 2000, True)
    assert raw["files"]["ratings.parquet"]["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    table = pq.read_table(file_storage.fetch_dir(f"raw/{raw['id']}") / "ratings.parquet")
    assert table.num_rows == 1000
    assert table.column("user_id").to_pylist() == rows[:1000, 0].tolist()
    assert table.column("anime_id").to_pylist() == rows[:1000, 1].tolist()


def test_rows_after_the_cap_are_counted_not_validated(source, file_storage):
    rows = [f"{u},{a},7,2,1" for u in range(10) for a in range(1, 21)]  # 200 rows
    rows[150] = "not,a,valid,row"
    (source / "animelist.csv").write_text(
        "user_id,anime_id,rating,watching_status,watched_episodes\n" + "\n".join(rows) + "\n"
    )
    raw = ingest_dataset(file_storage, source, max_rows=100)
    assert (raw["rows_kept"], raw["rows_read"], raw["capped"]) == (100, 200, True)
    with pytest.raises(DataValidationError) as info:
        ingest_dataset(file_storage, source, max_rows=200)
    assert (info.value.line, info.value.column) == (152, None)


def test_file_smaller_than_cap_ingested_fully(source, file_storage):
    raw = ingest_dataset(file_storage, source, max_rows=1_000_000)
    n = len((source / "animelist.csv").read_text().splitlines()) - 1
    assert (raw["rows_kept"], raw["rows_read"], raw["capped"]) == (n, n, False)


def test_duplicate_pairs_keep_last_row_and_are_counted(source, file_storage):
    rows = animelist_rows(users=5, per_user=30)
    rows[:, 2] = np.where(rows[:, 2] == 0, 5, rows[:, 2])
    dups = rows[[3, 10, 40]].copy()
    dups[:, 2] = [1, 2, 3]  # later rows win
    write_animelist(source, np.vstack([rows, dups]))
    ingest_dataset(file_storage, source, max_rows=1_000_000)
    m = process_dataset(file_storage, min_ratings=1)
    assert m["duplicates_dropped"] == 3 and m["ratings"] == len(rows)
    data = load_processed(file_storage.fetch_dir(f"processed/{m['id']}"))
    frame = data.train_part if len(data.test) == 0 else pd.concat([data.train_part, data.test])
    users, anime = data.user_ids[frame["user_index"]], data.anime_ids[frame["anime_index"]]
    got = dict(zip(zip(users.tolist(), anime.tolist(), strict=True), frame["rating"].tolist(), strict=True))
    assert len(got) == len(frame)
    for (u, a, _, _, _), want in zip(dups, [1, 2, 3], strict=True):
        assert got[(u, a)] == want


def test_split_is_per_user_seeded_and_complete(source, file_storage):
    write_animelist(source, animelist_rows(users=30, per_user=30, n_anime=30))
    ingest_dataset(file_storage, source, max_rows=1_000_000)
    a = process_dataset(file_storage, min_ratings=5, seed=1)
    b = process_dataset(file_storage, min_ratings=5, seed=1)
    c = process_dataset(file_storage, min_ratings=5, seed=2)
    da, db, dc = (load_processed(file_storage.fetch_dir(f"processed/{m['id']}")) for m in (a, b, c))
    pd.testing.assert_frame_equal(da.test, db.test)
    assert not da.test.equals(dc.test)
    n = da.users.set_index("user_index")["n_ratings"]
    test_n = da.test.groupby("user_index").size().reindex(n.index, fill_value=0)
    val_n = da.val.groupby("user_index").size().reindex(n.index, fill_value=0)
    assert (test_n == np.floor(n * 0.2 + 0.5)).all()
    assert (val_n == np.floor((n - test_n) * 0.1 + 0.5)).all()
    assert (n >= 5).all() and (da.users["user_index"] == np.arange(da.n_users)).all()
    keys = [set(zip(f.user_index, f.anime_index, strict=True)) for f in (da.train, da.val, da.test)]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    assert sum(len(k) for k in keys) == a["ratings"]
    assert np.allclose(da.train["rating_norm"], (da.train["rating"] - 1) / 9)
    assert sorted(da.rated_anime["anime_id"]) == da.rated_anime["anime_id"].tolist()


def test_process_without_raw_dataset_fails_clearly(file_storage):
    with pytest.raises(NotFoundError) as info:
        process_dataset(file_storage)
    assert info.value.code == "raw_dataset_not_found"


def test_process_with_too_high_minimum_publishes_nothing(source, file_storage):
    ingest_dataset(file_storage, source, max_rows=1_000_000)
    before = storage_snapshot(file_storage)
    with pytest.raises(InvalidInputError) as info:
        process_dataset(file_storage, min_ratings=10_000)
    assert info.value.code == "no_users_left"
    assert storage_snapshot(file_storage) == before
