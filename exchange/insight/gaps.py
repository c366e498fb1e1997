"""The content-gap report: searches that found nothing, or found something nobody opened, by language.

One promise: nothing kept says who searched. A row is (day, language, normalised query) with three
counts (searches, searches with no result, results opened); no user, address or session is stored,
and a query that looks like personal data (an e-mail address, a telephone or identity number) is not
stored at all. Recording is one upsert per search and never fails the search: a problem is logged.
A click counts only for a query already recorded (today or yesterday), so a crafted link cannot
write a query into the log.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from exchange import audit
from exchange import db
from exchange.library import vocabularies
from exchange.models import SearchGap

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: the longest query kept (longer ones are cut here)
MAX_QUERY = 200
#: the windows the report offers, in days
WINDOWS = (30, 90)
#: rows of each list of the report
TOP = 50

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# seven or more digits, however they are spaced or punctuated (+62 812-3456-7890, NIK numbers …)
_DIGITS = re.compile(r"\d")
_PHONE_LIKE = re.compile(r"^[\d\s+().\-/]*$")


def normalise(query: str) -> str:
    """``query`` as it is counted: NFKC, case-folded, spaces collapsed, at most ``MAX_QUERY`` characters."""
    text = unicodedata.normalize("NFKC", query).casefold()
    return " ".join(text.split())[:MAX_QUERY].strip()


def looks_personal(query: str) -> bool:
    """True when ``query`` looks like personal data (an e-mail address, a telephone or identity number),
    which is never stored."""
    if _EMAIL.search(query):
        return True
    for word in re.split(r"[^\d+().\-/\s]+", query):  # each run of digits and their separators
        if _PHONE_LIKE.match(word) and len(_DIGITS.findall(word)) >= 7:
            return True
    return False


def searcher_language(filters: dict[str, list[str]], fallback: str) -> str:
    """The language a search is counted under: its language filter when it names exactly one, else
    ``fallback`` (the interface's or the caller's), else English."""
    chosen = filters.get("language") or []
    known = vocabularies.languages()
    if len(chosen) == 1 and chosen[0] in known:
        return chosen[0]
    return fallback if fallback in known else "en"


def click_ref(query: str, language: str) -> str | None:
    """The ``ref`` a result link of this search carries so opening it is counted (None: not counted)."""
    text = normalise(query)
    if not text or looks_personal(text):
        return None
    return f"{language}:{text}"


def record_search(instance: Instance, query: str, language: str, found: int,
                  today: datetime.date | None = None) -> None:
    """Count one search for ``query`` in ``language`` that found ``found`` practices; never raises."""
    text = normalise(query)
    if not text or looks_personal(text) or language not in vocabularies.languages():
        return
    day = today or datetime.date.today()
    zero = 1 if found == 0 else 0
    try:
        with instance.db.claiming() as session:
            session.execute(_upsert(session, {"day": day, "language": language, "query": text,
                                              "searches": 1, "zero_results": zero, "clicks": 0}))
    except Exception:  # the report is a courtesy: a search must never fail for it
        log.warning("search not counted for the content-gap report (%s)", language, exc_info=True)


def _upsert(session: Session, row: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SearchGap).values(**row)
    return statement.on_conflict_do_update(
        index_elements=[SearchGap.day, SearchGap.language, SearchGap.query],
        set_={"searches": SearchGap.searches + statement.excluded.searches,
              "zero_results": SearchGap.zero_results + statement.excluded.zero_results})


def record_click(instance: Instance, ref: str, today: datetime.date | None = None) -> bool:
    """Count a result opened from the search ``ref`` names (``click_ref``), on the latest day (today or
    yesterday) that search was counted; True when it was counted. Never raises."""
    language, _, query = ref.partition(":")
    text = normalise(query)
    if not text or looks_personal(text) or language not in vocabularies.languages():
        return False
    day = today or datetime.date.today()
    try:
        with instance.db.claiming() as session:
            latest = session.scalar(sa.select(sa.func.max(SearchGap.day)).where(
                SearchGap.language == language, SearchGap.query == text,
                SearchGap.day >= day - datetime.timedelta(days=1), SearchGap.day <= day))
            if latest is None:
                return False
            session.execute(sa.update(SearchGap).where(
                SearchGap.day == latest, SearchGap.language == language, SearchGap.query == text)
                .values(clicks=SearchGap.clicks + 1))
            return True
    except Exception:  # as for searches: opening a practice never fails for the report
        log.warning("click not counted for the content-gap report (%s)", language, exc_info=True)
        return False


@dataclass(frozen=True)
class Gap:
    """One query in a language over the report's window, with its counts."""

    query: str
    language: str
    searches: int
    zero_results: int
    clicks: int


@dataclass(frozen=True)
class Report:
    """The top gaps of the last ``days`` days in each language: what found nothing, and what found
    something that nobody opened."""

    days: int
    since: datetime.date
    languages: tuple[str, ...]
    found_nothing: dict[str, list[Gap]]
    not_opened: dict[str, list[Gap]]
    #: searches counted in the window, by language
    searches: dict[str, int]


def report(instance: Instance, days: int = 30, today: datetime.date | None = None) -> Report:
    """The content-gap report for the last ``days`` days (one of ``WINDOWS``)."""
    if days not in WINDOWS:
        days = WINDOWS[0]
    since = (today or datetime.date.today()) - datetime.timedelta(days=days - 1)
    with instance.db.session() as session:
        rows = session.execute(
            sa.select(SearchGap.language, SearchGap.query, sa.func.sum(SearchGap.searches),
                      sa.func.sum(SearchGap.zero_results), sa.func.sum(SearchGap.clicks))
            .where(SearchGap.day >= since).group_by(SearchGap.language, SearchGap.query)).all()
    gaps = [Gap(query, language, int(s), int(z), int(c)) for language, query, s, z, c in rows]
    languages = tuple(code for code in vocabularies.languages().keys()
                      if code in {gap.language for gap in gaps} or code in vocabularies.UI_LANGUAGES)
    nothing: dict[str, list[Gap]] = {code: [] for code in languages}
    unopened: dict[str, list[Gap]] = {code: [] for code in languages}
    searches: dict[str, int] = dict.fromkeys(languages, 0)
    for gap in gaps:
        searches[gap.language] += gap.searches
        if gap.zero_results:
            nothing[gap.language].append(gap)
        if gap.searches > gap.zero_results and gap.clicks == 0:
            unopened[gap.language].append(gap)
    for lists, key in ((nothing, lambda g: (-g.zero_results, g.query)),
                       (unopened, lambda g: (-(g.searches - g.zero_results), g.query))):
        for code in lists:
            lists[code] = sorted(lists[code], key=key)[:TOP]
    return Report(days, since, languages, nothing, unopened, searches)


def clear(instance: Instance, actor: str) -> int:
    """Delete every row of the log (an administrator's choice, audited); how many were deleted."""
    with instance.db.writing() as session:
        deleted = db.rowcount(session.execute(sa.delete(SearchGap)))
        audit.record(session, actor, "search-log.clear")
    log.info("content-gap log cleared by %r (%d rows)", actor, deleted)
    return deleted
