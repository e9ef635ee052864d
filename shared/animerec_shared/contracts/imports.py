"""Bring your own list: a MyAnimeList export, parsed by the gateway, answered by the recommender.

The gateway reads the export (``POST /api/v1/imports/myanimelist``), classifies each entry as liked,
disliked, seen (watched, not recommended again) or planned ("Plan to Watch": intent, not a rating) and
asks the recommender's ``POST /profiles/recommendations`` with those id lists; the recommender matches
them against its catalogue, ranks with the cold-start blend and answers the lists and the genres.

Items are the recommender's list items (``AnimeItem``, whatever fields it carries) plus ``plan_to_watch``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import AnimeId
from .recommender import AnimeItem, GenreWeight, RankedListFilters

# A profile's id lists are far longer than a cold-start body's (500): a long MAL list has thousands of entries.
PROFILE_MAX_IDS = 10_000
UNKNOWN_SAMPLE = 20  # unknown ids named in an answer at most

MalStatus = Literal["watching", "completed", "on_hold", "dropped", "plan_to_watch"]


_IMPORTED_ITEM_EXAMPLE: dict[str, Any] = {
    "anime_id": 9253,
    "title": "Steins;Gate",
    "name": "Steins;Gate",
    "english_title": "Steins;Gate",
    "genres": ["Sci-Fi", "Thriller"],
    "type": "TV",
    "year": 2011,
    "episodes": 24,
    "score": 9.11,
    "members": 2000000,
    "url": "https://myanimelist.net/anime/9253",
    "relevance": 1.0,
    "franchise": {"id": 9253, "size": 3},
    "sources": ["collaborative", "popularity"],
    "plan_to_watch": True,
}


class ProfileRecommendationsRequest(RankedListFilters):
    """Body of the recommender's POST /profiles/recommendations: a whole list, already classified."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"liked": [5114, 9253], "disliked": [1535], "seen": [121], "planned": [199], "limit": 10}]
        },
    )

    liked: list[AnimeId] = Field(default_factory=list, max_length=PROFILE_MAX_IDS, description="liked anime ids")
    disliked: list[AnimeId] = Field(
        default_factory=list, max_length=PROFILE_MAX_IDS, description="disliked anime ids (low scores, dropped)"
    )
    seen: list[AnimeId] = Field(
        default_factory=list,
        max_length=PROFILE_MAX_IDS,
        description="watched anime neither liked nor disliked: never recommended, no signal",
    )
    planned: list[AnimeId] = Field(
        default_factory=list,
        max_length=PROFILE_MAX_IDS,
        description="on the person's plan-to-watch list: no signal, may be recommended (and is marked so)",
    )
    limit: int = Field(10, ge=1, le=100, description="how many anime (discovery; continue lists at most as many)")


class ImportedItem(AnimeItem):
    """A list item of an imported list: the recommender's item and whether it is on the plan-to-watch list."""

    model_config = ConfigDict(extra="allow")  # items may carry fields newer than this model: passed through

    plan_to_watch: bool = Field(False, description="the anime is on the imported plan-to-watch list")


class ProfileMatch(BaseModel):
    """How the profile's ids met the served catalogue."""

    matched: int = Field(description="distinct ids of the profile found in the catalogue")
    unknown: int = Field(description="distinct ids not in the catalogue (left out)")
    unknown_ids: list[int] = Field(description=f"the first {UNKNOWN_SAMPLE} unknown ids, ascending")
    liked_from: Literal["scores", "seen"] = Field(
        description="scores: the liked anime ranked the list; seen: none of them was known, the watched ones did"
    )


class ImportedPreferences(BaseModel):
    """Favourite genres of the liked anime (the same weights as a known user's preferences)."""

    genres: list[GenreWeight] = Field(description="the liked anime's genres, largest share first")


class ProfileRecommendations(BaseModel):
    """Answer of POST /profiles/recommendations."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_IMPORTED_ITEM_EXAMPLE],
                    "continue": [],
                    "plan_to_watch_ids": [9253],
                    "preferences": {"genres": [{"genre": "Action", "weight": 0.31, "count": 12}]},
                    "match": {
                        "matched": 309,
                        "unknown": 3,
                        "unknown_ids": [48000, 48001, 48002],
                        "liked_from": "scores",
                    },
                    "strategy": "hybrid",
                    "model_version": "20261201-120000",
                    "took_ms": 12.5,
                }
            ]
        }
    )

    items: list[ImportedItem] = Field(description="discovery: franchises of liked and disliked anime left out")
    continue_: list[ImportedItem] = Field(
        alias="continue", description="the next unseen entries of the liked anime's franchises, in watch order"
    )
    plan_to_watch_ids: list[int] = Field(description="ids of items and continue that are on the plan-to-watch list")
    preferences: ImportedPreferences = Field(description="favourite genres of the liked anime")
    match: ProfileMatch = Field(description="how the profile's ids met the served catalogue")
    strategy: str = Field(description="the strategy that ranked the lists (the cold-start blend: hybrid)")
    model_version: str = Field(description="the model version that answered")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")


class ImportQuery(BaseModel):
    """Query of POST /api/v1/imports/myanimelist."""

    limit: int = Field(10, ge=1, le=100, description="how many anime (discovery and continue, each)")
    include_adult: bool = Field(False, description="include adult titles (Rx - Hentai)")
    store: bool = Field(
        False, description="also write the parsed list (ids, statuses, scores; not the file) to storage"
    )


class ImportSummary(BaseModel):
    """What the export held and how it was read (counts over its entries)."""

    entries: int = Field(description="anime entries in the export")
    matched: int = Field(description="entries whose anime is in the catalogue")
    unknown: int = Field(description="entries whose anime is not in the catalogue (left out)")
    unknown_ids: list[int] = Field(description=f"the first {UNKNOWN_SAMPLE} unknown ids, ascending")
    scored: int = Field(description="entries with a score 1-10")
    unscored: int = Field(description="entries with score 0 (MAL's 'not scored')")
    mean_score: float | None = Field(description="mean of the scores 1-10 (None: nothing scored)")
    liked: int = Field(description="entries counted as liked (see the rule in the route's description)")
    disliked: int = Field(description="entries counted as disliked (low scores and every Dropped entry)")
    dropped: int = Field(description="entries with status Dropped")
    plan_to_watch: int = Field(description="entries with status Plan to Watch (no signal, not excluded)")
    liked_from: Literal["scores", "seen"] = Field(
        description="scores: ranked from the liked anime; seen: none was known or liked, ranked from the watched ones"
    )


class StoredImport(BaseModel):
    """Where the parsed list (not the file) was written."""

    key: str = Field(examples=["imports/myanimelist/3f5c....json"], description="storage key")
    sha256: str = Field(description="sha256 of the stored JSON (the key's name): the same list, the same key")


class ImportRecommendations(BaseModel):
    """The discovery list of an imported list."""

    items: list[ImportedItem] = Field(
        description="discovery, best first: franchises of the liked and disliked anime and every watched anime left out"
    )
    plan_to_watch_ids: list[int] = Field(description="ids of recommended anime (items or continue) on the plan list")
    strategy: str = Field(description="the strategy that ranked the lists (the cold-start blend: hybrid)")
    model_version: str = Field(description="the model version that answered")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")


class MalImportAnswer(BaseModel):
    """Answer of POST /api/v1/imports/myanimelist."""

    model_config = ConfigDict(populate_by_name=True)

    recommendations: ImportRecommendations = Field(description="the discovery list")
    continue_: list[ImportedItem] = Field(alias="continue", description="the next entries of the liked franchises")
    preferences: ImportedPreferences = Field(description="favourite genres of the liked anime")
    summary: ImportSummary = Field(description="what the export held and how it was read")
    stored: StoredImport | None = Field(description="null unless store=true")


IMPORT_EXAMPLE: dict[str, Any] = {
    "recommendations": {
        "items": [_IMPORTED_ITEM_EXAMPLE],
        "plan_to_watch_ids": [9253],
        "strategy": "hybrid",
        "model_version": "20261201-120000",
        "took_ms": 12.5,
    },
    "continue": [],
    "preferences": {"genres": [{"genre": "Action", "weight": 0.31, "count": 12}]},
    "summary": {
        "entries": 312,
        "matched": 309,
        "unknown": 3,
        "unknown_ids": [48000, 48001, 48002],
        "scored": 250,
        "unscored": 62,
        "mean_score": 7.9,
        "liked": 140,
        "disliked": 31,
        "dropped": 12,
        "plan_to_watch": 40,
        "liked_from": "scores",
    },
    "stored": None,
}
