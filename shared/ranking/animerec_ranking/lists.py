"""Franchise-aware lists, as served and as evaluated: discovery and "continue".

Both work over catalogue rows (the metadata frame's order; the recommender's "meta rows") with
a score per row (``-inf`` where the ranking gives none) and a mask of the rows that may be shown.

* **Discovery** (``items``): franchises the person already rated or liked do not appear; any other
  franchise shows at most ``max_per_franchise`` entries, the earliest main ones in watch order
  standing for it (see ``Franchises.main_first``), at the rank of its best-scored entry, with the
  number of its other entries.
  ``max_per_franchise=0`` gives the plain ranked list.
* **Continue**: for the franchises the person rated, the entries they have not rated, in watch
  order; the main entries of all those franchises come first, then the extras (recaps, picture
  dramas, specials), each pass ordered by the franchise's best-scored entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .franchise_relations import Franchises

# How many ranked candidates discovery looks at per wanted item before it stops looking.
CANDIDATES_PER_ITEM = 40


@dataclass
class Entry:
    """One shown row and the size of its franchise (1 for a standalone anime)."""

    row: int
    franchise_size: int
    franchise_id: int  # anime_id of the franchise's first entry in watch order
    ranked_by: int = -1  # the row whose score placed it (a stand-in's best-scored entry)

    def __post_init__(self) -> None:
        if self.ranked_by < 0:
            self.ranked_by = self.row


@dataclass
class FranchiseLists:
    """List shaping over one catalogue's franchise relation."""

    relations: Franchises
    _first_id: dict[int, int] = field(default_factory=dict)
    _groups: dict[int, tuple[list[int], set[int]]] = field(default_factory=dict)

    def _group(self, label: int, row: int) -> tuple[list[int], set[int]]:
        """Returns (a franchise's rows, main entries first, in watch order; its main rows), cached."""
        if label not in self._groups:
            members = self.relations.members(row)
            self._groups[label] = (
                [int(m) for m in self.relations.main_first(members)],
                set(self.relations.main_rows(members).tolist()),
            )
        return self._groups[label]

    @property
    def label(self) -> np.ndarray:
        return self.relations.label

    def franchise_id(self, row: int) -> int:
        """Returns the anime_id of the first entry (watch order) of a row's franchise."""
        lab = int(self.label[row])
        if lab not in self._first_id:
            self._first_id[lab] = int(self.relations.anime_ids[self.relations.members(row)[0]])
        return self._first_id[lab]

    def entry(self, row: int) -> Entry:
        return Entry(
            row=int(row), franchise_size=len(self.relations.members(int(row))), franchise_id=self.franchise_id(int(row))
        )

    def discovery(
        self,
        scores: np.ndarray,
        allowed: np.ndarray,
        n: int,
        max_per_franchise: int = 1,
        exclude_rows: np.ndarray | None = None,
    ) -> list[Entry]:
        """Returns the discovery list: at most n entries, best first.

        ``exclude_rows`` are the rows the person rated or liked: their franchises are left out.
        ``max_per_franchise=0`` keeps every franchise and every entry (the plain list).
        """
        ok = allowed & np.isfinite(scores)
        excluded = (
            set(self.label[np.asarray(exclude_rows, dtype=np.int64)].tolist())
            if exclude_rows is not None and len(exclude_rows)
            else set()
        )
        if max_per_franchise <= 0:
            if excluded:
                ok = ok & ~np.isin(self.label, list(excluded))
            return [self.entry(r) for r in top_rows(scores, ok, n)]
        shown: dict[int, int] = {}
        taken: set[int] = set()
        out: list[Entry] = []
        budget = max(n * CANDIDATES_PER_ITEM, 200)
        for r in top_rows(scores, ok, budget):
            lab = int(self.label[r])
            if lab in excluded or shown.get(lab, 0) >= max_per_franchise:
                continue
            ordered, _ = self._group(lab, int(r))
            if len(ordered) == 1:
                stand_in = int(r)
            else:  # the earliest main entry (then the earliest extra) that may be shown
                stand_in = next((m for m in ordered if ok[m] and m not in taken), int(r))
            taken.add(stand_in)
            shown[lab] = shown.get(lab, 0) + 1
            out.append(
                Entry(
                    row=stand_in,
                    franchise_size=len(ordered),
                    franchise_id=self.franchise_id(stand_in),
                    ranked_by=int(r),
                )
            )
            if len(out) >= n:
                break
        return out

    def continue_list(self, scores: np.ndarray, allowed: np.ndarray, rated_rows: np.ndarray, n: int) -> list[Entry]:
        """Returns the next entries of the franchises of ``rated_rows`` not rated yet, in watch order.

        Rows need not have a score (entries nobody rated still belong to the franchise); franchises
        are ordered by the best score among their allowed unrated entries (unscored last).
        """
        rated = np.asarray(rated_rows, dtype=np.int64)
        if not len(rated) or n <= 0:
            return []
        rated_set = set(rated.tolist())
        labels = self.label[rated]
        multi = self.relations.size[rated] >= 2
        first: dict[int, int] = {}
        for lab, row in zip(labels[multi].tolist(), rated[multi].tolist(), strict=False):
            first.setdefault(lab, row)
        todos: list[tuple[int, list[int], set[int]]] = []
        for lab, row in first.items():
            ordered, main = self._group(lab, row)
            todo = [m for m in ordered if m not in rated_set and allowed[m]]
            if todo:
                todos.append((int(lab), todo, main))
        if not todos:
            return []
        flat = np.fromiter((m for _, todo, _ in todos for m in todo), dtype=np.int64)
        owner = np.repeat(np.arange(len(todos)), [len(todo) for _, todo, _ in todos])
        best = np.full(len(todos), -np.inf)
        np.maximum.at(best, owner, np.where(np.isfinite(scores[flat]), scores[flat], -np.inf))
        groups = [(float(b), lab, todo, main) for b, (lab, todo, main) in zip(best, todos, strict=False)]
        groups.sort(key=lambda g: (-g[0], g[1]))
        out: list[Entry] = []
        # the main entries of every franchise first (best franchise first), then the extras
        for extras in (False, True):
            for _, _, todo, main in groups:
                for r in todo:
                    if (r in main) != extras:
                        out.append(self.entry(r))
                        if len(out) >= n:
                            return out
        return out


def top_rows(scores: np.ndarray, ok: np.ndarray, n: int) -> np.ndarray:
    """Returns the rows of the n best finite, allowed scores, best first (ties: lower row first)."""
    cand = np.flatnonzero(ok & np.isfinite(scores))
    if not len(cand) or n <= 0:
        return cand[:0]
    s = scores[cand]
    if len(cand) > n:
        # every row tied with the n-th best stays in, so the lower rows win the ties: the n best of one total
        # order (the top n is a prefix of the top n + k, as paginated lists need)
        nth = s[np.argpartition(-s, n - 1)[n - 1]]
        keep = s >= nth
        cand, s = cand[keep], s[keep]
    order = np.lexsort((cand, -s))[:n]
    return cand[order]
