"""The library on disk: atomic, durable writes and an append-only history (threats C-1, I-4)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from exchange.library.storage import LibraryStore
from exchange.library.storage import UnsafePath
from exchange.library.storage import write_durably


def publish(store: LibraryStore, practice_id: str, version: int, text: bytes) -> None:
    """What the library does around its database commit: keep the version, then make it current."""
    store.keep_version(practice_id, version, text)
    store.set_current(practice_id, text)


def test_write_durably_replaces_whole_file(tmp_path):
    target = tmp_path / "a" / "b" / "x.md"
    write_durably(target, b"one")
    write_durably(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["x.md"]


def test_crash_between_writing_and_renaming_keeps_the_old_version(tmp_path):
    """A real process dies after the temp file is written and fsynced, before the rename."""
    store = LibraryStore(tmp_path)
    publish(store, "jakarta/flood", 1, b"version one")
    crash = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from exchange.library.storage import LibraryStore
        os.replace = lambda *a, **k: os._exit(137)   # the process is killed at the rename
        LibraryStore(Path({str(tmp_path)!r})).keep_version("jakarta/flood", 2, b"version two, never acknowledged")
    """)
    result = subprocess.run([sys.executable, "-c", crash], cwd=Path(__file__).parent.parent)
    assert result.returncode == 137
    assert store.read_current("jakarta/flood") == b"version one"
    assert store.read_version("jakarta/flood", 1) == b"version one"
    assert store.versions("jakarta/flood") == [1]
    leftovers = [n for n in os.listdir(tmp_path / "history/jakarta/flood") if n.startswith(".tmp-")]
    assert leftovers, "the interrupted write should have left its temporary file"
    assert store.sweep_temporary_files() == 1
    assert os.listdir(tmp_path / "history/jakarta/flood") == ["1.md"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "x.md"
    write_durably(target, b"old")

    def disk_full(*_args):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        write_durably(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.md"]


def test_every_version_is_kept_and_readable(tmp_path):
    store = LibraryStore(tmp_path)
    for n in (1, 2, 3):
        publish(store, "tokyo/heat", n, f"v{n}".encode())
    assert store.versions("tokyo/heat") == [1, 2, 3]
    assert [store.read_version("tokyo/heat", n) for n in (1, 2, 3)] == [b"v1", b"v2", b"v3"]
    assert store.read_current("tokyo/heat") == b"v3"


def test_an_unacknowledged_version_file_is_set_aside_not_overwritten(tmp_path):
    store = LibraryStore(tmp_path)
    publish(store, "tokyo/heat", 1, b"v1")
    orphan = tmp_path / "history/tokyo/heat/2.md"
    orphan.write_bytes(b"from a crashed attempt")
    publish(store, "tokyo/heat", 2, b"v2")
    assert store.read_version("tokyo/heat", 2) == b"v2"
    kept = [p for p in orphan.parent.iterdir() if p.name.startswith("2.md.interrupted-")]
    assert [p.read_bytes() for p in kept] == [b"from a crashed attempt"]


@pytest.mark.parametrize("practice_id", ["../x", "jakarta/../../etc", "jakarta/..", "a/b/c", "Jakarta/x", "jakarta/"])
def test_ids_that_are_not_practice_ids_are_refused(tmp_path, practice_id):
    with pytest.raises(UnsafePath):
        LibraryStore(tmp_path).current_path(practice_id)


def test_symlinks_planted_in_the_library_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    store = LibraryStore(tmp_path / "instance")
    (store.library / "jakarta").mkdir(parents=True)
    (store.library / "jakarta" / "leak.md").symlink_to(secret)
    with pytest.raises((UnsafePath, OSError)):
        store.read_current("jakarta/leak")
    (store.library / "jakarta" / "inner.md").symlink_to(store.library / "jakarta" / "leak.md")
    with pytest.raises((UnsafePath, OSError)):
        store.read_current("jakarta/inner")
    (store.library / "evil").symlink_to(tmp_path)
    with pytest.raises(UnsafePath):
        store.read_current("evil/secret")


def test_a_sweep_with_an_age_leaves_a_write_under_way_on_a_shared_store(tmp_path):
    store = LibraryStore(tmp_path)
    publish(store, "jakarta/flood", 1, b"version one")
    folder = tmp_path / "history/jakarta/flood"
    old, young = folder / ".tmp-left-by-a-crash", folder / ".tmp-another-node-writing"
    old.write_bytes(b"half")
    young.write_bytes(b"half")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # written in 2001
    assert store.sweep_temporary_files(older_than_seconds=3600) == 1
    assert sorted(os.listdir(folder)) == [young.name, "1.md"]
