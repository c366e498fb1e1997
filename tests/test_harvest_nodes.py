"""Two real nodes on loopback: Tokyo's library harvests Jakarta's over OAI-PMH (Jakarta's provider at
``/oai``, Tokyo's harvester run by its job runner), each app with its own instance folder and database."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from exchange.accounts import people
from exchange.app import create_app
from exchange.background import run_pending
from exchange.harvesting import harvests
from exchange.initialise import initialise
from exchange.library import publishing
from exchange.models import PracticeRecord
from exchange.models import Submission
from exchange.policy import Viewer
from exchange.review import submissions
from tests.conftest import close
from tests.conftest import practice_text

ADMIN = Viewer(id=1, email="admin@tokyo.example", name="Admin", roles=("admin",))


class Node:
    """A library served on 127.0.0.1 by werkzeug in a thread: its app, instance and address."""

    def __init__(self, folder: Path, database_url: str | None, name: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app({"INSTANCE": folder, "TESTING": True, "DATABASE_URL": database_url,
                               "EXCHANGE_BASE_URL": self.url, "OAI_REPOSITORY_ID": f"node-{port}",
                               "OAI_REPOSITORY_NAME": name,
                               "WTF_CSRF_ENABLED": False})
        self.instance = self.app.extensions["exchange"]
        initialise(self.instance, "test", seed=False)
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:  # noqa: S310 - loopback
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def publish(self, slug: str, **fields: Any) -> None:
        outcome = publishing.publish(self.instance, practice_text(**fields), slug, "test")
        assert not outcome.failed

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        close(self.app)


@pytest.fixture
def nodes(tmp_path: Path, new_database: Callable[[], str | None]) -> Iterator[tuple[Node, Node]]:
    jakarta = Node(tmp_path / "jakarta", new_database(), "Jakarta's library")
    tokyo = Node(tmp_path / "tokyo", new_database(), "Tokyo's library")
    yield jakarta, tokyo
    tokyo.stop()
    jakarta.stop()


def harvest_now(tokyo: Node, source_id: int) -> None:
    """What an administrator's "Harvest now" does: a job the runner runs."""
    harvests.harvest_soon(tokyo.instance, ADMIN, source_id)
    run_pending(tokyo.instance)


def current(node: Node, practice_id: str) -> PracticeRecord | None:
    with node.instance.db.session() as session:
        return session.get(PracticeRecord, practice_id)


def test_tokyo_harvests_jakarta(nodes: tuple[Node, Node]) -> None:
    jakarta, tokyo = nodes
    jakarta.publish("ciliwung-warning", title="Ciliwung early warning")

    # A scheduled source is harvested by the job runner as soon as it is due.
    source_id = harvests.save_source(tokyo.instance, ADMIN, f"{jakarta.url}/oai", [], 24)
    run_pending(tokyo.instance)

    status, page = tokyo.get("/practices/jakarta/ciliwung-warning")
    assert status == 200
    assert "Ciliwung early warning" in page
    original = f"{jakarta.url}/practices/jakarta/ciliwung-warning"
    assert f"From <a href=\"{original}\" rel=\"external\">Jakarta's library</a>" in page

    # A practice Jakarta publishes appears on Tokyo's after the next harvest, with its provenance.
    jakarta.publish("pump-rota", title="Pump station rota")
    harvest_now(tokyo, source_id)
    assert current(tokyo, "jakarta/pump-rota") is not None
    provenance = harvests.provenance(tokyo.instance, "jakarta/pump-rota")
    assert provenance is not None and (provenance.source_name, provenance.original_version) == ("Jakarta's library", 1)
    assert provenance.original_url == f"{jakarta.url}/practices/jakarta/pump-rota"

    # An edit on Tokyo's copy is never lost: Jakarta's next version goes to review instead.
    tokyo.publish("ciliwung-warning", title="Ciliwung early warning (Tokyo's notes)")
    jakarta.publish("ciliwung-warning", title="Ciliwung early warning, revised")
    harvest_now(tokyo, source_id)
    local = current(tokyo, "jakarta/ciliwung-warning")
    assert local is not None and local.title == "Ciliwung early warning (Tokyo's notes)"
    with tokyo.instance.db.session() as session:
        waiting = list(session.scalars(sa.select(Submission).where(
            Submission.practice_id == "jakarta/ciliwung-warning")))
        waiting_id = waiting[0].id
        assert [(s.status, "Ciliwung early warning, revised" in s.text, s.base_version,
                 "sent version 2 of jakarta/ciliwung-warning, but" in s.note) for s in waiting] == [
            ("submitted", True, local.version, True)]

    # Once a reviewer approves the incoming text, the copy is the harvest's again: the next version lands.
    people.create_user(tokyo.instance, "kenji@tokyo.example", "Kenji", ["reviewer"], [], "test", "rainy season levee")
    reviewer = people.by_id(tokyo.instance, people.ids_for_emails(tokyo.instance, ["kenji@tokyo.example"])[0][0])
    submissions.review(tokyo.instance, reviewer, waiting_id, "approve")
    jakarta.publish("ciliwung-warning", title="Ciliwung early warning, third edition")
    harvest_now(tokyo, source_id)
    local = current(tokyo, "jakarta/ciliwung-warning")
    assert local is not None and local.title == "Ciliwung early warning, third edition"

    # A practice Jakarta restricts disappears from Tokyo's public library on the next harvest (history kept).
    jakarta.publish("pump-rota", title="Pump station rota", visibility="partners")
    harvest_now(tokyo, source_id)
    assert tokyo.get("/practices/jakarta/pump-rota")[0] == 404
    restricted = current(tokyo, "jakarta/pump-rota")
    assert restricted is not None and (restricted.visibility, restricted.version) == ("partners", 2)
    sources = harvests.sources(tokyo.instance)
    assert sources[0].last_report["counts"] == {"withdrawn": 1, "unchanged": 1}
