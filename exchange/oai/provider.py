"""OAI-PMH 2.0 answers: each of the six verbs, or the protocol's error, as a UTF-8 XML document.

A harvester is anonymous: it sees only public versions (``catalogue``). Records are listed in
(datestamp, id) order, :attr:`Repository.page_size` at a time, with signed resumption tokens (``tokens``).
Errors are answered as the protocol says: an ``<error>`` in a 200 response.
"""

from __future__ import annotations

import datetime
import logging
import xml.etree.ElementTree as ET  # noqa: N817  # the library's own short name
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.library.practice import InvalidPractice
from exchange.library.practice import Practice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.models import City
from exchange.models import PracticeRecord
from exchange.oai import catalogue
from exchange.oai import formats
from exchange.oai import tokens
from exchange.oai.arguments import OaiError
from exchange.oai.arguments import OaiRequest
from exchange.oai.arguments import datestamp
from exchange.oai.arguments import parse as parse_arguments
from exchange.oai.formats import OAI
from exchange.oai.formats import XSI

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

PAGE_SIZE = 100
_NO_ATTRIBUTES = frozenset({"badVerb", "badArgument"})


@dataclass(frozen=True)
class Repository:
    """What the web tells the provider about this node."""

    #: the address of the /oai endpoint (baseURL)
    base_url: str
    #: the repositoryIdentifier in every record's identifier (oai:<it>:<city>/<slug>)
    identifier: str
    admin_email: str
    #: signs resumption tokens
    secret: str | bytes
    #: the stable URL of a practice's page, from its id
    practice_url: Callable[[str], str]
    #: where this node serves the px_markdown XML schema
    px_schema: str
    name: str = "Practice Exchange"
    page_size: int = PAGE_SIZE


def respond(instance: Instance, repository: Repository, pairs: Iterable[tuple[str, str]],
            now: datetime.datetime | None = None) -> bytes:
    """The answer to the request made of ``pairs`` (its arguments), as a UTF-8 XML document."""
    now = (now or datetime.datetime.now(datetime.UTC)).replace(tzinfo=None, microsecond=0)
    root = ET.Element(f"{{{OAI}}}OAI-PMH")
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    ET.SubElement(root, f"{{{OAI}}}responseDate").text = datestamp(now)
    request_element = ET.SubElement(root, f"{{{OAI}}}request")
    request_element.text = repository.base_url
    try:
        request = parse_arguments(pairs)
        for name, value in request.arguments.items():
            request_element.set(name, formats.xml_text(value))
        request_element.set("verb", request.verb)
        _VERBS[request.verb](_Answer(instance, repository, request, now), root)
    except OaiError as error:
        if error.code in _NO_ATTRIBUTES:
            request_element.attrib.clear()
        for extra in list(root)[2:]:
            root.remove(extra)
        _sub(root, "error", error.message, code=error.code)
        log.info("OAI-PMH %s: %s", error.code, error.message)
    # A carriage return in a text (a file with CRLF line ends) is written as a reference, or XML parsers
    # would read it as a line feed; attributes are escaped by ElementTree, so every raw CR is in a text.
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)).replace(b"\r", b"&#13;")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{OAI}}}{tag}", attributes)
    if text is not None:
        element.text = formats.xml_text(text)
    return element


@dataclass(frozen=True)
class _Answer:
    """One request being answered, with what every verb needs."""

    instance: Instance
    repository: Repository
    request: OaiRequest
    now: datetime.datetime

    @property
    def metadata_formats(self) -> dict[str, formats.MetadataFormat]:
        return formats.formats(self.repository.px_schema)

    def oai_identifier(self, practice_id: str) -> str:
        return f"oai:{self.repository.identifier}:{practice_id}"

    def known(self, identifier: str) -> catalogue.Header:
        """The record ``identifier`` names, or idDoesNotExist."""
        prefix = f"oai:{self.repository.identifier}:"
        found = catalogue.header(self.instance, identifier[len(prefix):]) if identifier.startswith(prefix) else None
        if found is None:
            raise OaiError("idDoesNotExist", f"{identifier[:200]!r} is not an identifier in this repository")
        return found

    def metadata_format(self, prefix: str) -> formats.MetadataFormat:
        if prefix not in self.metadata_formats:
            raise OaiError("cannotDisseminateFormat",
                           f"{prefix[:100]!r} is not a metadata format of this repository: give one of "
                           + ", ".join(self.metadata_formats))
        return self.metadata_formats[prefix]


def _identify(answer: _Answer, root: ET.Element) -> None:
    repository = answer.repository
    element = _sub(root, "Identify")
    _sub(element, "repositoryName", repository.name)
    _sub(element, "baseURL", repository.base_url)
    _sub(element, "protocolVersion", "2.0")
    _sub(element, "adminEmail", repository.admin_email)
    _sub(element, "earliestDatestamp", datestamp(catalogue.earliest(answer.instance)))
    _sub(element, "deletedRecord", "persistent")
    _sub(element, "granularity", "YYYY-MM-DDThh:mm:ssZ")


def _list_metadata_formats(answer: _Answer, root: ET.Element) -> None:
    if answer.request.identifier is not None and answer.known(answer.request.identifier).deleted:
        raise OaiError("noMetadataFormats", "the record is deleted: no metadata is disseminated for it")
    element = _sub(root, "ListMetadataFormats")
    for metadata_format in answer.metadata_formats.values():
        entry = _sub(element, "metadataFormat")
        _sub(entry, "metadataPrefix", metadata_format.prefix)
        _sub(entry, "schema", metadata_format.schema)
        _sub(entry, "metadataNamespace", metadata_format.namespace)


def _list_sets(answer: _Answer, root: ET.Element) -> None:
    if answer.request.resumption_token is not None:
        raise OaiError("badResumptionToken", "the list of sets is sent whole: it has no resumption tokens")
    element = _sub(root, "ListSets")
    for found in catalogue.sets(answer.instance):
        entry = _sub(element, "set")
        _sub(entry, "setSpec", found.spec)
        _sub(entry, "setName", found.name)


def _get_record(answer: _Answer, root: ET.Element) -> None:
    header = answer.known(answer.request.identifier or "")
    answer.metadata_format(answer.request.metadata_prefix or "")
    element = _sub(root, "GetRecord")
    _records(answer, element, [header], answer.request.metadata_prefix or "")
    if not len(element):  # its file could not be read as a public version (logged)
        raise OaiError("idDoesNotExist", f"{answer.request.identifier!r} cannot be disseminated now")


def _list(answer: _Answer, root: ET.Element) -> None:
    request, repository = answer.request, answer.repository
    if request.resumption_token is not None:
        position = tokens.read(request.resumption_token, request.verb, repository.secret, answer.now)
        prefix, set_spec, start, end = position.metadata_prefix, position.set_spec, position.start, position.end
        cursor, after = position.cursor, position.after
    else:
        prefix, set_spec, start, end = request.metadata_prefix or "", request.set_spec, request.start, request.end
        cursor, after = 0, None
    answer.metadata_format(prefix)
    found = catalogue.page(answer.instance, catalogue.Selection(start, end, set_spec), after, repository.page_size)
    if not found.headers:
        raise OaiError("noRecordsMatch", "no records match the request")
    element = _sub(root, request.verb)
    if request.verb == "ListRecords":
        _records(answer, element, found.headers, prefix)
    else:
        for header in found.headers:
            _header(answer, element, header)
    if found.more or request.resumption_token is not None:
        attributes = {"completeListSize": str(max(found.complete_size, 1)), "cursor": str(cursor)}
        token = ""
        if found.more:
            position = tokens.Position(request.verb, prefix, set_spec, start, end, cursor + len(found.headers),
                                       found.headers[-1].key, answer.now)
            token = tokens.issue(position, repository.secret)
            attributes["expirationDate"] = datestamp(position.expires)
        _sub(element, "resumptionToken", token, **attributes)


def _header(answer: _Answer, parent: ET.Element, header: catalogue.Header) -> None:
    element = _sub(parent, "header", **({"status": "deleted"} if header.deleted else {}))
    _sub(element, "identifier", answer.oai_identifier(header.practice_id))
    _sub(element, "datestamp", datestamp(header.datestamp))
    for spec in header.sets:
        _sub(element, "setSpec", spec)


def _records(answer: _Answer, parent: ET.Element, headers: list[catalogue.Header], prefix: str) -> None:
    """Each record of ``headers``: a deleted one as its header alone, others with their metadata."""
    described = _described(answer, [header for header in headers if not header.deleted])
    for header in headers:
        if not header.deleted and header.practice_id not in described:
            continue  # its file could not be read as a public version: logged, never disseminated
        record = _sub(parent, "record")
        _header(answer, record, header)
        if header.deleted:
            continue
        metadata = _sub(record, "metadata")
        if prefix == "px_markdown":
            formats.px_markdown(metadata, described[header.practice_id], answer.repository.px_schema)
        else:
            formats.oai_dc(metadata, described[header.practice_id])


def _described(answer: _Answer, headers: list[catalogue.Header]) -> dict[str, formats.Described]:
    """The public versions ``headers`` stand for, read from their files, with their cities and translations."""
    instance, url = answer.instance, answer.repository.practice_url
    found: dict[str, tuple[int, str, Practice]] = {}
    for header in headers:
        try:
            raw = instance.store.read_version(header.practice_id, header.version)
            practice = parse(raw, header.practice_id.partition("/")[2])
        except (OSError, UnsafePath, InvalidPractice, ValueError) as error:
            log.warning("OAI-PMH cannot read %r v%d: %s", header.practice_id, header.version, error)
            continue
        if not policy.may_read(policy.ANONYMOUS, practice):
            log.warning("OAI-PMH: %r v%d is not public in its file", header.practice_id, header.version)
            continue
        found[header.practice_id] = (header.version, raw.decode("utf-8").removeprefix("\ufeff"), practice)
    if not found:
        return {}
    originals = {_original(practice) for _, _, practice in found.values()}
    with instance.db.session() as session:
        cities = {city.slug: city for city in session.scalars(sa.select(City))}
        family = list(session.execute(sa.select(PracticeRecord.id, PracticeRecord.translation_of).where(
            PracticeRecord.visibility.in_(catalogue.PUBLIC),
            sa.or_(PracticeRecord.id.in_(originals), PracticeRecord.translation_of.in_(originals)))))
    described = {}
    for practice_id, (version, text, practice) in found.items():
        original = _original(practice)
        relations = sorted(url(row.id) for row in family
                           if (row.id == original or row.translation_of == original) and row.id != practice_id)
        city = cities.get(practice.city)
        name = city.display_name(str(practice.language)) if city else str(practice.city)
        described[practice_id] = formats.Described(practice, version, text, url(practice_id), name, relations)
    return described


def _original(practice: Practice) -> str:
    """The id of the original a practice translates, or its own."""
    return str(practice.translation_of or practice.id)


_VERBS: dict[str, Callable[[_Answer, ET.Element], None]] = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "ListIdentifiers": _list,
    "ListRecords": _list,
    "GetRecord": _get_record,
}
