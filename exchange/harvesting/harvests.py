"""Harvesting another Practice Exchange over OAI-PMH into this library, with provenance kept per practice.

A *source* is another node's OAI-PMH base URL with the sets to take from it (none: everything public) and,
when an administrator schedules it, an interval. A harvest asks the node's Identify for its name, then
ListRecords (``px_markdown``, ``from`` the newest datestamp the last complete harvest saw, following
resumption tokens) and, record by record:

- publishes the text through the library's own publishing path (the same validation as an import) and
  keeps its provenance (node, name, original identifier and version, the original's URL, harvested at)
  in the same transaction;
- never overwrites a local edit: when the local copy has a version the harvest did not publish (or the
  practice is this library's own), the incoming text goes to review as a submission of the harvester
  (``review.submissions.propose_harvested``) and the local version stays published;
- for a deleted record (the node restricted or withdrew the practice) republishes the harvested copy as
  partners-only, so it leaves the public library while its history stays;
- refuses, and reports why, a record that is not well formed, larger than a practice may be, carries
  hostile markup (raw HTML that would be stripped, links to other than http, https or mailto), or fails
  the library's validation: nothing of it is written, and the rest of the harvest goes on.

An unknown city is added from the record's own metadata (its slug and country; its slug as its name,
which an administrator may correct): a harvested practice keeps its city. A page that cannot be fetched
or read, or a node that sends more than :data:`MAX_PAGES` pages, ends the harvest there with a report
line; the ``from`` datestamp then stays where it was, so the next harvest asks again.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.errors import InvalidCity
from exchange.errors import NotAllowed
from exchange.harvesting import fetch
from exchange.harvesting import oai
from exchange.jobs import queue
from exchange.library import cities
from exchange.library import publishing
from exchange.library import rendering
from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.library.practice import InvalidPractice
from exchange.library.practice import compose
from exchange.library.practice import parse
from exchange.models import City
from exchange.models import HarvestedPractice
from exchange.models import HarvestSource
from exchange.models import PracticeRecord
from exchange.models import Submission
from exchange.models import User
from exchange.models import utcnow
from exchange.review import submissions

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: the job that runs the due scheduled harvests, and the job that runs one source now
DUE = "harvest.due"
NOW = "harvest.source"
DUE_EVERY_SECONDS = 300
#: at most this many ListRecords pages per set in one harvest (a node that never stops paging is cut off)
MAX_PAGES = 1000
#: the largest ListRecords response read (a bigger one ends the harvest; a too-large record inside a
#: smaller response is refused alone)
MAX_RESPONSE_BYTES = 16 * 2**20
MAX_SETS = 20
MAX_INTERVAL_HOURS = 24 * 365
#: the account harvested texts are sent for review as: never active, no password
HARVESTER_EMAIL = "harvester@practice-exchange.invalid"
#: what each status of a report line says (the CLI and the admin page say them in their reader's language)
STATUSES = {
    "created": N_("created"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
    "withdrawn": N_("withdrawn"),
    "kept": N_("kept as this library has it"),
    "conflict": N_("sent for review"),
    "city added": N_("city added"),
    "failed": N_("failed"),
    "stopped": N_("stopped"),
}

_HOSTILE_TAG = re.compile(r"<\s*/?\s*(script|iframe|object|embed|style|form|svg|math|link|meta|base|frame)\b",
                          re.IGNORECASE)
_LINK_TARGETS = (
    re.compile(r"\]\(\s*<?([^)\s>]{1,2000})"),  # [text](target) and ![alt](target)
    re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{0,31}:[^>\s]{0,2000})>"),  # <scheme:autolink>
    re.compile(r"^[ ]{0,3}\[[^\]\n]{1,999}\]:\s*<?(\S{1,2000})", re.MULTILINE),  # [label]: target
)


@dataclass(frozen=True)
class Line:
    """One line of a harvest's report: what happened to one record (or to the harvest)."""

    status: str
    identifier: str = ""
    practice_id: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "stopped")


@dataclass
class Report:
    """What one harvest of one source did: its lines, and whether it went to the end."""

    source_id: int
    base_url: str
    name: str = ""
    lines: list[Line] = field(default_factory=list)
    complete: bool = True

    @property
    def counts(self) -> Counter[str]:
        return Counter(line.status for line in self.lines)

    @property
    def failed(self) -> bool:
        return not self.complete or any(line.failed for line in self.lines)


@dataclass(frozen=True)
class Source:
    """A harvest source as the admin page shows it."""

    id: int
    base_url: str
    name: str
    sets: tuple[str, ...]
    interval_hours: int | None
    last_datestamp: str | None
    last_run_at: datetime.datetime | None
    next_run_at: datetime.datetime | None
    last_report: dict


@dataclass(frozen=True)
class Provenance:
    """Where a harvested practice came from, for its page."""

    source_name: str
    base_url: str
    identifier: str
    original_version: int
    original_url: str
    harvested_at: datetime.datetime


# Sources ---------------------------------------------------------------------------------------------


def _checked(base_url: str, sets: list[str], interval_hours: int | None) -> tuple[str, list[str]]:
    base_url = base_url.strip()
    problems = [p for p in [fetch.check_url(base_url)] if p]
    sets = list(dict.fromkeys(s.strip() for s in sets if s.strip()))
    problems += [p for p in (oai.check_set(s) for s in sets) if p]
    if len(sets) > MAX_SETS:
        problems.append(Message(N_("no more than %(count)s sets may be chosen"), count=MAX_SETS))
    if interval_hours is not None and not 1 <= interval_hours <= MAX_INTERVAL_HOURS:
        problems.append(Message(N_("the interval in hours must be 1 to %(hours)s"), hours=MAX_INTERVAL_HOURS))
    if problems:
        said = problems[0]
        for problem in problems[1:]:  # each stays a catalog message, said in its reader's language
            said = Message(N_("%(one)s; %(other)s"), one=said, other=problem)
        raise Invalid(said)
    return base_url, sets


def save_source(instance: Instance, viewer: policy.Viewer, base_url: str, sets: list[str],
                interval_hours: int | None, source_id: int | None = None) -> int:
    """Add a source (or change ``source_id``'s sets and interval), administrators only; its id.

    Invalid names each problem and changes nothing.
    """
    if not policy.may_administer(viewer):
        raise NotAllowed("only administrators configure harvests")
    base_url, sets = _checked(base_url, sets, interval_hours)
    with instance.db.writing() as session:
        source = session.get(HarvestSource, source_id) if source_id is not None else None
        if source_id is not None and source is None:
            raise Invalid(Message(N_("there is no such harvest source")))
        same = session.scalar(sa.select(HarvestSource).where(HarvestSource.base_url == base_url))
        if same is not None and same is not source:
            raise Invalid(Message(N_("%(url)s is already a harvest source"), url=base_url))
        if source is None:
            source = HarvestSource(base_url=base_url, name="", last_report={})
            session.add(source)
        elif source.sets != sets:
            source.last_datestamp = None  # other sets: their records are all new to this library
        source.base_url, source.sets, source.interval_hours = base_url, sets, interval_hours
        source.next_run_at = utcnow() if interval_hours else None
        session.flush()
        audit.record(session, viewer.email, "harvest.source", base_url, sets=sets, interval_hours=interval_hours)
        return source.id


def sources(instance: Instance) -> list[Source]:
    """Every harvest source, in the order they were added."""
    with instance.db.session() as session:
        return [Source(s.id, s.base_url, s.name, tuple(s.sets), s.interval_hours, s.last_datestamp, s.last_run_at,
                       s.next_run_at, s.last_report or {})
                for s in session.scalars(sa.select(HarvestSource).order_by(HarvestSource.id))]


def harvest_soon(instance: Instance, viewer: policy.Viewer, source_id: int) -> None:
    """Ask the job runner to harvest ``source_id`` now (administrators only)."""
    if not policy.may_administer(viewer):
        raise NotAllowed("only administrators start harvests")
    with instance.db.writing() as session:
        if session.get(HarvestSource, source_id) is None:
            raise Invalid(Message(N_("there is no such harvest source")))
        queue.enqueue(session, NOW, {"source": source_id}, key=f"{NOW}:{source_id}")


def provenance(instance: Instance, practice_id: str) -> Provenance | None:
    """Where ``practice_id`` was harvested from (None: it is this library's own)."""
    with instance.db.session() as session:
        row = session.get(HarvestedPractice, practice_id)
        if row is None:
            return None
        source = session.get(HarvestSource, row.source_id)
        return Provenance(row.source_name, source.base_url if source else "", row.identifier, row.original_version,
                          row.original_url, row.harvested_at)


# Harvesting ------------------------------------------------------------------------------------------


def harvest_url(instance: Instance, base_url: str, sets: list[str], actor: str, *,
                max_pages: int = MAX_PAGES) -> Report:
    """Harvest ``base_url`` (made a source, without a schedule, the first time; its sets as given)."""
    base_url, sets = _checked(base_url, sets, None)
    with instance.db.writing() as session:
        source = session.scalar(sa.select(HarvestSource).where(HarvestSource.base_url == base_url))
        if source is None:
            source = HarvestSource(base_url=base_url, name="", sets=sets, last_report={})
            session.add(source)
        elif sets and source.sets != sets:
            source.sets, source.last_datestamp = sets, None
        session.flush()
        source_id = source.id
    return harvest(instance, source_id, actor, max_pages=max_pages)


def run_due(instance: Instance, now: datetime.datetime | None = None) -> list[Report]:
    """Harvest every scheduled source that is due (``now``: as if it were then)."""
    now = now or utcnow()
    with instance.db.session() as session:
        due = list(session.scalars(sa.select(HarvestSource.id).where(
            HarvestSource.interval_hours.is_not(None), HarvestSource.next_run_at <= now).order_by(HarvestSource.id)))
    return [harvest(instance, source_id, "harvest:scheduled", now=now) for source_id in due]


def harvest(instance: Instance, source_id: int, actor: str, *, now: datetime.datetime | None = None,
            max_pages: int = MAX_PAGES) -> Report:
    """Harvest one source now; the report is also kept on the source (and the next run scheduled)."""
    with instance.db.session() as session:
        source = session.get(HarvestSource, source_id)
        if source is None:
            raise Invalid(Message(N_("there is no such harvest source")))
        base_url, since = source.base_url, source.last_datestamp
        sets: list[str | None] = list(source.sets) or [None]
    report = Report(source_id, base_url)
    newest = since
    try:
        identity = oai.read_identify(fetch.get(oai.request_url(base_url, "Identify"), MAX_RESPONSE_BYTES))
        report.name = identity.name or base_url
        for set_spec in sets:
            newest = max(filter(None, [newest, _harvest_set(instance, report, set_spec, since, actor, max_pages)]),
                         default=None)
    except (fetch.FetchRefused, oai.BadResponse) as error:
        report.lines.append(Line("stopped", problems=(error.args[0],)))
        report.complete = False
    finally:
        if any(line.status in ("created", "updated", "withdrawn") for line in report.lines):
            instance.index_published()
        _keep_report(instance, report, newest, actor, now or utcnow())
    return report


def _harvest_set(instance: Instance, report: Report, set_spec: str | None, since: str | None, actor: str,
                 max_pages: int) -> str | None:
    """Harvest one set (None: everything), page by page; the newest datestamp seen, when every page was read."""
    token: str | None = None
    seen: set[str] = set()
    newest: str | None = None
    for _page in range(max_pages):
        url = oai.request_url(report.base_url, "ListRecords", token=token, since=since, set_spec=set_spec)
        page = oai.read_records(fetch.get(url, MAX_RESPONSE_BYTES), MAX_DOCUMENT_BYTES)
        for record in page.records:
            report.lines.extend(_take(instance, report, record, actor))
            if record.datestamp:
                newest = max(newest or record.datestamp, record.datestamp)
        if page.token is None:
            return newest
        if page.token in seen:
            raise oai.BadResponse(Message(N_("the node sent the same resumption token twice; stopped")))
        seen.add(page.token)
        token = page.token
    raise oai.BadResponse(Message(N_("the node kept sending pages past %(pages)s; the harvest stopped there"),
                                  pages=max_pages))


def _keep_report(instance: Instance, report: Report, newest: str | None, actor: str, now: datetime.datetime) -> None:
    with instance.db.writing() as session:
        source = session.get_one(HarvestSource, report.source_id)
        if report.name:
            source.name = report.name[:200]
        if report.complete and newest:
            source.last_datestamp = newest
        source.last_run_at = now
        if source.interval_hours:
            source.next_run_at = now + datetime.timedelta(hours=source.interval_hours)
        source.last_report = {
            "complete": report.complete,
            "counts": dict(report.counts),
            # unchanged records need no line of their own: their count says it
            "lines": [{"status": line.status, "identifier": line.identifier, "practice": line.practice_id,
                       "problems": [stored(p) for p in line.problems]}
                      for line in report.lines if line.status != "unchanged"][:500],
        }
        audit.record(session, actor, "harvest.run", report.base_url, complete=report.complete,
                     **{status.replace(" ", "_"): count for status, count in report.counts.items()})
    log.info("harvested %r by %r: %s", report.base_url, actor, dict(report.counts))


def stored(text: str) -> Any:
    """``text`` as a report keeps it in JSON: a catalog Message as its template and values, to be said again."""
    if isinstance(text, Message):
        return {"template": text.template, "values": {k: stored(v) for k, v in text.values.items()}}
    return str(text)


def restored(value: Any) -> str:
    """A kept report's text back as it was (a Message again, when it was one)."""
    if isinstance(value, dict) and isinstance(value.get("template"), str):
        values = value.get("values") or {}
        return Message(value["template"], **{k: restored(v) for k, v in values.items()})
    return str(value)


# One record ------------------------------------------------------------------------------------------


def hostile_markup(markdown: str) -> list[str]:
    """What in ``markdown`` the library's renderer would have to strip (raw HTML that runs or loads, links
    that are not http, https or mailto): a harvested record carrying any of it is refused whole."""
    problems: list[str] = []
    tag = _HOSTILE_TAG.search(markdown)
    if tag:
        problems.append(Message(N_("the text carries raw HTML <%(tag)s>"), tag=tag.group(1).lower()))
    for pattern in _LINK_TARGETS:
        for match in pattern.finditer(markdown):
            if not rendering.is_safe_url(match.group(1)):
                problems.append(Message(N_("the text links to %(url)s, which is not http, https or mailto"),
                                        url=repr(match.group(1)[:80])))
                return problems
    return problems


def _take(instance: Instance, report: Report, record: oai.Record, actor: str) -> list[Line]:
    """Bring one record into the library; its report lines."""
    if record.problem:
        return [Line("failed", record.identifier, record.practice_id, (record.problem,))]
    if record.deleted:
        return _withdraw(instance, report, record, actor)
    assert record.markdown is not None and record.practice_id is not None and record.version is not None
    data = record.markdown.encode("utf-8")
    city, slug = record.practice_id.split("/")
    try:
        practice = parse(data, slug, record.identifier)
    except InvalidPractice as error:
        return [Line("failed", record.identifier, record.practice_id, tuple(str(p) for p in error.problems))]
    except ValueError as error:  # undecodable or too large
        return [Line("failed", record.identifier, record.practice_id, (error.args[0],))]
    problems = hostile_markup(record.markdown)
    if practice.city != city:
        problems.append(Message(N_("its city %(city)s is not the one its id names"), city=repr(practice.city)))
    if practice.visibility != "public":
        problems.append(Message(N_("it is not public; a node disseminates public practices only")))
    if problems:
        return [Line("failed", record.identifier, record.practice_id, tuple(problems))]
    lines = _city(instance, practice.city, practice.country, actor)
    if lines and lines[0].failed:
        return [Line("failed", record.identifier, record.practice_id, lines[0].problems)]
    return lines + [_publish_or_propose(instance, report, record, data, actor)]


def _city(instance: Instance, slug: str, country: str, actor: str) -> list[Line]:
    """The record's city, added from its metadata when this library does not have it yet."""
    with instance.db.session() as session:
        if session.get(City, slug) is not None:
            return []
    name = slug.replace("-", " ").title()
    try:
        added = cities.add(instance, cities.CitySpec(slug=slug, country=country, name=name, name_en=name), actor)
    except InvalidCity as error:
        return [Line("failed", problems=(str(error),))]
    return [Line("city added", practice_id=slug)] if added else []


def _harvester(session: Session) -> int:
    """The id of the account harvested texts are sent for review as (made, inactive, the first time)."""
    user_id = session.scalar(sa.select(User.id).where(User.email == HARVESTER_EMAIL))
    if user_id is None:
        user = User(email=HARVESTER_EMAIL, name="Harvester", password_hash=None, roles=[], active=False)
        session.add(user)
        session.flush()
        user_id = user.id
    return user_id


def _harvested_version(session: Session, row: HarvestedPractice | None, source_id: int,
                       record: PracticeRecord | None) -> bool:
    """True when the local copy is as the harvest left it (no local edit since), or there is none yet."""
    if record is None:
        return True
    if row is None or row.source_id != source_id:
        return False  # this library's own practice, or another node's: never replaced by a harvest
    if row.local_version == record.version:
        return True
    if row.conflict_submission_id is not None:  # the harvested text a reviewer approved is the harvest's
        submission = session.get(Submission, row.conflict_submission_id)
        return submission is not None and submission.published_version == record.version
    return False


def _publish_or_propose(instance: Instance, report: Report, record: oai.Record, data: bytes, actor: str) -> Line:
    assert record.practice_id is not None and record.version is not None and record.url is not None
    practice_id = record.practice_id
    with instance.db.session() as session:
        row = session.get(HarvestedPractice, practice_id)
        local = session.get(PracticeRecord, practice_id)
        clean = _harvested_version(session, row, report.source_id, local)
        if row is not None and row.source_id == report.source_id and row.original_version >= record.version:
            return Line("unchanged", record.identifier, practice_id)  # already harvested (or sent for review)
        expected = local.version if local is not None else None
        if not clean and local is not None and local.sha256 == publishing.sha256(data):
            # the same text is already published here (a node seeded with the same bundled practices, or an
            # edit that came to the same): nothing to review
            return Line("unchanged", record.identifier, practice_id)

    def keep_provenance(session: Session, outcome: publishing.Outcome) -> None:
        assert outcome.version is not None and record.version is not None and record.url is not None
        session.merge(HarvestedPractice(practice_id=practice_id, source_id=report.source_id,
                                        source_name=report.name[:200], identifier=record.identifier,
                                        original_version=record.version, original_url=record.url,
                                        local_version=outcome.version, harvested_at=utcnow(),
                                        conflict_submission_id=None))

    if clean:
        try:
            outcome = publishing.publish(instance, data, practice_id.split("/")[1], actor,
                                         note=f"harvested from {report.name} (version {record.version})",
                                         source=record.identifier, index=False, expected_version=expected,
                                         also=keep_provenance)
            return Line(outcome.status, record.identifier, practice_id)
        except publishing.VersionConflict:
            pass  # edited here while the harvest ran: it goes to review like any local edit
        except InvalidPractice as error:
            return Line("failed", record.identifier, practice_id, tuple(str(p) for p in error.problems))
        except Exception as error:  # a report line, never a traceback; nothing of this record was kept
            log.exception("harvest of %r could not publish %s", report.base_url, practice_id)
            return Line("failed", record.identifier, practice_id,
                        (Message(N_("could not be saved (%(error)s); nothing of it was kept"),
                                 error=type(error).__name__),))
    return _propose(instance, report, record, actor)


def _propose(instance: Instance, report: Report, record: oai.Record, actor: str) -> Line:
    """Send the incoming text to review: the local copy was edited here (or is this library's own)."""
    assert record.practice_id is not None and record.markdown is not None and record.version is not None
    with instance.db.writing() as session:
        local = session.get(PracticeRecord, record.practice_id)
        note = (f"Harvest conflict: {report.name} ({record.url}) sent version {record.version} of "
                f"{record.practice_id}, but this library's copy has a local edit; the local version stays "
                "published unless this is approved.")
        submission_id, changed = submissions.propose_harvested(
            session, _harvester(session), record.practice_id, record.markdown, local.version if local else None,
            note, report.name or report.base_url)
        row = session.get(HarvestedPractice, record.practice_id)
        if row is not None and row.source_id == report.source_id:
            row.conflict_submission_id = submission_id
            row.original_version = max(row.original_version, record.version)
    log.info("harvest of %r sent %s v%d to review as submission %d", report.base_url, record.practice_id,
             record.version, submission_id)
    return Line("conflict" if changed else "unchanged", record.identifier, record.practice_id)


def _withdraw(instance: Instance, report: Report, record: oai.Record, actor: str) -> list[Line]:
    """The node no longer makes the practice public: its harvested copy becomes partners-only here."""
    if record.practice_id is None:
        return []
    said: tuple[str, ...] = ()
    with instance.db.writing() as session:  # a text of it still waiting for review here must not be published
        if submissions.withdraw_harvested(session, _harvester(session), record.practice_id,
                                          report.name or report.base_url) is not None:
            said = (Message(N_("its text waiting for review here was withdrawn")),)
    with instance.db.session() as session:
        row = session.get(HarvestedPractice, record.practice_id)
        local = session.get(PracticeRecord, record.practice_id)
        if local is None or local.visibility != "public":  # not here, or no longer public here: nothing more
            return [Line("withdrawn", record.identifier, record.practice_id, said)] if said else []
        if row is None or row.source_id != report.source_id:
            return [Line("kept", record.identifier, record.practice_id, said + (Message(N_(
                "no longer public on that node, but this library's copy was not harvested from it (it is this "
                "library's own, or another node's): it stays as this library publishes it")),))]
        version = local.version
    practice = parse(instance.store.read_version(record.practice_id, version), record.practice_id.split("/")[1])
    data = compose({**practice.meta, "visibility": "partners"}, practice.body).encode("utf-8")

    def keep(session: Session, outcome: publishing.Outcome) -> None:
        found = session.get(HarvestedPractice, record.practice_id)
        if found is not None and outcome.version is not None and found.local_version == version:
            found.local_version = outcome.version

    try:
        publishing.publish(instance, data, practice.slug, actor, expected_version=version, index=False, also=keep,
                           note=f"no longer public on {report.name}: withdrawn from the public library",
                           source=record.identifier)
    except (publishing.VersionConflict, InvalidPractice) as error:
        return [Line("failed", record.identifier, record.practice_id, (str(error),))]
    return [Line("withdrawn", record.identifier, record.practice_id, said)]
