"""Title search over romaji, English and Japanese names: case- and accent-insensitive, typo-tolerant."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise_title(text: str) -> str:
    """Returns text folded for matching: NFKD without accents, case-folded, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", stripped).casefold()).strip()


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

    def search(self, query: str, limit: int = 200, cutoff: float = 60.0) -> list[tuple[int, float]]:
        """Returns [(meta row, match score 0-100)], best first; popularity breaks ties."""
        q = normalise_title(query)
        if not q:
            return []
        best: dict[int, float] = {}
        for choice, score, pos in process.extract(q, self.names, scorer=fuzz.WRatio, limit=limit * 3,
                                                  score_cutoff=cutoff):
            if choice == q:
                score = 101.0  # an exact title match beats any fuzzy one
            elif choice.startswith(q):
                score = max(score, 100.0)
            row = int(self.rows[pos])
            if score > best.get(row, -1.0):
                best[row] = float(score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], -self.members[kv[0]]))
        return ranked[:limit]
