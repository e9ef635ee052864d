"""The answer check on its own: which names count as titles outside the facts."""

from __future__ import annotations

import copy

import pytest
from explainer_fakes import CATALOGUE, DEATH_PARADE, FMA, FMA_V2

from animerec_explainer.guard import TitleCatalogue, unknown_titles, unverified_claims
from animerec_explainer.llm import retry_after_seconds


@pytest.fixture(scope="module")
def catalogue():
    return TitleCatalogue.from_records([{**r, "title": r["english_name"]} for r in CATALOGUE], source_id="p")


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("You will enjoy it as much as Naruto, since it shares Action.", ["Naruto"]),
        ("Fans of Death Note and Steins;Gate agree.", ["Death Note"]),
        ("Unlike Monster, it is lighter.", ["Monster"]),
        ('Unlike "Death Note", it is lighter.', ["Death Note"]),
        ("A more upbeat Fullmetal Alchemist: Brotherhood than Naruto and Death Note.", ["Naruto", "Death Note"]),
    ],
)
def test_titles_outside_facts_are_found(catalogue, answer, expected):
    assert unknown_titles(answer, FMA, catalogue) == expected


@pytest.mark.parametrize(
    "answer",
    [
        'Since you loved "Steins;Gate", "Fullmetal Alchemist: Brotherhood" should land well.',
        "Fans of Attack on Titan and Code Geass: Lelouch of the Rebellion feel at home here.",  # English names
        "Fullmetal Alchemist is a safe bet for you.",  # the short form of the recommended title
        "Monster-sized fun? Another great pick, with a death note of drama and naruto-level energy.",
        "Another pick for you. Monster fights and Action and Drama, rated 9.19.",
        "鋼の錬金術師 FULLMETAL ALCHEMIST shares the 進撃の巨人 energy.",
    ],
)
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
        "Attack on Titan"
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "It is the sequel of Death Note, which you rated highly.",
        "Death Parade is from the same franchise as Death Note.",
        "Think of it as season 2 of Monster.",
        "It plays like the next season of Death Note.",
        "A spin-off that fans of Monster will love.",
        "It is part of the Death Note series, so you will feel at home.",
        "This prequel fills in what Death Note left out.",
        "The continuation of a story you loved.",
        "A follow-up to Death Note with the same dark mood.",
        "It belongs to the same series as Monster.",
    ],
)
def test_relation_claims_without_relation_evidence_are_refused(catalogue, answer):
    """Death Parade's facts tag Death Note "franchise" without evidence: no relation holds."""
    assert unknown_titles(answer, DEATH_PARADE, catalogue) == []  # the names are fine ...
    assert unverified_claims(answer, DEATH_PARADE, catalogue)  # ... the relation is not


@pytest.mark.parametrize(
    "answer",
    [
        'Because you loved "Steins;Gate", "Fullmetal Alchemist: Brotherhood" is a natural next watch.',
        "This series is a crowd favourite, rated 9.19 by 2.2 million members.",
        "It continues to top the charts, and it shares Action with Shingeki no Kyojin.",
        "The story follows two brothers; people who love Code Geass love it too.",
    ],
)
def test_answers_without_relation_claims_pass(catalogue, answer):
    assert unverified_claims(answer, FMA, catalogue) == []


@pytest.mark.parametrize(
    "answer, ok",
    [
        (
            '"Fullmetal Alchemist: Brotherhood" is from the same franchise as "Fullmetal Alchemist", which you rated '
            "highly.",
            True,
        ),
        ("It continues the story of Fullmetal Alchemist, which you rated highly.", True),
        ("You rated Fullmetal Alchemist highly, and Brotherhood is its sequel.", True),
        ("Like Fullmetal Alchemist, it is a sequel of Steins;Gate.", False),  # Steins;Gate: no relation evidence
        ("It is the next season of Attack on Titan.", False),  # an English name of the content-liked anime
        ("You rated Steins;Gate highly. It is from the same franchise as Fullmetal Alchemist.", True),
        # one sentence per check: another liked title beside the claim is refused (a false alarm costs only wording)
        ("It continues the story of Fullmetal Alchemist, and Steins;Gate fans love it too.", False),
    ],
)
def test_relation_claims_only_about_same_franchise_titles(catalogue, answer, ok):
    assert (unverified_claims(answer, FMA_V2, catalogue) == []) is ok


def test_words_inside_a_fact_title_are_no_relation_claim():
    """A liked title such as "Attack on Titan Season 2" says "Season 2" without claiming anything."""
    facts = copy.deepcopy(FMA)
    facts["because_you_liked"][0]["title"] = "Attack on Titan Season 2"
    assert unverified_claims('Since you rated "Attack on Titan Season 2" highly, try it.', facts, None) == []
    assert unverified_claims("It is the next season of Attack on Titan Season 2.", facts, None)


def test_relation_claims_without_catalogue_and_rating_claims_in_cold_start():
    assert unverified_claims("It is the sequel of Steins;Gate.", FMA_V2, None)
    assert unverified_claims("It is the sequel of Fullmetal Alchemist.", FMA_V2, None) == []
    rated = "Since you rated Steins;Gate highly, this fits your ratings."
    assert unverified_claims(rated, FMA, None) == []
    assert len(unverified_claims(rated, FMA, None, cold_start=True)) == 2
    assert unverified_claims(rated, {**FMA, "rated": 0}, None)
    assert unverified_claims("Since you liked Steins;Gate, this fits.", FMA, None, cold_start=True) == []


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
    ],
)
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
            pd.DataFrame(
                CATALOGUE
                + [
                    {
                        "anime_id": 269,
                        "name": "Bleach",
                        "english_name": "Bleach",
                        "japanese_name": "ブリーチ",
                        "genres": ["Action"],
                    }
                ]
            ).to_parquet(folder / "anime.parquet")
        file_storage.set_current("processed", "p-next")
        await asyncio.sleep(0.02)
        keeper.refresh_if_stale()
        await keeper.wait()
        return keeper

    keeper = asyncio.run(scenario())
    assert keeper.status() == {"state": "loaded", "titles": 10, "processed_id": "p-next", "error": None}
    assert unknown_titles("Much like Bleach, it is loud.", FMA, keeper.catalogue) == ["Bleach"]
