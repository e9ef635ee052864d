"""Vectorised building blocks of processing: dense encoding, duplicate removal, per-user split.

Everything is numpy over whole columns. Sorting packed int64 keys with ``np.sort`` (values, not
``argsort``) is the one O(n log n) step, and it is several times faster than an argsort; the row
position rides in the key's low bits so the order can still be applied to the other columns.
"""

from __future__ import annotations

import numpy as np

TEST_FRACTION = 0.2
VAL_FRACTION = 0.1


def _bits(n: int) -> int:
    return max(1, int(n - 1).bit_length()) if n > 1 else 1


def dense_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Returns (int32 codes, sorted unique ids): codes[i] is the rank of ids[i] among the uniques."""
    if ids.size == 0:
        return np.zeros(0, np.int32), ids.copy()
    lo, hi = int(ids.min()), int(ids.max())
    span = hi - lo + 1
    if span <= max(4 * ids.size, 1 << 22):  # a lookup table: O(n), no sort
        present = np.zeros(span, dtype=bool)
        offset = ids - lo
        present[offset] = True
        lut = np.cumsum(present, dtype=np.int32) - 1
        return lut[offset], (np.flatnonzero(present) + lo).astype(ids.dtype)
    uniques, codes = np.unique(ids, return_inverse=True)
    return codes.astype(np.int32), uniques


def sort_by_pairs_keep_last(user: np.ndarray, item: np.ndarray, n_users: int, n_items: int) -> np.ndarray:
    """Returns row positions ordered by (user, item) with duplicate pairs reduced to their last row."""
    n = user.size
    rb, ib, ub = _bits(n), _bits(n_items), _bits(n_users)
    pos = np.arange(n, dtype=np.int64)
    last = np.ones(n, dtype=bool)
    if rb + ib + ub <= 63:
        keys = np.sort((user.astype(np.int64) << (ib + rb)) | (item.astype(np.int64) << rb) | pos)
        rows = keys & ((1 << rb) - 1)
        pair = keys >> rb
        np.not_equal(pair[1:], pair[:-1], out=last[:-1])
    else:  # ids too wide to pack: slower but general
        rows = np.lexsort((pos, item, user))
        u, i = user[rows], item[rows]
        last[:-1] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    return rows if last.all() else rows[last]


def shuffle_within_users(user: np.ndarray, n_users: int, rng: np.random.Generator) -> np.ndarray:
    """Returns row positions grouped by user (ascending) in a seeded random order within each user."""
    n = user.size
    rb, ub = _bits(n), _bits(n_users)
    free = 63 - rb - ub
    if free >= 16:
        noise = rng.integers(0, 1 << free, size=n, dtype=np.int64)
        keys = np.sort((user.astype(np.int64) << (free + rb)) | (noise << rb) | np.arange(n, dtype=np.int64))
        return keys & ((1 << rb) - 1)
    return np.lexsort((rng.random(n), user))


def split_counts(n_per_user: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Returns (test, val) counts per user: 20% of a user's ratings, then 10% of the rest.

    Rounded to nearest; a user always keeps at least one training rating.
    """
    n = n_per_user.astype(np.int64)
    test = np.minimum(np.floor(n * TEST_FRACTION + 0.5).astype(np.int64), np.maximum(n - 1, 0))
    rest = n - test
    val = np.minimum(np.floor(rest * VAL_FRACTION + 0.5).astype(np.int64), np.maximum(rest - 1, 0))
    return test, val


def per_user_split(user: np.ndarray, n_users: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (train, val, test) row positions of a seeded per-user split.

    Test is a random 20% of each user's rows; val a random 10% of the remaining train part.
    Each output is grouped by user, in random order within a user.
    """
    rng = np.random.default_rng(seed)
    order = shuffle_within_users(user, n_users, rng)
    counts = np.bincount(user, minlength=n_users)
    starts = np.zeros(n_users, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    grouped_user = user[order]
    rank = np.arange(order.size, dtype=np.int64) - starts[grouped_user]
    n_test, n_val = split_counts(counts)
    is_test = rank < n_test[grouped_user]
    is_val = ~is_test & (rank < (n_test + n_val)[grouped_user])
    is_train = ~(is_test | is_val)
    return order[is_train], order[is_val], order[is_test]
