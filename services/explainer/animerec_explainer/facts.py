"""Turning the recommender's facts into short fact items and a grounded template text.

Only what the facts verify is said. A because-you-liked anime is named with the reason its
evidence supports, and dropped when the evidence is missing where it is required:

- ``by: "franchise"``: only with ``evidence.relation == "same_franchise"`` (and, when the facts
  carry ``franchise.same_franchise_as``, only for an anime listed there). A franchise tag without
  that evidence (older recommenders tagged shared title words) is dropped, not re-labelled.
- ``by: "embedding"``: ``evidence.shared_users`` people liked both; 0 drops the item (nobody is
  known to love both). Without the field (older contract) the plain wording is kept.
- ``by: "content"``: ``evidence.shared_genres`` names the genres shared; an empty list drops the
  item. Without the field the plain wording is kept.

Someone who gave no ratings (a liked list, ``rated`` 0) is never told about "your ratings".
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_LIKED_SHOWN = 3
SAME_FRANCHISE = "same_franchise"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

STRATEGY_WORDS = {
    "hybrid": "a blend of your ratings, similar users and content",
    "collaborative": "the rating patterns of people like you",
    "user_based": "the favourites of users with tastes like yours",
    "content": "genres and story similar to what you like",
    "cold_start": "the anime you said you liked",
}
COLD_START_STRATEGY_WORDS = {  # for someone who gave a liked list and no ratings
    **STRATEGY_WORDS,
    "hybrid": "a blend of the anime you said you liked, similar users and content",
    "collaborative": "the rating patterns of people who like the anime you liked",
    "user_based": "the favourites of users who like the anime you liked",
    "content": "genres and story similar to the anime you liked",
}


def clean_text(value: Any, limit: int = 200) -> str:
    """Returns a one-line, length-bounded string of untrusted text (titles, synopses)."""
    text = _CONTROL.sub(" ", str(value or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        return None
    return num if math.isfinite(num) else None


def _anime_id(value: Any) -> int | None:
    num = _number(value)
    return int(num) if num is not None and num == int(num) else None


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


def is_cold_start(facts: dict[str, Any], liked_subject: bool = False) -> bool:
    """Returns whether the person gave no ratings: a liked list, ``rated`` 0, or a cold-start flag."""
    if liked_subject or facts.get("cold_start") is True or facts.get("strategy") == "cold_start":
        return True
    rated = _number(facts.get("rated"))
    return rated is not None and rated <= 0


def _genres(values: Any) -> list[str]:
    if not isinstance(values, (list, tuple)):
        return []
    return list(dict.fromkeys(g for g in (clean_text(v, 40) for v in values) if g))


def franchise_ids(facts: dict[str, Any]) -> set[int] | None:
    """Returns the liked anime ids the facts place in the target's franchise, or None (older contract)."""
    top = facts.get("franchise")
    if not isinstance(top, dict) or not isinstance(top.get("same_franchise_as"), list):
        return None
    return {a for a in map(_anime_id, top["same_franchise_as"]) if a is not None}


def _evidence(item: dict[str, Any], by: str, in_franchise: set[int] | None) -> dict[str, Any] | None:
    """Returns the cleaned evidence of a because-you-liked item, or None when it does not hold up."""
    found = item.get("evidence")
    raw: dict[str, Any] = found if isinstance(found, dict) else {}
    if by == "franchise":
        if raw.get("relation") != SAME_FRANCHISE:
            return None
        if in_franchise is not None and _anime_id(item.get("anime_id")) not in in_franchise:
            return None
        rules = raw.get("rules") or []
        path = raw.get("path") or []
        rules, path = (rules if isinstance(rules, list) else []), (path if isinstance(path, list) else [])
        return {
            "relation": SAME_FRANCHISE,
            "rules": [clean_text(r, 40) for r in rules if clean_text(r, 40)][:8],
            "base": clean_text(raw.get("base"), 100) or None,
            "path": [a for a in map(_anime_id, path) if a is not None][:20],
        }
    if by == "embedding":
        if "shared_users" not in raw:
            return {}
        shared = _number(raw.get("shared_users"))
        return {"shared_users": int(shared)} if shared is not None and shared >= 1 else None
    if "shared_genres" not in raw:
        return {}
    genres = _genres(raw.get("shared_genres"))
    return {"shared_genres": genres} if genres else None


def liked_titles(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Returns the because-you-liked entries whose reason the evidence supports, cleaned.

    Same franchise first, then most similar first. Each entry is ``{"anime_id", "title",
    "similarity", "by", "evidence"}``; see the module docstring for what is dropped.
    """
    in_franchise = franchise_ids(facts)
    out = []
    for item in facts.get("because_you_liked") or []:
        if not isinstance(item, dict) or not clean_text(item.get("title")):
            continue
        by = item.get("by", "embedding")  # the oldest contract had no "by": embedding neighbours
        if by not in ("content", "franchise", "embedding"):
            continue
        evidence = _evidence(item, by, in_franchise)
        if evidence is None:
            continue
        out.append(
            {
                "anime_id": item.get("anime_id"),
                "title": clean_text(item.get("title")),
                "similarity": _number(item.get("similarity")),
                "by": by,
                "evidence": evidence,
            }
        )
    out.sort(key=lambda i: (i["by"] != "franchise", -(i["similarity"] or 0.0)))
    return out


def same_franchise_titles(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Returns the liked entries with verified same-franchise evidence."""
    return [i for i in liked_titles(facts) if i["by"] == "franchise"]


def _you_liked(cold_start: bool) -> str:
    return "you liked" if cold_start else "you rated highly"


def _people(n: int) -> str:
    return "1 person who loves" if n == 1 else f"{n} people who love"


def strategy_words(strategy: Any, cold_start: bool) -> str:
    """Returns how a strategy picked the anime, in words true for this person."""
    words = COLD_START_STRATEGY_WORDS if cold_start else STRATEGY_WORDS
    if not isinstance(strategy, str) or not strategy:
        return words["cold_start"] if cold_start else "your ratings"
    return words.get(strategy, f"the {strategy.replace('_', ' ')} strategy")


def _liked_item_text(liked: dict[str, Any], cold_start: bool) -> str:
    title, you = liked["title"], _you_liked(cold_start)
    if liked["by"] == "franchise":
        return f"From the same franchise as {title}, which {you}."
    if liked["by"] == "content":
        genres = liked["evidence"].get("shared_genres")
        if genres:
            return f"Shares {join_words(genres)} with {title}, which {you}."
        return f"Close in genres and story to {title}, which {you}."
    shared = liked["evidence"].get("shared_users")
    if shared:
        also = "also loves" if shared == 1 else "also love"
        return f"{_people(shared)} {title}, which {you}, {also} it."
    return f"People who love {title}, which {you}, also love it."


def fact_items(facts: dict[str, Any], cold_start: bool = False) -> list[dict[str, Any]]:
    """Returns the facts as short items ``{"kind", "text", "data"}``, the most personal first.

    Args:
        facts: the recommender's explanation facts.
        cold_start: the person gave a liked list instead of a user id (``rated`` 0 counts too).
    """
    cold_start = is_cold_start(facts, cold_start)
    items: list[dict[str, Any]] = []
    for liked in liked_titles(facts)[:MAX_LIKED_SHOWN]:
        items.append({"kind": "because_you_liked", "text": _liked_item_text(liked, cold_start), "data": liked})
    genres = _genres(facts.get("shared_genres"))
    if genres:
        items.append(
            {
                "kind": "shared_genres",
                "text": f"Shares genres you favour: {join_words(genres)}.",
                "data": {"genres": genres},
            }
        )
    users = facts.get("similar_users") or {}
    liked_it, of = _number(users.get("liked_it")), _number(users.get("of"))
    if liked_it and of:
        whose = (
            f"the {int(of)} users whose tastes best match the anime you liked"
            if cold_start
            else f"your {int(of)} most similar users"
        )
        items.append(
            {
                "kind": "similar_users",
                "text": f"{int(liked_it)} of {whose} rated it highly.",
                "data": {"liked_it": int(liked_it), "of": int(of)},
            }
        )
    score, members = _number(facts.get("score")), _number(facts.get("members"))
    if score:
        text = f"Rated {score:.2f}/10" + (f" by {format_members(members)} members." if members else ".")
        items.append({"kind": "score", "text": text, "data": {"score": score, "members": members}})
    rank = _number(facts.get("popularity_rank"))
    if rank and rank >= 1:
        items.append(
            {"kind": "popularity", "text": f"#{int(rank)} in popularity.", "data": {"popularity_rank": int(rank)}}
        )
    strategy = facts.get("strategy")
    if isinstance(strategy, str) and strategy:
        items.append(
            {
                "kind": "strategy",
                "text": f"Picked using {strategy_words(strategy, cold_start)}.",
                "data": {"strategy": strategy},
            }
        )
    return items


def _people_clause(title: str, by_people: list[dict[str, Any]]) -> str:
    """Returns "people who love it tend to love T too", with the shared-user counts when known."""
    counts = [i["evidence"].get("shared_users") for i in by_people]
    if all(counts):
        if len(counts) == 1:
            return f"{_people(counts[0])} it also {'loves' if counts[0] == 1 else 'love'} {title}"
        return (
            f"people who love them also love {title} "
            f"({join_words([str(c) for c in counts])} people love both, respectively)"
        )
    return f"people who love {'it' if len(by_people) == 1 else 'those'} tend to love {title} too"


def _content_clauses(by_content: list[dict[str, Any]], also: bool) -> str:
    """Returns "is close in genres and story to X" and/or "shares Action with Y" (joined by "and")."""
    plain = [i["title"] for i in by_content if not i["evidence"].get("shared_genres")]
    shared = [
        f"{join_words(i['evidence']['shared_genres'][:3])} with {i['title']}"
        for i in by_content
        if i["evidence"].get("shared_genres")
    ]
    parts = []
    if plain:
        parts.append(f"is {'also ' if also else ''}close in genres and story to {join_words(plain)}")
    if shared:
        parts.append(f"{'also ' if also else ''}shares {join_words(shared)}")
    return " and ".join(parts)


def _because_sentence(title: str, liked: list[dict[str, Any]], cold_start: bool) -> str:
    by_franchise = [i["title"] for i in liked if i["by"] == "franchise"][:MAX_LIKED_SHOWN]
    by_people = [i for i in liked if i["by"] == "embedding"][:MAX_LIKED_SHOWN]
    people_titles = [i["title"] for i in by_people]
    by_content = [i for i in liked if i["by"] == "content" and i["title"] not in people_titles]
    by_content = by_content[: max(1, MAX_LIKED_SHOWN - len(by_people))]
    verb = "liked" if cold_start else "rated"
    sentences = []
    if by_franchise:
        sentences.append(
            f"{title} is from the same franchise as {join_words(by_franchise)}, which {_you_liked(cold_start)}."
        )
    if by_people:
        lead = (
            f"You {verb} {join_words(people_titles)}{'' if cold_start else ' highly'}, and "
            f"{_people_clause(title, by_people)}"
        )
        sentences.append(f"{lead}; it {_content_clauses(by_content, also=True)}." if by_content else f"{lead}.")
    elif by_content:
        sentences.append(f"{title} {_content_clauses(by_content, also=False)}, which {_you_liked(cold_start)}.")
    return " ".join(sentences)


def template_text(facts: dict[str, Any], cold_start: bool = False) -> str:
    """Returns a short explanation written only from the facts (the answer when no LLM is used).

    Args:
        facts: the recommender's explanation facts.
        cold_start: the person gave a liked list instead of a user id ("you liked", not "you rated";
            ``rated`` 0 in the facts counts too).
    """
    cold_start = is_cold_start(facts, cold_start)
    title = clean_text(facts.get("title")) or f"Anime {facts.get('anime_id')}"
    sentences: list[str] = []
    liked = liked_titles(facts)
    if liked:
        sentences.append(_because_sentence(title, liked, cold_start))
    genres = _genres(facts.get("shared_genres"))
    if genres:
        lead = "It shares" if sentences else f"{title} shares"
        sentences.append(
            f"{lead} {'the genre' if len(genres) == 1 else 'genres'} you enjoy most: {join_words(genres)}."
        )
    users = facts.get("similar_users") or {}
    liked_it, of = _number(users.get("liked_it")), _number(users.get("of"))
    if liked_it and of:
        whose = "best match the anime you liked" if cold_start else "are closest to yours"
        sentences.append(f"{int(liked_it)} of the {int(of)} users whose tastes {whose} rated it highly.")
    score, members = _number(facts.get("score")), _number(facts.get("members"))
    rank = _number(facts.get("popularity_rank"))
    if score:
        lead = "It is" if sentences else f"{title} is"
        tail = f" across {format_members(members)} members" if members else ""
        rank_part = f" and ranks #{int(rank)} in popularity" if rank and rank >= 1 else ""
        sentences.append(f"{lead} rated {score:.2f}/10{tail}{rank_part}.")
    if not sentences:
        sentences.append(f"{title} was picked for you based on {strategy_words(facts.get('strategy'), cold_start)}.")
    return " ".join(sentences)
