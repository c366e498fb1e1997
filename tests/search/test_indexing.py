"""Keeping the index in step with the library: the outbox, rebuilds, damage, drift, and a killed reindex."""

from __future__ import annotations

import gc
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import consistency
from exchange.app import create_app
from exchange.background import run_pending
from exchange.initialise import prepare_search
from exchange.jobs import queue
from exchange.library import publishing
from exchange.library.practice import parse
from exchange.models import IndexOutbox
from exchange.models import Job
from exchange.models import utcnow
from exchange.search import indexing
from exchange.search.backend import OWN_INDEX
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import ReindexRunning
from exchange.search.backend import SearchRequest
from exchange.search.catalogue import DEGRADED_NOTICE
from exchange.search.catalogue import UNAVAILABLE_NOTICE
from exchange.search.documents import index_document
from exchange.search.whoosh.backend import WhooshBackend
from tests.conftest import SEARCH_SECONDS
from tests.conftest import exchange_environment

pytestmark = pytest.mark.needs(OWN_INDEX)

PUBLIC = frozenset({"public"})


#: Tests that damage, copy or watch the Whoosh engine's folders and segments (the postgres engine's
#: own damage, drift and rebuild tests are in tests/search/postgres/).
WHOOSH_FOLDERS = pytest.mark.engine("whoosh")


def found(instance, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids an anonymous visitor finds for ``q`` in ``instance``'s live index."""
    results = instance.search.search(SearchRequest(q=q, per_page=100), PUBLIC, seconds=SEARCH_SECONDS)
    return [hit.id for hit in results.hits]


def pending(instance) -> list[str]:  # type: ignore[no-untyped-def]
    """Practice ids waiting in the indexing outbox."""
    with instance.db.session() as session:
        return list(session.scalars(sa.select(IndexOutbox.practice_id).where(IndexOutbox.done_at.is_(None))))


def same_instance(instance):  # type: ignore[no-untyped-def]
    """The same instance folder opened by a new app, as after a restart."""
    return create_app({"INSTANCE": instance.path, "TESTING": True, "SERVER_NAME": "px.test",
                       "DATABASE_URL": instance.db.url})


def rebuild_jobs(instance) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """The state and key of each rebuild job."""
    with instance.db.session() as session:
        kind = queue.for_node(indexing.REBUILD, instance.node)
        return [(j.state, j.key) for j in session.scalars(sa.select(Job).where(Job.kind == kind))]


def live_name(instance) -> str:  # type: ignore[no-untyped-def]
    return (instance.search.index.root / "CURRENT").read_text().strip()


def index_folders(instance) -> set[str]:  # type: ignore[no-untyped-def]
    return {entry.name for entry in instance.search.index.root.iterdir() if entry.is_dir()}


# The outbox ------------------------------------------------------------------------------------

@pytest.mark.parametrize("way", ["drain", "job runner", "restart"])
def test_a_deferred_publish_becomes_searchable(app, instance, make_practice, way):
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the sluice.\n"), "dam", "test")
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"), "levee",
                    "test", index=False)
    assert pending(instance) == ["jakarta/levee"]
    assert found(instance, "quokkaline") == []
    if way == "drain":
        assert indexing.drain(instance) == 1
        assert found(instance, "quokkaline") == ["jakarta/levee"]
    elif way == "job runner":  # its catch-up, every few seconds
        assert run_pending(instance) >= 1
        page = app.test_client().get("/practices?q=quokkaline").get_data(as_text=True)
        assert "Levee patrol" in page and "<strong>1</strong> practice" in page
    else:
        restarted = same_instance(instance)
        prepare_search(restarted.extensions["exchange"])
        assert found(restarted.extensions["exchange"], "quokkaline") == ["jakarta/levee"]
        restarted.extensions["exchange"].db.dispose()
    assert pending(instance) == []


def test_a_publish_is_searchable_at_once(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    assert pending(instance) == []
    assert found(instance, "quokkaline") == ["jakarta/levee"]


def test_an_update_is_searchable_at_once(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    assert found(instance, "quokkaline") == ["jakarta/levee"]


def test_words_removed_by_an_update_no_longer_find_the_practice(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the zebraword levee.\n"),
                       "levee", "test")
    assert found(instance, "zebraword") == ["jakarta/levee"]
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n",
                                            hazards="[drought]"), "levee", "test")
    assert found(instance, "quokkaline") == ["jakarta/levee"]
    assert found(instance, "zebraword") == []
    facets = instance.search.search(SearchRequest(), PUBLIC, seconds=SEARCH_SECONDS).facets
    assert facets["hazard"] == {"drought": 1}


# Rebuilds --------------------------------------------------------------------------------------

@WHOOSH_FOLDERS
def test_rebuild_swaps_in_a_new_folder_while_an_open_searcher_keeps_answering(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    before = live_name(instance)
    elsewhere = WhooshBackend(instance.search.index.root)  # another worker, searching during the rebuild
    old = elsewhere.index.searcher()
    assert indexing.rebuild(instance) == 1
    after = live_name(instance)
    assert after != before and after.startswith("build-")
    docnum = old.document_number(id="jakarta/levee")
    assert docnum is not None and old.stored_fields(docnum)["card"]["title"] == "Levee patrol"
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the quokkaline sluice.\n"),
                    "dam", "test")
    results = elsewhere.search(SearchRequest(q="quokkaline"), PUBLIC, seconds=SEARCH_SECONDS)
    assert [hit.id for hit in results.hits] == ["jakarta/dam"]
    assert found(instance, "levee") == ["jakarta/levee"]
    old.close()
    elsewhere.close()


def test_practices_published_during_a_rebuild_are_not_lost(instance, make_practice, monkeypatch):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    rebuild = instance.search.rebuild

    def rebuild_while_publishing(documents, wait=True):  # type: ignore[no-untyped-def]
        def publish_meanwhile():  # type: ignore[no-untyped-def]
            listed = iter(documents())
            first = next(listed, None)  # the rebuild has read the list of practices; these arrive before its swap
            publishing.publish(instance, make_practice(title="Dam plan", body="Open the zebraword sluice.\n"),
                               "dam", "test")
            publishing.publish(instance, make_practice(title="Pump plan", body="Start the quokkaline pumps.\n"),
                               "pump", "test", index=False)
            yield from ([first] if first else [])
            yield from listed

        return rebuild(publish_meanwhile, wait)

    monkeypatch.setattr(instance.search, "rebuild", rebuild_while_publishing)
    indexing.rebuild(instance)
    monkeypatch.undo()
    assert found(instance, "zebraword") == ["jakarta/dam"]
    assert found(instance, "quokkaline") == ["jakarta/pump"]
    assert found(instance, "levee") == ["jakarta/levee"]
    assert pending(instance) == []
    publishing.publish(instance, make_practice(title="Gate plan", body="Close the xenogate.\n"), "gate", "test")
    assert found(instance, "xenogate") == ["jakarta/gate"]
    assert consistency.check(instance) == []


def test_a_second_rebuild_at_the_same_time_is_refused(instance):
    refused = []

    def documents():  # type: ignore[no-untyped-def]
        with pytest.raises(ReindexRunning) as refusal:
            indexing.rebuild(instance, wait=False)
        refused.append(refusal.value)
        return []

    assert instance.search.rebuild(documents) == 0
    assert refused


# A damaged index -------------------------------------------------------------------------------

def delete_everything(folder: Path) -> None:
    for entry in folder.iterdir():
        entry.unlink()


def truncate_everything(folder: Path) -> None:
    for entry in folder.iterdir():
        entry.write_bytes(b"")


def delete_the_toc(folder: Path) -> None:
    for entry in folder.glob("*.toc"):
        entry.unlink()


def segment_files(folder: Path) -> list[Path]:
    """The segments' data files (written separately: the index is not compound)."""
    return [entry for entry in folder.glob("MAIN_*") if entry.is_file()]


def truncate_the_segments(folder: Path) -> None:
    for entry in segment_files(folder):
        entry.write_bytes(b"")


def garble_the_segments(folder: Path) -> None:
    for entry in segment_files(folder):
        data = bytearray(entry.read_bytes())
        data[len(data) // 2:] = b"\xff" * (len(data) - len(data) // 2)
        entry.write_bytes(bytes(data))


DAMAGE = [delete_everything, truncate_everything, delete_the_toc, truncate_the_segments, garble_the_segments]


def damaged(instance, make_practice, damage) -> None:  # type: ignore[no-untyped-def]
    """Publish two practices, then damage the live index folder (no searcher has it open)."""
    publishing.publish(instance, make_practice(title="Levee patrol plan", body="Walk the levee.\n"), "levee", "test")
    publishing.publish(instance, make_practice(title="Dam sluice plan", body="Open the sluice.\n"), "dam", "test")
    folder = instance.search.index.live_folder()
    damage(folder)


#: Whoosh leaves a file open when it cannot read a damaged segment; it is closed when collected (gc.collect()).
LEAVES_FILES_OPEN = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                               "ignore::pytest.PytestUnraisableExceptionWarning")


@WHOOSH_FOLDERS
@LEAVES_FILES_OPEN
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_index_degrades_search_instead_of_failing(app, instance, make_practice, damage):
    damaged(instance, make_practice, damage)
    client = app.test_client()
    response = client.get("/practices?q=levee")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert UNAVAILABLE_NOTICE.split(";")[0] in page and DEGRADED_NOTICE.split(";")[0] not in page  # none runs
    assert "Levee patrol plan" in page and "Dam sluice plan" not in page
    answer = client.get("/api/v1/search?q=plan")
    assert answer.status_code == 200 and answer.get_json()["total"] == 2
    assert client.get("/").status_code == 200
    assert client.get("/practices/jakarta/levee").status_code == 200
    gc.collect()


@WHOOSH_FOLDERS
@LEAVES_FILES_OPEN
@pytest.mark.parametrize("damage", [delete_everything, truncate_the_segments])
def test_check_reports_an_unusable_index_and_repair_rebuilds_it(app, instance, make_practice, damage):
    damaged(instance, make_practice, damage)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert re.search(r"^index unusable", result.output, re.M)
    result = runner.invoke(args=["check", "--repair"])
    assert result.exit_code == 0, result.output
    assert "rebuilt the search index (2 practices)" in result.output
    assert sorted(found(instance, "plan")) == ["jakarta/dam", "jakarta/levee"]
    assert runner.invoke(args=["check"]).exit_code == 0
    gc.collect()


@WHOOSH_FOLDERS
def test_a_damaged_index_is_rebuilt_by_the_job_runner(app, instance, make_practice):
    damaged(instance, make_practice, delete_everything)
    client = app.test_client()
    threads_before = threading.active_count()
    for _ in range(2):  # queued, not yet running: the page does not say it is being rebuilt
        page = client.get("/practices?q=levee").get_data(as_text=True)
        assert UNAVAILABLE_NOTICE.split(";")[0] in page
    assert threading.active_count() == threads_before  # searches start no threads
    # asked for once, however often met
    assert rebuild_jobs(instance) == [("queued", f"search.rebuild@{instance.node}")]
    assert run_pending(instance) >= 1
    assert found(instance, "levee") == ["jakarta/levee"]
    assert rebuild_jobs(instance) == [("done", None)]
    page = client.get("/practices?q=levee").get_data(as_text=True)
    assert "only titles and summaries are searched" not in page


@WHOOSH_FOLDERS
def test_the_page_says_the_index_is_being_rebuilt_only_while_a_rebuild_runs(app, instance, make_practice):
    damaged(instance, make_practice, delete_everything)
    client = app.test_client()
    seen: list[str] = []

    def documents():  # type: ignore[no-untyped-def]
        seen.append(client.get("/practices?q=levee").get_data(as_text=True))  # the old folder, still unusable
        return iter(())

    instance.search.rebuild(documents)
    assert DEGRADED_NOTICE.split(";")[0] in seen[0] and "Levee patrol plan" in seen[0]
    assert not instance.search.rebuilding()


@WHOOSH_FOLDERS
def test_the_job_runners_catch_up_asks_for_a_rebuild_of_an_unusable_index(instance, make_practice):
    damaged(instance, make_practice, delete_everything)
    assert indexing.catch_up(instance) == 0
    assert rebuild_jobs(instance) == [("queued", f"search.rebuild@{instance.node}")]
    assert run_pending(instance) >= 2  # the catch-up, then the rebuild it asked for
    assert sorted(found(instance, "plan")) == ["jakarta/dam", "jakarta/levee"]


@WHOOSH_FOLDERS
def test_a_missing_index_is_rebuilt_on_start(instance, make_practice):
    damaged(instance, make_practice, delete_everything)
    with pytest.raises(IndexUnavailable):
        instance.search.verify()
    restarted = same_instance(instance)
    assert prepare_search(restarted.extensions["exchange"]) == 2
    assert sorted(found(restarted.extensions["exchange"], "plan")) == ["jakarta/dam", "jakarta/levee"]
    restarted.extensions["exchange"].db.dispose()


# Drift: exchange check and --repair ------------------------------------------------------------

def edit_a_file(instance, make_practice) -> str:  # type: ignore[no-untyped-def]
    path = instance.store.current_path("jakarta/levee")
    path.write_bytes(make_practice(title="Levee patrol", body="Walk the quokkaline levee at night.\n"))
    return r"file changed on disk\s+jakarta/levee"


def delete_a_file(instance, make_practice) -> str:  # type: ignore[no-untyped-def]
    instance.store.current_path("jakarta/levee").unlink()
    return r"catalogue without file\s+jakarta/levee"


def restore_an_old_index(instance, make_practice) -> str:  # type: ignore[no-untyped-def]
    folder = instance.search.index.live_folder()
    backup = {entry.name: entry.read_bytes() for entry in folder.iterdir()}
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee at night.\n"),
                    "levee", "test")
    delete_everything(folder)
    for name, data in backup.items():
        (folder / name).write_bytes(data)
    return r"stale in index\s+jakarta/levee"


def leave_an_orphan_in_the_index(instance, make_practice) -> str:  # type: ignore[no-untyped-def]
    ghost = parse(make_practice(title="Ghost practice", body="Phantom quokkaline words.\n"), "ghost")
    instance.search.update([ghost.id], lambda practice_id: index_document(ghost, "0" * 64, version=1, revised=utcnow()))
    return r"orphaned in index\s+jakarta/ghost"


@pytest.mark.parametrize("drift", [
    edit_a_file, delete_a_file, pytest.param(restore_an_old_index, marks=WHOOSH_FOLDERS),
    leave_an_orphan_in_the_index,
])
def test_check_finds_drift_and_repair_fixes_it(app, instance, make_practice, drift):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the sluice.\n"), "dam", "test")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["check"]).output.strip() == "Library, database and search index agree."
    expected = drift(instance, make_practice)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert re.search(expected, result.output), result.output
    assert "run 'exchange check --repair'" in result.output
    result = runner.invoke(args=["check", "--repair"])
    assert "repaired:" in result.output
    assert result.exit_code == 0, result.output
    assert "still wrong" not in result.output
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0 and "agree" in result.output
    assert app.test_client().get("/practices/jakarta/levee").status_code == 200
    assert "jakarta/ghost" not in found(instance, "quokkaline")
    if drift in (edit_a_file, restore_an_old_index):
        assert found(instance, "quokkaline") == ["jakarta/levee"]


def test_repair_after_editing_a_file_records_a_new_version(app, instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    edit_a_file(instance, make_practice)
    result = app.test_cli_runner().invoke(args=["check", "--repair"])
    assert "published jakarta/levee as v2" in result.output
    assert instance.store.versions("jakarta/levee") == [1, 2]
    page = app.test_client().get("/practices/jakarta/levee").get_data(as_text=True)
    assert "quokkaline" in page


def test_check_and_repair_speak_the_language_of_the_environment(app, instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    edit_a_file(instance, make_practice)
    runner = app.test_cli_runner()
    found = runner.invoke(args=["check"], env={"LANG": "ja_JP.UTF-8"}).output
    assert "ディスク上のファイルが変更された  jakarta/levee  (目録では第1版)" in found, found
    repaired = runner.invoke(args=["check", "--repair"], env={"LANG": "ja_JP.UTF-8"}).output
    assert "修復済み: jakarta/levee を第2版として公開しました" in repaired, repaired
    for english in ("file changed", "catalogue", "published", " as v"):
        assert english not in found + repaired, english
    delete_a_file(instance, make_practice)
    assert "katalog tanpa berkas  jakarta/levee" in runner.invoke(args=["check"], env={"LANG": "id_ID.UTF-8"}).output


def test_every_kind_of_drift_has_a_name():
    import ast
    import inspect

    made = {node.args[0].value for node in ast.walk(ast.parse(inspect.getsource(consistency)))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Drift"}
    assert "index behind" in made and made <= set(consistency.KINDS)


# A reindex killed midway (C-5) -----------------------------------------------------------------

def exchange_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "exchange", *args]


@WHOOSH_FOLDERS
def test_lock_files_left_by_a_writer_killed_mid_write_do_not_block_the_next(instance, make_practice):
    """C-6: a lock file's existence is not a lock (Whoosh's and ours are advisory locks the kernel drops)."""
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the sluice.\n"), "dam", "test")
    killed = textwrap.dedent(f"""
        import os
        from exchange.instance import Instance
        instance = Instance.open({str(instance.path)!r}, {instance.db.url!r})
        with instance.search.index.writing() as index:
            writer = index.writer()  # Whoosh's own write lock, beside ours
            writer.add_document(id="jakarta/never-committed")
            os.kill(os.getpid(), 9)
    """)
    result = subprocess.run([sys.executable, "-c", killed], env=exchange_environment(instance.path, instance.db.url))
    assert result.returncode == -signal.SIGKILL
    live = instance.search.index.live_folder()
    assert (instance.search.index.root / "writer.lock").exists() and list(live.glob("*WRITELOCK*"))
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"), "levee",
                       "test")
    assert found(instance, "quokkaline") == ["jakarta/levee"] and pending(instance) == []
    assert found(instance, "sluice") == ["jakarta/dam"]


@WHOOSH_FOLDERS
def test_a_reindex_killed_midway_leaves_the_old_index_serving(library_app):
    instance = library_app.extensions["exchange"]
    env = exchange_environment(instance.path, instance.db.url)
    before = live_name(instance)
    folders_before = index_folders(instance)
    abandoned: set[str] = set()
    for _attempt in range(3):  # the build takes seconds; killing it inside that window is all but certain
        process = subprocess.Popen(exchange_command("reindex"), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                abandoned = index_folders(instance) - folders_before
                if abandoned:
                    break
                time.sleep(0.005)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        if abandoned and live_name(instance) == before:
            break
        before, folders_before = live_name(instance), index_folders(instance)  # it finished first; try again
    assert abandoned and live_name(instance) == before
    assert process.returncode == -signal.SIGKILL

    restarted = same_instance(instance)
    started = restarted.extensions["exchange"]
    assert started.search.index.live_folder().name == before
    assert started.search.search(SearchRequest(), PUBLIC, seconds=SEARCH_SECONDS).total == 35
    assert restarted.test_client().get("/practices?q=tsunami").status_code == 200
    assert "津波" in restarted.test_client().get("/practices?q=tsunami").get_data(as_text=True)

    prepare_search(started)
    assert not abandoned & index_folders(started)
    assert live_name(started) == before

    result = subprocess.run(exchange_command("reindex"), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Indexed 44 practices; the new index is live." in result.stdout
    assert live_name(started) != before
    assert not abandoned & index_folders(started)
    fresh = same_instance(instance).extensions["exchange"]
    assert fresh.search.search(SearchRequest(), PUBLIC, seconds=SEARCH_SECONDS).total == 35
    assert consistency.check(fresh) == []
    for opened in (started, fresh):
        opened.db.dispose()


@WHOOSH_FOLDERS
def test_an_abandoned_build_folder_is_swept_on_start(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    live = live_name(instance)
    left = instance.search.index.new_folder()  # what a rebuild killed before its swap leaves behind
    restarted = same_instance(instance)
    prepare_search(restarted.extensions["exchange"])
    assert not left.exists()
    assert live_name(instance) == live
    assert found(restarted.extensions["exchange"], "levee") == ["jakarta/levee"]
    restarted.extensions["exchange"].db.dispose()


@WHOOSH_FOLDERS
def test_a_new_process_reads_segments_that_have_deletions(instance, make_practice):
    """Postings of a segment with deleted documents come wrapped in a filter; a fresh reader must cope."""
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the zebraword levee.\n"),
                       "levee", "test",
                    index=False)
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the levee sluice.\n"), "dam", "test",
                    index=False)
    indexing.drain(instance)  # both in one segment; the update below deletes one of them there
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    fresh = WhooshBackend(instance.search.index.root)  # another worker, starting after the update
    levee = fresh.search(SearchRequest(q="levee"), PUBLIC, seconds=SEARCH_SECONDS).hits
    assert sorted(h.id for h in levee) == ["jakarta/dam", "jakarta/levee"]
    assert fresh.search(SearchRequest(q="zebraword"), PUBLIC, seconds=SEARCH_SECONDS).total == 0
    quokkaline = fresh.search(SearchRequest(q="quokkaline"), PUBLIC, seconds=SEARCH_SECONDS).hits
    assert [h.id for h in quokkaline] == ["jakarta/levee"]
    fresh.close()


@WHOOSH_FOLDERS
def test_a_rebuild_settles_the_outbox_so_alerts_of_what_it_covered_go_out_at_once(instance, make_practice):
    # 'exchange init' imports the bundled practices before any index exists, then builds one: the rows the
    # build covered stayed "not done" until some later publish, and every seeded practice's alert job was put
    # back every ten seconds for ten minutes (a log line each time)
    from exchange.alerts import sending

    damaged(instance, make_practice, delete_everything)
    publishing.publish(instance, make_practice(title="Pump plan", body="Start the pumps.\n"), "pumps", "test")
    indexing.rebuild(instance)
    with instance.db.session() as session:
        waiting = session.scalar(sa.select(sa.func.count()).select_from(IndexOutbox)
                                 .where(IndexOutbox.done_at.is_(None)))
    assert waiting == 0
    assert sending.searchable(instance, "jakarta/pumps")
