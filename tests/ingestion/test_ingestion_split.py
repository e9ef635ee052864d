"""The vectorised processing blocks against plain pandas references, including the wide-id fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from animerec_ingestion import split


def test_dense_codes_match_sorted_unique_for_narrow_and_wide_ids():
    rng = np.random.default_rng(3)
    for ids in (rng.integers(0, 500, 10_000), rng.integers(0, 2**40, 10_000), np.array([7, 7, 7])):
        codes, uniques = split.dense_codes(ids)
        want_uniques, want_codes = np.unique(ids, return_inverse=True)
        assert np.array_equal(uniques, want_uniques) and np.array_equal(codes, want_codes)
        assert codes.dtype == np.int32


def test_keep_last_duplicate_pairs_same_with_packed_and_fallback_keys():
    rng = np.random.default_rng(4)
    user, item = rng.integers(0, 50, 5000), rng.integers(0, 40, 5000)
    packed = split.sort_by_pairs_keep_last(user, item, 50, 40)
    fallback = split.sort_by_pairs_keep_last(user, item, 2**40, 2**30)  # too wide to pack
    frame = pd.DataFrame({"u": user, "i": item, "row": np.arange(5000)})
    want = frame.drop_duplicates(["u", "i"], keep="last").sort_values(["u", "i"])["row"].to_numpy()
    assert np.array_equal(packed, want) and np.array_equal(fallback, want)


def test_per_user_split_counts_and_seed():
    rng = np.random.default_rng(5)
    user = np.sort(rng.integers(0, 300, 30_000))
    train, val, test = split.per_user_split(user, 300, seed=11)
    n = np.bincount(user, minlength=300)
    want_test, want_val = split.split_counts(n)
    assert np.array_equal(np.bincount(user[test], minlength=300), want_test)
    assert np.array_equal(np.bincount(user[val], minlength=300), want_val)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(user.size))
    again = split.per_user_split(user, 300, seed=11)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    assert not np.array_equal(test, split.per_user_split(user, 300, seed=12)[2])
    assert (np.bincount(user[train], minlength=300) >= (n > 0)).all()  # a rated user keeps a train rating


def test_split_counts_round_and_keep_one_train_rating():
    test, val = split.split_counts(np.array([1, 2, 3, 5, 10, 400]))
    assert test.tolist() == [0, 0, 1, 1, 2, 80]
    assert val.tolist() == [0, 0, 0, 0, 1, 32]
