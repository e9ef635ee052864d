"""Turning the recommender's facts into short fact items and a grounded template text."""

from __future__ import annotations

import math
import re
from typing import Any

MAX_LIKED_SHOWN = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

STRATEGY_WORDS = {
    "hybrid": "a blend of your ratings, similar users and content",
    "collaborative": "the rating patterns of people like you",
    "user_based": "the favourites of users with tastes like yours",
    "content": "genres and story similar to what you like",
    "cold_start": "the anime you said you liked",
}


def clean_text(value: Any, limit: int = 200) -> str:
    """Returns a one-line, length-bounded string of untrusted text (titles, synopses)."""
    text = _CONTROL.sub(" ", str(value or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: Any) -> float | None:
    try:
        num = float(value)
    except (TypeError, ValueError):
        return None
    return num if math.isfinite(num) else None


def join_words(items: list[str]) -> str:
    """Returns "a", "a and b" or "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def format_members(members: float) -> str:
    """Returns a member count for humans: "2.4 million", "38,210"."""
    if members >= 1_000_000:
        return f"{members / 1_000_000:.1f} million"
    return f"{int(members):,}"


def liked_titles(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Returns the cleaned because-you-liked entries: same franchise first, then most similar first."""
    out = []
    for item in facts.get("because_you_liked") or []:
        if not isinstance(item, dict) or not clean_text(item.get("title")):
            continue
        out.append({"anime_id": item.get("anime_id"), "title": clean_text(item.get("title")),
                    "similarity": _number(item.get("similarity")),
                    "by": item.get("by") if item.get("by") in ("content", "franchise") else "embedding"})
    out.sort(key=lambda i: (i["by"] != "franchise", -(i["similarity"] or 0.0)))
    return out


def _you_liked(cold_start: bool) -> str:
    return "you liked" if cold_start else "you rated highly"


def fact_items(facts: dict[str, Any], cold_start: bool = False) -> list[dict[str, Any]]:
    """Returns the facts as short items ``{"kind", "text", "data"}``, the most personal first."""
    items: list[dict[str, Any]] = []
    for liked in liked_titles(facts)[:MAX_LIKED_SHOWN]:
        if liked["by"] == "franchise":
            text = f"From the same franchise as {liked['title']}, which {_you_liked(cold_start)}."
        elif liked["by"] == "content":
            text = f"Close in genres and story to {liked['title']}, which {_you_liked(cold_start)}."
        else:
            text = f"People who love {liked['title']}, which {_you_liked(cold_start)}, also love it."
        items.append({"kind": "because_you_liked", "text": text, "data": liked})
    genres = [clean_text(g, 40) for g in facts.get("shared_genres") or [] if clean_text(g, 40)]
    if genres:
        items.append({"kind": "shared_genres", "text": f"Shares genres you favour: {join_words(genres)}.",
                      "data": {"genres": genres}})
    users = facts.get("similar_users") or {}
    liked_it, of = _number(users.get("liked_it")), _number(users.get("of"))
    if liked_it and of:
        items.append({"kind": "similar_users",
                      "text": f"{int(liked_it)} of your {int(of)} most similar users rated it highly.",
                      "data": {"liked_it": int(liked_it), "of": int(of)}})
    score, members = _number(facts.get("score")), _number(facts.get("members"))
    if score:
        text = f"Rated {score:.2f}/10" + (f" by {format_members(members)} members." if members else ".")
        items.append({"kind": "score", "text": text, "data": {"score": score, "members": members}})
    rank = _number(facts.get("popularity_rank"))
    if rank and rank >= 1:
        items.append({"kind": "popularity", "text": f"#{int(rank)} in popularity.",
                      "data": {"popularity_rank": int(rank)}})
    strategy = facts.get("strategy")
    if isinstance(strategy, str) and strategy:
        how = STRATEGY_WORDS.get(strategy, f"the {strategy.replace('_', ' ')} strategy")
        items.append({"kind": "strategy", "text": f"Picked using {how}.", "data": {"strategy": strategy}})
    return items


def _because_sentence(title: str, liked: list[dict[str, Any]], cold_start: bool) -> str:
    by_franchise = [i["title"] for i in liked if i["by"] == "franchise"][:MAX_LIKED_SHOWN]
    by_people = [i["title"] for i in liked if i["by"] == "embedding"][:MAX_LIKED_SHOWN]
    by_content = [i["title"] for i in liked if i["by"] == "content" and i["title"] not in by_people]
    by_content = by_content[: max(1, MAX_LIKED_SHOWN - len(by_people))]
    verb = "liked" if cold_start else "rated"
    sentences = []
    if by_franchise:
        sentences.append(f"{title} is from the same franchise as {join_words(by_franchise)}, which "
                         f"{_you_liked(cold_start)}.")
    lead = f"You {verb} {join_words(by_people)}{'' if cold_start else ' highly'}, and people who love " \
           f"{'it' if len(by_people) == 1 else 'those'} tend to love {title} too"
    if by_people and by_content:
        sentences.append(f"{lead}; it is also close in genres and story to {join_words(by_content)}.")
    elif by_people:
        sentences.append(f"{lead}.")
    elif by_content:
        sentences.append(f"{title} is close in genres and story to {join_words(by_content)}, which "
                         f"{_you_liked(cold_start)}.")
    return " ".join(sentences)


def template_text(facts: dict[str, Any], cold_start: bool = False) -> str:
    """Returns a short explanation written only from the facts (the answer when no LLM is used).

    Args:
        facts: the recommender's explanation facts.
        cold_start: the person gave a liked list instead of a user id ("you liked", not "you rated").
    """
    title = clean_text(facts.get("title")) or f"Anime {facts.get('anime_id')}"
    sentences: list[str] = []
    liked = liked_titles(facts)
    if liked:
        sentences.append(_because_sentence(title, liked, cold_start))
    genres = [clean_text(g, 40) for g in facts.get("shared_genres") or [] if clean_text(g, 40)]
    if genres:
        lead = "It shares" if sentences else f"{title} shares"
        sentences.append(f"{lead} {'the genre' if len(genres) == 1 else 'genres'} you enjoy most: "
                         f"{join_words(genres)}.")
    users = facts.get("similar_users") or {}
    liked_it, of = _number(users.get("liked_it")), _number(users.get("of"))
    if liked_it and of:
        sentences.append(f"{int(liked_it)} of the {int(of)} users whose tastes are closest to yours "
                         f"rated it highly.")
    score, members = _number(facts.get("score")), _number(facts.get("members"))
    rank = _number(facts.get("popularity_rank"))
    if score:
        lead = "It is" if sentences else f"{title} is"
        tail = f" across {format_members(members)} members" if members else ""
        rank_part = f" and ranks #{int(rank)} in popularity" if rank and rank >= 1 else ""
        sentences.append(f"{lead} rated {score:.2f}/10{tail}{rank_part}.")
    if not sentences:
        strategy = facts.get("strategy")
        how = STRATEGY_WORDS.get(strategy, "your ratings") if isinstance(strategy, str) else "your ratings"
        sentences.append(f"{title} was picked for you based on {how}.")
    return " ".join(sentences)
