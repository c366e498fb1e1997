"""Backup and restore (issue 15, item 1): a consistent snapshot while writes go on, checked, restored whole."""

from __future__ import annotations

import errno
import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import backup
from exchange.accounts import people
from exchange.app import create_app
from exchange.initialise import initialise
from exchange.library import publishing
from exchange.library.storage import write_durably
from exchange.packs import packs
from exchange.review import submissions
from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS
from tests.conftest import close
from tests.conftest import practice_text
from tests.test_accounts import PASSWORD

#: tables compared row for row between the backup's database and the restored one (the outbox is the
#: index's to-do list, which the restore's rebuild works through; alembic_version may move on)
COMPARED = ("cities", "practices", "practice_versions", "rendered_versions", "users", "memberships", "invitations",
            "submissions", "submission_events", "notifications", "packs", "pack_items", "pack_shares", "jobs",
            "export_jobs", "known_devices")


@pytest.fixture
def empty_app(tmp_path, new_database):  # type: ignore[no-untyped-def]
    """An app on a second instance, as 'exchange init --empty' leaves it: the target of a restore."""
    app = create_app({"INSTANCE": tmp_path / "restored", "TESTING": True, "SERVER_NAME": "px.test",
                      "DATABASE_URL": new_database()})
    initialise(app.extensions["exchange"], "test", seed=False)
    yield app
    close(app)


@pytest.fixture
def empty_instance(empty_app):  # type: ignore[no-untyped-def]
    return empty_app.extensions["exchange"]


class Writer(threading.Thread):
    """Publishes, submits and approves, and edits packs until told to stop; counts its rounds, keeps errors."""

    def __init__(self, instance) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.instance = instance
        self.stop = threading.Event()
        self.rounds = 0
        self.progress = threading.Condition()
        self.errors: list[BaseException] = []
        people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
        people.create_user(instance, "rev@network.example", "Rina", ["reviewer", "contributor"], ["jakarta"], "t",
                           PASSWORD)
        self.contributor = people.load(instance, "1:1")
        self.reviewer = people.load(instance, "2:1")
        self.pack = packs.create(instance, self.reviewer, "Flood drill", "en")

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.one_round(self.rounds)
                with self.progress:
                    self.rounds += 1
                    self.progress.notify_all()
        except BaseException as error:  # the test fails on it
            self.errors.append(error)
            with self.progress:
                self.progress.notify_all()

    def one_round(self, n: int) -> None:
        instance = self.instance
        visibility = "partners" if n % 3 == 1 else "public"
        publishing.publish(instance, practice_text(summary=f"Round {n}.", visibility=visibility), "flood-warning", "t")
        publishing.publish(instance, practice_text(title=f"Drill {n}"), f"drill-{n}", "t")
        draft = submissions.save(instance, self.contributor, "jakarta", f"posko-{n}",
                                 practice_text(title=f"Posko {n}").decode(), None)
        submissions.submit(instance, self.contributor, draft.id)
        if n % 2 == 0:
            submissions.review(instance, self.reviewer, draft.id, "approve", "Good.")
        packs.add_practice(instance, self.reviewer, self.pack, f"jakarta/drill-{n}")
        packs.edit(instance, self.reviewer, self.pack, f"Flood drill {n}", "en", f"Round {n}.")

    def wait_for(self, rounds: int) -> None:
        with self.progress:
            self.progress.wait_for(lambda: self.rounds >= rounds or bool(self.errors))
        assert not self.errors, self.errors


def rows(engine: sa.Engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2"))]


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def test_a_backup_taken_during_writes_restores_to_the_same_library(instance, empty_instance, tmp_path):
    writer = Writer(instance)
    writer.start()
    try:
        writer.wait_for(3)
        summary = backup.backup(instance, tmp_path / "backup", "cli:admin")
        done_at_backup = writer.rounds
        writer.wait_for(done_at_backup + 2)  # writes went on after the snapshot, and none failed
    finally:
        writer.stop.set()
        writer.join()
    assert not writer.errors, writer.errors
    assert summary.practices >= 3 * 2 and summary.versions > summary.practices

    restored = backup.restore(empty_instance, tmp_path / "backup", "cli:admin")
    assert (restored.practices, restored.versions) == (summary.practices, summary.versions)
    source, target = instance.db.engine, empty_instance.db.engine
    # What the database restored names is all there, byte for byte as published, and nothing else
    with target.connect() as connection:
        versions = connection.execute(sa.text("SELECT practice_id, version, sha256 FROM practice_versions")).all()
        current = dict(connection.execute(sa.text("SELECT id, version FROM practices")).all())
    history = files(empty_instance.store.history)
    assert history == {f"{pid}/{n}.md": digest for pid, n, digest in versions}
    assert files(empty_instance.store.library) == {f"{pid}.md": history[f"{pid}/{n}.md"] for pid, n in current.items()}
    assert all(history[path] == digest for path, digest in files(instance.store.history).items() if path in history)
    # Identical to the database in the backup (SQLite: read the backup's own file); on PostgreSQL, what was
    # restored is exactly what the source held then: a prefix of what it holds now
    if summary.database == "sqlite":
        snapshot = sa.create_engine(f"sqlite:///{tmp_path / 'backup' / backup.SQLITE_FILE}")
        for table in COMPARED:
            assert rows(target, table) == rows(snapshot, table), table
        assert rows(target, "audit_log")[:-1] == rows(snapshot, "audit_log")
        snapshot.dispose()
    else:
        for table in ("practice_versions", "users", "memberships"):
            assert set(map(repr, rows(target, table))) <= set(map(repr, rows(source, table))), table
        for table in ("audit_log", "submission_events"):  # writers take turns, so ids are in commit order
            restored_rows = rows(target, table)[:-1] if table == "audit_log" else rows(target, table)
            assert 0 < len(restored_rows) < len(rows(source, table))
            assert list(map(repr, restored_rows)) == list(map(repr, rows(source, table)[:len(restored_rows)])), table
    assert rows(target, "audit_log")[-1][3] == "instance.restore"
    # One snapshot across tables: the pack's title names the round whose practice was added last (or the one before)
    (pack,) = rows(target, "packs")
    title_round = int(pack[2].rsplit(" ", 1)[1])
    assert len(rows(target, "pack_items")) in (title_round + 1, title_round + 2)
    assert f"jakarta/drill-{title_round}" in current
    # Accounts work as they did (their password hashes came along), and the index was rebuilt
    assert people.authenticate(empty_instance, "siti@jakarta.example", PASSWORD, "198.51.100.7") is not None
    found = empty_instance.search.search(SearchRequest(q="Drill"), frozenset({"public"}), seconds=SEARCH_SECONDS)
    assert found.total == sum(1 for pid in current if pid.startswith("jakarta/drill-"))


def test_a_damaged_backup_is_refused_naming_the_file_and_restores_nothing(instance, empty_app, empty_instance,
                                                                          tmp_path, make_practice):
    publishing.publish(instance, make_practice(summary="First."), "flood-warning", "t")
    publishing.publish(instance, make_practice(summary="Second."), "flood-warning", "t")
    backup.backup(instance, tmp_path / "backup", "t")
    assert backup.verify(tmp_path / "backup")["versions"] == 2
    damaged = tmp_path / "backup" / "history" / "jakarta" / "flood-warning" / "1.md"
    damaged.write_bytes(damaged.read_bytes().replace(b"First.", b"Fir5t."))
    result = empty_app.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert result.exit_code == 1 and "history/jakarta/flood-warning/1.md is damaged" in result.output
    assert backup.is_empty(empty_instance) and not empty_instance.store.history.exists()
    damaged.unlink()
    with pytest.raises(backup.BackupError, match="history/jakarta/flood-warning/1.md is missing"):
        backup.verify(tmp_path / "backup")
    (tmp_path / "backup" / backup.MANIFEST).unlink()
    with pytest.raises(backup.BackupError, match="not a finished backup"):
        backup.verify(tmp_path / "backup")


def test_a_check_of_a_backup_names_every_problem_at_once(instance, empty_app, empty_instance, tmp_path,
                                                         make_practice):
    for slug in ("flood-warning", "siren-test"):
        publishing.publish(instance, make_practice(summary="First."), slug, "t")
    backup.backup(instance, tmp_path / "backup", "t")
    folder = tmp_path / "backup"
    damaged, missing = folder / "history/jakarta/flood-warning/1.md", folder / "library/jakarta/siren-test.md"
    damaged.write_bytes(damaged.read_bytes().replace(b"First.", b"Fir5t."))
    missing.unlink()
    (folder / "library" / "jakarta" / "extra.md").write_bytes(b"---\ntitle: Extra")
    runner = empty_app.test_cli_runner()
    refused = runner.invoke(args=["restore", str(folder)], env={"LANG": "ja_JP.UTF-8"})
    checked = runner.invoke(args=["restore", "--check", str(folder)], env={"LANG": "C.UTF-8"})
    for result in (refused, checked):
        assert result.exit_code == 1, result.output
        for path in ("history/jakarta/flood-warning/1.md", "library/jakarta/siren-test.md", "library/jakarta/extra.md"):
            assert path in result.output, (path, result.output)
    assert "バックアップに 3 件の問題があります" in refused.output and "is damaged" not in refused.output
    assert "the backup has 3 problems" in checked.output
    assert backup.is_empty(empty_instance)
    for number in range(25):  # bounded: the first twenty, then how many more
        (folder / "library" / "jakarta" / f"extra-{number:02d}.md").write_bytes(b"x")
    with pytest.raises(backup.BackupError) as refused:
        backup.verify(folder)
    said = str(refused.value)
    assert said.count("\n- ") == backup.MAX_PROBLEMS + 1 and said.endswith("- and 8 more"), said


@pytest.mark.parametrize("step", ["the files", "the database"])
def test_a_restore_stopped_by_a_full_disk_leaves_the_instance_empty_to_restore_again(
        instance, empty_instance, tmp_path, make_practice, monkeypatch, step):
    publishing.publish(instance, make_practice(summary="First."), "flood-warning", "t")
    publishing.publish(instance, make_practice(summary="Second."), "flood-warning", "t")
    backup.backup(instance, tmp_path / "backup", "t")
    written: list[Path] = []

    def disk_full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def full_at_the_third_file(path: Path, data: bytes) -> None:
        if len(written) == 2:
            disk_full()
        written.append(path)
        write_durably(path, data)

    with monkeypatch.context() as patched:
        if step == "the files":
            patched.setattr(backup, "write_durably", full_at_the_third_file)
        else:
            patched.setattr(backup, "_restore_sqlite", disk_full)
            patched.setattr(backup, "_restore_postgresql", disk_full)
        with pytest.raises(OSError, match="No space left"):
            backup.restore(empty_instance, tmp_path / "backup", "t")
    staging = empty_instance.store.root / backup.STAGING
    assert backup.is_empty(empty_instance) and not staging.exists()
    assert not empty_instance.store.history.exists() or not any(empty_instance.store.history.rglob("*.md"))
    (staging / "library" / "jakarta").mkdir(parents=True)  # as a restore killed while staging leaves it
    (staging / "library" / "jakarta" / "half-written.md").write_bytes(b"---\ntitle: Half")
    restored = backup.restore(empty_instance, tmp_path / "backup", "t")
    assert (restored.practices, restored.versions) == (1, 2) and not staging.exists()
    for version in (1, 2):
        assert empty_instance.store.read_version("jakarta/flood-warning", version) == \
            instance.store.read_version("jakarta/flood-warning", version)
    assert empty_instance.store.read_current("jakarta/flood-warning") == \
        instance.store.read_current("jakarta/flood-warning")
    assert list(empty_instance.store.practice_ids()) == ["jakarta/flood-warning"]


def test_restore_refuses_an_instance_that_is_not_empty(instance, tmp_path, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    backup.backup(instance, tmp_path / "backup", "t")
    with instance.db.session() as session:
        before = session.scalar(sa.text("SELECT count(*) FROM audit_log"))
    with pytest.raises(backup.BackupError, match="is not empty"):
        backup.restore(instance, tmp_path / "backup", "t")
    with instance.db.session() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM audit_log")) == before


def test_a_backup_holds_only_its_own_plain_files(instance, tmp_path, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    backup.backup(instance, tmp_path / "backup", "t")
    manifest_file = tmp_path / "backup" / backup.MANIFEST
    manifest = json.loads(manifest_file.read_text())
    manifest["files"].append({"path": "history/../../secret_key", "size": 1, "sha256": "0" * 64})
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match="names a file a backup never holds"):
        backup.verify(tmp_path / "backup")
    manifest["files"].pop()
    manifest_file.write_text(json.dumps(manifest))
    current = tmp_path / "backup" / "library" / "jakarta" / "flood-warning.md"
    outside = tmp_path / "elsewhere.md"
    outside.write_bytes(current.read_bytes())
    current.unlink()
    current.symlink_to(outside)  # the same bytes, but not a file of the backup's own
    with pytest.raises(backup.BackupError, match="flood-warning.md is a symbolic link"):
        backup.verify(tmp_path / "backup")


def test_the_commands_back_up_and_check(runner, tmp_path, instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0 and "Backed up 1 practices (1 versions)" in result.output
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 1 and "is not an empty folder" in result.output
    result = runner.invoke(args=["backup", str(instance.path / "history" / "backup")])
    assert result.exit_code == 1 and "is inside the instance folder" in result.output
    assert not (instance.path / "history" / "backup").exists()
    result = runner.invoke(args=["restore", "--check", str(tmp_path / "backup")])
    assert result.exit_code == 0 and "is a complete backup: 3 files match" in result.output
    if (tmp_path / "backup" / backup.SQLITE_FILE).exists():
        with sqlite3.connect(tmp_path / "backup" / backup.SQLITE_FILE) as connection:
            connection.execute("DELETE FROM audit_log")
        connection.close()
        result = runner.invoke(args=["backup", "--verify", str(tmp_path / "backup")])
        assert result.exit_code == 1 and "database.sqlite3 is damaged" in result.output


def test_a_version_still_being_published_is_left_out(instance, tmp_path, make_practice):
    """At the moment of the snapshot a publish may have kept its version file but not committed it: the
    backup holds what the database acknowledged, never the file ahead of it."""
    publishing.publish(instance, make_practice(summary="First."), "flood-warning", "t")
    publishing.publish(instance, make_practice(summary="Second."), "flood-warning", "t")
    in_flight = make_practice(summary="Third, not yet committed.")
    instance.store.keep_version("jakarta/flood-warning", 3, in_flight)
    instance.store.set_current("jakarta/flood-warning", in_flight)
    summary = backup.backup(instance, tmp_path / "backup", "t")
    assert (summary.practices, summary.versions) == (1, 2)
    assert sorted(files(tmp_path / "backup" / "history")) == ["jakarta/flood-warning/1.md",
                                                              "jakarta/flood-warning/2.md"]
    assert b"Second." in (tmp_path / "backup" / "library" / "jakarta" / "flood-warning.md").read_bytes()
