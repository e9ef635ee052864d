"""Bring your own list: recommendations, continue list and genres for an uploaded MyAnimeList export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from animerec_shared.contracts.common import error_doc
from animerec_shared.contracts.imports import IMPORT_EXAMPLE, ImportQuery, MalImportAnswer
from animerec_shared.storage import Storage, open_storage

from ..deps import RecommenderDep, SettingsDep
from ..mal_import import IMPORT_PATH, STORAGE_PREFIX, ImportRejected, Profile, classify, parse_export
from .common import UPSTREAM_ERRORS
from .users import PRIVATE

router = APIRouter(tags=["imports"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "the export of MyAnimeList's 'Export' (animelist_*.xml or .xml.gz)",
                        }
                    },
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    **UPSTREAM_ERRORS,
    413: error_doc("`import_too_large` (the upload, or the XML once gunzipped), `import_too_many_entries`"),
    422: error_doc(
        "`import_no_file`, `import_bad_gzip`, `import_malformed_xml` (with line and column), `import_forbidden_xml` "
        "(DTD, entities, external references), `import_not_myanimelist`, `import_invalid_entry`, `import_empty`, "
        "`import_nothing_known` (no liked or watched anime of the catalogue), `validation_error`"
    ),
}


def _storage(request: Request, url: str) -> Storage:
    storage: Storage | None = getattr(request.app.state, "import_storage", None)
    if storage is None:
        storage = request.app.state.import_storage = open_storage(url)
    return storage


def _store(storage: Storage, profile: Profile) -> dict[str, str]:
    data, digest = profile.stored_json()
    key = f"{STORAGE_PREFIX}/{digest}.json"
    storage.write_bytes(key, data)  # atomic: readers see no object or the whole one
    return {"key": key, "sha256": digest}


@router.post(
    IMPORT_PATH,
    summary="Bring your own MyAnimeList list: recommendations, continue list and genres",
    response_model=MalImportAnswer,
    openapi_extra=_BODY_DOC,
    responses={200: {"content": {"application/json": {"example": IMPORT_EXAMPLE}}}, **_ERRORS},
)
async def import_myanimelist(
    request: Request, settings: SettingsDep, recommender: RecommenderDep, query: Annotated[ImportQuery, Query()]
) -> JSONResponse:
    """Reads the export (multipart field `file`, gzipped or not) and answers for that list without storing it
    (unless `store=true`: then the parsed list, not the file, is written under `imports/myanimelist/<sha256>.json`).

    Liked and disliked follow the person's own scale: with m the mean of their scores 1-10, a score >= m and
    >= 6 is liked, a score <= m - 2 or <= 4 disliked, others (and score 0, "not scored") are watched without
    a signal. Every Dropped entry is disliked. Watching, Completed and On-Hold anime are never recommended.
    Plan to Watch is intent, not a rating: those anime may be recommended and are marked `plan_to_watch`
    (and listed in `plan_to_watch_ids`). Ids the catalogue does not know are counted (`summary.unknown`,
    the first 20 in `unknown_ids`) and left out. With no liked anime of the catalogue, the watched ones rank
    the list (`summary.liked_from: seen`). Costs 10 tokens of the costly-request budget."""
    try:
        form = await request.form(max_files=1, max_fields=8)
    except MultiPartException as exc:
        raise ImportRejected(f"the multipart body cannot be read: {exc.message}", code="import_no_file") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ImportRejected(
                "send the export as multipart/form-data with a file field named `file`", code="import_no_file"
            )
        entries = await run_in_threadpool(
            parse_export,
            upload.file,
            max_upload_bytes=settings.import_max_upload_bytes,
            max_xml_bytes=settings.import_max_xml_bytes,
            max_entries=settings.import_max_entries,
        )
    finally:
        await form.close()
    profile = classify(entries)
    body = {
        "liked": profile.liked,
        "disliked": profile.disliked,
        "seen": profile.seen,
        "planned": profile.planned,
        "limit": query.limit,
        "include_adult": query.include_adult,
    }
    answer = await recommender.json("POST", "/profiles/recommendations", json_body=body)
    match = answer["match"]
    stored = await run_in_threadpool(_store, _storage(request, settings.storage_url), profile) if query.store else None
    payload = {
        "recommendations": {
            "items": answer["items"],  # the recommender's items, passed through as they are
            "plan_to_watch_ids": answer["plan_to_watch_ids"],
            "strategy": answer["strategy"],
            "model_version": answer["model_version"],
            "took_ms": answer["took_ms"],
        },
        "continue": answer["continue"],
        "preferences": answer["preferences"],
        "summary": {
            **profile.counts(),
            "matched": match["matched"],
            "unknown": match["unknown"],
            "unknown_ids": match["unknown_ids"],
            "liked_from": match["liked_from"],
        },
        "stored": stored,
    }
    return JSONResponse(payload, headers={"cache-control": PRIVATE})
