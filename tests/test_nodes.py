"""Several nodes of one library: one database and one shared library store, a search index per node that
follows the outbox on its own, outbox rows pruned only once every node has applied them."""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import consistency
from exchange.app import create_app
from exchange.background import run_pending
from exchange.instance import Instance
from exchange.library import publishing
from exchange.models import IndexNode
from exchange.models import IndexOutbox
from exchange.models import utcnow
from exchange.search import indexing
from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS
from tests.conftest import close
from tests.conftest import exchange_environment
from tests.conftest import practice_text

PUBLIC = frozenset({"public"})
#: not a speed expectation: only a guard against waiting forever when a node never catches up (its job runner
#: looks every CATCH_UP_EVERY_SECONDS; how fast it does is bench/serve.py's business), far past any load
HANG_GUARD_SECONDS = 900.0


def found(instance: Instance, q: str) -> list[str]:
    results = instance.search.search(SearchRequest(q=q, per_page=100), PUBLIC, seconds=SEARCH_SECONDS)
    return [hit.id for hit in results.hits]


# Two nodes in one process: the outbox's bookkeeping ----------------------------------------------

@pytest.fixture
def second_node(instance: Instance, tmp_path: Path) -> Iterator[Instance]:
    """Another node of ``instance``'s library: its own instance folder and index, the same database and store."""
    other = Instance.open(tmp_path / "node-b", instance.db.url, library_store=instance.store.root, node="node-b")
    indexing.rebuild(other)
    yield other
    other.search.close()
    other.db.dispose()


def outbox(instance: Instance) -> list[tuple[str, bool]]:
    with instance.db.session() as session:
        return [(pid, done is not None) for pid, done in
                session.execute(sa.select(IndexOutbox.practice_id, IndexOutbox.done_at).order_by(IndexOutbox.id))]


def test_every_node_applies_every_publish_and_a_row_is_done_once_all_have(instance, second_node, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    assert found(instance, "quokkaline") == ["jakarta/levee"]  # the publishing node, at once
    assert found(second_node, "quokkaline") == [] and indexing.pending(second_node) == 1
    run_pending(instance)  # the first node's runner catches its own index up, never node-b's
    assert indexing.pending(second_node) == 1
    assert outbox(instance) == [("jakarta/levee", False)]  # node-b has not applied it yet
    assert run_pending(second_node) >= 1  # node-b's own catch-up job, run by its runner
    assert found(second_node, "quokkaline") == ["jakarta/levee"]
    assert indexing.pending(second_node) == 0 and outbox(instance) == [("jakarta/levee", True)]


def test_a_node_that_missed_pruned_rows_rebuilds_its_index(instance, second_node, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    with instance.db.writing() as session:  # node-b was away past the retention period
        session.execute(sa.update(IndexOutbox).values(enqueued_at=utcnow() - indexing.RETENTION
                                                      - datetime.timedelta(hours=1)))
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the zebraword sluice.\n"), "dam", "test")
    assert outbox(instance) == [("jakarta/dam", False)]  # the old row is pruned though node-b never applied it
    with instance.db.session() as session:
        assert session.scalar(sa.select(IndexNode.behind).where(IndexNode.node == "node-b")) is True
    assert [d.kind for d in consistency.check(second_node)][:1] == ["index behind"]  # exchange check says so
    assert [d.kind for d in consistency.check(instance)] == []  # of node-b only
    assert run_pending(second_node) >= 2  # its catch-up sees it is behind and asks its runner for a rebuild
    assert found(second_node, "quokkaline") == ["jakarta/levee"]
    assert found(second_node, "zebraword") == ["jakarta/dam"]
    with instance.db.session() as session:
        assert session.scalar(sa.select(IndexNode.behind).where(IndexNode.node == "node-b")) is False


def test_exchange_check_repair_rebuilds_a_node_that_is_behind(instance, second_node, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    with instance.db.writing() as session:
        session.execute(sa.update(IndexOutbox).values(enqueued_at=utcnow() - indexing.RETENTION
                                                      - datetime.timedelta(hours=1)))
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the sluice.\n"), "dam", "test")
    drifts = consistency.check(second_node)
    assert "index behind" in [d.kind for d in drifts]
    assert consistency.repair(second_node, drifts, "test")[0] == "rebuilt the search index (2 practices)"
    assert consistency.check(second_node) == [] and found(second_node, "quokkaline") == ["jakarta/levee"]


# Two real nodes: two servers, one PostgreSQL, one shared library folder ---------------------------

def get_json(port: int, path: str, status: int = 200) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == status, path
        answer: dict = json.loads(response.read())
        return answer
    finally:
        connection.close()


def ids(port: int, q: str) -> list[str]:
    return [result["id"] for result in get_json(port, f"/api/v1/search?q={q}")["results"]]


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Return once ``condition()`` holds; fail naming ``what`` only if it never does (the hang guard)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened (gave up after {HANG_GUARD_SECONDS:.0f} s): {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def serving(*envs: dict[str, str]) -> Iterator[list[int]]:
    """``exchange serve --port 0`` (one worker, its job runner beside it) for each environment, started and
    stopped side by side; their ports."""
    servers = [subprocess.Popen(["exchange", "serve", "--port", "0", "--workers", "1", "--threads", "2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for env in envs]
    try:
        ports = []
        for server in servers:
            assert server.stdout is not None
            said = server.stdout.readline()  # once the socket listens
            match = re.search(r" on http://127\.0\.0\.1:(\d+)/$", said.strip())
            assert match, said
            ports.append(int(match.group(1)))
        yield ports
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            assert server.wait(60) == 0
            assert server.stdout is not None
            server.stdout.close()


def run_side_by_side(command: list[str], *envs: dict[str, str]) -> list[tuple[int, str]]:
    """``command`` run in each environment at the same time; each one's exit status and output."""
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for env in envs]
    return [(process.wait(120), process.communicate()[0]) for process in processes]


def test_two_nodes_on_one_database_and_one_library_store(tmp_path, postgresql_server):
    url = postgresql_server.create_database()
    store = tmp_path / "shared"
    env_a, env_b = ({**exchange_environment(tmp_path / f"node-{node}", url), "EXCHANGE_LIBRARY_STORE": str(store),
                     "EXCHANGE_SECRET_KEY": "shared by every node 4f1e"} for node in ("a", "b"))
    try:
        init = subprocess.run(["exchange", "init", "--empty"], env=env_a, capture_output=True, text=True)
        assert init.returncode == 0, init.stderr
        # node B joins by starting: the database is ready; its index is built from the shared library
        with serving(env_a, env_b) as (port_a, port_b):
            # Published on node A (by a process of node A, as an import or a reviewer's approval would be)
            app = create_app({"INSTANCE": tmp_path / "node-a", "DATABASE_URL": url, "LIBRARY_STORE": str(store),
                              "TESTING": True})
            node_a = app.extensions["exchange"]
            publishing.publish(node_a, practice_text(title="Xylophonic flood sirens",
                                                     body="The xylophonic siren plays before the river rises.\n"),
                               "xylophonic-sirens", "test")
            assert (store / "library" / "jakarta" / "xylophonic-sirens.md").is_file()
            assert ids(port_a, "xylophonic") == ["jakarta/xylophonic-sirens"]
            wait_until(lambda: ids(port_b, "xylophonic") == ["jakarta/xylophonic-sirens"], "node B finds it")
            answer = get_json(port_b, "/api/v1/practices/jakarta/xylophonic-sirens")
            assert answer["version"] == 1 and "xylophonic siren" in answer["markdown"]

            publishing.publish(node_a, practice_text(title="Xylophonic flood sirens", visibility="partners",
                                                     body="The xylophonic siren plays before the river rises.\n"),
                               "xylophonic-sirens", "test")
            assert ids(port_a, "xylophonic") == []
            wait_until(lambda: ids(port_b, "xylophonic") == [], "node B drops the restricted practice")
            assert get_json(port_b, "/api/v1/search?q=siren")["facets"]["city"] == {}
            get_json(port_b, "/api/v1/practices/jakarta/xylophonic-sirens", status=404)
            close(app)
        assert not (tmp_path / "node-a" / "library").exists() and not (tmp_path / "node-b" / "history").exists()
        agree = (0, "Library, database and search index agree.\n")
        assert run_side_by_side(["exchange", "check"], env_a, env_b) == [agree, agree]
    finally:
        postgresql_server.drop_database(url)
