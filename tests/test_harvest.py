"""Harvesting another node over OAI-PMH: hand-written responses of the contract, served on loopback by a
real HTTP server, into a real instance (files, database, index); hostile nodes import nothing of what is
bad and say why, and the rest of the harvest lands."""

from __future__ import annotations

import html
import http.server
import socket
import threading
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from exchange.accounts import people
from exchange.errors import Invalid
from exchange.harvesting import fetch
from exchange.harvesting import harvests
from exchange.models import HarvestedPractice
from exchange.models import HarvestSource
from exchange.models import PracticeRecord
from exchange.policy import Viewer
from tests.conftest import practice_text
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import csrf_token
from tests.test_accounts import post
from tests.test_accounts import sign_in

ADMIN = Viewer(id=1, email="admin@tokyo.example", name="Admin", roles=("admin",))

OAI_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            '<responseDate>2026-12-07T10:00:00Z</responseDate><request>http://node/oai</request>')
IDENTIFY = (OAI_HEAD + "<Identify><repositoryName>Jakarta's library</repositoryName><baseURL>http://node/oai</baseURL>"
            "<protocolVersion>2.0</protocolVersion></Identify></OAI-PMH>").encode()


def record(slug: str, markdown: bytes | str, version: int = 1, datestamp: str = "2026-12-01T08:00:00Z") -> str:
    """One px_markdown record of the contract."""
    text = markdown.decode() if isinstance(markdown, bytes) else markdown
    return (f"<record><header><identifier>oai:jakarta.node:jakarta/{slug}</identifier>"
            f"<datestamp>{datestamp}</datestamp></header><metadata>"
            f'<px:practice xmlns:px="https://practice-exchange.net/oai/px_markdown/1.0/" id="jakarta/{slug}" '
            f'version="{version}" language="en" url="https://jakarta.node/practices/jakarta/{slug}">'
            f"<px:markdown>{html.escape(text, quote=False)}</px:markdown></px:practice></metadata></record>")


def page(*records: str, token: str | None = None) -> bytes:
    resumption = f"<resumptionToken>{token}</resumptionToken>" if token else ""
    return (OAI_HEAD + "<ListRecords>" + "".join(records) + resumption + "</ListRecords></OAI-PMH>").encode()


class Node:
    """A canned OAI-PMH node on 127.0.0.1: ``answer(arguments)`` gives each response (bytes, or a status and
    headers for a redirect); every request's arguments are kept."""

    def __init__(self, answer: Callable[[dict[str, str]], Any]) -> None:
        self.requests: list[dict[str, str]] = []
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                arguments = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                node.requests.append(arguments)
                body = IDENTIFY if arguments.get("verb") == "Identify" else answer(arguments)
                if isinstance(body, tuple):
                    self.send_response(body[0])
                    for name, value in body[1].items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/oai"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node() -> Iterator[Callable[[Callable[[dict[str, str]], Any]], Node]]:
    nodes: list[Node] = []

    def start(answer: Callable[[dict[str, str]], Any]) -> Node:
        nodes.append(Node(answer))
        return nodes[-1]

    yield start
    for started in nodes:
        started.close()


def practices(instance: Any) -> dict[str, PracticeRecord]:
    with instance.db.session() as session:
        return {r.id: r for r in session.scalars(sa.select(PracticeRecord))}


GOOD = practice_text(title="Gauge relay", body="## Steps\n\n[Gauges](https://example.org/gauges) are read.\n")


def test_hostile_records_import_nothing_of_them_and_say_why(node, runner, instance, client) -> None:  # type: ignore[no-untyped-def]
    """Broken, hostile and oversized records are refused one by one, with why, on the command line and the
    admin page; the good one lands, with its provenance."""
    big = practice_text(title="Huge", body="word " * (2 * 2**20))  # a 10 MB record
    served = node(lambda _arguments: page(
        record("gauge-relay", GOOD, version=4),
        record("no-title", practice_text(title=None)),
        record("scripted", practice_text(title="Scripted", body="<script>alert(1)</script>\n")),
        record("linked", practice_text(title="Linked", body="[Open](javascript:alert(1))\n")),
        record("huge", big),
        "<record><header><identifier>oai:jakarta.node:jakarta/broken</identifier><datestamp>yesterday"
        "</datestamp></header></record>",
    ))

    result = runner.invoke(args=["harvest", served.url])

    assert result.exit_code == 1
    assert list(practices(instance)) == ["jakarta/gauge-relay"]
    out = result.output
    assert "created oai:jakarta.node:jakarta/gauge-relay" in out
    assert "jakarta/no-title — title: is required" in out
    assert "jakarta/scripted — the text carries raw HTML <script>" in out
    assert "jakarta/linked — the text links to 'javascript:alert(1', which is not http" in out
    assert "jakarta/huge — the practice is 10240 KB; the limit is 512 KB" in out
    assert "jakarta/broken — datestamp 'yesterday' is not YYYY-MM-DDThh:mm:ssZ" in out
    assert "Jakarta's library: 1 created, 0 updated, 0 unchanged, 0 sent for review, 0 withdrawn, 5 failed" in out
    with instance.db.session() as session:
        kept = session.get_one(HarvestedPractice, "jakarta/gauge-relay")
        assert (kept.source_name, kept.identifier, kept.original_version, kept.original_url) == (
            "Jakarta's library", "oai:jakarta.node:jakarta/gauge-relay", 4,
            "https://jakarta.node/practices/jakarta/gauge-relay")
        source = session.scalars(sa.select(HarvestSource)).one()
        assert source.last_datestamp == "2026-12-01T08:00:00Z"
        assert [line["practice"] for line in source.last_report["lines"] if line["status"] == "failed"] == [
            "jakarta/no-title", "jakarta/scripted", "jakarta/linked", "jakarta/huge", "jakarta/broken"]
    # the practice's page says where it came from, with a link back
    practice_page = client.get(HTTPS + "/practices/jakarta/gauge-relay").get_data(as_text=True)
    assert ('From <a href="https://jakarta.node/practices/jakarta/gauge-relay" rel="external">Jakarta\'s '
            "library</a>") in practice_page
    # the admin page shows the last run's report, in the reader's language
    people.create_user(instance, "admin@tokyo.example", "Admin", ["admin"], [], "test", PASSWORD)
    sign_in(client, "admin@tokyo.example")
    shown = client.get(HTTPS + "/admin/harvests?lang=ja").get_data(as_text=True)
    assert "Jakarta&#39;s library" in shown
    assert shown.count('class="failed"') == 5
    assert "jakarta/scripted" in shown and "&lt;script&gt;" in shown
    refused = post(client, "/admin/harvests?lang=en", {"base_url": "ftp://elsewhere/oai", "sets": "region:java",
                                                       "csrf_token": csrf_token(client, "/admin/harvests")})
    assert refused.status_code == 400
    assert ("&#39;ftp://elsewhere/oai&#39; is not an http(s) address; &#39;region:java&#39; is not a set"
            in refused.get_data(as_text=True))
    assert len(harvests.sources(instance)) == 1
    # the next harvest asks only for what changed since
    runner.invoke(args=["harvest", served.url])
    assert served.requests[-1] == {"verb": "ListRecords", "metadataPrefix": "px_markdown",
                                   "from": "2026-12-01T08:00:00Z"}


@pytest.mark.parametrize(("response", "why"), [
    (b"<OAI-PMH><ListRecords><record>", "the response is not well-formed XML"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
     b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>&lol2;</ListRecords></OAI-PMH>',
     "the response was refused as hostile XML"),
    ((302, {"Location": "http://198.51.100.7/oai"}), "the node redirected to another address"),
])
def test_a_response_that_cannot_be_read_stops_the_harvest_and_says_why(node, instance, response, why) -> None:  # type: ignore[no-untyped-def]
    """Broken XML, an XML bomb and a redirect elsewhere: nothing lands, the report says why, and the next
    harvest asks from where the last complete one ended."""
    served = node(lambda _arguments: response)

    report = harvests.harvest_url(instance, served.url, [], "test")

    assert not practices(instance)
    assert not report.complete
    assert [line.status for line in report.lines] == ["stopped"]
    assert report.lines[0].problems[0].startswith(why)
    assert sum(r.get("verb") == "ListRecords" for r in served.requests) == 1
    with instance.db.session() as session:
        assert session.scalars(sa.select(HarvestSource)).one().last_datestamp is None


def test_endless_resumption_tokens_are_cut_off_and_what_came_before_lands(node, instance) -> None:  # type: ignore[no-untyped-def]
    """A node that never stops paging is read up to the page cap; the records it sent are kept."""
    def answer(arguments: dict[str, str]) -> bytes:
        number = int(arguments.get("resumptionToken", "0"))
        slug = f"page-{number}"
        return page(record(slug, practice_text(title=f"Page {number}")), token=str(number + 1))

    served = node(answer)

    report = harvests.harvest_url(instance, served.url, ["city:jakarta"], "test", max_pages=3)

    assert sorted(practices(instance)) == ["jakarta/page-0", "jakarta/page-1", "jakarta/page-2"]
    assert report.lines[-1].status == "stopped"
    assert str(report.lines[-1].problems[0]) == "the node kept sending pages past 3; the harvest stopped there"
    assert served.requests[1] == {"verb": "ListRecords", "metadataPrefix": "px_markdown", "set": "city:jakarta"}
    assert served.requests[2] == {"verb": "ListRecords", "resumptionToken": "1"}


def test_an_unknown_city_is_added_from_the_record(node, instance) -> None:  # type: ignore[no-untyped-def]
    """A practice of a city this library does not have keeps its city: the city is added from its metadata."""
    text = practice_text(title="Typhoon shelters", city="naha", country="JP")
    served = node(lambda _arguments: page(record("typhoon", text).replace("jakarta/", "naha/")))

    report = harvests.harvest_url(instance, served.url, [], "test")

    assert [line.status for line in report.lines] == ["city added", "created"]
    assert practices(instance)["naha/typhoon"].country == "JP"


@pytest.mark.parametrize(("address", "sets", "interval", "problem"), [
    ("ftp://node/oai", [], 24, "'ftp://node/oai' is not an http(s) address"),
    ("https://node/oai", ["city:jakarta", "region:java"], 24, "'region:java' is not a set of a Practice Exchange"),
    ("https://node/oai", [], 0, "the interval in hours must be 1 to 8760"),
])
def test_bad_sources_are_refused_naming_the_problem(instance, address, sets, interval, problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        harvests.save_source(instance, ADMIN, address, sets, interval)
    assert problem in str(refused.value)
    assert harvests.sources(instance) == []


def test_a_silent_node_and_an_oversized_answer_are_refused_saying_why(node) -> None:  # type: ignore[no-untyped-def]
    """The bounds of one fetch: a node that accepts and never answers hits the read timeout; an answer past
    the size cap is not read (tested with small bounds; the harvest uses 30 s and 16 MB)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(fetch.FetchRefused) as refused:
            fetch.get(f"http://127.0.0.1:{silent.getsockname()[1]}/oai?verb=Identify", 2**20, timeout=0.2)
    assert str(refused.value.args[0]).startswith("the node did not answer within the time limit")
    served = node(lambda _arguments: page(record("long", practice_text(body="word " * 2**20))))
    with pytest.raises(fetch.FetchRefused) as refused:
        fetch.get(served.url + "?verb=ListRecords", 2**20)
    assert str(refused.value.args[0]) == "the response is larger than 1 MB, so it was not read"


def deleted(slug: str) -> str:
    """A deleted record of the contract: the node no longer makes the practice public."""
    return (f'<record><header status="deleted"><identifier>oai:jakarta.node:jakarta/{slug}</identifier>'
            "<datestamp>2026-12-02T08:00:00Z</datestamp></header></record>")


def test_this_librarys_own_copies_are_neither_sent_to_review_unchanged_nor_withdrawn_by_a_node(node, instance) -> None:  # type: ignore[no-untyped-def]
    """Two nodes seeded with the same bundled practices: the same text is no news (nothing to review); a
    differing text goes to review; and when the node stops making them public, this library's own copies
    stay public (said in the report), and the text still waiting for review is withdrawn, never published."""
    from exchange.library import publishing
    from exchange.models import Submission

    publishing.publish(instance, GOOD, "gauge", "t")
    publishing.publish(instance, practice_text(title="Own levee plan"), "levee", "t")
    answers = [page(record("gauge", GOOD), record("levee", practice_text(title="Their levee plan")))]
    served = node(lambda _arguments: answers[0])

    report = harvests.harvest_url(instance, served.url, [], "test")

    assert {line.practice_id: line.status for line in report.lines} == {"jakarta/gauge": "unchanged",
                                                                        "jakarta/levee": "conflict"}
    with instance.db.session() as session:
        waiting = session.scalars(sa.select(Submission).where(Submission.status == "submitted")).all()
        assert [s.practice_id for s in waiting] == ["jakarta/levee"]
        submission_id = waiting[0].id

    answers[0] = page(deleted("gauge"), deleted("levee"))
    report = harvests.harvest_url(instance, served.url, [], "test")

    lines = {line.practice_id: line for line in report.lines}
    assert {key: line.status for key, line in lines.items()} == {"jakarta/gauge": "kept", "jakarta/levee": "kept"}
    assert "its text waiting for review here was withdrawn" in [str(p) for p in lines["jakarta/levee"].problems]
    assert {p.visibility for p in practices(instance).values()} == {"public"}
    with instance.db.session() as session:
        assert session.get(Submission, submission_id).status == "withdrawn"
