"""Public request bodies and documented response shapes of /api/v1.

Request bodies are validated here (bounds, examples) and forwarded as sent; response models only
document the upstream answers in OpenAPI: the gateway passes the upstream bytes through untouched.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

STRATEGY_PATTERN = r"^[a-z][a-z_]{0,31}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
Strategy = Literal["hybrid", "collaborative", "user_based", "content", "item_item", "popularity"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """The platform's one error schema."""

    class _Error(BaseModel):
        code: str = Field(examples=["anime_not_found"])
        message: str
        details: Any = None

    error: _Error


class FranchiseRef(BaseModel):
    """The franchise of a list item."""

    id: int = Field(description="anime_id of the franchise's first entry in watch order")
    size: int = Field(description="entries in the franchise (1: standalone)")


class AnimeItem(_Open):
    """One anime in a list answer (more fields may follow)."""

    anime_id: int
    title: str = Field(examples=["Fullmetal Alchemist: Brotherhood"], description="English title, else romaji")
    name: str | None = Field(None, description="romaji title")
    english_title: str | None = None
    genres: list[str] = []
    type: str | None = None
    year: int | None = None
    score: float | None = Field(None, description="MyAnimeList score")
    members: int | None = None
    similarity: float | None = Field(None, description="similarity (similar-anime and search lists)")
    relevance: float | None = Field(None, description="ranking score (recommendation lists)")
    franchise: FranchiseRef | None = Field(None, description=(
        "its franchise; a discovery item stands for the whole franchise (size - 1 other entries)"))
    sources: list[str] | None = Field(None, description=(
        "components that ranked it: item_item, collaborative, content, franchise, user_based, popularity, quality"))


class AnimeList(_Open):
    """A list answer of the recommender."""

    items: list[AnimeItem] = Field(description=(
        "recommendations: discovery (the franchises rated or liked left out, `max_per_franchise` entries of "
        "each other one); similar anime: the anime's own franchise left out; search: best match first"))
    continue_: list[AnimeItem] | None = Field(None, alias="continue", description=(
        "recommendations only: the next unrated entries of the franchises rated or liked, in watch order, "
        "best franchises first ([] with mix_franchises=true)"))
    model_version: str | None = None
    took_ms: float | None = None
    strategy: str | None = Field(None, description="recommendations: the strategy used")
    method: str | None = Field(None, description="similar anime: the method used")


class ContinueList(_Open):
    """Continue watching: the next unrated entries of a user's franchises."""

    items: list[AnimeItem] = Field(description="in watch order, best franchises first")
    model_version: str | None = None
    took_ms: float | None = None


class FranchiseEntry(_Open):
    """Another entry of an anime's franchise, with the evidence linking it."""

    anime_id: int
    title: str
    type: str | None = None
    year: int | None = None
    episodes: float | None = None
    aired_from: str | None = Field(None, description="first air date (ISO): the watch order")
    evidence: dict[str, Any] = Field(description=(
        "why it is of the franchise: {relation: same_franchise, rules: [title_base | title_prefix | shared_stem "
        "| japanese_base], base: the shared title base, path: anime ids from the asked anime}"))


class FranchiseAnswer(_Open):
    """The other entries of an anime's franchise, in watch order."""

    anime_id: int
    title: str | None = None
    franchise_id: int = Field(description="anime_id of the franchise's first entry in watch order")
    items: list[FranchiseEntry] = Field(description="the other entries in watch order; [] for a standalone anime")
    model_version: str | None = None
    took_ms: float | None = None


class AnimeDetail(_Open):
    """Metadata and synopsis of one anime."""

    anime_id: int
    title: str | None = None
    genres: list[str] = []
    synopsis: str | None = None


class Preferences(_Open):
    """A user's favourite genres (weights from top-quartile ratings) and favourite anime."""

    user_id: int
    genres: list[dict[str, Any]] = Field(default_factory=list,
                                        examples=[[{"genre": "Action", "weight": 0.31, "count": 12}]])
    favourites: list[dict[str, Any]] = Field(default_factory=list)
    model_version: str | None = None


class UserList(_Open):
    """Users most similar to a user."""

    items: list[dict[str, Any]]
    model_version: str | None = None


class ColdStartRequest(BaseModel):
    """Body of POST /api/v1/recommendations: recommendations for someone without an account."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"liked": [5114, 9253, 1535], "disliked": [], "n": 10, "include_adult": False},
                     {"liked": [199], "n": 5, "genre": ["Adventure"], "type": ["Movie"]},
                     {"liked": [5114], "n": 10, "max_per_franchise": 2}]})

    liked: list[int] = Field(..., min_length=1, max_length=500, description="anime ids the person liked")
    disliked: list[int] = Field(default_factory=list, max_length=500)
    n: int = Field(10, ge=1, le=100)
    strategy: Strategy = "hybrid"
    genre: list[str] | None = Field(None, max_length=20, description="keep only anime having all these genres")
    exclude_genre: list[str] | None = Field(None, max_length=20, description="drop anime with any of these genres")
    type: list[str] | None = Field(None, max_length=10, examples=[["TV", "Movie"]])
    min_members: int | None = Field(None, ge=0, le=10_000_000)
    year_min: int | None = Field(None, ge=1900, le=2100)
    year_max: int | None = Field(None, ge=1900, le=2100)
    exclude_rated: bool | None = Field(None, description="drop the liked/disliked anime (default true)")
    include_adult: bool = False
    max_per_franchise: int | None = Field(None, ge=0, le=100, description=(
        "show at most this many entries of one franchise, the earliest standing for it (default 1; 0 = no cap)"))
    mix_franchises: bool | None = Field(None, description=(
        "keep the liked anime's franchises in the list instead of the separate `continue` list (default false; "
        "true with max_per_franchise=0 = the plain ranked list)"))

    @model_validator(mode="after")
    def _positive_ids(self) -> ColdStartRequest:
        if any(a < 1 for a in self.liked + self.disliked):
            raise ValueError("anime ids must be positive")
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError("year_min must not exceed year_max")
        return self


class _Subject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int | None = Field(None, ge=0, description="a user known to the recommender")
    liked: list[int] | None = Field(None, min_length=1, max_length=200,
                                    description="anime ids the person liked (no account needed)")
    strategy: str | None = Field(None, pattern=STRATEGY_PATTERN, description="the strategy that recommended it")

    @model_validator(mode="after")
    def _one_subject(self) -> _Subject:
        if (self.user_id is None) == (self.liked is None):
            raise ValueError("give exactly one of user_id or liked")
        if self.liked is not None and any(a < 1 for a in self.liked):
            raise ValueError("liked anime ids must be positive")
        return self


class ExplanationRequest(_Subject):
    """Body of POST /api/v1/explanations."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"user_id": 1234, "anime_id": 5114}, {"liked": [1535, 16498], "anime_id": 5114}]})

    anime_id: int = Field(..., ge=1)


class ExplanationBatchRequest(_Subject):
    """Body of POST /api/v1/explanations/batch (up to 20 anime)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"user_id": 1234, "anime_ids": [5114, 9253]}]})

    anime_ids: list[int] = Field(..., min_length=1, max_length=20)


class Explanation(_Open):
    """An explanation built from computed facts; `source` says who wrote the text."""

    anime_id: int
    facts: list[dict[str, Any]]
    text: str
    source: Literal["llm", "template"]
    fallback_reason: str | None = None
    model_version: str | None = None


class ExplanationBatch(_Open):
    """One entry per distinct anime id: an explanation or an error."""

    items: list[dict[str, Any]]
    model_version: str | None = None


class ModelList(_Open):
    """Model versions in storage and which one is promoted."""

    current: str | None = None
    models: list[dict[str, Any]]


class TrainingRunCreate(BaseModel):
    """Body of POST /api/v1/admin/training-runs: which steps to run and how."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"source": "sample-data", "min_ratings": 50, "model": "two_tower", "promote": "if_better"},
                     {"model": "two_tower", "epochs": 3, "promote": "if_better"}]})

    source: str | None = Field(None, min_length=1, max_length=1024,
                               description="folder to ingest first: absolute, or relative to the ingestion service's "
                                           "INGESTION_ALLOWED_ROOT (default the repo's var/); "
                                           "omitted: process the current raw dataset")
    min_ratings: int | None = Field(None, ge=1, le=100_000, description="processing: minimum ratings per user")
    processed_id: str | None = Field(None, pattern=VERSION_PATTERN,
                                     description="train on this processed dataset and skip ingestion + processing")
    model: Literal["two_tower", "seed"] = "two_tower"
    epochs: int | None = Field(None, ge=1, le=500)
    promote: Literal["never", "if_better", "always"] = "if_better"

    @model_validator(mode="after")
    def _source_or_processed(self) -> TrainingRunCreate:
        if self.processed_id is not None and (self.source is not None or self.min_ratings is not None):
            raise ValueError("processed_id skips ingestion and processing: do not combine it with source/min_ratings")
        return self


class PipelineStep(BaseModel):
    """One step of an orchestrated training run."""

    name: Literal["ingestion", "processing", "training", "reload"]
    state: Literal["pending", "running", "succeeded", "failed", "skipped"] = "pending"
    upstream_id: str | None = None
    progress: float | None = None
    result: dict[str, Any] | None = None
    started_at: float | None = None
    finished_at: float | None = None


class PipelineRun(BaseModel):
    """State of an orchestrated training run (ingestion, processing, training, reload)."""

    id: str
    state: Literal["queued", "running", "succeeded", "failed"] = "queued"
    step: str | None = None
    steps: list[PipelineStep]
    request: TrainingRunCreate
    dataset_id: str | None = None
    processed_id: str | None = None
    version: str | None = None
    promoted: bool | None = None
    metrics: dict[str, Any] | None = None
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    error: dict[str, Any] | None = None
    created_at: float
    finished_at: float | None = None


class PipelineRunList(BaseModel):
    """Orchestrated training runs, newest first."""

    items: list[PipelineRun]


class PromoteResult(BaseModel):
    """Answer of POST /api/v1/admin/models/{version}/promote."""

    version: str
    promoted: bool
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    training: dict[str, Any] | None = Field(None, description="the training service's answer")
