"""The OAI-PMH provider at /oai as harvesters use it: each verb, each error, deleted records, tokens.

The module's library is the bundled practices of three cities, their versions dated two a day from 2024-01-01,
one of them (Bangkok's PM2.5 plan) made partners-only on 2025-06-01 and one practice never public.
"""

from __future__ import annotations

import datetime
import threading
import xml.etree.ElementTree as ET  # noqa: N817
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from exchange.app import create_app
from exchange.initialise import initialise
from exchange.library import publishing
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.oai import tokens
from tests.conftest import close
from tests.conftest import practice_text

NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "px": "https://practice-exchange.net/oai/px_markdown/1.0/"}
BASE = "https://jakarta.example.org"
HIDDEN = "bangkok/pm25-response-plan"
SECRET = "Partner radio channel 7 code word BLUEHERON"
NEVER_PUBLIC = "jakarta/rahasia-posko"
NEVER_SECRET = "Never public code word REDKITE"
FIRST_DAY = datetime.datetime(2024, 1, 1)
HIDDEN_AT = datetime.datetime(2025, 6, 1, 12, 0, 0)
PAGE = 5
PRACTICES = Path(__file__).resolve().parent.parent / "practices"
CITIES = ("bangkok", "jakarta", "kobe")  # thirteen practices: enough for three pages, quicker than all
HOSTILE = "Steps</px:markdown><evil/>]]> &amp; <![CDATA[x]]> \x0b tab\n"


@pytest.fixture(scope="module")
def oai_app(tmp_path_factory, database):  # type: ignore[no-untyped-def]
    with database.fresh() as url:
        app = create_app({"INSTANCE": tmp_path_factory.mktemp("oai"), "TESTING": True, "DATABASE_URL": url,
                          "EXCHANGE_BASE_URL": BASE, "OAI_PAGE_SIZE": PAGE, "SECRET_KEY": "oai test key",
                          "OAI_REPOSITORY_NAME": "Jakarta's library", "OAI_ADMIN_EMAIL": "pusdatin@example.org"})
        instance = app.extensions["exchange"]
        initialise(instance, "test", seed=False)
        outcomes = list(publishing.import_paths(instance, [PRACTICES / city for city in CITIES], "cli:test"))
        assert len(outcomes) == 13 and not [outcome for outcome in outcomes if outcome.failed]
        with instance.db.writing() as session:
            rows = session.scalars(sa.select(PracticeVersion).order_by(PracticeVersion.practice_id)).all()
            for number, row in enumerate(rows):
                # two by two at the same moment: a page may end between two records dated alike
                row.published_at = FIRST_DAY + datetime.timedelta(days=number // 2, seconds=0.5)
        for slug, city, country, secret in (("pm25-response-plan", "bangkok", "TH", SECRET),
                                            ("rahasia-posko", "jakarta", "ID", NEVER_SECRET)):
            outcome = publishing.publish(instance, practice_text(body=f"{secret}.\n", city=city, country=country,
                                                                 visibility="partners"), slug, "cli:test")
            assert not outcome.failed, outcome.line()
        with instance.db.writing() as session:
            session.execute(sa.update(PracticeVersion).where(PracticeVersion.practice_id == HIDDEN,
                                                             PracticeVersion.version == 2)
                            .values(published_at=HIDDEN_AT))
        yield app
        close(app)


@pytest.fixture(scope="module")
def public_ids(oai_app) -> set[str]:  # type: ignore[no-untyped-def]
    with oai_app.extensions["exchange"].db.session() as session:
        return set(session.scalars(sa.select(PracticeRecord.id).where(PracticeRecord.visibility == "public")))


def ask(app, method: str = "get", **arguments: str) -> ET.Element:  # type: ignore[no-untyped-def]
    """The parsed answer to a request with ``arguments`` (``from_`` stands for ``from``)."""
    query = {key.rstrip("_"): value for key, value in arguments.items()}
    client = app.test_client()
    response = client.post("/oai", data=query) if method == "post" else client.get("/oai", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.data)


def error_code(root: ET.Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")


def identifiers(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iterfind(".//oai:header/oai:identifier", NS)]


def oai_id(practice_id: str) -> str:
    return f"oai:jakarta.example.org:{practice_id}"


@pytest.fixture(scope="module")
def served(oai_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, oai_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/oai"
    server.shutdown()
    thread.join()


def test_a_harvester_harvests_exactly_the_public_practices(served, public_ids):  # type: ignore[no-untyped-def]
    from oaipmh_scythe import Scythe

    with Scythe(served) as scythe:
        assert scythe.identify().repositoryName == "Jakarta's library"
        records = list(scythe.list_records(metadata_prefix="px_markdown", ignore_deleted=True))
        dc_records = list(scythe.list_records(metadata_prefix="oai_dc"))
        headers = list(scythe.list_identifiers(metadata_prefix="oai_dc"))
    assert len(public_ids) == 13 - 1
    assert sorted(record.header.identifier for record in records) == sorted(map(oai_id, public_ids))
    assert all(SECRET not in record.raw and NEVER_SECRET not in record.raw for record in records + dc_records)
    deleted = [header.identifier for header in headers if header.deleted]
    assert deleted == [oai_id(HIDDEN)]
    assert len(headers) == len(public_ids) + 1 and len(dc_records) == len(public_ids) + 1


def test_identify_describes_the_repository(oai_app):  # type: ignore[no-untyped-def]
    root = ask(oai_app, verb="Identify")
    identify = root.find("oai:Identify", NS)
    assert identify is not None
    assert identify.findtext("oai:baseURL", namespaces=NS) == f"{BASE}/oai"
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext("oai:earliestDatestamp", namespaces=NS) == "2024-01-01T00:00:00Z"
    assert identify.findtext("oai:adminEmail", namespaces=NS) == "pusdatin@example.org"
    assert root.find("oai:request", NS).attrib == {"verb": "Identify"}  # type: ignore[union-attr]


def test_get_record_in_both_formats(oai_app):  # type: ignore[no-untyped-def]
    practice_id = "jakarta/ciliwung-flood-early-warning"
    instance = oai_app.extensions["exchange"]
    px = ask(oai_app, verb="GetRecord", identifier=oai_id(practice_id), metadataPrefix="px_markdown")
    practice = px.find(".//px:practice", NS)
    assert practice is not None
    assert practice.attrib["id"] == practice_id and practice.attrib["version"] == "1"
    assert practice.attrib["url"] == f"{BASE}/practices/{practice_id}"
    assert practice.findtext("px:markdown", namespaces=NS) == instance.store.read_version(practice_id, 1).decode()
    dc = ask(oai_app, verb="GetRecord", identifier=oai_id(practice_id), metadataPrefix="oai_dc")
    values = {}
    for element in dc.find(".//oai_dc:dc", NS):  # type: ignore[union-attr]
        values.setdefault(element.tag.rpartition("}")[2], []).append(element.text)
    assert values["identifier"] == [f"{BASE}/practices/{practice_id}"]
    assert values["creator"] == ["Jakarta"] and values["coverage"] == ["Jakarta", "Indonesia"]
    assert {"Riverine flood", "HIPs MH0604"} <= set(values["subject"])
    assert any(subject.startswith("Sendai Framework priority 2") for subject in values["subject"])
    assert values["language"] == ["en"] and values["type"] == ["procedure"]
    assert values["rights"][0].startswith("Creative Commons Attribution 4.0 International (CC-BY-4.0)")
    assert f"{BASE}/practices/jakarta/peringatan-dini-banjir-ciliwung" in values["relation"]
    header = dc.find(".//oai:header", NS)
    assert header is not None and header.get("status") is None
    assert {"city:jakarta", "country:id", "hazard:riverine-flood", "kind:procedure"} <= {
        spec.text for spec in header.iterfind("oai:setSpec", NS)}


def test_a_partners_only_practice_is_deleted_for_harvesters(oai_app):  # type: ignore[no-untyped-def]
    client = oai_app.test_client()
    for prefix in ("px_markdown", "oai_dc"):
        for arguments in ({"verb": "ListRecords", "metadataPrefix": prefix},
                          {"verb": "GetRecord", "metadataPrefix": prefix, "identifier": oai_id(HIDDEN)}):
            body = client.get("/oai", query_string=arguments).data.decode()
            token = ET.fromstring(body).find(".//oai:resumptionToken", NS)
            while token is not None and token.text:
                page = client.get("/oai", query_string={"verb": "ListRecords", "resumptionToken": token.text})
                body += page.data.decode()
                token = ET.fromstring(page.data).find(".//oai:resumptionToken", NS)
            assert SECRET not in body and NEVER_SECRET not in body and "rahasia-posko" not in body
    root = ask(oai_app, verb="GetRecord", identifier=oai_id(HIDDEN), metadataPrefix="oai_dc")
    header = root.find(".//oai:record/oai:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert root.find(".//oai:metadata", NS) is None
    assert header.findtext("oai:datestamp", namespaces=NS) == "2025-06-01T12:00:00Z"
    # its sets are those of its last public version (air pollution), not of the partners-only text
    specs = {spec.text for spec in header.iterfind("oai:setSpec", NS)}
    assert "hazard:air-pollution" in specs and "hazard:riverine-flood" not in specs
    assert error_code(ask(oai_app, verb="ListMetadataFormats", identifier=oai_id(HIDDEN))) == "noMetadataFormats"
    assert error_code(ask(oai_app, verb="GetRecord", identifier=oai_id(NEVER_PUBLIC),
                          metadataPrefix="oai_dc")) == "idDoesNotExist"


def test_a_practice_made_public_again_reappears(app, make_practice):  # type: ignore[no-untyped-def]
    instance = app.extensions["exchange"]
    expected = ["oai:127.0.0.1:jakarta/flood-warning"]  # EXCHANGE_BASE_URL's host by default
    for visibility, deleted in (("public", False), ("partners", True), ("public", False)):
        text = make_practice(visibility=visibility, body=f"Text while {visibility}.\n")
        if deleted is False and visibility == "public" and instance.store.versions("jakarta/flood-warning"):
            # the file's line ends reach the harvester as they are; markup in it stays text
            text = make_practice(visibility=visibility, body=HOSTILE).replace(b"\n", b"\r\n")
        publishing.publish(instance, text, "flood-warning", "cli:test")
        root = ask(app, verb="ListRecords", metadataPrefix="px_markdown")
        assert identifiers(root) == expected
        assert (root.find(".//oai:header[@status='deleted']", NS) is not None) is deleted
        assert "Text while partners" not in ET.tostring(root, encoding="unicode")
    practice = root.find(".//px:practice", NS)
    assert practice is not None and practice.get("version") == "3"
    # a character XML cannot carry (a vertical tab) is the one change
    assert practice.findtext("px:markdown", namespaces=NS) == text.decode().replace("\x0b", "\ufffd")
    assert root.find(".//evil") is None and root.find(".//{*}evil") is None
    instance.store.version_path("jakarta/flood-warning", 3).unlink()  # drift, for `exchange check` to find
    lost = ask(app, verb="GetRecord", metadataPrefix="oai_dc", identifier=expected[0])
    assert error_code(lost) == "idDoesNotExist" and len(lost) == 3


@pytest.mark.parametrize(("window", "expected"), [
    ({"from_": "2024-01-01", "until": "2024-01-04"}, 7),  # and the eighth is dated when it was hidden
    ({"from_": "2024-01-02T00:00:00Z", "until": "2024-01-02T00:00:00Z"}, 1),
    ({"from_": "2024-01-02T00:00:01Z", "until": "2024-01-02T23:59:59Z"}, 0),
    ({"from_": "2025-06-01"}, 1),
    ({"until": "2023-12-31"}, 0),
])
def test_from_and_until_select_by_datestamp(oai_app, window, expected):  # type: ignore[no-untyped-def]
    root = ask(oai_app, verb="ListIdentifiers", metadataPrefix="oai_dc", **window)
    if expected == 0:
        assert error_code(root) == "noRecordsMatch"
        return
    stamps = [element.text for element in root.iterfind(".//oai:datestamp", NS)]
    token = root.find(".//oai:resumptionToken", NS)
    while token is not None and token.text:
        root = ask(oai_app, verb="ListIdentifiers", resumptionToken=token.text)
        stamps += [element.text for element in root.iterfind(".//oai:datestamp", NS)]
        token = root.find(".//oai:resumptionToken", NS)
    assert len(stamps) == expected and stamps == sorted(stamps)
    start, end = window.get("from_", "0000"), window.get("until", "9999")
    assert all(start <= stamp[:len(start)] and stamp[:len(end)] <= end for stamp in stamps)
    if window.get("from_") == "2025-06-01":
        assert identifiers(root) == [oai_id(HIDDEN)]


def test_list_sets_and_selective_harvesting(oai_app):  # type: ignore[no-untyped-def]
    root = ask(oai_app, verb="ListSets")
    names = {entry.findtext("oai:setSpec", namespaces=NS): entry.findtext("oai:setName", namespaces=NS)
             for entry in root.iterfind(".//oai:set", NS)}
    assert names["city:kobe"] == "Kobe" and names["country:jp"] == "Japan"
    assert names["hazard:riverine-flood"] == "Riverine flood (HIPs MH0604)" and names["kind:plan"] == "Plan"
    kobe = ask(oai_app, verb="ListIdentifiers", metadataPrefix="oai_dc", set="city:kobe")
    assert sorted(identifiers(kobe)) == sorted(oai_id(f"kobe/{slug}") for slug in (
        "bokomi-bousai-kunren-kyozai", "hanshin-awaji-kyokun", "hinanjo-unei-tejun", "shelter-operation-procedure"))
    with oai_app.extensions["exchange"].db.session() as session:
        smoky = {record.id for record in session.scalars(sa.select(PracticeRecord))
                 if record.visibility == "public" and "air-pollution" in record.hazards}
    air = ask(oai_app, verb="ListIdentifiers", metadataPrefix="oai_dc", set="hazard:air-pollution")
    assert smoky and sorted(identifiers(air)) == sorted(map(oai_id, smoky | {HIDDEN}))
    assert error_code(ask(oai_app, verb="ListIdentifiers", metadataPrefix="oai_dc", set="kind")) is None
    with oai_app.test_client().get("/static/px_markdown.xsd") as schema:  # the schema named below
        assert schema.status_code == 200 and ET.fromstring(schema.data).get("targetNamespace") == NS["px"]
    formats = ask(oai_app, verb="ListMetadataFormats", identifier=oai_id("kobe/hinanjo-unei-tejun"))
    assert [e.text for e in formats.iterfind(".//oai:metadataPrefix", NS)] == ["oai_dc", "px_markdown"]


def test_resumption_tokens_round_trip_and_refuse_forgeries(oai_app, public_ids):  # type: ignore[no-untyped-def]
    root = ask(oai_app, method="post", verb="ListIdentifiers", metadataPrefix="px_markdown")
    seen, cursors = identifiers(root), []
    token = root.find(".//oai:resumptionToken", NS)
    assert len(seen) == PAGE
    while token is not None and token.text:
        cursors.append(int(token.get("cursor") or -1))
        assert token.get("completeListSize") == str(len(public_ids) + 1)
        assert token.get("expirationDate")
        root = ask(oai_app, verb="ListIdentifiers", resumptionToken=token.text)
        seen += identifiers(root)
        last = token.text
        token = root.find(".//oai:resumptionToken", NS)
    assert token is not None and not token.text  # the last page ends the list with an empty token
    assert sorted(seen) == sorted(map(oai_id, public_ids | {HIDDEN}))
    assert cursors == list(range(0, len(seen) - PAGE, PAGE)) and token.get("cursor") == str(cursors[-1] + PAGE)
    body, _, signature = last.partition(".")
    forged = [body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + signature, last + "x", "nonsense",
              tokens.issue(tokens.Position("ListIdentifiers", "oai_dc", None, None, None, 0,
                                           (FIRST_DAY, ""), datetime.datetime(2020, 1, 1)), "oai test key"),
              tokens.issue(tokens.Position("ListIdentifiers", "oai_dc", None, None, None, 0,
                                           (FIRST_DAY, ""), datetime.datetime.now()), "another node's key")]
    for bad in forged:
        assert error_code(ask(oai_app, verb="ListIdentifiers", resumptionToken=bad)) == "badResumptionToken"
    assert error_code(ask(oai_app, verb="ListRecords", resumptionToken=last)) == "badResumptionToken"


@pytest.mark.parametrize(("arguments", "code"), [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2024-13-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2024-01-01T10:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2024-02-01", "until": "2024-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2024-01-01",
      "until": "2024-02-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "city::jakarta"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": oai_id("kobe/hinanjo-unei-tejun")},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere.org:kobe/hinanjo-unei-tejun"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": oai_id("kobe/no-such-practice")}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:\x01<&\"\ufffe"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "city:atlantis"}, "noRecordsMatch"),
    ({"verb": "ListSets", "resumptionToken": "anything"}, "badResumptionToken"),
])
def test_each_error_code(oai_app, arguments, code):  # type: ignore[no-untyped-def]
    root = ask(oai_app, **arguments)
    assert error_code(root) == code
    assert root.find("oai:error", NS).text  # type: ignore[union-attr]  # says why
    assert len(root) == 3  # responseDate, request, error: nothing else
    if code in ("badVerb", "badArgument"):
        assert root.find("oai:request", NS).attrib == {}  # type: ignore[union-attr]


def test_repeated_arguments_are_refused(oai_app):  # type: ignore[no-untyped-def]
    client = oai_app.test_client()
    repeated = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=px_markdown")
    assert error_code(ET.fromstring(repeated.data)) == "badArgument"
    twice = client.get("/oai?verb=Identify&verb=Identify")
    assert error_code(ET.fromstring(twice.data)) == "badVerb"


def test_a_day_stands_for_its_first_second_from_and_its_last_until():
    from exchange.oai import arguments

    request = arguments.parse([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", "2024-02-28"),
                               ("until", "2024-02-29")])
    assert (request.start, request.end) == (datetime.datetime(2024, 2, 28), datetime.datetime(2024, 2, 29, 23, 59, 59))
    with pytest.raises(arguments.OaiError, match="badArgument"):
        arguments.parse([("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("until", "2023-02-29")])
