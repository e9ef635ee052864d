"""POST /ingestions (a folder under the allowed root, or a multipart upload) and GET /ingestions/{id}."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from animerec_shared.auth import SERVICE_TOKEN_RESPONSES, ServiceToken
from animerec_shared.contracts.common import error_doc
from animerec_shared.contracts.ingestion import IngestionCreate, IngestionPublic, JobAccepted
from animerec_shared.errors import AnimeRecError, InvalidInputError

from ..config import Settings
from ..deps import JobsDep, SettingsDep, StorageDep
from ..ingest import ACCEPTED_FILES, check_files_inside, copy_upload, ingest_dataset
from ..jobs import Job

router = APIRouter(prefix="/ingestions", tags=["ingestions"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": IngestionCreate.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "description": f"the Kaggle files, named {', '.join(ACCEPTED_FILES)}",
                }
            },
        },
    }
}


def resolve_source(settings: Settings, source: str) -> Path:
    """Returns the real path of ``source``; raises 400 source_outside_allowed_root when it escapes the root.

    So does a file of the folder that is a symlink leading out of the root (checked again by the job).
    """
    root = Path(settings.allowed_root).resolve()
    try:
        path = Path(source)
        path = (path if path.is_absolute() else root / path).resolve()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, symlink loops
        raise InvalidInputError(
            "source is not a valid path", code="source_not_found", details={"source": source}
        ) from None
    if not path.is_relative_to(root):
        raise InvalidInputError(
            f"source must be a folder under the allowed root {str(root)!r}",
            code="source_outside_allowed_root",
            details={"source": source},
        )
    try:
        is_dir = path.is_dir()
    except OSError:  # e.g. a name longer than the filesystem allows
        is_dir = False
    if not is_dir:
        raise InvalidInputError(
            f"source {source!r} is not a folder under the allowed root",
            code="source_not_found",
            details={"source": source},
        )
    check_files_inside(path, root)
    return path


async def _save_uploads(request: Request, settings: Settings) -> Path:
    """Returns a temporary folder holding the uploaded files (removed again on any error)."""
    form = await request.form(max_files=len(ACCEPTED_FILES) + 2)
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not uploads:
        raise InvalidInputError("a multipart ingestion needs at least one file part", code="no_files")
    folder = Path(tempfile.mkdtemp(prefix="animerec-upload-"))
    try:
        total = 0
        for upload in uploads:
            name = Path(upload.filename or "").name
            if name not in ACCEPTED_FILES:
                raise InvalidInputError(
                    f"unexpected file {upload.filename!r}; accepted: {', '.join(ACCEPTED_FILES)}",
                    code="unexpected_file",
                    details={"file": upload.filename},
                )
            if (folder / name).exists():
                raise InvalidInputError(f"file {name!r} uploaded twice", code="duplicate_file")
            total += await run_in_threadpool(copy_upload, upload.file, folder / name)
            if total > settings.upload_max_bytes:
                raise AnimeRecError(
                    f"upload larger than {settings.upload_max_bytes:,} bytes", code="payload_too_large", status_code=413
                )
        return folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        await form.close()


def _public(job: Job) -> IngestionPublic:
    return IngestionPublic(**job.public_fields(), dataset_id=(job.result or {}).get("id"))


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    openapi_extra=_BODY_DOC,
    summary="Ingest Kaggle files from a folder under the allowed root or from an upload",
    responses={
        400: error_doc("source_outside_allowed_root, source_not_found, unexpected_file"),
        409: error_doc("another job is running (job_in_progress)"),
        **SERVICE_TOKEN_RESPONSES,
    },
    dependencies=[ServiceToken],
)
async def create_ingestion(request: Request, settings: SettingsDep, storage: StorageDep, jobs: JobsDep) -> JobAccepted:
    """Returns the queued ingestion job; validation and publishing run in the worker thread."""
    content_type = request.headers.get("content-type", "")
    cleanup: Path | None = None
    if content_type.startswith("multipart/form-data"):
        jobs.ensure_idle()  # refuse before receiving a large upload
        source = cleanup = await _save_uploads(request, settings)
    else:
        try:
            body = IngestionCreate.model_validate(json.loads(await request.body() or b"null"))
        except (ValueError, ValidationError) as exc:
            details = exc.errors(include_url=False, include_context=False) if isinstance(exc, ValidationError) else None
            raise AnimeRecError(
                'expected a JSON body {"source": "<folder>"} or multipart files',
                code="validation_error",
                status_code=422,
                details=details,
            ) from None
        source = resolve_source(settings, body.source)
    # An upload's own temporary folder holds only the copies it wrote; a folder source stays confined to the root.
    root = None if cleanup is not None else Path(settings.allowed_root).resolve()
    job = jobs.submit(
        "ingestion",
        lambda say: ingest_dataset(storage, source, settings.max_rows, progress=say, allowed_root=root),
        cleanup=cleanup,
    )
    return JobAccepted(id=job.id, state=job.state)


@router.get("/{ingestion_id}", response_model=IngestionPublic, summary="State of an ingestion job")
async def get_ingestion(ingestion_id: str, jobs: JobsDep) -> IngestionPublic:
    """Returns the job's state, and its raw manifest once it succeeded (404 ingestion_not_found)."""
    return _public(jobs.get(ingestion_id, "ingestion"))
