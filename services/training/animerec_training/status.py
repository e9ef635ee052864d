"""The status file through which a training process reports progress to the API process."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TERMINAL = ("succeeded", "failed")


def read_status(path: Path) -> dict[str, Any] | None:
    """Returns the decoded status file, or None when it does not exist (yet)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:  # cannot happen with atomic writes; treat as not yet written
        return None


class StatusFile:
    """A JSON status object replaced atomically on every update (readers never see half a write)."""

    def __init__(self, path: Path | None, **initial: Any):
        self.path = path
        self.state: dict[str, Any] = {"state": "queued", "epoch": 0, "epochs": None, "progress": 0.0,
                                      "metrics": {}, "version": None, "promoted": False, "error": None,
                                      "pid": os.getpid(), "started_at": time.time(), **initial}
        self._write()

    def update(self, **fields: Any) -> None:
        """Merges fields into the status and rewrites the file."""
        self.state.update(fields)
        self.state["updated_at"] = time.time()
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(self.state, f, default=str)
        os.replace(tmp, self.path)
