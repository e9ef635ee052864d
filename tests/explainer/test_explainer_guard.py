"""The answer check on its own: which names count as titles outside the facts."""

from __future__ import annotations

import copy

import pytest
from explainer_fakes import CATALOGUE, FMA

from animerec_explainer.guard import TitleCatalogue, unknown_titles
from animerec_explainer.llm import retry_after_seconds


@pytest.fixture(scope="module")
def catalogue():
    return TitleCatalogue.from_records([{**r, "title": r["english_name"]} for r in CATALOGUE], source_id="p")


@pytest.mark.parametrize("answer, expected", [
    ("You will enjoy it as much as Naruto, since it shares Action.", ["Naruto"]),
    ("Fans of Death Note and Steins;Gate agree.", ["Death Note"]),
    ("Unlike Monster, it is lighter.", ["Monster"]),
    ("Unlike \"Death Note\", it is lighter.", ["Death Note"]),
    ("A more upbeat Fullmetal Alchemist: Brotherhood than Naruto and Death Note.", ["Naruto", "Death Note"]),
])
def test_titles_outside_facts_are_found(catalogue, answer, expected):
    assert unknown_titles(answer, FMA, catalogue) == expected


@pytest.mark.parametrize("answer", [
    'Since you loved "Steins;Gate", "Fullmetal Alchemist: Brotherhood" should land well.',
    "Fans of Attack on Titan and Code Geass: Lelouch of the Rebellion feel at home here.",  # English names
    "Fullmetal Alchemist is a safe bet for you.",  # the short form of the recommended title
    "Monster-sized fun? Another great pick, with a death note of drama and naruto-level energy.",
    "Another pick for you. Monster fights and Action and Drama, rated 9.19.",
    "鋼の錬金術師 FULLMETAL ALCHEMIST shares the 進撃の巨人 energy.",
])
def test_names_of_fact_anime_and_ordinary_words_pass(catalogue, answer):
    assert unknown_titles(answer, FMA, catalogue) == []


def test_quoted_spans_must_be_fact_titles_without_catalogue():
    assert unknown_titles('Like "Bleach", it has "heart".', FMA, None) == ["Bleach", "heart"]
    assert unknown_titles("“Steins;Gate” fans and «Shingeki no Kyojin» fans agree.", FMA, None) == []
    assert unknown_titles("Fans of Naruto will like it.", FMA, None) == []  # no catalogue: quotes only


def test_titles_of_liked_anime_not_in_facts_are_rejected(catalogue):
    facts = copy.deepcopy(FMA)
    facts["because_you_liked"] = facts["because_you_liked"][:1]
    assert unknown_titles("As with Steins;Gate and Attack on Titan, expect twists.", facts, catalogue) == [
        "Attack on Titan"]


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "2"}, 2.0), ({"retry-after": "0.5"}, 0.5), ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0), ({}, None), ({"retry-after": "soon"}, None),
])
def test_retry_after_is_read_in_every_form(headers, expected):
    assert retry_after_seconds(headers) == expected


def test_catalogue_reloads_only_when_processed_current_moves(file_storage, title_storage):
    import asyncio

    import pandas as pd

    from animerec_explainer.catalogue import CatalogueKeeper

    async def scenario():
        keeper = CatalogueKeeper(title_storage, refresh_s=0.01)
        keeper.refresh_if_stale()
        await keeper.wait()
        first = keeper.catalogue
        await asyncio.sleep(0.02)
        keeper.refresh_if_stale()  # CURRENT did not move: the same catalogue object stays
        await keeper.wait()
        assert keeper.catalogue is first and len(first) == 9
        with file_storage.publish("processed/p-next") as folder:
            pd.DataFrame(CATALOGUE + [{"anime_id": 269, "name": "Bleach", "english_name": "Bleach",
                                       "japanese_name": "ブリーチ", "genres": ["Action"]}]).to_parquet(
                folder / "anime.parquet")
        file_storage.set_current("processed", "p-next")
        await asyncio.sleep(0.02)
        keeper.refresh_if_stale()
        await keeper.wait()
        return keeper

    keeper = asyncio.run(scenario())
    assert keeper.status() == {"state": "loaded", "titles": 10, "processed_id": "p-next", "error": None}
    assert unknown_titles("Much like Bleach, it is loud.", FMA, keeper.catalogue) == ["Bleach"]
