"""Keeps the title catalogue used by the answer check, loaded from the processed dataset in storage.

Only ``processed/<CURRENT>/anime.parquet`` is read (names and genres, a few MB at full scale),
in a worker thread, never on a request's path: requests use whatever catalogue is loaded. When
storage has no processed dataset or cannot be read, the check falls back to quoted spans only.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time

from animerec_shared.storage import open_storage

from .guard import TitleCatalogue

log = logging.getLogger("animerec.explainer.catalogue")
COLUMNS = ["anime_id", "title", "name", "english_name", "japanese_name", "genres"]


def load_catalogue(storage_url: str, loaded_id: str | None = None) -> TitleCatalogue | None:
    """Returns the catalogue of the current processed dataset; None when there is none or it is loaded_id."""
    import pyarrow.parquet as pq  # pyarrow only (no pandas, no numpy in the explainer image)

    storage = open_storage(storage_url)
    processed_id = storage.get_current("processed")
    if not processed_id or processed_id == loaded_id:
        return None
    parquet = pq.ParquetFile(io.BytesIO(storage.read_bytes(f"processed/{processed_id}/anime.parquet")))
    columns = [c for c in COLUMNS if c in parquet.schema_arrow.names]
    return TitleCatalogue.from_records(parquet.read(columns=columns).to_pylist(), source_id=processed_id)


class CatalogueKeeper:
    """Loads the catalogue in the background; every refresh_s it reloads if processed/CURRENT moved."""

    def __init__(self, storage_url: str, refresh_s: float, enabled: bool = True):
        self.storage_url = storage_url
        self.refresh_s = refresh_s
        self.enabled = enabled
        self.catalogue: TitleCatalogue | None = None
        self.loaded_at = 0.0
        self.error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def _load(self) -> None:
        try:
            loaded_id = self.catalogue.source_id if self.catalogue else None
            catalogue = await asyncio.to_thread(load_catalogue, self.storage_url, loaded_id)
        except Exception as exc:  # storage down or no dataset yet: keep the old catalogue
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("title catalogue not loaded: %s", self.error)
        else:
            self.error = None
            if catalogue is not None:
                self.catalogue = catalogue
        self.loaded_at = time.monotonic()

    def refresh_if_stale(self) -> None:
        """Starts a background reload when due; never waits for it."""
        if not self.enabled or (self._task is not None and not self._task.done()):
            return
        if self.loaded_at and time.monotonic() - self.loaded_at < self.refresh_s:
            return
        self._task = asyncio.get_running_loop().create_task(self._load())

    async def wait(self) -> None:
        """Waits for a load in flight (startup of tests and the CLI)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Cancels a load in flight."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def status(self) -> dict[str, object]:
        """Returns what /readyz shows about the catalogue."""
        if not self.enabled:
            return {"state": "off"}
        cat = self.catalogue
        return {
            "state": "loaded" if cat else "empty",
            "titles": len(cat) if cat else 0,
            "processed_id": cat.source_id if cat else None,
            "error": self.error,
        }
