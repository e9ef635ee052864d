"""Text folding shared by title search (recommender) and the franchise component (ranking core)."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise_title(text: str) -> str:
    """Returns text folded for matching: NFKD without accents, case-folded, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", stripped).casefold()).strip()
