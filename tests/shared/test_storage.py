"""The storage contract, run against a folder and against GCS (emulator, real client)."""

from __future__ import annotations

import pytest

from animerec_shared.errors import NotFoundError, StorageError
from animerec_shared.storage import MARKER, FileStorage, open_storage


def test_write_then_read_bytes_roundtrip(any_storage):
    any_storage.write_bytes("raw/x/a.bin", b"\x00\x01abc")
    assert any_storage.read_bytes("raw/x/a.bin") == b"\x00\x01abc"
    assert any_storage.exists("raw/x/a.bin")


def test_read_missing_object_raises_not_found(any_storage):
    with pytest.raises(NotFoundError) as exc:
        any_storage.read_bytes("raw/nope.csv")
    assert exc.value.code == "object_not_found"


def test_publish_makes_directory_visible_only_after_commit(any_storage):
    with any_storage.publish("processed/v1") as stage:
        (stage / "a.txt").write_text("hello")
        (stage / "sub").mkdir()
        (stage / "sub" / "b.txt").write_text("world")
        assert not any_storage.is_published("processed/v1")
        assert any_storage.list_published("processed") == []
    assert any_storage.is_published("processed/v1")
    assert any_storage.list_published("processed") == ["v1"]
    local = any_storage.fetch_dir("processed/v1")
    assert (local / "a.txt").read_text() == "hello"
    assert (local / "sub" / "b.txt").read_text() == "world"
    assert (local / MARKER).exists()


def test_publish_failure_leaves_nothing_visible(any_storage):
    with pytest.raises(RuntimeError):
        with any_storage.publish("models/v2") as stage:
            (stage / "half.npy").write_bytes(b"123")
            raise RuntimeError("killed halfway")
    assert not any_storage.is_published("models/v2")
    assert any_storage.list_published("models") == []
    with pytest.raises(NotFoundError):
        any_storage.fetch_dir("models/v2")


def test_published_directory_is_immutable(any_storage):
    with any_storage.publish("raw/d1") as stage:
        (stage / "f").write_text("1")
    with pytest.raises(StorageError) as exc:
        with any_storage.publish("raw/d1") as stage:
            (stage / "f").write_text("2")
    assert exc.value.code == "already_published"
    assert (any_storage.fetch_dir("raw/d1") / "f").read_text() == "1"


def test_current_pointer_requires_published_target(any_storage):
    assert any_storage.get_current("models") is None
    with pytest.raises(NotFoundError):
        any_storage.set_current("models", "ghost")
    with any_storage.publish("models/a") as stage:
        (stage / "x").write_text("a")
    with any_storage.publish("models/b") as stage:
        (stage / "x").write_text("b")
    any_storage.set_current("models", "a")
    assert any_storage.get_current("models") == "a"
    any_storage.set_current("models", "b")
    assert any_storage.get_current("models") == "b"


def test_keys_with_traversal_are_refused(any_storage):
    with pytest.raises(StorageError) as exc:
        any_storage.write_bytes("raw/../../etc/passwd", b"x")
    assert exc.value.code == "invalid_storage_key"


def test_open_storage_picks_backend_from_url(tmp_path):
    s = open_storage((tmp_path / "s").as_uri())
    assert isinstance(s, FileStorage)
    with pytest.raises(StorageError) as exc:
        open_storage("ftp://host/x")
    assert exc.value.code == "invalid_storage_url"


def test_file_storage_staging_is_not_listed(file_storage):
    with pytest.raises(RuntimeError):
        with file_storage.publish("raw/z") as stage:
            (stage / "f").write_text("x")
            assert "z" not in file_storage.list_children("raw")
            raise RuntimeError
    assert file_storage.list_children("raw") == []
