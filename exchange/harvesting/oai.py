"""OAI-PMH responses of another Practice Exchange, read safely: the one module that imports defusedxml.

What a harvester asks (:func:`request_url`) and what it reads back (:func:`read_identify`,
:func:`read_records`), for the contract between nodes: ``Identify`` and ``ListRecords`` with
``metadataPrefix=px_markdown``, ``from`` and ``set``, and ``resumptionToken`` paging. A response is parsed
with defusedxml (no entity expansion, no DTDs, no external entities: an XML bomb is refused as such, not
expanded) and read as data only: a record that breaks the contract is returned with the problem that
names what is wrong, so the caller reports it and goes on with the others. Nothing here touches the
network or the library.

A ``px_markdown`` record::

    <record><header [status="deleted"]><identifier>oai:NODE:city/slug</identifier>
      <datestamp>2026-12-07T10:00:00Z</datestamp>…</header>
      <metadata><px:practice xmlns:px="https://practice-exchange.net/oai/px_markdown/1.0/"
        id="city/slug" version="3" language="id" url="https://node/practices/city/slug">
        <px:markdown>front matter and body</px:markdown></px:practice></metadata></record>
"""

from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET  # noqa: S405 - only for the Element type; parsing is defusedxml's
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree

from exchange.catalogs import N_
from exchange.catalogs import Message

OAI = "{http://www.openarchives.org/OAI/2.0/}"
PX_NAMESPACE = "https://practice-exchange.net/oai/px_markdown/1.0/"
PX = "{" + PX_NAMESPACE + "}"
METADATA_PREFIX = "px_markdown"
#: an OAI-PMH datestamp at the granularity of the contract
DATESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
#: a practice id as the contract names it: city/slug, lowercase letters, digits and hyphens
PRACTICE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?/[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
#: a set spec as the contract names them (city:jakarta, country:id, hazard:riverine-flood, kind:procedure)
SET_SPEC = re.compile(r"^(city|country|hazard|kind):[A-Za-z0-9._-]{1,80}$")
MAX_TOKEN_CHARS = 500


class BadResponse(ValueError):
    """The response as a whole cannot be read (not XML, an XML bomb, an OAI-PMH error, not OAI-PMH)."""


@dataclass(frozen=True)
class Identity:
    """What a node's Identify says of it."""

    name: str
    base_url: str


@dataclass(frozen=True)
class Record:
    """One record of a ListRecords page: a practice's text, a deletion, or a problem that names what is wrong."""

    identifier: str
    datestamp: str | None
    practice_id: str | None = None
    deleted: bool = False
    version: int | None = None
    url: str | None = None
    markdown: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Page:
    """One ListRecords response: its records and the token of the next page (None: the last page)."""

    records: tuple[Record, ...]
    token: str | None


def check_set(spec: str) -> str | None:
    """What is wrong with set spec ``spec`` (None: nothing)."""
    if SET_SPEC.match(spec):
        return None
    return Message(N_("%(set)s is not a set of a Practice Exchange (city:…, country:…, hazard:… or kind:…)"),
                   set=repr(spec))


def request_url(base_url: str, verb: str, *, token: str | None = None, since: str | None = None,
                set_spec: str | None = None) -> str:
    """The URL of one request to ``base_url``: a resumption token stands alone, as the protocol requires."""
    if token is not None:
        arguments = {"verb": verb, "resumptionToken": token}
    elif verb == "Identify":
        arguments = {"verb": verb}
    else:
        arguments = {"verb": verb, "metadataPrefix": METADATA_PREFIX}
        if since:
            arguments["from"] = since
        if set_spec:
            arguments["set"] = set_spec
    return base_url + ("&" if "?" in base_url else "?") + urllib.parse.urlencode(arguments)


def _parse(data: bytes) -> ET.Element:
    try:
        root: ET.Element = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as error:
        raise BadResponse(Message(N_("the response was refused as hostile XML (%(what)s)"),
                                  what=type(error).__name__)) from None
    except ET.ParseError as error:
        raise BadResponse(Message(N_("the response is not well-formed XML (%(error)s)"), error=str(error))) from None
    if root.tag != f"{OAI}OAI-PMH":
        raise BadResponse(Message(N_("the response is not an OAI-PMH response")))
    for answer in root.findall(f"{OAI}error"):
        code = answer.get("code", "")
        if code == "noRecordsMatch":
            continue
        raise BadResponse(Message(N_("the node answered with OAI-PMH error %(code)s: %(text)s"), code=code,
                                  text=(answer.text or "").strip()[:300]))
    return root


def read_identify(data: bytes) -> Identity:
    """The node's name and base URL from an Identify response (BadResponse when it is not one)."""
    root = _parse(data)
    identify = root.find(f"{OAI}Identify")
    if identify is None:
        raise BadResponse(Message(N_("the response is not an OAI-PMH response")))
    name = (identify.findtext(f"{OAI}repositoryName") or "").strip()[:200]
    base_url = (identify.findtext(f"{OAI}baseURL") or "").strip()[:500]
    return Identity(name=name, base_url=base_url)


def read_records(data: bytes, max_markdown_bytes: int) -> Page:
    """A ListRecords page: every record (a bad one carries its problem) and the next resumption token."""
    root = _parse(data)
    if root.find(f"{OAI}error") is not None:  # noRecordsMatch: an empty, final page
        return Page((), None)
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise BadResponse(Message(N_("the response is not an OAI-PMH response")))
    records = tuple(_record(element, max_markdown_bytes) for element in listing.findall(f"{OAI}record"))
    token_element = listing.find(f"{OAI}resumptionToken")
    token = (token_element.text or "").strip() if token_element is not None else ""
    if len(token) > MAX_TOKEN_CHARS:
        raise BadResponse(Message(N_("the resumption token is longer than %(limit)s characters"),
                                  limit=MAX_TOKEN_CHARS))
    return Page(records, token or None)


def _record(element: ET.Element, max_markdown_bytes: int) -> Record:
    header = element.find(f"{OAI}header")
    if header is None:
        return Record("", None, problem=Message(N_("a record without a header")))
    identifier = (header.findtext(f"{OAI}identifier") or "").strip()[:300]
    datestamp = (header.findtext(f"{OAI}datestamp") or "").strip()
    named = _id_of(identifier)
    if not DATESTAMP.match(datestamp):
        return Record(identifier, None, named, problem=Message(N_("datestamp %(value)s is not YYYY-MM-DDThh:mm:ssZ"),
                                                        value=repr(datestamp[:40])))
    def refused(problem: str) -> Record:
        return Record(identifier, datestamp, practice_id=named, problem=problem)

    if header.get("status") == "deleted":
        return Record(identifier, datestamp, deleted=True, practice_id=named)
    practice = element.find(f"{OAI}metadata/{PX}practice")
    if practice is None:
        return refused(Message(N_("the record has no px_markdown metadata")))
    markdown = practice.findtext(f"{PX}markdown") or ""
    size = len(markdown.encode("utf-8"))
    if size > max_markdown_bytes:
        return refused(Message(
            N_("the practice is %(size)s KB; the limit is %(limit)s KB"), size=size // 1024,
            limit=max_markdown_bytes // 1024))
    practice_id = practice.get("id", "")
    if not PRACTICE_ID.match(practice_id) or named != practice_id:
        return refused(Message(
            N_("practice id %(id)s is not city/slug, or not the one its identifier names"), id=repr(practice_id[:200])))
    version = practice.get("version", "")
    if not (version.isascii() and version.isdigit() and 0 < int(version) < 1_000_000_000):
        return refused(Message(N_("version %(value)s is not a whole number"),
                                                             value=repr(version[:40])))
    url = practice.get("url", "")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or len(url) > 500:
        return refused(Message(N_("the practice's address %(url)s is not an http(s) URL"),
                                                             url=repr(url[:200])))
    return Record(identifier, datestamp, practice_id=practice_id, version=int(version), url=url, markdown=markdown)


def _id_of(identifier: str) -> str | None:
    """The practice id an identifier ``oai:<node>:<city>/<slug>`` names (None: not such an identifier)."""
    scheme, _, rest = identifier.partition(":")
    _node, _, practice_id = rest.rpartition(":")
    return practice_id if scheme == "oai" and PRACTICE_ID.match(practice_id) else None
