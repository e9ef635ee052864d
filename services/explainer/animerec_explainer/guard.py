"""Checks an LLM answer: it may name only the titles that are among the facts.

Two checks, both conservative (a false alarm only costs the LLM wording: the template answers):

1. Quoted spans. The system prompt asks for every title in double quotes and for quotes nowhere
   else, so every span inside "...", “...”, «...», 「...» or 『...』 must be one of the allowed
   names: the recommended anime's title, the because-you-liked titles, their short forms (the
   part before ":" or " - "), every catalogue name of those anime, and the genres in the facts.
2. Known titles. When the title catalogue is loaded (every name, English name and Japanese name
   of the processed dataset's ``anime.parquet``), any run of words in the answer that spells a
   catalogue title of an anime not among the facts is rejected, quoted or not. Spans covered by an
   allowed name are masked first (so "Fullmetal Alchemist" inside an allowed "Fullmetal Alchemist:
   Brotherhood" is fine). To avoid false alarms on ordinary words, a span must be capitalised where
   the title is; a one-word title only counts mid-sentence, when it has 3+ characters and is not
   a genre name or a common word (e.g. "Another", "Monster" at the start of a sentence pass).

A third check (``unverified_claims``) refuses claims the facts do not hold:

3. Relations. Wording that relates two anime ("same franchise", "sequel", "prequel", "spin-off",
   "season 2", "next season", "continuation", "same series", "follow-up", "part of the ...
   series") is allowed only when some because-you-liked entry carries same-franchise evidence,
   and then only in a sentence that names no anime but the recommended one and those entries.
4. Ratings. Someone who gave no ratings (a liked list) must not be told "you rated" or "your ratings".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .facts import is_cold_start, same_franchise_titles

_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r'"([^"\n]{1,200})"|“([^”\n]{1,200})”|«([^»\n]{1,200})»|「([^」\n]{1,200})」|『([^』\n]{1,200})』')
MAX_TITLE_WORDS = 12
COMMON_WORDS = frozenset(
    w.casefold()
    for w in (
        "Japan Japanese English Tokyo Anime Manga MyAnimeList MAL Netflix Crunchyroll January February March "
        "April May June July August September October November December Monday Tuesday Wednesday Thursday "
        "Friday Saturday Sunday God Earth Sci Fi Slice Life"
    ).split()
)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> list[tuple[str, int]]:
    """Returns the words of a text with their offsets (NFKC-normalised, punctuation dropped)."""
    text = unicodedata.normalize("NFKC", text)
    return [(m.group(0), m.start()) for m in _WORD.finditer(text)]


def folded_key(text: str) -> tuple[str, ...]:
    """Returns the case- and accent-insensitive word tuple of a name."""
    return tuple(_fold(w) for w, _ in words_of(text))


def short_forms(name: str) -> list[str]:
    """Returns the name and its shortenings before ":" or " - " (how people cite a series)."""
    out = [name]
    for sep in (":", " - ", " – "):
        head = name.split(sep, 1)[0].strip()
        if head and head != name and len(head) >= 4:
            out.append(head)
    return out


@dataclass
class TitleCatalogue:
    """Every known title, for spotting titles that are not among the facts."""

    by_key: dict[tuple[str, ...], list[tuple[tuple[str, ...], frozenset[int]]]] = field(default_factory=dict)
    names_of: dict[int, list[str]] = field(default_factory=dict)
    genres: frozenset[str] = frozenset()
    source_id: str | None = None

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], source_id: str | None = None) -> TitleCatalogue:
        """Returns a catalogue of records with ``anime_id``, name columns and optional ``genres``."""
        index: dict[tuple[str, ...], dict[tuple[str, ...], set[int]]] = {}
        names_of: dict[int, list[str]] = {}
        genres: set[str] = set()
        for rec in records:
            aid = int(rec["anime_id"])
            for col in ("title", "name", "english_name", "japanese_name"):
                name = rec.get(col)
                if not isinstance(name, str) or not name.strip() or name.strip().lower() == "unknown":
                    continue
                names_of.setdefault(aid, []).append(name.strip())
                words = tuple(w for w, _ in words_of(name))
                if not words or len(words) > MAX_TITLE_WORDS or len("".join(words)) < 3:
                    continue
                index.setdefault(tuple(_fold(w) for w in words), {}).setdefault(words, set()).add(aid)
            for g in rec.get("genres") or ():
                genres.add(_fold(str(g)))
        by_key = {k: [(orig, frozenset(ids)) for orig, ids in v.items()] for k, v in index.items()}
        return cls(by_key=by_key, names_of=names_of, genres=frozenset(genres), source_id=source_id)

    def __len__(self) -> int:
        return len(self.names_of)


def allowed_names(facts: dict[str, Any], catalogue: TitleCatalogue | None) -> tuple[set[int], list[str]]:
    """Returns the anime ids among the facts and every name the answer may use for them."""
    ids = {int(facts["anime_id"])}
    names = [str(facts.get("title") or "")]
    for item in facts.get("because_you_liked") or []:
        if isinstance(item, dict):
            if item.get("anime_id") is not None:
                ids.add(int(item["anime_id"]))
            names.append(str(item.get("title") or ""))
    if catalogue is not None:
        for aid in ids:
            names.extend(catalogue.names_of.get(aid, []))
    names.extend(str(g) for g in (facts.get("genres") or []) + (facts.get("shared_genres") or []))
    return ids, [form for n in names if n.strip() for form in short_forms(n.strip())]


def _capitalised_like(span: tuple[str, ...], title: tuple[str, ...]) -> bool:
    return all(not t[:1].isupper() or s[:1].isupper() for s, t in zip(span, title, strict=True))


def _sentence_start(text: str, offset: int) -> bool:
    before = text[:offset].rstrip(" \t\n\"'“”«「『(")
    return not before or before[-1] in ".!?:;\n"


def unknown_titles(answer: str, facts: dict[str, Any], catalogue: TitleCatalogue | None) -> list[str]:
    """Returns the titles (or quoted spans) in the answer that are not among the facts; [] if clean."""
    ids, names = allowed_names(facts, catalogue)
    allowed_keys = {folded_key(n) for n in names} - {()}
    found: list[str] = []
    for match in _QUOTED.finditer(answer):
        quoted = next(g for g in match.groups() if g is not None).strip().rstrip(".,!?;:")
        if quoted and folded_key(quoted) not in allowed_keys:
            found.append(quoted)
    if catalogue is None or not catalogue.by_key:
        return found
    text = unicodedata.normalize("NFKC", answer)
    words = words_of(text)
    folded = [_fold(w) for w, _ in words]
    masked = [False] * len(words)
    for key in sorted(allowed_keys, key=len, reverse=True):
        n = len(key)
        for i in range(len(words) - n + 1):
            if tuple(folded[i : i + n]) == key:
                masked[i : i + n] = [True] * n
    i = 0
    while i < len(words):
        hit = 0
        for n in range(min(MAX_TITLE_WORDS, len(words) - i), 0, -1):
            if any(masked[i : i + n]):
                continue
            span = tuple(w for w, _ in words[i : i + n])
            for title, title_ids in catalogue.by_key.get(tuple(folded[i : i + n]), ()):
                if title_ids & ids or not _capitalised_like(span, title):
                    continue
                if n == 1 and (
                    _sentence_start(text, words[i][1]) or folded[i] in COMMON_WORDS or folded[i] in catalogue.genres
                ):
                    continue
                found.append(" ".join(span))
                hit = n
                break
            if hit:
                break
        i += hit or 1
    return list(dict.fromkeys(found))


_RELATION = re.compile(
    r"\bfranchises?\b|\bsame (?:series|saga|universe|story ?line|world|show)\b|\bsequels?\b|\bprequels?\b"
    r"|\bspin[- ]?offs?\b|\bside[- ]stor(?:y|ies)\b|\bfollow[- ]?ups?\b|\bfollows? up\b|\bcontinuations?\b"
    r"|\bcontinues? (?:the|its|where|from)\b|\bpicks? up where\b|\bremakes?\b|\breboots?\b|\binstal?lments?\b"
    r"|\b(?:first|second|third|fourth|fifth|final|next|previous|last|later|earlier|new|newer|latest|another) "
    r"seasons?\b|\bseasons? (?:\d+|one|two|three|four|five|i{1,3}|iv|v)\b|\b(?:\d+(?:st|nd|rd|th)) seasons?\b"
    r"|\bpart of (?:the|a|an|this|that|its)\b[^.!?]{0,60}?\b(?:series|franchise|saga|universe)\b",
    re.IGNORECASE,
)
_RATED = re.compile(
    r"\byou(?:'ve| have| had)? (?:rated|scored|ranked)\b|\byour (?:own )?(?:ratings?|scores?)\b"
    r"|\brated by you\b|\byour (?:watch|viewing|rating) history\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


def _named_ids(sentence: str, names_by_id: dict[int, list[str]]) -> set[int]:
    """Returns the anime ids whose names appear in a sentence (longest names first, spans not reused)."""
    words = [_fold(w) for w, _ in words_of(sentence)]
    keys: dict[tuple[str, ...], set[int]] = {}
    for aid, names in names_by_id.items():
        for name in names:
            for form in short_forms(name):
                key = folded_key(form)
                if key:
                    keys.setdefault(key, set()).add(aid)
    used = [False] * len(words)
    found: set[int] = set()
    for key in sorted(keys, key=len, reverse=True):
        n = len(key)
        for i in range(len(words) - n + 1):
            if not any(used[i : i + n]) and tuple(words[i : i + n]) == key:
                used[i : i + n] = [True] * n
                found |= keys[key]
    return found


def unverified_claims(
    answer: str, facts: dict[str, Any], catalogue: TitleCatalogue | None = None, cold_start: bool = False
) -> list[str]:
    """Returns the claims in the answer that the facts do not hold (relations, ratings); [] if clean.

    Args:
        answer: the LLM text.
        facts: the recommender's explanation facts.
        catalogue: the title catalogue (more names of the anime among the facts), or None.
        cold_start: the person gave a liked list, not ratings.
    """
    text = unicodedata.normalize("NFKC", answer)
    found: list[str] = []
    if is_cold_start(facts, cold_start):
        found.extend(f"rating claim: {m.group(0)}" for m in _RATED.finditer(text))
    target = int(facts["anime_id"])
    franchise = {int(i["anime_id"]) for i in same_franchise_titles(facts) if i.get("anime_id") is not None}
    names_by_id: dict[int, list[str]] = {target: [str(facts.get("title") or "")]}
    for item in facts.get("because_you_liked") or []:
        if isinstance(item, dict) and item.get("anime_id") is not None:
            names_by_id.setdefault(int(item["anime_id"]), []).append(str(item.get("title") or ""))
    if catalogue is not None:
        for aid in names_by_id:
            names_by_id[aid].extend(catalogue.names_of.get(aid, []))
    names_by_id = {aid: [n.strip() for n in names if n.strip()] for aid, names in names_by_id.items()}
    # a title among the facts may itself say "Season 2": its words are no claim
    allowed = sorted({n for names in names_by_id.values() for n in names}, key=len, reverse=True)
    titles = (
        re.compile("|".join(re.escape(unicodedata.normalize("NFKC", n)) for n in allowed), re.IGNORECASE)
        if allowed
        else None
    )
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        claims = [m.group(0) for m in _RELATION.finditer(titles.sub(" ", sentence) if titles else sentence)]
        if not claims:
            continue
        if not franchise:
            found.extend(f"relation claim: {c}" for c in claims)
            continue
        others = _named_ids(sentence, names_by_id) - franchise - {target}
        if others:
            found.extend(f"relation claim: {c} (about anime {sorted(others)})" for c in claims)
    return list(dict.fromkeys(found))
