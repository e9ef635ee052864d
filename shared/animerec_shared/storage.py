"""Storage with two real backends (a local folder, Google Cloud Storage) and atomic publishing.

Datasets and models are immutable *published directories*. A directory becomes visible only
when its ``_PUBLISHED.json`` marker exists, and that marker is written last. With the folder
backend the whole directory is also moved into place with a single ``rename``. ``CURRENT``
pointers are single objects replaced atomically (``os.replace`` / one GCS object write).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import NotFoundError, StorageError

MARKER = "_PUBLISHED.json"
AREAS = ("raw", "processed", "models", "experiments")


class CorruptPointer(StorageError):
    """A CURRENT pointer holds something other than {"id": "<published id>", ...}.

    The message names the key and the start of what was found; promoting a version (``set_current``)
    repairs it.
    """

    code = "corrupt_pointer"

    def __init__(self, key: str, raw: bytes, problem: str):
        found = raw[:FOUND_CHARS].decode("utf-8", "backslashreplace")
        if len(raw) > FOUND_CHARS:
            found += "..."
        super().__init__(
            f"{key} {problem} (found {found!r}); setting the pointer again (promoting a version) overwrites it",
            details={"key": key, "found": found},
        )
        self.key = key


FOUND_CHARS = 100  # how much of a corrupt pointer an error quotes


def _clean_key(key: str) -> str:
    key = key.strip("/")
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"invalid storage key {key!r}", code="invalid_storage_key", status_code=400)
    return key


class Storage(ABC):
    """One storage interface; see module docstring for the publishing rules."""

    url: str

    # -- primitive object operations -------------------------------------------------------
    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Writes one object atomically (readers see the old or the new bytes, never a mix)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list_children(self, prefix: str) -> list[str]:
        """Returns the names of the direct children (files and folders) under prefix."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def _commit_dir(self, staging: Path, prefix: str) -> None:
        """Makes a fully written local staging folder visible under prefix."""

    @abstractmethod
    def fetch_dir(self, prefix: str) -> Path:
        """Returns a local folder holding the published directory at prefix (read-only use)."""

    # -- derived operations -----------------------------------------------------------------
    def read_json(self, key: str) -> Any:
        """Returns the decoded JSON object stored at key."""
        return json.loads(self.read_bytes(key))

    def write_json(self, key: str, obj: Any) -> None:
        """Writes obj as JSON atomically."""
        self.write_bytes(key, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def is_published(self, prefix: str) -> bool:
        """Returns True when the directory's marker exists (it is complete and visible)."""
        return self.exists(f"{_clean_key(prefix)}/{MARKER}")

    def list_published(self, area: str) -> list[str]:
        """Returns the ids of the published directories of an area, oldest name first."""
        ids = [c for c in self.list_children(area) if not c.startswith((".", "_")) and c != "CURRENT"]
        return sorted(i for i in ids if self.is_published(f"{area}/{i}"))

    @contextlib.contextmanager
    def publish(self, prefix: str, meta: dict[str, Any] | None = None) -> Iterator[Path]:
        """Yields a local staging folder; on clean exit publishes it at prefix in one step.

        If the block raises, nothing becomes visible and the staging folder is removed.
        """
        prefix = _clean_key(prefix)
        if self.is_published(prefix):
            raise StorageError(
                f"{prefix} is already published; published directories are immutable",
                code="already_published",
                status_code=409,
            )
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self._staging_root()))
        try:
            yield staging
            marker = {"prefix": prefix, "published_at": time.time(), **(meta or {})}
            (staging / MARKER).write_text(json.dumps(marker, default=str))
            self._commit_dir(staging, prefix)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _staging_root(self) -> str | None:
        return None

    def get_current(self, area: str) -> str | None:
        """Returns the id that area/CURRENT points to, or None when nothing is current.

        Raises CorruptPointer (naming the key and what it holds) when the pointer is not a JSON
        object with a string "id"; ``set_current`` overwrites such a pointer without reading it.
        """
        key = f"{area}/CURRENT"
        if not self.exists(key):
            return None
        raw = self.read_bytes(key)
        try:
            pointer = json.loads(raw)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise CorruptPointer(key, raw, "is not valid JSON") from None
        if not isinstance(pointer, dict) or not isinstance(pointer.get("id"), str) or not pointer["id"]:
            raise CorruptPointer(key, raw, 'is not a JSON object with a string "id"')
        return pointer["id"]

    def set_current(self, area: str, ident: str, **extra: Any) -> None:
        """Points area/CURRENT at a published id, atomically."""
        if not self.is_published(f"{area}/{ident}"):
            raise NotFoundError(f"{area}/{ident} is not a published directory", code=f"{area}_not_found")
        self.write_json(f"{area}/CURRENT", {"id": ident, "updated_at": time.time(), **extra})

    def download_file(self, key: str, dest: Path) -> Path:
        """Copies one object to a local file (written under a temporary name first)."""
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(self.read_bytes(key))
        os.replace(tmp, dest)
        return dest


class FileStorage(Storage):
    """Storage in a local folder; publishing is an atomic directory rename."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / _clean_key(key)

    def _staging_root(self) -> str:
        # Same filesystem as the destination so that the final rename is atomic.
        d = self.root / ".staging"
        d.mkdir(exist_ok=True)
        return str(d)

    def read_bytes(self, key: str) -> bytes:
        p = self._path(key)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"no object {key!r} in storage", code="object_not_found") from None

    def write_bytes(self, key: str, data: bytes) -> None:
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list_children(self, prefix: str) -> list[str]:
        p = self._path(prefix)
        if not p.is_dir():
            return []
        return sorted(c.name for c in p.iterdir() if not c.name.startswith(".staging"))

    def delete_prefix(self, prefix: str) -> None:
        p = self._path(prefix)
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()

    def _commit_dir(self, staging: Path, prefix: str) -> None:
        dest = self._path(prefix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging, dest)  # atomic; fails if dest exists (published dirs are immutable)
        except OSError as exc:
            raise StorageError(f"cannot publish {prefix}: {exc}", code="publish_failed") from exc
        staging.mkdir()  # keep the finally: rmtree in publish() harmless

    def fetch_dir(self, prefix: str) -> Path:
        prefix = _clean_key(prefix)
        if not self.is_published(prefix):
            raise NotFoundError(f"{prefix} is not published", code="not_published")
        return self._path(prefix)

    def local_path(self, key: str) -> Path:
        """Returns the real path of a key (folder backend only; used for streaming reads)."""
        return self._path(key)


class GCSStorage(Storage):
    """Storage in a GCS bucket through google-cloud-storage (honours STORAGE_EMULATOR_HOST)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        cache_dir: Path | None = None,
        project: str | None = None,
    ):
        from google.cloud import storage as gcs  # imported lazily: only this backend needs it

        if client is None:
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                client = gcs.Client(project=project or "animerec-local", credentials=AnonymousCredentials())
            else:
                client = gcs.Client(project=project)
        self.client = client
        self.bucket = client.bucket(bucket)
        self.prefix = prefix.strip("/")
        self.url = f"gs://{bucket}/{self.prefix}".rstrip("/")
        self.cache_dir = Path(
            cache_dir or os.environ.get("STORAGE_CACHE_DIR") or Path(tempfile.gettempdir()) / "animerec-gcs-cache"
        )
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _name(self, key: str) -> str:
        key = _clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def read_bytes(self, key: str) -> bytes:
        from google.api_core.exceptions import NotFound

        try:
            return self.bucket.blob(self._name(key)).download_as_bytes()
        except NotFound:
            raise NotFoundError(f"no object {key!r} in storage", code="object_not_found") from None

    def write_bytes(self, key: str, data: bytes) -> None:
        # A GCS object write is atomic: readers see the previous generation until it completes.
        self.bucket.blob(self._name(key)).upload_from_string(data)

    def exists(self, key: str) -> bool:
        return self.bucket.blob(self._name(key)).exists()

    def list_children(self, prefix: str) -> list[str]:
        base = self._name(prefix) + "/"
        it = self.client.list_blobs(self.bucket, prefix=base, delimiter="/")
        names = [b.name[len(base) :] for b in it]
        names += [p[len(base) :].rstrip("/") for p in it.prefixes]
        return sorted(n for n in names if n)

    def delete_prefix(self, prefix: str) -> None:
        for blob in self.client.list_blobs(self.bucket, prefix=self._name(prefix) + "/"):
            blob.delete()
        blob = self.bucket.blob(self._name(prefix))
        if blob.exists():
            blob.delete()

    def _commit_dir(self, staging: Path, prefix: str) -> None:
        files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != MARKER)
        for f in files:
            rel = f.relative_to(staging).as_posix()
            self.bucket.blob(self._name(f"{prefix}/{rel}")).upload_from_filename(str(f))
        # The marker goes last: until it exists, readers treat the directory as absent.
        self.bucket.blob(self._name(f"{prefix}/{MARKER}")).upload_from_filename(str(staging / MARKER))

    def fetch_dir(self, prefix: str) -> Path:
        prefix = _clean_key(prefix)
        if not self.is_published(prefix):
            raise NotFoundError(f"{prefix} is not published", code="not_published")
        dest = self.cache_dir / prefix
        with self._lock:
            if (dest / MARKER).exists():  # published directories are immutable: cache forever
                return dest
            tmp = Path(tempfile.mkdtemp(prefix=".dl-", dir=self.cache_dir))
            base = self._name(prefix) + "/"
            for blob in self.client.list_blobs(self.bucket, prefix=base):
                target = tmp / blob.name[len(base) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                blob.download_to_filename(str(target))
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                shutil.rmtree(dest)
            os.rename(tmp, dest)
        return dest


def open_storage(url: str) -> Storage:
    """Returns the backend for a STORAGE_URL (file:///abs/path or gs://bucket/prefix)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileStorage(Path(parsed.path))
    if parsed.scheme == "gs":
        return GCSStorage(parsed.netloc, parsed.path)
    if parsed.scheme == "" and url.startswith("/"):
        return FileStorage(Path(url))
    raise StorageError(
        f"unsupported STORAGE_URL {url!r}: use file:///abs/path or gs://bucket/prefix",
        code="invalid_storage_url",
        status_code=400,
    )
