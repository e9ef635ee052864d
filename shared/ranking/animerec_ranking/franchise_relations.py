"""Franchise relations of a catalogue, from strict title evidence that names itself.

No package on PyPI or npm ships MyAnimeList's relation graph: ``anime-relations-py`` downloads
its rule file from GitHub at run time and carries no data, and the npm ``bangumi-data`` lists
air dates and site ids per title (mal, tmdb, ...) but no relations. So relations are derived by
rules over any catalogue (the user's own ``anime.csv`` gets them too), precision first:

* The *base* of a title is the title cut at its first subtitle separator (``:``, `` - ``,
  ``(``, ``~``, ``[``, ...), folded (case, accents, punctuation), with season, part, movie,
  OVA, special and number markers taken off its end and "gekijouban"/"zoku"-style markers off
  its start: "Shingeki no Kyojin Season 2" and "Shingeki no Kyojin: Kuinaki Sentaku" both have
  the base "shingeki no kyojin"; "Steins;Gate 0" has "steins gate".
* The rules (``title_base``, ``title_prefix``, ``shared_stem``, ``japanese_base``) are listed
  in ``fit_franchises``; Japanese titles only ever support a Latin-title rule.

So a single shared word is never enough ("Death Parade" and "Death Note" have different bases;
"Monster Musume no Iru Nichijou" is not "Monster"). A franchise is a connected part of this
relation graph; its watch order is by air date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .text import normalise_title

RULE_TITLE = "title_base"
RULE_JAPANESE = "japanese_base"
RULE_PREFIX = "title_prefix"
RULE_STEM = "shared_stem"
MIN_JAPANESE_STEM = 5
MAIN_SHARE = 0.25

# A subtitle starts at one of these (a hyphen inside a word, "K-On!", is not one).
_LATIN_SEP = re.compile(r"\s*(?::|：|\s[-–—~〜]\s|\s[-–—]|[(\[{（「『~〜])")
_JAPANESE_SEP = re.compile(r"\s*(?:[\s\u3000:：(\[{（「『【〈《<~〜～\-‐―–—]|\d)")
# Generic words that mark an entry of a series, never a franchise of their own.
_MARKERS = frozenset(
    """
season seasons part parts cour movie movies film films ova oav ona special specials sp tv
episode episodes recap picture drama final shou kan zoku hen new 2nd 3rd 4th 5th 6th 7th 8th 9th
1st nd rd th series chapter arc gekijouban gekijou ban eiga shin first second third fourth fifth sixth
stage
""".split()
)
_LEADING = frozenset("gekijouban gekijou ban eiga movie zoku the".split())
_ROMAN = re.compile(r"^(?:i{1,3}|iv|v|vi{1,3}|ix|x|r\d*|s\d+|x\d+|\d+(?:st|nd|rd|th)?)$")
# Words that carry no franchise on their own (particles, articles): a prefix must hold two others.
_FUNCTION_WORDS = frozenset("no wa ga wo o ni to de e mo na ya the a an of and in on to x vs".split())
_JAPANESE_LEADING = re.compile(r"^(?:劇場版|映画|劇場短編|続|新|TV版|OVA|OAD)\s*")
_JAPANESE_TRAILING = re.compile(
    r"(?:\s*(?:[x×][0-9]+|第?[0-9０-９一二三四五六七八九十]+(?:期|章|部|話|作|弾)|[0-9０-９]+|[ⅠⅡⅢⅣⅤⅥ]|"
    r"(?:2nd|3rd|\dth)\s*(?:season|シーズン)?|season\s*\d*|シーズン\d*|"
    r"劇場版|特別編|総集編|完結編|スペシャル|OVA|OAD|ONA|SP|TV|"
    r"[!！?？.。・☆★♪'’°＊*×]+))+$",
    re.IGNORECASE,
)


def _is_marker(word: str) -> bool:
    return word in _MARKERS or bool(_ROMAN.match(word))


def latin_base(title: str) -> str:
    """Returns the base of a romaji or English title ("" when nothing specific is left)."""
    raw = unicodedata.normalize("NFKC", str(title or "")).strip()
    if not raw or raw.casefold() == "unknown":
        return ""
    head = _LATIN_SEP.split(raw, maxsplit=1)[0]
    words = normalise_title(head).split()
    while words and words[0] in _LEADING:
        words = words[1:]
    full = len(words)
    while len(words) > 1 and _is_marker(words[-1]):
        words = words[:-1]
    if not words or (len(words) == 1 and _is_marker(words[0])):
        return ""
    # "Tales of Gekijou" minus its marker is "tales of": a stub, not a title
    return "" if len(words) < full and words[-1] in _FUNCTION_WORDS else " ".join(words)


def latin_whole(title: str) -> str:
    """Returns a title that names a whole work, for the prefix rule: "" when it has a subtitle.

    Trailing marker words go ("Sword Art Online Movie" -> "sword art online") but numbers stay:
    "Ginga Tetsudou 999" must not become the prefix of "Ginga Tetsudou no Yoru".
    """
    raw = unicodedata.normalize("NFKC", str(title or "")).strip()
    if not raw or raw.casefold() == "unknown" or _LATIN_SEP.search(raw):
        return ""
    words = normalise_title(raw).split()
    while words and words[0] in _LEADING:
        words = words[1:]
    full = len(words)
    while len(words) > 1 and words[-1] in _MARKERS:
        words = words[:-1]
    return "" if not words or (len(words) < full and words[-1] in _FUNCTION_WORDS) else " ".join(words)


def japanese_base(title: str) -> str:
    """Returns the base of a Japanese title ("" when nothing specific is left)."""
    raw = unicodedata.normalize("NFKC", str(title or "")).strip()
    if not raw or raw.casefold() == "unknown":
        return ""
    raw = _JAPANESE_LEADING.sub("", raw)
    head = _JAPANESE_SEP.split(raw, maxsplit=1)[0] if not raw[:1].isdigit() else raw
    base = _JAPANESE_TRAILING.sub("", head).strip()
    return base.casefold() if len(base) >= 2 else ""


@dataclass(frozen=True)
class Evidence:
    """Why two anime are linked: the rules that hold and the base they share."""

    rules: tuple[str, ...]
    base: str


@dataclass
class Franchises:
    """The franchise relation over a catalogue (row order = the catalogue frame's order)."""

    anime_ids: np.ndarray  # int64 [n]
    label: np.ndarray  # int64 [n]: franchise id (the smallest row of the franchise)
    order: np.ndarray  # float64 [n]: watch-order key (air date as days, NaN last)
    edges: dict[tuple[int, int], Evidence] = field(default_factory=dict)  # (row a < row b) -> evidence
    popularity: np.ndarray | None = None  # float64 [n]: MAL members (main entries vs extras)
    adjacency: sp.csr_matrix | None = None
    _members: dict[int, np.ndarray] = field(default_factory=dict)

    @cached_property
    def size(self) -> np.ndarray:
        """Returns the number of entries of each row's franchise."""
        return np.bincount(self.label, minlength=len(self.label))[self.label]

    def members(self, row: int) -> np.ndarray:
        """Returns the rows of a row's franchise (itself included), in watch order."""
        lab = int(self.label[row])
        if lab not in self._members:
            rows = np.flatnonzero(self.label == lab)
            self._members[lab] = rows[np.lexsort((self.anime_ids[rows], np.nan_to_num(self.order[rows], nan=np.inf)))]
        return self._members[lab]

    def main_first(self, rows: np.ndarray) -> np.ndarray:
        """Returns rows (in watch order) with the main entries first, then the extras, each in watch order.

        A main entry has at least ``MAIN_SHARE`` of the members of the franchise's most followed
        entry: Attack on Titan's Season 2 comes before its recap film and OVAs, which aired first.
        """
        rows = np.asarray(rows, dtype=np.int64)
        main = self._is_main(rows)
        return np.concatenate([rows[main], rows[~main]])

    def main_rows(self, rows: np.ndarray) -> np.ndarray:
        """Returns the main entries among rows (all of them without popularity figures)."""
        rows = np.asarray(rows, dtype=np.int64)
        return rows[self._is_main(rows)]

    def _is_main(self, rows: np.ndarray) -> np.ndarray:
        if self.popularity is None or len(rows) < 2:
            return np.ones(len(rows), bool)
        top = self.popularity[self.members(int(rows[0]))].max()
        return self.popularity[rows] >= MAIN_SHARE * top

    def same(self, a: int, b: int) -> bool:
        return a != b and self.label[a] == self.label[b]

    def path(self, a: int, b: int) -> list[int]:
        """Returns the rows of a shortest relation path from a to b ([] when not related)."""
        if not self.same(a, b) or self.adjacency is None:
            return []
        _, prev = breadth_first_order(self.adjacency, a, directed=False, return_predecessors=True)
        out, r = [], b
        while r >= 0:
            out.append(int(r))
            r = prev[r]
        return out[::-1]

    def evidence(self, a: int, b: int) -> dict[str, Any] | None:
        """Returns {"relation", "rules", "base", "path"} of a link from a to b, None when unrelated."""
        path = self.path(a, b)
        if len(path) < 2:
            return None
        steps = [self.edges[(min(x, y), max(x, y))] for x, y in zip(path, path[1:], strict=False)]
        rules = sorted({r for e in steps for r in e.rules})
        return {
            "relation": "same_franchise",
            "rules": rules,
            "base": steps[0].base,
            "path": [int(self.anime_ids[r]) for r in path],
        }


def _days(dates: pd.Series) -> np.ndarray:
    parsed = pd.to_datetime(dates.astype("string").fillna(""), errors="coerce", format="ISO8601")
    out = (parsed - pd.Timestamp("1900-01-01")).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def watch_order_key(anime: pd.DataFrame) -> np.ndarray:
    """Returns the watch-order key of each row: air start date (days), else mid-year, else NaN."""
    key = np.full(len(anime), np.nan)
    if "aired_from" in anime:
        key = _days(anime["aired_from"])
    if "year" in anime:
        year = pd.to_numeric(anime["year"], errors="coerce").to_numpy(np.float64)
        by_year = (year - 1900.0) * 365.25 + 182.0
        key = np.where(np.isnan(key), by_year, key)
    return key


def _content_words(words: list[str] | tuple[str, ...]) -> int:
    return sum(1 for w in words if w not in _FUNCTION_WORDS)


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y or x.isspace():
            break
        n += 1
    return n


def _rows_by_key(keys_per_row: Sequence[Iterable[str]]) -> dict[str, list[int]]:
    """Returns {key: the rows that have it} (empty keys skipped)."""
    out: dict[str, list[int]] = {}
    for row, keys in enumerate(keys_per_row):
        for key in keys:
            if key:
                out.setdefault(key, []).append(row)
    return out


def _add(
    pairs: dict[tuple[int, int], dict[str, str]],
    rows: Iterable[int],
    rule: str,
    base: str,
    max_group: int,
    linked: Callable[[int, int], bool] | None = None,
) -> None:
    """Records ``rule`` (with ``base``) for every pair of rows (that ``linked`` accepts)."""
    rows = sorted(set(rows))
    if len(rows) < 2 or len(rows) > max_group:
        return
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if linked is None or linked(a, b):
                pairs.setdefault((a, b), {}).setdefault(rule, base)


def fit_franchises(anime: pd.DataFrame, max_group: int = 400, max_stem_titles: int = 12) -> Franchises:
    """Returns the franchise relation of a catalogue with ``anime_id`` and title columns.

    Title columns used when present: ``name`` (romaji), ``english_name``, ``japanese_name``.
    Rules (each names itself in the evidence):

    * ``title_base``: equal romaji/English bases; a one-word base also needs equal Japanese bases.
    * ``title_prefix``: one anime's whole title (no subtitle; see ``latin_whole``) is the
      whole-word start of the other's title ("Tokyo Ghoul" -> "Tokyo Ghoul √A"); with one content
      word (not "no", "the", ...) the Japanese bases must agree too.
    * ``shared_stem``: both titles start with the same two or more content words, which start
      at most ``max_stem_titles`` titles of the catalogue, and the Japanese titles share their
      first ``MIN_JAPANESE_STEM`` or more characters ("Suzumiya Haruhi no Yuuutsu" / "... no
      Shoushitsu").
    * ``japanese_base``: equal Japanese bases; supporting evidence only, never enough alone
      (series labels such as 世界名作劇場 would link unrelated works).

    A base shared by more than ``max_group`` titles is too generic to link anything.
    """
    n = len(anime)
    ids = anime["anime_id"].to_numpy(np.int64)

    def col(name: str) -> list[str]:
        return anime[name].fillna("").astype(str).tolist() if name in anime else [""] * n

    latin_titles = list(zip(col("name"), col("english_name"), strict=False))
    bases = [sorted({b for b in (latin_base(t) for t in titles) if _letters(b) >= 3}) for titles in latin_titles]
    folded = [
        sorted({f for f in (normalise_title(t) for t in titles if t.strip().casefold() != "unknown") if f})
        for titles in latin_titles
    ]
    jp_full = [unicodedata.normalize("NFKC", t).strip().casefold() for t in col("japanese_name")]
    jp_full = ["" if t == "unknown" else t for t in jp_full]
    japanese = [japanese_base(t) for t in col("japanese_name")]
    pairs: dict[tuple[int, int], dict[str, str]] = {}
    for base, rows in _rows_by_key(bases).items():
        _add(pairs, rows, RULE_TITLE, base, max_group)
    for base, rows in _rows_by_key([[b] for b in japanese]).items():
        _add(pairs, rows, RULE_JAPANESE, base, max_group)
    by_prefix: dict[tuple[str, ...], set[int]] = {}
    for row, titles in enumerate(folded):
        for title in titles:
            words = tuple(title.split())
            for k in range(1, len(words)):
                if _content_words(words[:k]) >= 1:
                    by_prefix.setdefault(words[:k], set()).add(row)
    for base, rows in _rows_by_key([sorted({latin_whole(t) for t in titles}) for titles in latin_titles]).items():
        words = tuple(base.split())
        if words in by_prefix and _letters(base) >= 3:  # one content word: Japanese bases must agree
            _add(pairs, rows + list(by_prefix[words]), RULE_PREFIX, base, max_group)
    for words, rows_set in by_prefix.items():
        if _content_words(words) >= 2:
            _add(
                pairs,
                rows_set,
                RULE_STEM,
                " ".join(words),
                max_stem_titles,
                linked=lambda a, b: _common_prefix(jp_full[a], jp_full[b]) >= MIN_JAPANESE_STEM,
            )
    edges: dict[tuple[int, int], Evidence] = {}
    for (a, b), rules in pairs.items():
        title = rules.get(RULE_TITLE, "")
        prefix = rules.get(RULE_PREFIX, "")
        strong = (
            any(
                bool(base) and (_content_words(base.split()) >= 2 or RULE_JAPANESE in rules) for base in (title, prefix)
            )
            or RULE_STEM in rules
        )
        if strong:
            names = tuple(r for r in (RULE_TITLE, RULE_PREFIX, RULE_STEM, RULE_JAPANESE) if r in rules)
            base = next(rules[r] for r in (RULE_TITLE, RULE_PREFIX, RULE_STEM) if r in rules)
            edges[(a, b)] = Evidence(rules=names, base=base)
    if edges:
        a, b = np.array(list(edges)).T
        adj = sp.coo_matrix((np.ones(len(a) * 2, np.int8), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    else:
        adj = sp.csr_matrix((n, n), dtype=np.int8)
    _, comp = connected_components(adj, directed=False)
    first = np.full(comp.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n))
    popularity = (
        pd.to_numeric(anime["members"], errors="coerce").fillna(0).to_numpy(np.float64) if "members" in anime else None
    )
    return Franchises(
        anime_ids=ids,
        label=first[comp].astype(np.int64),
        order=watch_order_key(anime),
        edges=edges,
        adjacency=adj,
        popularity=popularity,
    )
