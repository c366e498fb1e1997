"""Database tables for people and processes; practice content itself lives in the library files."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class City(Base):
    """A partner city; practices belong to one."""

    __tablename__ = "cities"

    slug: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    country: Mapped[str] = mapped_column(sa.String(2))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    name_id: Mapped[str | None] = mapped_column(sa.String(200))
    name_ja: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)

    def display_name(self, language: str = "en") -> str:
        """The city's name in ``language``, falling back to its main name."""
        return getattr(self, f"name_{language}", None) or self.name


class PracticeRecord(Base):
    """The catalogue row of a published practice: its metadata, so listings need not read files."""

    __tablename__ = "practices"

    id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    city: Mapped[str] = mapped_column(sa.ForeignKey("cities.slug"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.Text)
    summary: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
    language: Mapped[str] = mapped_column(sa.String(3), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    hazards: Mapped[list[str]] = mapped_column(sa.JSON)
    phases: Mapped[list[str]] = mapped_column(sa.JSON)
    published: Mapped[datetime.date] = mapped_column(index=True)
    #: not indexed: nine practices in ten are public, and SQLite's planner preferred it to better indexes
    visibility: Mapped[str] = mapped_column(sa.String(20))
    translation_of: Mapped[str | None] = mapped_column(sa.String(161), index=True)
    meta: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class PracticeVersion(Base):
    """One published version of a practice: who published it, when, and why."""

    __tablename__ = "practice_versions"

    practice_id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: (indexed: the library's generation asks for the latest, ``library/generation.py``)
    published_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)
    #: who published it, for administrators and the audit trail (an e-mail address, or ``cli:<user>``)
    actor: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: the visibility this version was published with (None: recorded before it was kept; read the file)
    visibility: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    #: the name the publisher chose to be credited by ("" for imports and the command line)
    credit: Mapped[str | None] = mapped_column(sa.String(200))
    #: for a translation: the version of its original it was made from (None: the original came later)
    original_version: Mapped[int | None]
    #: the submission whose approval published this version, if any
    submission_id: Mapped[int | None] = mapped_column(index=True)


class RenderedVersion(Base):
    """A published version's body as safe HTML with its contents, rendered once when it was published."""

    __tablename__ = "rendered_versions"

    practice_id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    #: which renderer made it (rendering.RENDERER): a change of renderer renders again
    renderer: Mapped[str] = mapped_column(sa.String(40))
    html: Mapped[str] = mapped_column(sa.Text)
    #: the table of contents: [[level, id, text], …]
    contents: Mapped[list] = mapped_column(sa.JSON)


class AuditEntry(Base):
    """One write or security event: who did what to which thing, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(200), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    target: Mapped[str] = mapped_column(sa.String(300), default="")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class IndexOutbox(Base):
    """A practice whose index entry must be brought up to date (written in the same transaction).

    Every node's index applies every row (``OutboxApplied``); ``done_at`` is when the last known node did.
    """

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[str] = mapped_column(sa.String(161))
    enqueued_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime.datetime | None] = mapped_column(index=True)


class User(Base):
    """A person with an account: partner staff, contributors, reviewers, administrators."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped by logout, password change and disabling: every older session stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    #: The interface language the person chose (en, id, ja); None: the browser's or the switcher's.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's membership of a partner city (contributors write for their cities)."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    city: Mapped[str] = mapped_column(sa.ForeignKey("cities.slug"), primary_key=True)


class Invitation(Base):
    """A link that lets a new user set their password once, before it expires."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime.datetime]
    used_at: Mapped[datetime.datetime | None]


class LoginFailure(Base):
    """A failed sign-in, by account and by client, for throttling shared across workers."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(300), index=True)
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)


class KnownDevice(Base):
    """A browser someone signed in from: its device cookie spares it the throttle others trigger.

    Only a hash of the cookie's token is kept, so a leaked database does not leak working cookies.
    """

    __tablename__ = "known_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime.datetime] = mapped_column(index=True)


class Submission(Base):
    """A contributor's proposed text for a practice (new or an update), through review to publication."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[str] = mapped_column(sa.String(161), index=True)
    city: Mapped[str] = mapped_column(sa.ForeignKey("cities.slug"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    #: The published version this text was written against (None for a new practice).
    base_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    published_version: Mapped[int | None]
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)


class SubmissionEvent(Base):
    """One step of a submission's review: who did what, with their comment."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("submissions.id"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Something a person should know: a submission to review, a decision on theirs, a review due."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: as written for the recipient's e-mail, in the language they chose then
    message: Mapped[str] = mapped_column(sa.Text)
    #: the catalog message and its values (and "postscript", a comment as written), so the app can say it
    #: again in whatever language its reader reads the site in; None for notifications made before 0012
    template: Mapped[str | None] = mapped_column(sa.Text)
    arguments: Mapped[dict | None] = mapped_column(sa.JSON)
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime.datetime | None]


class Pack(Base):
    """A trainer's course pack: an ordered collection of practices with sections and notes."""

    __tablename__ = "packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    language: Mapped[str] = mapped_column(sa.String(3), default="en")
    introduction: Mapped[str] = mapped_column(sa.Text, default="")
    #: private, colleagues (named people) or link (anyone with the read-only link)
    sharing: Mapped[str] = mapped_column(sa.String(20), default="private")
    share_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class PackItem(Base):
    """One entry of a pack: a section heading, or a practice pinned at an exact version with notes."""

    __tablename__ = "pack_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(sa.ForeignKey("packs.id"), index=True)
    position: Mapped[int]
    heading: Mapped[str | None] = mapped_column(sa.String(300))
    practice_id: Mapped[str | None] = mapped_column(sa.String(161))
    version: Mapped[int | None]
    trainer_notes: Mapped[str] = mapped_column(sa.Text, default="")
    exercises: Mapped[str] = mapped_column(sa.Text, default="")
    #: answers to the exercises: in the trainer edition only
    answers: Mapped[str] = mapped_column(sa.Text, default="")


class PackShare(Base):
    """A named colleague who may read a pack."""

    __tablename__ = "pack_shares"

    pack_id: Mapped[int] = mapped_column(sa.ForeignKey("packs.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)


class ExportJob(Base):
    """One export of a pack, rendered by a worker process outside the web request."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(sa.ForeignKey("packs.id"), index=True)
    #: who asked (None: somebody with the pack's read-only link)
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: digest of the secret in the job's address: only whoever asked can follow or download it
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    #: digest of the read-only link the job was asked with, checked again when it runs
    link_hash: Mapped[str | None] = mapped_column(sa.String(64))
    format: Mapped[str] = mapped_column(sa.String(10))
    edition: Mapped[str] = mapped_column(sa.String(20))
    #: queued, running, done, failed, expired
    status: Mapped[str] = mapped_column(sa.String(20), default="queued", index=True)
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(sa.String(200), default="waiting for a free export worker")
    message: Mapped[str] = mapped_column(sa.Text, default="")
    filename: Mapped[str | None] = mapped_column(sa.String(300))
    bytes: Mapped[int | None]
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime.datetime | None]
    finished_at: Mapped[datetime.datetime | None]


class Job(Base):
    """A piece of work for the job runner (``exchange/jobs``): a letter to send, an export, index upkeep."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_due", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: queued, running, done, failed
    state: Mapped[str] = mapped_column(sa.String(10), default="queued")
    #: while queued or running, no other job has this key (a rebuild asked for twice is one job); cleared after
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    #: attempts begun, the one running included
    attempts: Mapped[int] = mapped_column(default=0)
    #: not to be run before this (a retry waits here with its backoff)
    run_after: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    #: the runner working on it, and until when its claim holds unless that runner renews it
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    lease_until: Mapped[datetime.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime.datetime | None]
    finished_at: Mapped[datetime.datetime | None]


class Webhook(Base):
    """A partner system told by HTTP POST when practices are published, updated or withdrawn (``exchange/webhooks``)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    #: the events it wants: practice.published, practice.updated, practice.withdrawn
    events: Mapped[list[str]] = mapped_column(sa.JSON)
    #: the key every request is signed with: kept as it is, since signing needs it (never shown after it is set)
    secret: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event sent (or to be sent) to one webhook: the exact body, and how its attempts ended."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the delivery id the receiver sees (X-Exchange-Delivery, and "delivery" in the body)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    practice_id: Mapped[str | None] = mapped_column(sa.String(161))
    #: the JSON body as it is sent (signed anew at each attempt, with that attempt's time)
    body: Mapped[str] = mapped_column(sa.Text)
    #: queued (waiting for an attempt or a retry), delivered, failed (attempts used up)
    state: Mapped[str] = mapped_column(sa.String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    #: the delivery this one sends again ("redeliver"), if any
    redelivery_of: Mapped[int | None]
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)


class WebhookAttempt(Base):
    """One attempt of a delivery: when, the receiver's status or the error, and when the next is due."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int]
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    next_retry_at: Mapped[datetime.datetime | None]


class SearchGap(Base):
    """How often a query was searched for on a day in a language, how often it found nothing, and how
    often a result was opened from it: the content-gap report's counts (``exchange/insight/gaps.py``).

    Nothing here says who searched: no user, no address, no session; queries that look like personal
    data (e-mail addresses, telephone numbers) are never stored.
    """

    __tablename__ = "search_gaps"

    day: Mapped[datetime.date] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    #: the query as normalised (NFKC, case-folded, spaces collapsed), at most gaps.MAX_QUERY characters
    query: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    searches: Mapped[int] = mapped_column(default=0)
    zero_results: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)


class LinkCheck(Base):
    """The last check of a link to another site found in a practice (``exchange/insight/links.py``)."""

    __tablename__ = "link_checks"

    #: sha256 of the address: addresses may be longer than an index allows
    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text)
    #: the HTTP status the site answered with (None: no answer)
    status: Mapped[int | None]
    #: "" when the link works; else why not, in a few words (a status, a refused address, a network error)
    problem: Mapped[str] = mapped_column(sa.String(200), default="")
    checked_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)


class SavedSearch(Base):
    """A person's saved search (query and filters): how often they are alerted of new and updated matches,
    and the digest of its private feed's token."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    query: Mapped[str] = mapped_column(sa.Text, default="")
    #: facet → values, as the search page's arguments give them
    filters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: immediate, daily or weekly
    frequency: Mapped[str] = mapped_column(sa.String(10), default="daily")
    #: the private feed's token, hashed; a new address replaces it, and the old one stops working
    feed_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    #: versions published up to this moment have been looked at for its daily or weekly alert
    checked_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class SentAlert(Base):
    """An alert sent of one practice version, for one saved search or pack: never sent twice."""

    __tablename__ = "sent_alerts"

    #: ``search:<id>`` or ``pack:<id>``
    subject: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    practice_id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class HarvestSource(Base):
    """Another Practice Exchange whose public practices this library harvests over OAI-PMH."""

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the node's OAI-PMH base URL (its ``/oai``)
    base_url: Mapped[str] = mapped_column(sa.String(500), unique=True)
    #: the node's repositoryName, as its Identify last said it ("" before the first harvest)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: OAI-PMH sets to harvest (``city:jakarta``, ``hazard:riverine-flood`` …); empty: the whole library
    sets: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: hours between scheduled harvests; None: harvested only by hand (``exchange harvest``)
    interval_hours: Mapped[int | None]
    #: the newest datestamp harvested (``YYYY-MM-DDThh:mm:ssZ``): the next harvest asks ``from`` it
    last_datestamp: Mapped[str | None] = mapped_column(sa.String(20))
    last_run_at: Mapped[datetime.datetime | None]
    next_run_at: Mapped[datetime.datetime | None] = mapped_column(index=True)
    #: the last run's report: {"status": …, "lines": [{"status", "identifier", "practice", "problems"}, …]}
    last_report: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)


class HarvestedPractice(Base):
    """Where a harvested practice came from: its node, its original identifier and version, and when."""

    __tablename__ = "harvested_practices"

    practice_id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("harvest_sources.id"), index=True)
    #: the node's name (Identify's repositoryName) when it was harvested
    source_name: Mapped[str] = mapped_column(sa.String(200))
    identifier: Mapped[str] = mapped_column(sa.String(300))
    original_version: Mapped[int]
    #: the practice's page on the node it came from
    original_url: Mapped[str] = mapped_column(sa.String(500))
    #: the local version the last harvest published: a newer local version is a local edit
    local_version: Mapped[int]
    harvested_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    #: the submission an incoming version went to review as, when it met a local edit
    conflict_submission_id: Mapped[int | None]


class ApiToken(Base):
    """A personal API token: acts with its person's permissions, within its scopes, until it expires or is revoked.

    Only a hash of the token is kept, so a leaked database does not leak working tokens.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: what it may do: "read", "submit"
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime.datetime]
    last_used_at: Mapped[datetime.datetime | None]
    revoked_at: Mapped[datetime.datetime | None]


class ApiCallCount(Base):
    """How many API calls one caller (a token, or an address) made in one rate-limit window."""

    __tablename__ = "api_call_counts"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    window: Mapped[datetime.datetime] = mapped_column(primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)


class IndexNode(Base):
    """A node of the library with a search index of its own, following the index outbox."""

    __tablename__ = "index_nodes"

    node: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: when the node last applied the outbox
    seen_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    #: outbox rows it had not applied were pruned (after the retention period): its index must be rebuilt
    behind: Mapped[bool] = mapped_column(default=False)


class OutboxApplied(Base):
    """An outbox row one node has applied to its index (a row is pruned once every known node has)."""

    __tablename__ = "index_outbox_applied"

    node: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(primary_key=True, index=True)


class SearchDocument(Base):
    """A practice as the PostgreSQL search engine indexes it (``exchange/search/postgres``): one row per
    published practice, its words as a tsvector of our own analysers' terms. The table exists only on
    PostgreSQL (migration 0022); SQLite instances search with Whoosh."""

    __tablename__ = "search_documents"

    id: Mapped[str] = mapped_column(sa.String(161), primary_key=True)
    #: the id of the original it translates, or its own: a translation group shows as one result
    group_id: Mapped[str] = mapped_column(sa.String(161), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    visibility: Mapped[str] = mapped_column(sa.String(20))
    language: Mapped[str] = mapped_column(sa.String(20))
    published: Mapped[datetime.date]
    #: when the library received the practice's current version (UTC): what "recently updated" orders by
    #: (None only in rows of an older ``SCHEMA_VERSION``, which are rebuilt before they are searched)
    revised: Mapped[datetime.datetime | None]
    city: Mapped[str] = mapped_column(sa.String(80))
    country: Mapped[str] = mapped_column(sa.String(2))
    kind: Mapped[str] = mapped_column(sa.String(60))
    year: Mapped[str] = mapped_column(sa.String(4))
    hazards: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.Text))
    phases: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.Text))
    card: Mapped[dict] = mapped_column(sa.JSON)
    #: the body as plain text, for snippets
    content: Mapped[str] = mapped_column(sa.Text)
    #: every term: title (A), summary (B), tags (C), body (D), glossary concepts, places, organisation
    terms: Mapped[str] = mapped_column(TSVECTOR)
    #: the title, summary and tags' terms alone (A, B, C): small enough to stay in the row, what every match
    #: is ranked by before the best are ranked by their whole text
    head: Mapped[str | None] = mapped_column(TSVECTOR, sa.Computed("ts_filter(terms, '{a,b,c}')", persisted=True))
    #: the words it brings to ``search_words``, by source: {source: {word: uses}}, so an update can take
    #: back what its earlier text brought
    vocabulary: Mapped[dict | None] = mapped_column(JSONB)


class SearchWord(Base):
    """A word the practices of one visibility use, and how often: what the PostgreSQL search engine
    mends misspelt words into (``exchange/search/postgres/vocabulary.py``). ``source`` says which words:
    ``word`` the words of the texts as written, ``id`` the Indonesian root words of Indonesian bodies.
    Kept up to date with each row of ``search_documents`` (migration 0025; PostgreSQL only)."""

    __tablename__ = "search_words"
    __table_args__ = (sa.Index("ix_search_words_near", "source", "visibility", sa.text("left(word, 1)"),
                               sa.text("length(word)")),)

    visibility: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    word: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    uses: Mapped[int]


class SearchEngineState(Base):
    """Which analysis the PostgreSQL search engine's rows were built with, and when: a table built with
    another ``SCHEMA_VERSION`` (or never built) is unusable until it is rebuilt."""

    __tablename__ = "search_engine_state"

    engine: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    schema_version: Mapped[int]
    built_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
