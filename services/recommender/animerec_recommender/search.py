"""Title search over romaji, English and Japanese names: case- and accent-insensitive, typo-tolerant.

Fuzzy scoring (rapidfuzz WRatio) of every one of the ~45k names costs ~60 ms per query, so a
character-trigram inverted index first picks the thousand names sharing the most trigrams
with the query (a typo only breaks the trigrams around it), and only those are scored. Queries
too short to have trigrams fall back to scoring every name. Results are memoised per index
(one index per served model version), so a repeated query costs a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from animerec_ranking.text import normalise_title

# Names scored with WRatio per query after the trigram pre-filter.
CANDIDATES = 1000
MEMO_SIZE = 4096


def trigrams(norm: str) -> set[str]:
    """Returns the character trigrams of a normalised text, padded with a space at each end."""
    padded = f" {norm} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class TitleIndex:
    """Every name of every anime, normalised once; search returns meta rows best first."""

    def __init__(self, meta: pd.DataFrame):
        names: list[str] = []
        rows: list[int] = []
        for col in ("name", "english_name", "japanese_name"):
            for i, v in enumerate(meta[col].fillna("").astype(str).tolist()):
                norm = normalise_title(v)
                if norm:
                    names.append(norm)
                    rows.append(i)
        self.names = names
        self.rows = np.array(rows, dtype=np.int64)
        self.members = meta["members"].to_numpy(np.int64)
        postings: dict[str, list[int]] = defaultdict(list)
        for pos, name in enumerate(names):
            for gram in trigrams(name):
                postings[gram].append(pos)
        self._postings = {g: np.array(p, dtype=np.int32) for g, p in postings.items()}
        # Tie-break of equal trigram counts: more popular names first (a fraction below 1).
        pop = self.members[self.rows].astype(np.float64) if len(self.rows) else np.zeros(0)
        self._tie = pop / (pop.max() + 1.0) if len(pop) and pop.max() > 0 else np.zeros(len(names))
        self._memo: OrderedDict[tuple[str, int, float], list[tuple[int, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def search(self, query: str, limit: int = 200, cutoff: float = 60.0) -> list[tuple[int, float]]:
        """Returns [(meta row, match score 0-100)], best first; popularity breaks ties."""
        q = normalise_title(query)
        if not q:
            return []
        key = (q, limit, cutoff)
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                return list(hit)
        ranked = self._search(q, limit, cutoff)
        with self._lock:
            self._memo[key] = ranked
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return list(ranked)

    def _candidates(self, q: str) -> np.ndarray | None:
        """Returns the positions of the names sharing most trigrams with q (None: score every name)."""
        if len(q) < 3 or len(self.names) <= CANDIDATES:
            return None
        lists = [p for g in trigrams(q) if (p := self._postings.get(g)) is not None]
        if not lists:
            return np.zeros(0, dtype=np.int64)
        counts = np.bincount(np.concatenate(lists), minlength=len(self.names)).astype(np.float64)
        hit = np.flatnonzero(counts)
        if len(hit) <= CANDIDATES:
            return hit
        key = counts[hit] + self._tie[hit]
        return hit[np.argpartition(-key, CANDIDATES - 1)[:CANDIDATES]]

    def _search(self, q: str, limit: int, cutoff: float) -> list[tuple[int, float]]:
        cand = self._candidates(q)
        choices = self.names if cand is None else [self.names[i] for i in cand]
        best: dict[int, float] = {}
        for choice, score, pos in process.extract(q, choices, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=cutoff):
            if choice == q:
                score = 101.0  # an exact title match beats any fuzzy one
            elif choice.startswith(q):
                score = max(score, 100.0)
            row = int(self.rows[pos if cand is None else cand[pos]])
            if score > best.get(row, -1.0):
                best[row] = float(score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], -self.members[kv[0]]))
        return ranked[:limit]
