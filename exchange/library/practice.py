"""The practice document: Markdown with YAML front matter, parsed and validated against the schema."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.library import vocabularies
from exchange.library import yamlfile

#: A whole practice file larger than this is refused (threats R-2).
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_SUMMARY_CHARS = 400
MAX_TITLE_CHARS = 300
MAX_LIST_ITEMS = 50
MAX_TEXT_CHARS = 500

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
PRACTICE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}/[a-z0-9][a-z0-9-]{0,79}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
LICENCE_REF_PATTERN = re.compile(r"^LicenseRef-[A-Za-z0-9.-]{1,64}$")
# Windows device names are refused as slugs: the library may be copied to any file system.
RESERVED_SLUGS = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)

REQUIRED = ("title", "summary", "city", "country", "language", "kind", "hazards", "phases", "published")
OPTIONAL = (
    "updated", "review_by", "organisation", "authors", "sendai_priorities", "tags", "license",
    "visibility", "translation_of", "source",
)
DEFAULT_LICENCE = "CC-BY-4.0"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: the key it concerns (or ``None``) and what is wrong.

    Messages are :class:`~exchange.catalogs.Message` where they can be, so a page says them in its
    reader's language; ``str()`` of a problem is one too.
    """

    key: str | None
    message: str

    def __str__(self) -> str:
        return Message(N_("%(key)s: %(problem)s"), key=self.key, problem=self.message) if self.key else self.message


class InvalidPractice(Invalid):
    """A practice file failed validation; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Practice:
    """A validated practice: its id, its front matter values, its Markdown body and its exact text."""

    city: str
    slug: str
    meta: dict[str, Any]
    body: str
    text: bytes = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.city}/{self.slug}"

    def __getattr__(self, name: str) -> Any:
        if name in REQUIRED or name in OPTIONAL:
            return self.meta.get(name)
        raise AttributeError(name)

    @property
    def licence(self) -> str:
        return self.meta.get("license") or DEFAULT_LICENCE

    @property
    def visibility(self) -> str:
        return self.meta.get("visibility") or "public"

    def json_meta(self) -> dict[str, Any]:
        """The front matter as JSON-ready values (dates as ISO strings), defaults filled in."""
        out: dict[str, Any] = {}
        for key in REQUIRED + OPTIONAL:
            value = self.meta.get(key)
            if isinstance(value, datetime.date):
                value = value.isoformat()
            out[key] = value
        out["license"] = self.licence
        out["visibility"] = self.visibility
        return out


def check_slug(slug: str) -> str | None:
    """Why ``slug`` is not acceptable as a file or city name, or ``None`` when it is."""
    if unicodedata.normalize("NFKC", slug) != slug or not SLUG_PATTERN.match(slug):
        return Message(N_("%(slug)s is not a valid slug (lowercase ASCII letters, digits and hyphens, 1–80)"),
                       slug=repr(slug))
    if slug in RESERVED_SLUGS:
        return Message(N_("%(slug)s is a reserved device name"), slug=repr(slug))
    return None


def decode(raw: bytes) -> str:
    """The text of a practice file: strict UTF-8, no NUL, within the size cap (raises ValueError)."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ValueError(Message(N_("file is %(size)s KB; the limit is %(limit)s KB"), size=len(raw) // 1024,
                                 limit=MAX_DOCUMENT_BYTES // 1024))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(Message(N_("not valid UTF-8: byte %(byte)s at offset %(offset)s"),
                                 byte=f"0x{raw[error.start]:02x}", offset=error.start)) from None
    if "\x00" in text:
        raise ValueError(Message(N_("contains a NUL character at offset %(offset)s"), offset=text.index(chr(0))))
    return text.removeprefix("\ufeff")


def parse(raw: bytes, slug: str, source: str | None = None) -> Practice:
    """The practice in ``raw``, whose file name is ``<slug>.md``; raises InvalidPractice listing all problems."""
    source = source or f"{slug}.md"
    problems: list[Problem] = []
    slug_problem = check_slug(slug)
    if slug_problem:
        problems.append(Problem("slug", Message(N_("%(problem)s (taken from the file name)"), problem=slug_problem)))
    try:
        text = decode(raw)
    except ValueError as error:
        raise InvalidPractice(source, problems + [Problem(None, error.args[0])]) from None
    match = FRONT_MATTER.match(text)
    if not match:
        problems.append(Problem(None, Message(N_("no front matter: the file must start with a '---' line, the YAML "
                                                 "keys, and a closing '---' line"))))
        raise InvalidPractice(source, problems)
    try:
        data = yamlfile.load_untrusted(match.group(1), first_line=2)
    except yamlfile.YamlProblem as error:
        problem = Message(N_("front matter: %(problem)s"), problem=str(error))
        raise InvalidPractice(source, problems + [Problem(None, problem)]) from None
    if not isinstance(data, dict):
        problems.append(Problem(None, Message(N_("front matter must be a mapping of keys to values"))))
        raise InvalidPractice(source, problems)
    meta = validate(data, problems)
    body = text[match.end():]
    if not body.strip():
        problems.append(Problem("body", Message(N_("the practice has no text after the front matter"))))
    if problems:
        raise InvalidPractice(source, problems)
    return Practice(city=meta["city"], slug=slug, meta=meta, body=body, text=raw)


def validate(data: dict[Any, Any], problems: list[Problem]) -> dict[str, Any]:
    """The front matter ``data`` as checked values; every problem found is appended to ``problems``."""
    meta: dict[str, Any] = {}
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            problems.append(Problem(str(key), Message(N_("unknown key; allowed keys are %(allowed)s"),
                                                      allowed=", ".join(REQUIRED + OPTIONAL))))
    for key in REQUIRED:
        if data.get(key) in (None, "", []):
            problems.append(Problem(key, Message(N_("is required"))))
    for key, check in _CHECKS.items():
        if data.get(key) in (None, "", []):
            continue
        value, message = check(data[key])
        if message:
            problems.append(Problem(key, Message(N_("%(value)s %(problem)s"), value=_show(data[key]), problem=message)))
        else:
            meta[key] = value
    if "published" in meta and "updated" in meta and meta["updated"] < meta["published"]:
        problems.append(Problem("updated", Message(N_("%(updated)s is earlier than published (%(published)s)"),
                                                   updated=str(meta["updated"]), published=str(meta["published"]))))
    return meta


#: A front-matter field's check: the value to keep, or None and what is wrong with it.
Check = Callable[[Any], tuple[Any, str | None]]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _text(limit: int) -> Check:
    def check(value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, Message(N_("must be text, not %(type)s"), type=type(value).__name__)
        value = value.strip()
        if len(value) > limit:
            return None, Message(N_("is %(count)s characters; at most %(limit)s are allowed"), count=len(value),
                                 limit=limit)
        if any(unicodedata.category(c) == "Cc" for c in value):
            return None, Message(N_("contains control characters"))
        return value, None
    return check


def _choice(vocabulary_name: str) -> Check:
    def check(value: Any) -> tuple[Any, str | None]:
        vocabulary = vocabularies.get(vocabulary_name)
        if value not in vocabulary:
            return None, Message(N_("is not a known %(vocabulary)s; allowed: %(allowed)s"), vocabulary=vocabulary_name,
                                 allowed=", ".join(vocabulary.keys()))
        return value, None
    return check


def _choices(vocabulary_name: str) -> Check:
    single = _choice(vocabulary_name)

    def check(value: Any) -> tuple[Any, str | None]:
        if not isinstance(value, list):
            return None, Message(N_("must be a list, e.g. [%(example)s]"),
                                 example=vocabularies.get(vocabulary_name).keys()[0])
        bad = [v for v in value if single(v)[1]]
        if bad:
            allowed = ", ".join(str(k) for k in vocabularies.get(vocabulary_name).keys())
            return None, Message(N_("contains unknown %(vocabulary)s %(value)s; allowed: %(allowed)s"),
                                 vocabulary=vocabulary_name, value=_show(bad[0]), allowed=allowed)
        if len(set(value)) != len(value):
            return None, Message(N_("lists a value twice"))
        return list(value), None
    return check


def _texts(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None, Message(N_("must be a list of text values, e.g. [early warning, community]"))
    if len(value) > MAX_LIST_ITEMS:
        return None, Message(N_("has %(count)s items; at most %(limit)s are allowed"), count=len(value),
                             limit=MAX_LIST_ITEMS)
    if any(len(v) > 200 for v in value):
        return None, Message(N_("has an item longer than %(limit)s characters"), limit=200)
    return [v.strip() for v in value], None


def _date(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip()), None
        except ValueError:
            return None, Message(N_("is not a real calendar date (YYYY-MM-DD)"))
    return None, Message(N_("must be a date written YYYY-MM-DD"))


def _country(value: Any) -> tuple[Any, str | None]:
    if value not in vocabularies.country_codes():
        return None, Message(N_("is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. ID, JP, AU)"))
    return value, None


def _language(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not LANGUAGE_PATTERN.match(value):
        return None, Message(N_("is not a BCP 47 primary language tag (lowercase, e.g. en, id, ja)"))
    return value, None


def _city(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or check_slug(value):
        return None, Message(N_("is not a city slug (lowercase ASCII letters, digits and hyphens)"))
    return value, None


def _sendai(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list) or not all(type(v) is int and 1 <= v <= 4 for v in value):
        return None, Message(N_("must be a list of Sendai Framework priorities, numbers 1 to 4"))
    return sorted(set(value)), None


def _licence(value: Any) -> tuple[Any, str | None]:
    if value in vocabularies.licences() or (isinstance(value, str) and LICENCE_REF_PATTERN.match(value)):
        return value, None
    return None, Message(N_("is not an accepted SPDX licence id; allowed: %(allowed)s"),
                         allowed=", ".join(vocabularies.licences()))


def _practice_id(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not PRACTICE_ID_PATTERN.match(value):
        return None, Message(N_("must be a practice id written <city>/<slug>"))
    return value, None


_CHECKS = {
    "title": _text(MAX_TITLE_CHARS),
    "summary": _text(MAX_SUMMARY_CHARS),
    "city": _city,
    "country": _country,
    "language": _language,
    "kind": _choice("kind"),
    "hazards": _choices("hazard"),
    "phases": _choices("phase"),
    "published": _date,
    "updated": _date,
    "review_by": _date,
    "organisation": _text(MAX_TEXT_CHARS),
    "authors": _texts,
    "sendai_priorities": _sendai,
    "tags": _texts,
    "license": _licence,
    "visibility": _choice("visibility"),
    "translation_of": _practice_id,
    "source": _text(2 * MAX_TEXT_CHARS),
}


def compose(meta: dict[str, Any], body: str) -> str:
    """A practice file's text from front-matter values (in schema order, one line each, empty ones left
    out) and a body."""
    lines = [yamlfile.dump_key(key, meta[key]) for key in REQUIRED + OPTIONAL
             if meta.get(key) not in (None, "", [], ())]
    return "---\n" + "".join(lines) + f"---\n{body.strip()}\n"
