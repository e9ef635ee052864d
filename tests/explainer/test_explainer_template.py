"""The grounded template and the LLM payload: each reason is said only when its evidence holds."""

from __future__ import annotations

import copy
import json
import re

import pytest
from explainer_fakes import DEATH_PARADE, FMA, FMA_V2

from animerec_explainer.facts import fact_items, liked_titles, template_text
from animerec_explainer.prompt import SYSTEM_PROMPT, facts_payload

RATINGS_CLAIM = re.compile(r"your ratings?|you rated|rated highly by you", re.IGNORECASE)
RELATION_WORDS = re.compile(r"franchise|sequel|prequel|spin-off|same series", re.IGNORECASE)


def _with_unverified_franchise() -> dict:
    """FMA with a franchise tag from the old contract: no evidence, so nothing verifies it."""
    facts = copy.deepcopy(FMA)
    facts["because_you_liked"].insert(
        0, {"anime_id": 121, "title": "Fullmetal Alchemist", "similarity": 0.79, "by": "franchise"}
    )
    return facts


def _everything_said(facts: dict, cold_start: bool = False) -> str:
    """Returns the template, every fact item (text and data) and the LLM payload as one text."""
    return " ".join(
        [
            template_text(facts, cold_start),
            json.dumps(fact_items(facts, cold_start)),
            json.dumps(facts_payload(facts, cold_start=cold_start)),
        ]
    )


def test_verified_franchise_leads_the_template():
    text = template_text(FMA_V2)
    assert text.startswith(
        "Fullmetal Alchemist: Brotherhood is from the same franchise as Fullmetal Alchemist, "
        "which you rated highly. You rated Steins;Gate and Code Geass: Hangyaku no Lelouch highly, "
        "and people who love them also love Fullmetal Alchemist: Brotherhood (412 and 388 people "
        "love both, respectively); it also shares Action and Drama with Shingeki no Kyojin."
    )
    cold = template_text(FMA_V2, cold_start=True)
    assert "franchise as Fullmetal Alchemist, which you liked." in cold


def test_template_without_franchise_is_unchanged():
    text = template_text(FMA)
    assert text.startswith(
        "You rated Steins;Gate and Code Geass: Hangyaku no Lelouch highly, and people who love "
        "those tend to love Fullmetal Alchemist: Brotherhood too; it is also close in genres and "
        "story to Shingeki no Kyojin."
    )


def test_fact_items_and_payload_name_the_reason_with_its_evidence():
    items = [i for i in fact_items(FMA_V2) if i["kind"] == "because_you_liked"]
    assert [i["text"] for i in items] == [
        "From the same franchise as Fullmetal Alchemist, which you rated highly.",
        "412 people who love Steins;Gate, which you rated highly, also love it.",
        "388 people who love Code Geass: Hangyaku no Lelouch, which you rated highly, also love it.",
    ]
    assert [i["data"]["by"] for i in items] == ["franchise", "embedding", "embedding"]  # then most similar
    assert items[0]["data"]["evidence"] == {
        "relation": "same_franchise",
        "rules": ["title_base", "japanese_base"],
        "base": "fullmetal alchemist",
        "path": [121, 5114],
    }
    assert [i["data"]["evidence"] for i in items[1:]] == [{"shared_users": 412}, {"shared_users": 388}]
    content = next(i for i in liked_titles(FMA_V2) if i["by"] == "content")
    assert content["evidence"] == {"shared_genres": ["Action", "Drama"]}
    payload = facts_payload(FMA_V2)
    entries = {i["title"]: i for i in payload["because_you_liked"]}
    assert entries["Fullmetal Alchemist"]["similar_by"].startswith("the same franchise")
    assert entries["Fullmetal Alchemist"]["relation"] == "same_franchise"
    assert entries["Steins;Gate"]["similar_by"] == "ratings of the same people"
    assert entries["Steins;Gate"]["people_who_love_both"] == 412 and "relation" not in entries["Steins;Gate"]
    assert entries["Shingeki no Kyojin"]["shared_genres"] == ["Action", "Drama"]
    assert payload["person"] == {"gave_ratings": True}


def test_franchise_tag_without_evidence_is_dropped_everywhere():
    """Old contract: a franchise tag from shared title words says nothing, and the rest still answers."""
    facts = _with_unverified_franchise()
    assert template_text(facts) == template_text(FMA)
    assert fact_items(facts) == fact_items(FMA)
    assert facts_payload(facts) == facts_payload(FMA)
    assert not RELATION_WORDS.search(_everything_said(facts))
    parade = _everything_said(DEATH_PARADE)  # Death Parade is not from the Death Note franchise
    assert not RELATION_WORDS.search(parade) and "Death Note" not in parade
    assert template_text(DEATH_PARADE).startswith(
        "Death Parade is close in genres and story to Monster, which you rated highly."
    )


@pytest.mark.parametrize(
    "evidence, franchise",
    [
        (None, None),
        ({}, None),
        ({"relation": "shared_title_words"}, None),
        ({"shared_users": 30}, None),
        ({"relation": "same_franchise", "rules": ["title_base"]}, {"same_franchise_as": []}),  # not listed at the top
    ],
)
def test_franchise_claim_needs_same_franchise_evidence(evidence, franchise):
    facts = copy.deepcopy(FMA_V2)
    facts["because_you_liked"][0] = {k: v for k, v in facts["because_you_liked"][0].items() if k != "evidence"}
    if evidence is not None:
        facts["because_you_liked"][0]["evidence"] = evidence
    facts["franchise"] = franchise if franchise is not None else {"same_franchise_as": [121]}
    said = _everything_said(facts)
    assert not RELATION_WORDS.search(said)
    assert "Fullmetal Alchemist," not in said and '"Fullmetal Alchemist"' not in said  # dropped, not re-labelled
    assert all(i["anime_id"] != 121 for i in liked_titles(facts))


def test_zero_shared_users_or_genres_make_no_people_or_content_claim():
    facts = copy.deepcopy(FMA_V2)
    facts["because_you_liked"][1]["evidence"] = {"shared_users": 0}
    facts["because_you_liked"][3]["evidence"] = {"shared_genres": []}
    said = _everything_said(facts)
    assert "Steins;Gate" not in said and "Shingeki no Kyojin" not in said
    assert template_text(facts).startswith(
        "Fullmetal Alchemist: Brotherhood is from the same franchise as Fullmetal Alchemist, which you rated highly. "
        "You rated Code Geass: Hangyaku no Lelouch highly, and 388 people who love it also love Fullmetal "
        "Alchemist: Brotherhood."
    )
    facts["because_you_liked"][2]["evidence"] = {"shared_users": 1}
    assert "1 person who loves Code Geass: Hangyaku no Lelouch, which you rated highly, also loves it." in [
        i["text"] for i in fact_items(facts)
    ]


@pytest.mark.parametrize(
    "strategy", ["hybrid", "collaborative", "user_based", "content", "cold_start", "item_item", None]
)
@pytest.mark.parametrize("how", ["liked_list", "rated_zero", "cold_start_flag"])
def test_cold_start_is_never_told_about_its_ratings(strategy, how):
    bare = {"anime_id": 5114, "title": "Fullmetal Alchemist: Brotherhood", "strategy": strategy}
    for base in (FMA, FMA_V2, DEATH_PARADE, bare):
        facts = {**copy.deepcopy(base), "strategy": strategy}
        cold = how == "liked_list"
        if how == "rated_zero":
            facts["rated"] = 0
        elif how == "cold_start_flag":
            facts["cold_start"] = True
        said = " ".join([template_text(facts, cold)] + [i["text"] for i in fact_items(facts, cold)])
        assert not RATINGS_CLAIM.search(said), said
        assert facts_payload(facts, cold_start=cold)["person"] == {"gave_ratings": False}
    fallback = template_text({**bare, "rated": 0})
    assert fallback.startswith("Fullmetal Alchemist: Brotherhood was picked for you based on ")
    assert template_text({**bare, "strategy": None, "rated": 0}) == (
        "Fullmetal Alchemist: Brotherhood was picked for you based on the anime you said you liked."
    )
    assert template_text({**bare, "strategy": None}) == (
        "Fullmetal Alchemist: Brotherhood was picked for you based on your ratings."
    )


def test_system_prompt_forbids_relations_beyond_the_data():
    assert "same_franchise" in SYSTEM_PROMPT and "sequel" in SYSTEM_PROMPT
    assert '"gave_ratings": false' in SYSTEM_PROMPT
