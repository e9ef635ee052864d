"""TitleIndex at catalogue scale: the trigram pre-filter keeps typo, accent and case tolerance."""

from __future__ import annotations

import random

import pandas as pd

from animerec_recommender import search
from animerec_recommender.search import TitleIndex


def _catalogue(n: int = 6000) -> pd.DataFrame:
    rng = random.Random(3)
    syll = ["ka", "ri", "no", "to", "shi", "ma", "ru", "ko", "yu", "ra", "sen", "go", "hi", "mi"]
    names = [
        " ".join("".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(1, 3)))
        for _ in range(n)
    ]
    names[4321] = "Fullmetal Alchemist: Brotherhood"
    names[17] = "Fullmetal Alchemist"
    names[999] = "Pokémon Adventures"
    eng = [""] * n
    eng[2500] = "Attack on Titan"
    return pd.DataFrame(
        {
            "name": names,
            "english_name": eng,
            "japanese_name": [""] * n,
            "members": [rng.randint(1, 1000) for _ in range(n)],
        }
    )


def test_title_index_prefilter_finds_titles_despite_typos_accents_and_case():
    meta = _catalogue()
    index = TitleIndex(meta)
    assert len(index.names) > search.CANDIDATES  # the trigram path is the one exercised
    for q, row in (
        ("fullmetal alchemist brotherhood", 4321),
        ("FULLMTEAL alchemist brotherhod", 4321),
        ("pokemon adventures", 999),
        ("POKÉMON advnetures", 999),
        ("attack on titn", 2500),
        ("attack on titan", 2500),
    ):
        found = [r for r, _ in index.search(q, limit=5)]
        assert found and found[0] == row, (q, found[:5])


def test_title_index_exact_title_ranks_first_and_repeats_are_memoised():
    index = TitleIndex(_catalogue())
    first = index.search("fullmetal alchemist", limit=3)
    assert first[0][0] == 17 and first[0][1] == 101.0
    assert index.search("Fullmetal  Alchemist!", limit=3) == first  # same normalised query, same answer
    assert len(index._memo) == 1


def test_title_index_short_and_unknown_queries():
    index = TitleIndex(_catalogue())
    assert index.search("") == [] and index.search("!!!") == []
    assert index.search("zzqqxxjj") == []
    assert isinstance(index.search("ka", limit=3), list)  # below a trigram: every name is scored
