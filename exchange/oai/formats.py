"""The two metadata formats a record is disseminated in: ``oai_dc`` (Dublin Core) and ``px_markdown`` (ours).

``px_markdown`` carries the whole published file of a version, front matter and body, so another node
can import it as it is; ``oai_dc`` maps our metadata to the fifteen Dublin Core elements.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: N817  # the library's own short name
from collections.abc import Sequence
from dataclasses import dataclass

from exchange.library import vocabularies
from exchange.library.practice import Practice

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
PX = "https://practice-exchange.net/oai/px_markdown/1.0/"

# OAI-PMH's own elements are written unprefixed, as harvesters and the protocol's examples expect.
for _prefix, _namespace in (("", OAI), ("xsi", XSI), ("oai_dc", OAI_DC), ("dc", DC), ("px", PX)):
    ET.register_namespace(_prefix, _namespace)

#: characters XML 1.0 cannot carry at all, not even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


@dataclass(frozen=True)
class Described:
    """What a record's metadata is made of: the version's text and document, and links made outside."""

    practice: Practice
    version: int
    text: str
    url: str
    city_name: str
    #: the stable URLs of its public translations (and its original)
    relations: Sequence[str]


def formats(px_schema: str) -> dict[str, MetadataFormat]:
    """The formats by prefix; ``px_schema`` is where this node serves the px_markdown schema."""
    return {
        "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
        "px_markdown": MetadataFormat("px_markdown", px_schema, PX),
    }


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def px_markdown(parent: ET.Element, record: Described, schema: str) -> None:
    """``record`` as ``<px:practice>``: its id, version, language and URL, and the whole file."""
    practice = record.practice
    element = _sub(parent, f"{{{PX}}}practice", id=practice.id, version=str(record.version),
                   language=str(practice.language), url=record.url)
    element.set(f"{{{XSI}}}schemaLocation", f"{PX} {schema}")
    _sub(element, f"{{{PX}}}markdown", record.text)


def oai_dc(parent: ET.Element, record: Described) -> None:
    """``record`` in Dublin Core: hazards (with HIPs codes) and Sendai priorities as subjects, the city and
    country as coverage, the licence as rights, translations as relations."""
    practice = record.practice
    language = str(practice.language)
    dc = _sub(parent, f"{{{OAI_DC}}}dc")
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def element(name: str, value: object) -> None:
        _sub(dc, f"{{{DC}}}{name}", str(value))

    element("title", practice.title)
    element("creator", record.city_name)
    for contributor in ([practice.organisation] if practice.organisation else []) + list(practice.authors or []):
        element("contributor", contributor)
    hazards = vocabularies.hazards()
    for key in practice.hazards or []:
        element("subject", hazards.label(key))
        term = hazards.terms.get(key)
        if term is not None and term.code:
            element("subject", f"HIPs {term.code}")
    priorities = vocabularies.sendai_priorities()
    for number in practice.sendai_priorities or []:
        element("subject", f"Sendai Framework priority {number}: {priorities.label(number)}")
    for tag in practice.tags or []:
        element("subject", tag)
    element("description", practice.summary)
    element("publisher", record.city_name)
    element("date", practice.published.isoformat())
    if practice.updated:
        element("date", practice.updated.isoformat())
    element("type", practice.kind)
    element("format", "text/markdown")
    element("identifier", record.url)
    if practice.source:
        element("source", practice.source)
    element("language", language)
    for url in record.relations:
        element("relation", url)
    element("coverage", record.city_name)
    element("coverage", vocabularies.country_name(str(practice.country), language))
    licence = vocabularies.licences().get(practice.licence)
    element("rights", f"{licence['name']} ({practice.licence}) {licence['url']}" if licence else practice.licence)
