"""The interface language of each request, and dates and numbers written the way its readers write them.

A request's language is the first of: ``?lang=`` in the address (this page, and kept in a cookie for the
next ones), the signed-in person's setting (``accounts.people.set_language``), the cookie the header's
switcher left, then the browser's ``Accept-Language``; English when none of them names a language the
interface speaks. Only the words around the content change: a practice keeps its own language, marked
with ``lang`` on the element that holds it.
"""

from __future__ import annotations

import datetime
import functools
import re
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping

from babel import numbers
from flask import Flask
from flask import has_request_context
from flask import request
from flask_babel import format_date
from flask_babel import format_percent
from flask_babel import format_time
from flask_babel import format_timedelta
from flask_babel import get_locale
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.wrappers import Response

from exchange import catalogs
from exchange.library import vocabularies
from exchange.models import Notification
from exchange.models import utcnow
from exchange.review import submissions
from exchange.web import search_notices
from exchange.web.extensions import babel
from exchange.web.viewer import current as viewer

#: the languages the interface speaks, English first (the default)
LANGUAGES = vocabularies.UI_LANGUAGES
#: the switcher's memory: not a secret, so readable everywhere on the site for a year
COOKIE = "px-lang"
COOKIE_SECONDS = 365 * 24 * 3600
#: what separates the items of a list where it is not ", ": Japanese writes the ideographic comma
LIST_SEPARATORS = {"ja": "、"}
#: the fixed notes services write on a version or in the audit log (a note may also be someone's own words)
NOTES = {"imported": _l("imported"), "recorded by exchange check": _l("recorded by exchange check"),
         "no file and no kept version": _l("no file and no kept version")}
#: who published a version or acted on a submission when no person did: the harvests (``exchange/background.py``,
#: ``harvesting/harvests.harvest_due``) and the command line (``cli.py``: ``cli:<user>``)
PUBLISHERS = {"harvest:admin": _l("a harvest an administrator started"), "harvest:scheduled": _l("a scheduled harvest"),
              "cli": _l("the command line")}
ON_THE_COMMAND_LINE = re.compile(r"cli:(?P<user>.+)", re.DOTALL)
#: the notes of drafts made from files (``review/submissions.UPLOAD_NOTES``)
UPLOADED = re.compile(r"uploaded (?P<name>.+)", re.DOTALL)
THROUGH_THE_API = re.compile(r"submitted through the API \((?P<name>.+)\)", re.DOTALL)
RESTORED = re.compile(r"restored version (\d+)")
FROM_SUBMISSION = re.compile(r"submission (\d+)")
#: the notes of versions a harvest published (``harvesting/harvests.py``)
HARVESTED = re.compile(r"harvested from (?P<name>.+) \(version (?P<version>\d+)\)", re.DOTALL)
HARVEST_CONFLICT = re.compile(r"Harvest conflict: (?P<name>.+) \((?P<url>\S+)\) sent version (?P<version>\d+) of "
                              r"(?P<practice>\S+), but this library's copy has a local edit; the local version stays "
                              r"published unless this is approved\.", re.DOTALL)
NO_LONGER_PUBLIC = re.compile(r"no longer public on (?P<name>.+): withdrawn from the public library", re.DOTALL)
#: the credit of a version published from someone else's submission, as the review service writes it
APPROVED = re.compile(r"(?P<author>.*) \(approved by (?P<reviewer>.+)\)", re.DOTALL)


def init_app(app: Flask) -> None:
    """Choose each request's language, give templates the switcher and the formatting filters."""
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks as one line, as babel.cfg extracts them
    babel.init_app(app, default_locale="en", locale_selector=interface_language)
    app.jinja_env.filters.update(date=local_date, datetime=local_datetime, moment=moment, number=local_number,
                                 percent=local_percent, waited=waited, notice=search_notices.translated,
                                 said=said, told=told, listed=listed, note=note, credit=credit,
                                 publisher=publisher)
    app.context_processor(lambda: {"interface_language": language, "language_choices": choices,
                                   "notification_text": notification_text,
                                   "notification_parts": notification_parts, "list_separator": list_separator})
    app.after_request(_remember)


def _usable(code: str | None) -> str | None:
    return code if code in LANGUAGES else None


def interface_language() -> str | None:
    """The language this request's interface is shown in (None outside a request: English)."""
    if not has_request_context():
        return None
    # this browser's own choice (?lang=, then the switcher's cookie) before the account's: the account's
    # language (chosen with the switcher, or taken from the browser at sign-in) speaks on a browser that
    # chose none, and is what e-mail is written in
    return (_usable(request.args.get("lang")) or _usable(request.cookies.get(COOKIE))
            or _usable(getattr(viewer(), "language", None)) or request.accept_languages.best_match(LANGUAGES) or "en")


def browser_language() -> str | None:
    """The language this browser asked for (``?lang=``, the switcher's cookie, ``Accept-Language``), if any.

    Not the account's setting and not the English fallback: what an account without a language should adopt.
    """
    return (_usable(request.args.get("lang")) or _usable(request.cookies.get(COOKIE))
            or request.accept_languages.best_match(LANGUAGES))


def language() -> str:
    """The interface language's code (``en``, ``id``, ``ja``), for ``<html lang>`` and labels."""
    return str(get_locale() or "en")


def choices() -> list[tuple[str, str, str]]:
    """Each interface language as (code, its own name, this page's address in it), for the switcher."""
    choices = []
    for code in LANGUAGES:
        args = request.args.copy()
        args["lang"] = code
        query = urllib.parse.urlencode(list(args.items(multi=True)))
        choices.append((code, vocabularies.native_language_name(code), f"{request.path}?{query}"))
    return choices


def _remember(response: Response) -> Response:
    """Keep a language asked for with ``?lang=`` in the cookie; tell caches what the page depends on."""
    asked = _usable(request.args.get("lang"))
    if asked and asked != request.cookies.get(COOKIE):
        remember(response, asked)
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language())
    return response


def remember(response: Response, code: str) -> None:
    """Set the switcher's cookie to ``code`` on ``response``: ``Secure`` when the page came over HTTPS. It holds
    no secret, and a workshop served over plain HTTP on a laptop's LAN address would otherwise lose each
    reader's language at the next page (browsers keep no Secure cookie sent over HTTP but for localhost)."""
    response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, path="/", secure=request.is_secure, httponly=True,
                        samesite="Lax")


def _parsed(value: datetime.date | str) -> datetime.date:
    """The date of ``value``: an ISO date, or the date of an ISO moment (a card's ``revised``)."""
    return datetime.datetime.fromisoformat(value).date() if isinstance(value, str) else value


def local_date(value: datetime.date | str | None, format: str = "medium") -> str:
    """A date (or an ISO date string) as the interface language writes it: Dec 5, 2023 · 5 Des 2023 · 2023/12/05."""
    if value is None or value == "":
        return ""
    return str(format_date(_parsed(value), format))


def local_datetime(value: datetime.datetime | None, format: str = "medium") -> str:
    """A moment (naive ones are UTC) as the interface language writes it, in UTC: its date, then hours and minutes."""
    return "" if value is None else f"{format_date(value, format)} {format_time(value, 'short')}"


def moment(value: datetime.datetime | None, shown: str | None = None) -> Markup:
    """A moment as a ``<time>`` element that says it is in UTC, for ``static/local_times.js`` to rewrite in the
    reader's own time zone: a page is cached for every reader, so only the reader's browser knows their zone.

    Its text is the interface language's date and time in UTC, marked "UTC" (what a reader without scripts
    sees); given ``shown`` ("3 days"), the text is that and the time in UTC is its title instead.
    """
    if value is None:
        return Markup("")
    if value.tzinfo is not None:  # naive ones are UTC already
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    instant = value.replace(microsecond=0).isoformat() + "Z"
    in_utc = f"{local_datetime(value)} UTC"
    if shown is None:
        return Markup('<time datetime="{}" data-local-time>{}</time>').format(instant, in_utc)
    return Markup('<time datetime="{}" title="{}" data-local-time="title">{}</time>').format(instant, in_utc, shown)


def waited(since: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """How long ago ``since`` (naive: UTC) was, roughly, as the interface language says it: 3 days · 3 hari · 3日."""
    elapsed = max((now or utcnow()) - since, datetime.timedelta(0))
    text = str(format_timedelta(elapsed, threshold=1))
    if language() == "ja":  # CLDR writes "3 日"; Japanese writes a count and its unit together
        text = re.sub(r"(?<=\d)[ \u00a0](?=\S)", "", text)
    return text


def local_number(value: float) -> str:
    """A number with the interface language's digit grouping (1,234 · 1.234)."""
    return _number(value, str(get_locale()))


@functools.lru_cache(maxsize=4096)
def _number(value: float, locale: str) -> str:
    """(A search page writes ~170 facet counts: Babel's formatting was a tenth of its rendering.)"""
    return str(numbers.format_decimal(value, locale=locale))


def local_percent(value: float) -> str:
    """A percentage (of 100) as the interface language writes it (42% · 42%)."""
    return str(format_percent(value / 100))


def notification_text(notification: Notification) -> str:
    """What a notification says, in the interface language (as written, for one made before it kept its message)."""
    text, postscript = notification_parts(notification)
    return f"{text}\n\n{postscript}" if postscript else text


def notification_parts(notification: Notification) -> tuple[str, str]:
    """A notification's sentence in the interface language, and the comment that came with it (as written)."""
    if notification.template is None:
        return notification.message, ""
    arguments = dict(notification.arguments or {})
    postscript = str(arguments.pop("postscript", "") or "")
    arguments.setdefault("title", arguments.get("practice", ""))
    template = submissions.REWORDED.get(notification.template, notification.template)
    return str(gettext(template, **arguments)), postscript


def said(text: object) -> object:
    """``text`` in the interface language when a service wrote it as a ``catalogs.Message``; as it is otherwise."""
    return catalogs.said(text, language())


def told(error: BaseException) -> str:
    """What ``error`` says, in the interface language when a service wrote it as a ``catalogs.Message``."""
    message = error.args[0] if error.args else None
    return str(said(message)) if isinstance(message, catalogs.Message) else str(error)


def listed(values: Iterable[object], name: Mapping[str, str] | Callable[[str], str] | None = None) -> str:
    """``values`` (each through ``name``, a mapping or a function, when given) as one list, the way the
    interface language writes it: "Jakarta, Semarang" · "ジャカルタ、スマラン"."""
    if isinstance(name, Mapping):
        names = name
        name = lambda value: names.get(value, value)  # noqa: E731  # a mapping is read as a function
    texts = (name(str(value)) if name else str(value) for value in values)
    return list_separator().join(texts)


def list_separator() -> str:
    """What separates the items of a list in the interface language (for lists of links, built in a loop)."""
    return LIST_SEPARATORS.get(language(), ", ")


def note(text: str) -> str:
    """A version's or audit entry's note in the interface language when a service wrote it ("imported",
    "restored version 3"); as written otherwise (a contributor's own words)."""
    restored = RESTORED.fullmatch(text)
    if restored:
        return str(gettext("restored version %(version)s", version=restored.group(1)))
    submission = FROM_SUBMISSION.fullmatch(text)
    if submission:
        return str(gettext("from submission %(number)s", number=submission.group(1)))
    uploaded = UPLOADED.fullmatch(text)
    if uploaded:
        return str(gettext("uploaded %(name)s", name=uploaded.group("name")))
    through_the_api = THROUGH_THE_API.fullmatch(text)
    if through_the_api:
        return str(gettext("submitted through the API (%(name)s)", name=through_the_api.group("name")))
    harvested = HARVESTED.fullmatch(text)
    if harvested:
        return str(gettext("harvested from %(name)s (version %(version)s)", **harvested.groupdict()))
    conflict = HARVEST_CONFLICT.fullmatch(text)
    if conflict:
        return str(gettext("Harvest conflict: %(name)s (%(url)s) sent version %(version)s of %(practice)s, but "
                           "this library's copy has a local edit; the local version stays published unless this is "
                           "approved.", **conflict.groupdict()))
    withdrawn = NO_LONGER_PUBLIC.fullmatch(text)
    if withdrawn:
        return str(gettext("no longer public on %(name)s: withdrawn from the public library", **withdrawn.groupdict()))
    return str(NOTES.get(text, text))


def publisher(actor: str) -> str:
    """Who acted, as administrators read it: an account's address as it is, a harvest or the command line in words."""
    if actor in PUBLISHERS:
        return str(PUBLISHERS[actor])
    command_line = ON_THE_COMMAND_LINE.fullmatch(actor)
    if command_line:
        return str(gettext("the command line (%(user)s)", user=command_line.group("user")))
    return actor


def credit(text: str) -> str:
    """Who a version is credited to, in the interface language: "Ayu (approved by Kenji)" as the review
    service writes it, said again; a name as it is."""
    approved = APPROVED.fullmatch(text)
    if approved:
        return str(gettext("%(author)s (approved by %(reviewer)s)", **approved.groupdict()))
    return text
