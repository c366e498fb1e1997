"""A request's OAI-PMH arguments read into an :class:`OaiRequest`, or the protocol error that refuses it.

The whole language (OAI-PMH 2.0, section 3.1 and 4):

- ``verb``: one of :data:`VERBS`, given exactly once (else ``badVerb``).
- Each verb's arguments: required, optional and exclusive (:data:`ARGUMENTS`); a missing required one, an
  argument the verb does not take, or any argument given twice is ``badArgument``. ``resumptionToken``
  is exclusive: nothing but ``verb`` may come with it.
- ``from`` and ``until``: ``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ`` (UTC), both of the same granularity,
  ``from`` not after ``until``; a day stands for its first (``from``) or last (``until``) second.
- ``metadataPrefix`` and ``set`` are written as the protocol's schema allows (unreserved URI characters,
  a set's levels joined by colons), ``identifier`` has no white space; else ``badArgument``.
- Values are at most :data:`MAX_VALUE` characters; at most :data:`MAX_ARGUMENTS` arguments are read.

It knows nothing of the library, the web or XML.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

VERBS = ("Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers", "ListRecords", "GetRecord")

#: per verb: (required, optional, exclusive)
ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), frozenset()),
    "ListSets": (frozenset(), frozenset(), frozenset({"resumptionToken"})),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                        frozenset({"resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                    frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), frozenset()),
}

MAX_VALUE = 2000
MAX_ARGUMENTS = 20

_UNRESERVED = r"[A-Za-z0-9\-_.!~*'()]+"
#: what each argument may look like (the protocol's XML schema: metadataPrefixType, setSpecType, anyURI)
_SYNTAX = {
    "metadataPrefix": re.compile(_UNRESERVED + r"\Z"),
    "set": re.compile(f"{_UNRESERVED}(:{_UNRESERVED})*\\Z"),
    "identifier": re.compile(r"\S+\Z"),
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


class OaiError(Exception):
    """A request the protocol refuses: its error ``code`` (badArgument, badVerb, …) and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OaiRequest:
    """A valid request: its verb, its arguments as given, and the dates read from them."""

    verb: str
    arguments: dict[str, str]
    #: the first second included (``from``), naive UTC
    start: datetime.datetime | None = None
    #: the last second included (``until``), naive UTC
    end: datetime.datetime | None = None

    @property
    def identifier(self) -> str | None:
        return self.arguments.get("identifier")

    @property
    def metadata_prefix(self) -> str | None:
        return self.arguments.get("metadataPrefix")

    @property
    def set_spec(self) -> str | None:
        return self.arguments.get("set")

    @property
    def resumption_token(self) -> str | None:
        return self.arguments.get("resumptionToken")


def parse(pairs: Iterable[tuple[str, str]]) -> OaiRequest:
    """The request made of the ``(name, value)`` pairs (query string and form body together).

    Raises :class:`OaiError` (``badVerb`` or ``badArgument``) naming the first problem found.
    """
    given: dict[str, str] = {}
    repeated: list[str] = []
    for count, (name, value) in enumerate(pairs):
        if count >= MAX_ARGUMENTS:
            raise OaiError("badArgument", f"more than {MAX_ARGUMENTS} arguments")
        if name in given:
            repeated.append(name)
        given[name] = value
    if "verb" in repeated:
        raise OaiError("badVerb", "the verb is given more than once")
    verb = given.pop("verb", None)
    if verb is None:
        raise OaiError("badVerb", "no verb: give one of " + ", ".join(VERBS))
    if verb not in ARGUMENTS:
        raise OaiError("badVerb", f"{verb[:100]!r} is not a verb: give one of " + ", ".join(VERBS))
    if repeated:
        raise OaiError("badArgument", f"the argument {repeated[0][:100]!r} is given more than once")
    required, optional, exclusive = ARGUMENTS[verb]
    for name, value in given.items():
        if name not in required | optional | exclusive:
            raise OaiError("badArgument", f"{verb} takes no argument {name[:100]!r}")
        if len(value) > MAX_VALUE:
            raise OaiError("badArgument", f"the argument {name!r} is longer than {MAX_VALUE} characters")
        if not value:
            raise OaiError("badArgument", f"the argument {name!r} is empty")
        if name in _SYNTAX and not _SYNTAX[name].match(value):
            raise OaiError("badArgument", f"{value[:100]!r} is not a well-formed {name}")
    if exclusive & given.keys():
        if len(given) > 1:
            raise OaiError("badArgument", "resumptionToken is exclusive: give it alone with the verb")
        return OaiRequest(verb, given)
    missing = sorted(required - given.keys())
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument {missing[0]!r}")
    start, end = dates(given.get("from"), given.get("until"))
    return OaiRequest(verb, given, start, end)


def dates(start: str | None, end: str | None) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The first and last second of the range ``from`` .. ``until`` (either may be missing)."""
    first = _date("from", start, last=False)
    last = _date("until", end, last=True)
    if start and end and _granularity(start) != _granularity(end):
        raise OaiError("badArgument", "from and until must have the same granularity")
    if first is not None and last is not None and first > last:
        raise OaiError("badArgument", f"from ({start}) is after until ({end})")
    return first, last


def _granularity(value: str) -> str:
    return "day" if _DAY.match(value) else "second"


def _date(name: str, value: str | None, last: bool) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        if _DAY.match(value):
            day = datetime.datetime.strptime(value, "%Y-%m-%d")
            return day + datetime.timedelta(hours=23, minutes=59, seconds=59) if last else day
        if _SECOND.match(value):
            return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        pass
    raise OaiError("badArgument", f"{name} {value[:40]!r} is not a UTC date as YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def datestamp(moment: datetime.datetime) -> str:
    """``moment`` (naive UTC) as an OAI-PMH datestamp of the repository's granularity (seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
