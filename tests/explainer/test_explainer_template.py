"""The grounded template and the LLM payload for each kind of because-you-liked reason."""

from __future__ import annotations

import copy

from explainer_fakes import FMA

from animerec_explainer.facts import fact_items, template_text
from animerec_explainer.prompt import facts_payload


def _with_franchise() -> dict:
    facts = copy.deepcopy(FMA)
    facts["because_you_liked"].insert(0, {"anime_id": 121, "title": "Fullmetal Alchemist", "similarity": 0.79,
                                          "by": "franchise"})
    return facts


def test_franchise_reason_leads_the_template():
    text = template_text(_with_franchise())
    assert text.startswith("Fullmetal Alchemist: Brotherhood is from the same franchise as Fullmetal Alchemist, "
                           "which you rated highly. You rated Steins;Gate and Code Geass: Hangyaku no Lelouch highly")
    cold = template_text(_with_franchise(), cold_start=True)
    assert "franchise as Fullmetal Alchemist, which you liked." in cold


def test_template_without_franchise_is_unchanged():
    text = template_text(FMA)
    assert text.startswith("You rated Steins;Gate and Code Geass: Hangyaku no Lelouch highly, and people who love "
                           "those tend to love Fullmetal Alchemist: Brotherhood too; it is also close in genres and "
                           "story to Shingeki no Kyojin.")


def test_fact_items_and_payload_name_the_reason():
    items = [i for i in fact_items(_with_franchise()) if i["kind"] == "because_you_liked"]
    assert items[0]["text"] == "From the same franchise as Fullmetal Alchemist, which you rated highly."
    assert [i["data"]["by"] for i in items] == ["franchise", "embedding", "embedding"]  # then most similar
    payload = facts_payload(_with_franchise())
    by = {i["title"]: i["similar_by"] for i in payload["because_you_liked"]}
    assert by["Fullmetal Alchemist"].startswith("the same franchise")
    assert by["Steins;Gate"] == "ratings of the same people" and by["Shingeki no Kyojin"] == "genres and story"
