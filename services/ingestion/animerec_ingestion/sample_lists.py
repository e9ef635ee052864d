"""User lists and ratings of generated sample data (see ``sample_data`` for the model).

Vectorised numpy; users are processed in chunks of about ``CHUNK_ROWS`` list entries so memory
stays bounded for any number of rows, and the output is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from animerec_shared.errors import InvalidInputError

from .sample_catalog import Catalog

NOT_FAVOURITE = {"Hentai", "Yaoi", "Yuri"}  # never planted as favourites (kept in the catalogue)
POPULARITY_EXPONENT = 1.0
FAVOURITE_BOOST, DISLIKE_PENALTY = 0.8, 1.5
MIXTURE_ROUNDS, MAX_ROUNDS = 6, 40
STATUS_SCORED = {1: 0.15, 2: 0.85, 3: 0.15, 4: 0.45, 6: 0.001}
CHUNK_ROWS = 1_000_000


def _popcount(x: np.ndarray) -> np.ndarray:
    """Returns the number of set bits of each int64 (numpy < 2 has no bitwise_count)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    table = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)
    return table[x.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.uint8)


def genre_masks(cat: Catalog) -> tuple[list[str], np.ndarray]:
    """Returns (sorted genre names, int64 bit mask of each title's genres)."""
    names = sorted({g for gs in cat.genres for g in gs})
    if len(names) > 63:
        raise InvalidInputError(f"catalogue has {len(names)} genres; at most 63 are supported")
    bit = {g: np.int64(1) << np.int64(j) for j, g in enumerate(names)}
    return names, np.array([sum((bit[g] for g in gs), np.int64(0)) for gs in cat.genres], dtype=np.int64)


def plant_tastes(
    rng: np.random.Generator, n_users: int, names: list[str], item_mask: np.ndarray, pop: np.ndarray
) -> dict[str, np.ndarray]:
    """Returns the planted tastes: favourite genre slots ``fav``/``k``, ``dis``/``has_dis``, bit masks, ``lam``."""
    g = len(names)
    member = (item_mask[:, None] >> np.arange(g)) & 1
    weight = (pop[:, None] * member).sum(0)
    eligible = (member.sum(0) >= 20) & np.array([n not in NOT_FAVOURITE for n in names])
    if eligible.sum() < 5:
        raise InvalidInputError("catalogue too small: fewer than 5 genres with 20 titles")
    logw = np.where(eligible, np.log(np.maximum(weight, 1e-12)) * 0.5, -np.inf)
    order = np.argsort(-(logw + rng.gumbel(size=(n_users, g))), axis=1)
    fav = order[:, :4]
    k = rng.choice([2, 3, 4], size=n_users, p=[0.35, 0.45, 0.2])
    others = np.where(eligible, rng.random((n_users, g)), -1.0)
    rows = np.arange(n_users)
    for j in range(4):  # a favourite is never also disliked
        others[rows[j < k], fav[j < k, j]] = -1.0
    dis = np.argmax(others, axis=1)
    has_dis = rng.random(n_users) < 0.7
    fav_mask = np.zeros(n_users, dtype=np.int64)
    for j in range(4):
        fav_mask |= np.where(j < k, np.int64(1) << fav[:, j].astype(np.int64), 0)
    dis_mask = np.where(has_dis, np.int64(1) << dis.astype(np.int64), 0)
    return {
        "fav": fav,
        "k": k,
        "fav_mask": fav_mask,
        "dis": dis,
        "has_dis": has_dis,
        "dis_mask": dis_mask,
        "lam": rng.beta(2.0, 2.0, n_users),
    }


def list_sizes(
    rng: np.random.Generator, n_users: int, rows: int | None, mean: float, minimum: int, cap: int
) -> np.ndarray:
    """Returns each user's list size: log-normal around ``mean``, or apportioned to exactly ``rows``."""
    sigma = 0.85
    w = np.exp(rng.normal(np.log(mean) - sigma**2 / 2, sigma, n_users))
    if rows is None:
        return np.clip(np.rint(w), min(minimum, cap), cap).astype(np.int64)
    if not n_users <= rows <= n_users * cap:
        raise InvalidInputError(f"rows={rows} impossible for {n_users} users and {cap} titles each")
    sizes = np.full(n_users, max(1, min(minimum, rows // n_users, cap)), dtype=np.int64)
    while (left := rows - int(sizes.sum())) > 0:  # apportion the rest by weight, capped
        open_ = sizes < cap
        share = w * open_ / (w * open_).sum() * left
        add = np.minimum(np.floor(share).astype(np.int64), cap - sizes)
        if add.sum() == 0:
            add[np.flatnonzero(open_)[np.argsort(-share[open_])[:left]]] = 1
        sizes += add
    return sizes


def _component_tables(pop: np.ndarray, item_mask: np.ndarray, n_genres: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Returns per mixture component (0 = popularity, 1+g = genre g) its titles and their CDF."""
    tables = []
    for c in range(n_genres + 1):
        items = np.arange(len(pop)) if c == 0 else np.flatnonzero((item_mask >> (c - 1)) & 1)
        cdf = np.cumsum(pop[items])
        tables.append((items, cdf / cdf[-1] if cdf.size else cdf))
    return tables


def _draw_lists(
    rng: np.random.Generator, sizes: np.ndarray, model: ListModel, tastes: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (local user index, title index) of distinct draws, sorted by user; ``tastes`` is the chunk's."""
    n_items, tables, item_mask = len(model.pop), model.tables, model.item_mask
    need = sizes.copy()
    got_u, got_i, taken = [], [], np.empty(0, dtype=np.int64)
    for rnd in range(MAX_ROUNDS):
        users = np.flatnonzero(need > 0)
        if users.size == 0:
            break
        du = np.repeat(users, np.ceil(need[users] * 1.3).astype(np.int64) + 2)
        if rnd < MIXTURE_ROUNDS:
            slot = (rng.random(du.size) * tastes["k"][du]).astype(np.int64)
            comp = np.where(rng.random(du.size) < tastes["lam"][du], 0, 1 + tastes["fav"][du, slot])
            item, unif = np.empty(du.size, dtype=np.int64), rng.random(du.size)
            order = np.argsort(comp.astype(np.int16), kind="stable")  # one small CDF per component
            bounds = np.concatenate([[0], np.cumsum(np.bincount(comp, minlength=len(tables)))])
            for c, (items, cdf) in enumerate(tables):
                sel = order[bounds[c] : bounds[c + 1]]
                if sel.size:
                    item[sel] = items[np.minimum(np.searchsorted(cdf, unif[sel], side="right"), items.size - 1)]
        else:  # heavy users may exhaust what their mixture reaches
            item = rng.integers(0, n_items, du.size)
        disliked = (item_mask[item] & tastes["dis_mask"][du]) != 0
        keep = ~(disliked & (rng.random(du.size) < 0.75))
        du, item = du[keep], item[keep]
        keys = du * n_items + item
        _, first = np.unique(keys, return_index=True)
        first.sort()
        du, item, keys = du[first], item[first], keys[first]
        if taken.size:
            pos = np.minimum(np.searchsorted(taken, keys), taken.size - 1)
            fresh = taken[pos] != keys
            du, item, keys = du[fresh], item[fresh], keys[fresh]
        start = np.zeros(du.size, dtype=np.int64)  # rank of a draw within its user
        cut = np.flatnonzero(np.diff(du)) + 1
        start[cut] = cut
        take = np.arange(du.size) - np.maximum.accumulate(start) < need[du]
        got_u.append(du[take])
        got_i.append(item[take])
        need -= np.bincount(du[take], minlength=need.size)
        taken = np.sort(np.concatenate([taken, keys[take]]), kind="stable")  # merges two sorted runs
    u, i = np.concatenate(got_u), np.concatenate(got_i)
    order = np.argsort(u, kind="stable")
    return u[order], i[order]


def _rate(
    rng: np.random.Generator, u: np.ndarray, i: np.ndarray, model: ListModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (rating with 0 = not scored, watching_status, watched_episodes) of each entry."""
    n, f32, tastes = u.size, np.float32, model.tastes
    item_genres = model.item_mask[i]
    hits = np.minimum(_popcount(item_genres & tastes["fav_mask"][u]), 2).astype(f32)
    latent = model.item_base[i] + model.user_bias[u] + f32(FAVOURITE_BOOST) * hits
    latent -= f32(DISLIKE_PENALTY) * ((item_genres & tastes["dis_mask"][u]) != 0)
    del item_genres, hits
    for d in range(model.user_factors.shape[1]):
        latent += model.user_factors[u, d] * model.item_factors[i, d]
    # left-skewed noise: MAL users rarely give low scores, but now and then hate a title
    latent += rng.standard_normal(n, dtype=f32) * f32(0.9) - rng.standard_exponential(n, dtype=f32) * f32(0.8)
    latent += f32(0.8)
    rating = np.clip(np.rint(latent), 1, 10).astype(np.int8)
    r, r2 = rng.random(n, dtype=f32), rng.random(n, dtype=f32)
    p_drop = f32(0.01) + f32(0.4) / (f32(1.0) + np.exp((latent - f32(4.5)) * f32(1.5)))
    del latent
    status = np.full(n, 2, dtype=np.int8)  # completed unless one of these hits first
    for code, hit in ((3, r2 < p_drop + f32(0.14)), (1, r2 < p_drop + f32(0.11)), (4, r2 < p_drop), (6, r < 0.29)):
        status[hit] = code
    base = np.zeros(7, dtype=f32)
    for code, p in STATUS_SCORED.items():
        base[code] = np.log(p / (1 - p))
    scored = rng.random(n, dtype=f32) < f32(1.0) / (f32(1.0) + np.exp(-(base[status] + model.user_scoring[u])))
    rating[~scored] = 0
    eps = model.episodes[i]
    eps = np.where(np.isnan(eps), rng.integers(1, 25, n).astype(f32), eps)
    watched = np.where(status == 2, eps, np.where(status == 6, f32(0), np.floor(rng.random(n, dtype=f32) * eps)))
    return rating, status, watched.astype(np.int32)


@dataclass
class ListModel:
    """What is drawn once per dataset: catalogue arrays, planted tastes, user and title parameters."""

    item_mask: np.ndarray
    pop: np.ndarray
    tables: list[tuple[np.ndarray, np.ndarray]]
    tastes: dict[str, np.ndarray]
    item_base: np.ndarray
    item_factors: np.ndarray
    episodes: np.ndarray
    user_bias: np.ndarray
    user_scoring: np.ndarray
    user_factors: np.ndarray


def build_model(
    cat: Catalog, n_users: int, rng_taste: np.random.Generator, rng_params: np.random.Generator
) -> tuple[list[str], ListModel]:
    """Returns (genre names, the model) for ``n_users`` users over the catalogue ``cat``."""
    names, item_mask = genre_masks(cat)
    pop = np.power(cat.members.astype(np.float64) + 1.0, POPULARITY_EXPONENT)
    tastes = plant_tastes(rng_taste, n_users, names, item_mask, pop)
    f32, n_items = np.float32, len(cat.ids)
    quality = np.where(np.isnan(cat.score), np.clip(rng_params.normal(6.2, 0.5, n_items), 2.0, 8.0), cat.score)
    return names, ListModel(
        item_mask=item_mask,
        pop=pop,
        tables=_component_tables(pop, item_mask, len(names)),
        tastes=tastes,
        item_base=(6.1 + 0.9 * (quality - 6.5)).astype(f32),
        item_factors=rng_params.normal(0, 0.5, (n_items, 4)).astype(f32),
        episodes=cat.episodes.astype(f32),
        user_bias=rng_params.normal(0.0, 0.6, n_users).astype(f32),
        user_scoring=rng_params.normal(0.0, 1.0, n_users).astype(f32),
        user_factors=rng_params.normal(0, 0.5, (n_users, 4)).astype(f32),
    )


def iter_lists(
    model: ListModel, sizes: np.ndarray, rng_draw: np.random.Generator, rng_rate: np.random.Generator
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yields (user_index, title_index, rating, watching_status, watched_episodes) per chunk of users."""
    chunk_of_user = (np.cumsum(sizes) - 1) // CHUNK_ROWS
    cuts = [0, *(np.flatnonzero(np.diff(chunk_of_user)) + 1).tolist(), sizes.size]
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=False):
        tastes = {k: v[lo:hi] for k, v in model.tastes.items()}
        u, i = _draw_lists(rng_draw, sizes[lo:hi], model, tastes)
        u += lo
        yield (u, i, *_rate(rng_rate, u, i, model))
