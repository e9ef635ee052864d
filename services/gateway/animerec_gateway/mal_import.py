"""Reading a MyAnimeList export (the XML of MAL's "Export", gzipped or not) with bounded memory and no surprises.

A hostile file gets one stable 4xx error code and nothing else:

* the upload is capped while it streams in (``ImportBodyLimit``, GATEWAY_IMPORT_MAX_UPLOAD_BYTES) and again
  as the file is read (413 ``import_too_large``);
* a gzipped file is inflated in a streaming way, ``zlib`` ``max_length`` bounded chunks, and refused once the
  XML passes GATEWAY_IMPORT_MAX_XML_BYTES (a gzip bomb: 413 ``import_too_large``, read no further);
* the XML is parsed by ``defusedxml`` with DTDs, entities and external references forbidden (billion laughs,
  XXE: 422 ``import_forbidden_xml``); malformed XML is 422 ``import_malformed_xml`` naming line and column;
* past GATEWAY_IMPORT_MAX_ENTRIES ``<anime>`` entries parsing stops (413 ``import_too_many_entries``).

Liked and disliked come from the person's own scale (MAL users score high: a 7 is often a below-average
score): with ``m`` the mean of their scores 1-10 (Plan to Watch scores left out), a scored entry is **liked**
when its score is >= m and >= 6, **disliked** when it is <= m - 2 or <= 4, and otherwise seen (no signal).
Score 0 is MAL's "not scored": seen. Every Dropped entry is disliked whatever its score. Plan to Watch is
intent, not a rating: neither liked nor disliked nor seen (it may be recommended, and is marked so).
Watching, Completed and On-Hold entries are never recommended again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from starlette.types import ASGIApp, Receive, Scope, Send

from animerec_shared.body_cap import capped_receive
from animerec_shared.contracts.common import ANIME_ID_MAX, ANIME_ID_MIN
from animerec_shared.errors import AnimeRecError

from .limits import IMPORT_PATH, BodyLimitMiddleware

STORAGE_PREFIX = "imports/myanimelist"
STORED_FORMAT = "animerec.myanimelist-import/1"
READ_CHUNK = 64 * 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the multipart framing around the file (boundary, part headers)
LIKED_MIN, DISLIKED_MAX, DISLIKED_BELOW_MEAN = 6, 4, 2.0
_GZIP_MAGIC = b"\x1f\x8b"
# MAL writes the status as words, or in some exports as the numeric codes of its API (5 is unused).
_STATUS_CODES = {"1": "watching", "2": "completed", "3": "on_hold", "4": "dropped", "6": "plan_to_watch"}
_STATUS_WORDS = {
    "watching": "watching",
    "currently watching": "watching",
    "completed": "completed",
    "on hold": "on_hold",
    "onhold": "on_hold",
    "dropped": "dropped",
    "plan to watch": "plan_to_watch",
    "plantowatch": "plan_to_watch",
}
SEEN_STATUSES = frozenset({"watching", "completed", "on_hold"})


class ImportTooLarge(AnimeRecError):
    status_code = 413
    code = "import_too_large"


class ImportRejected(AnimeRecError):
    status_code = 422
    code = "import_invalid"


@dataclass(frozen=True, slots=True)
class Entry:
    """One anime of the export: what the recommendation reads (title, dates, tags and comments are dropped)."""

    anime_id: int
    status: str
    score: int
    watched_episodes: int


@dataclass
class Profile:
    """A parsed export, classified: the id lists the recommender takes and the counts of the summary."""

    entries: list[Entry]
    liked: list[int] = field(default_factory=list)
    disliked: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    planned: list[int] = field(default_factory=list)
    mean_score: float | None = None

    def counts(self) -> dict[str, Any]:
        """Returns the summary counts over the entries."""
        scored = sum(1 for e in self.entries if e.score > 0)
        return {
            "entries": len(self.entries),
            "scored": scored,
            "unscored": len(self.entries) - scored,
            "mean_score": None if self.mean_score is None else round(self.mean_score, 3),
            "liked": len(self.liked),
            "disliked": len(self.disliked),
            "dropped": sum(1 for e in self.entries if e.status == "dropped"),
            "plan_to_watch": len(self.planned),
        }

    def stored_json(self) -> tuple[bytes, str]:
        """Returns the parsed list as canonical JSON (no name, no user id, no titles) and its sha256."""
        doc = {
            "format": STORED_FORMAT,
            "entries": [
                {"anime_id": e.anime_id, "status": e.status, "score": e.score, "watched_episodes": e.watched_episodes}
                for e in sorted(self.entries, key=lambda e: e.anime_id)
            ],
        }
        data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return data, hashlib.sha256(data).hexdigest()


def raw_chunks(file: IO[bytes], max_upload_bytes: int) -> Iterator[bytes]:
    """Yields the uploaded file in chunks; 413 `import_too_large` past max_upload_bytes."""
    total = 0
    while chunk := file.read(READ_CHUNK):
        total += len(chunk)
        if total > max_upload_bytes:
            raise _too_large("upload", max_upload_bytes)
        yield chunk


def xml_chunks(chunks: Iterator[bytes], max_xml_bytes: int) -> Iterator[bytes]:
    """Yields the XML of the upload: inflated when it is gzipped (several members too), at most max_xml_bytes.

    Each inflate step produces at most READ_CHUNK bytes (``max_length``), so a gzip bomb costs READ_CHUNK of
    memory and max_xml_bytes of inflating before it is refused."""
    first = next(chunks, b"")
    if not first.startswith(_GZIP_MAGIC):
        total = 0
        for chunk in itertools.chain((first,), chunks):
            total += len(chunk)
            if total > max_xml_bytes:
                raise _too_large("xml", max_xml_bytes)
            if chunk:
                yield chunk
        return
    total = 0
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = first
    source = iter(chunks)
    while True:
        try:
            out = inflater.decompress(pending, READ_CHUNK)
        except zlib.error as exc:
            raise ImportRejected(f"the gzip file is corrupt: {exc}", code="import_bad_gzip") from None
        pending = inflater.unconsumed_tail
        total += len(out)
        if total > max_xml_bytes:
            raise _too_large("xml", max_xml_bytes)
        if out:
            yield out
        if inflater.eof:
            rest = inflater.unused_data
            if not rest:
                rest = next(source, b"")
            if not rest:
                return
            if not rest.startswith(_GZIP_MAGIC):  # concatenated members are gzip; anything else is not
                raise ImportRejected("data after the end of the gzip stream", code="import_bad_gzip")
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
        elif not pending:
            pending = next(source, b"")
            if not pending:
                raise ImportRejected("the gzip file is truncated", code="import_bad_gzip")


class _ChunkReader:
    """A read()-able view of a chunk iterator (what iterparse reads from)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks = chunks

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


def _too_large(part: str, limit: int) -> ImportTooLarge:
    what = "the uploaded file" if part == "upload" else "the XML (after gunzip)"
    return ImportTooLarge(f"{what} is larger than {limit:,} bytes", details={"part": part, "limit_bytes": limit})


def _status(raw: str) -> str | None:
    text = raw.strip().lower()
    return _STATUS_CODES.get(text) or _STATUS_WORDS.get(text.replace("-", " ").replace("_", " "))


def _int(entry: Any, tag: str, number: int, low: int, high: int, default: int | None = None) -> int:
    text = (entry.findtext(tag) or "").strip()
    if not text and default is not None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ImportRejected(
            f"entry {number}: <{tag}> must be a whole number from {low} to {high}, found {text[:40]!r}",
            code="import_invalid_entry",
            details={"entry": number, "field": tag, "found": text[:40]},
        )
    return value


def _entry(elem: Any, number: int) -> Entry:
    raw_status = elem.findtext("my_status") or ""
    status = _status(raw_status)
    if status is None:
        raise ImportRejected(
            f"entry {number}: unknown <my_status> {raw_status.strip()[:40]!r} (Watching, Completed, On-Hold, "
            "Dropped, Plan to Watch or 1, 2, 3, 4, 6)",
            code="import_invalid_entry",
            details={"entry": number, "field": "my_status", "found": raw_status.strip()[:40]},
        )
    return Entry(
        anime_id=_int(elem, "series_animedb_id", number, ANIME_ID_MIN, ANIME_ID_MAX),
        status=status,
        score=_int(elem, "my_score", number, 0, 10, default=0),
        watched_episodes=_int(elem, "my_watched_episodes", number, 0, 1_000_000, default=0),
    )


def parse_export(file: IO[bytes], *, max_upload_bytes: int, max_xml_bytes: int, max_entries: int) -> list[Entry]:
    """Returns the entries of a MAL export (the first of an anime listed twice), raising the import errors."""
    source = _ChunkReader(xml_chunks(raw_chunks(file, max_upload_bytes), max_xml_bytes))
    entries: dict[int, Entry] = {}
    seen_entries = 0
    root: Any = None
    try:
        for event, elem in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if root is None:
                root = elem
                if elem.tag != "myanimelist":
                    raise ImportRejected(
                        f"not a MyAnimeList export: the root element is <{str(elem.tag)[:40]}>, not <myanimelist>",
                        code="import_not_myanimelist",
                    )
                continue
            if event != "end" or elem.tag != "anime":
                continue
            seen_entries += 1
            if seen_entries > max_entries:
                raise ImportTooLarge(
                    f"the export has more than {max_entries:,} anime entries",
                    code="import_too_many_entries",
                    details={"limit": max_entries},
                )
            entry = _entry(elem, seen_entries)
            entries.setdefault(entry.anime_id, entry)
            root.clear()  # keep memory bounded: entries are read as they end
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        raise ImportRejected(
            f"malformed XML at line {line}, column {column}: {exc}",
            code="import_malformed_xml",
            details={"line": line, "column": column},
        ) from None
    except DefusedXmlException as exc:
        raise ImportRejected(
            f"the XML declares a DTD, entities or external references, which no export has ({type(exc).__name__})",
            code="import_forbidden_xml",
            details={"reason": type(exc).__name__},
        ) from None
    if root is None:
        raise ImportRejected("the file is empty", code="import_malformed_xml", details={"line": 1, "column": 0})
    if not entries:
        raise ImportRejected("the export lists no anime", code="import_empty")
    return list(entries.values())


def classify(entries: list[Entry]) -> Profile:
    """Returns the entries as liked / disliked / seen / planned id lists (the rule is in the module docstring)."""
    scores = [e.score for e in entries if e.score > 0 and e.status != "plan_to_watch"]
    mean = sum(scores) / len(scores) if scores else None
    profile = Profile(entries=entries, mean_score=mean)
    for e in entries:
        if e.status == "plan_to_watch":
            profile.planned.append(e.anime_id)
        elif e.status == "dropped":
            profile.disliked.append(e.anime_id)
        elif e.score > 0 and mean is not None and e.score >= mean and e.score >= LIKED_MIN:
            profile.liked.append(e.anime_id)
        elif e.score > 0 and mean is not None and (e.score <= mean - DISLIKED_BELOW_MEAN or e.score <= DISLIKED_MAX):
            profile.disliked.append(e.anime_id)
        else:
            profile.seen.append(e.anime_id)
    return profile


class ImportBodyLimit:
    """The gateway's body limit, with the import's own cap for its upload.

    Other requests keep the whole-body limit (``BodyLimitMiddleware``); the import's multipart body is
    refused from the stream once it passes GATEWAY_IMPORT_MAX_UPLOAD_BYTES plus framing (as the ingestion
    service's upload cap: the error is raised inside the route's own receive calls, answered in the error
    schema, and the rest is never read or spooled)."""

    def __init__(self, app: ASGIApp, max_bytes: int, import_max_bytes: int):
        self.app = app  # the app behind, for the import
        self.limited = BodyLimitMiddleware(app, max_bytes)  # the same app behind the ordinary body limit
        self.max_bytes = import_max_bytes + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != IMPORT_PATH:
            await self.limited(scope, receive, send)
            return
        await self.app(scope, capped_receive(scope, receive, self.max_bytes, self._error), send)

    def _error(self) -> ImportTooLarge:
        return ImportTooLarge(
            f"the upload is larger than {self.max_bytes:,} bytes (the import cap plus framing)",
            details={"part": "upload", "limit_bytes": self.max_bytes},
        )
