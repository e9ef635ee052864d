"""Issue #16 item 6: ingestion reads no file outside INGESTION_ALLOWED_ROOT and echoes no file content.

A symlink inside the source folder that leads out of the allowed root is refused (400
source_outside_allowed_root, naming only the file, echoing nothing of the target); one that stays
inside the root still works; a validation error shows at most the one offending field, truncated.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ingestion_helpers import ANIME_HEADER, ANIMELIST_HEADER, wait_job

from animerec_ingestion.csv_checks import FOUND_MAX_CHARS
from animerec_ingestion.ingest import ingest_dataset
from animerec_shared.errors import DataValidationError, InvalidInputError

SECRET = "TOPSECRET_PASSWORD=hunter2"


@pytest.fixture
def root(allowed_root) -> Path:
    return allowed_root


def _outside(tmp_path: Path, name: str, content: str) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(content)
    return path


def test_symlinked_ratings_file_to_a_secret_outside_the_root_is_400_without_content(client, root, tmp_path):
    secret = _outside(tmp_path, "credentials.env", f"{SECRET},API_KEY=abc123\nDB=postgres://u:p@h\n")
    os.remove(root / "drop" / "animelist.csv")
    os.symlink(secret, root / "drop" / "animelist.csv")
    r = client.post("/ingestions", json={"source": "drop"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "source_outside_allowed_root"
    assert error["details"] == {"file": "animelist.csv"}
    assert "hunter2" not in r.text and "TOPSECRET" not in r.text and str(secret) not in r.text
    assert client.get("/datasets/current").status_code == 404


def test_symlink_to_a_valid_csv_outside_the_root_is_not_ingested(client, root, tmp_path):
    real = root / "drop" / "animelist.csv"
    outside = _outside(tmp_path, "animelist.csv", real.read_text())
    os.remove(real)
    os.symlink(outside, real)
    r = client.post("/ingestions", json={"source": "drop"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_outside_allowed_root"
    assert client.get("/datasets/current").status_code == 404


def test_dangling_symlink_out_of_the_root_is_refused(client, root, tmp_path):
    os.remove(root / "drop" / "anime_with_synopsis.csv")
    os.symlink(tmp_path / "nowhere" / "anime_with_synopsis.csv", root / "drop" / "anime_with_synopsis.csv")
    r = client.post("/ingestions", json={"source": "drop"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_outside_allowed_root"


def test_symlink_inside_the_root_still_works(client, root):
    shared = root / "shared"
    shared.mkdir()
    (root / "drop" / "animelist.csv").rename(shared / "ratings-2020.csv")
    os.symlink("../shared/ratings-2020.csv", root / "drop" / "animelist.csv")
    r = client.post("/ingestions", json={"source": "drop"})
    assert r.status_code == 202, r.text
    job = wait_job(client, f"/ingestions/{r.json()['id']}")
    assert job["state"] == "succeeded", job
    # the file keeps its name in the folder (which decides the rating range), not the link target's
    assert job["manifest"]["ratings_source"] == "animelist.csv"
    assert job["manifest"]["rows_kept"] == len((shared / "ratings-2020.csv").read_text().splitlines()) - 1


def test_the_job_checks_the_files_again(file_storage, root, tmp_path):
    """A link swapped in after the request was accepted is still refused by the worker."""
    secret = _outside(tmp_path, "anime.csv", f"{SECRET}\n")
    os.remove(root / "drop" / "anime.csv")
    os.symlink(secret, root / "drop" / "anime.csv")
    with pytest.raises(InvalidInputError) as info:
        ingest_dataset(file_storage, root / "drop", max_rows=1000, allowed_root=root)
    assert info.value.code == "source_outside_allowed_root" and "hunter2" not in info.value.message
    assert file_storage.get_current("raw") is None


LONG = "x" * 100 + SECRET

# case -> (file name, content): each error must show no more than FOUND_MAX_CHARS of one field
LEAKS = {
    "header_missing_a_column": ("animelist.csv", f"{SECRET},user_id,anime_id,API_KEY=abc123\n1,2,3,4\n"),
    "row_with_too_many_fields": ("animelist.csv", f"{ANIMELIST_HEADER}\n1,2,3,2,3\n1,2,3,2,3,{SECRET}\n"),
    "row_with_too_few_fields": ("animelist.csv", f"{ANIMELIST_HEADER}\n1,2,3,2,3\n{SECRET}\n"),
    "long_bad_value": ("animelist.csv", f"{ANIMELIST_HEADER}\n1,2,{LONG},2,3\n"),
    "anime_header_missing_a_column": ("anime.csv", f"{SECRET},MAL_ID,Name\n1,a,b\n"),
    "anime_bad_score": ("anime.csv", f"{ANIME_HEADER}\n1,Name,{LONG},Action,E,J,TV,12,Aired,P,R,1,1\n"),
}


@pytest.mark.parametrize("case", sorted(LEAKS))
def test_an_error_never_echoes_more_than_the_truncated_field(case, source, file_storage):
    name, content = LEAKS[case]
    (source / name).write_text(content)
    with pytest.raises(DataValidationError) as info:
        ingest_dataset(file_storage, source, max_rows=1000)
    err = info.value
    text = err.message + json.dumps(err.to_body())
    assert "hunter2" not in text, err.message
    assert "x" * (FOUND_MAX_CHARS + 1) not in text, err.message
    assert FOUND_MAX_CHARS <= 40
