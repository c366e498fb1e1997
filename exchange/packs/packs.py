"""Course packs: gathering practices, pinned at exact versions, into a course with sections and notes.

Permissions are checked when a pack is read or exported, not when a practice is added: a practice that
became partners-only since leaves the pack for readers who may not see it (threats A-6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.accounts import tokens
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.errors import PackNotFound
from exchange.errors import PracticeNotFound
from exchange.library import reading
from exchange.library import rendering
from exchange.library import vocabularies
from exchange.library.practice import Practice
from exchange.models import Pack
from exchange.models import PackItem
from exchange.models import PackShare
from exchange.models import PracticeRecord
from exchange.models import utcnow
from exchange.policy import Viewer

if TYPE_CHECKING:
    from exchange.instance import Instance

SHARING = ("private", "colleagues", "link")
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Entry:
    """A pack entry as a reader sees it: a section, or a readable practice at its pinned version."""

    item: PackItem
    practice: Practice | None = None
    latest_version: int | None = None
    #: the original was used because the pack's language has no translation
    untranslated: bool = False
    #: the version shown (the pinned one)
    version: int | None = None
    #: a translation into the pack's language published since this original was pinned
    translation: str | None = None
    #: the pinned version's body as safe HTML (rendered when it was published)
    rendered: rendering.Rendered | None = None

    @property
    def outdated(self) -> bool:
        return bool(self.practice and self.latest_version and self.latest_version > (self.item.version or 0))


def checked_details(title: str, language: str, introduction: str) -> tuple[str, str, str]:
    """A pack's title, language and introduction, checked (Invalid naming the problem)."""
    title = title.strip()
    if not 0 < len(title) <= 300:
        raise Invalid(Message(N_("title must be 1 to 300 characters")))
    if language not in vocabularies.languages():
        raise Invalid(f"language must be one of {', '.join(vocabularies.languages().keys())}")
    if len(introduction) > MAX_TEXT:
        raise Invalid(Message(N_("the introduction is longer than %(count)s characters"), count=MAX_TEXT))
    return title, language, introduction


def create(instance: Instance, viewer: Viewer, title: str, language: str = "en", introduction: str = "") -> int:
    """A new private pack owned by ``viewer``; its id."""
    title, language, introduction = checked_details(title, language, introduction)
    with instance.db.writing() as session:
        pack = Pack(owner_id=viewer.id, title=title, language=language, introduction=introduction)
        session.add(pack)
        session.flush()
        audit.record(session, viewer.email, "pack.create", str(pack.id), title=title)
        return pack.id


def edit(instance: Instance, viewer: Viewer, pack_id: int, title: str, language: str, introduction: str) -> None:
    """Change the pack's title, language and introduction (Markdown)."""
    title, language, introduction = checked_details(title, language, introduction)
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        if language != pack.language:  # each practice is pinned again, in the new language where it has one
            for item in session.scalars(sa.select(PackItem).where(PackItem.pack_id == pack_id,
                                                                  PackItem.practice_id.is_not(None))):
                record = session.get(PracticeRecord, item.practice_id)
                if record is not None and policy.may_read(viewer, record):
                    chosen, _untranslated = _in_language(session, viewer, record, language)
                    if chosen.id != record.id:
                        item.practice_id, item.version = chosen.id, chosen.version
        pack.title, pack.language, pack.introduction, pack.updated_at = title, language, introduction, utcnow()


def _owned(session: Session, viewer: Viewer, pack_id: int) -> Pack:
    """The pack if ``viewer`` may change it (PackNotFound otherwise, as for an unknown one)."""
    pack = session.get(Pack, pack_id)
    if pack is None or not policy.may_edit_pack(viewer, pack):
        raise PackNotFound(pack_id)
    return pack


def add_practice(instance: Instance, viewer: Viewer, pack_id: int, practice_id: str) -> bool:
    """Append a practice (it must be readable now), pinned at its current version; False, and nothing
    written, when the pack holds it already (in any of its languages).

    What is pinned is what the pack will show: the practice's translation into the pack's language
    when there is one, else the practice itself (shown marked as untranslated).
    """
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        record = session.get(PracticeRecord, practice_id)
        if record is None or not policy.may_read(viewer, record):
            raise PracticeNotFound(practice_id)
        root = record.translation_of or record.id
        group = sa.select(PracticeRecord.id).where(sa.or_(PracticeRecord.id.in_([root, record.id]),
                                                          PracticeRecord.translation_of == root))
        held = sa.select(PackItem.id).where(PackItem.pack_id == pack.id, PackItem.practice_id.in_(group))
        if session.scalar(held.limit(1)) is not None:
            return False
        chosen, _untranslated = _in_language(session, viewer, record, pack.language)
        session.add(PackItem(pack_id=pack.id, position=_next_position(session, pack.id), practice_id=chosen.id,
                             version=chosen.version))
        pack.updated_at = utcnow()
        audit.record(session, viewer.email, "pack.add", str(pack.id), practice=chosen.id, version=chosen.version)
    return True


def add_section(instance: Instance, viewer: Viewer, pack_id: int, heading: str) -> None:
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        session.add(PackItem(pack_id=pack.id, position=_next_position(session, pack.id), heading=heading[:300]))
        pack.updated_at = utcnow()


def rename_section(instance: Instance, viewer: Viewer, pack_id: int, item_id: int, heading: str) -> None:
    heading = heading.strip()
    if not 0 < len(heading) <= 300:
        raise Invalid(Message(N_("a section heading must be 1 to 300 characters")))
    with instance.db.writing() as session:
        item = _item(session, viewer, pack_id, item_id)
        if item.practice_id is not None:
            raise PackNotFound(item_id)
        item.heading = heading


def _next_position(session: Session, pack_id: int) -> int:
    return (session.scalar(sa.select(sa.func.max(PackItem.position)).where(PackItem.pack_id == pack_id)) or 0) + 1


def move(instance: Instance, viewer: Viewer, pack_id: int, item_id: int, offset: int) -> tuple[int, int]:
    """Move an entry up (-1) or down (+1); its position then (from 1) and the number of entries."""
    with instance.db.writing() as session:
        _owned(session, viewer, pack_id)
        items = list(session.scalars(sa.select(PackItem).where(PackItem.pack_id == pack_id)
                                     .order_by(PackItem.position)))
        index = next((i for i, item in enumerate(items) if item.id == item_id), None)
        if index is None:
            raise PackNotFound(item_id)
        target = index + offset
        if not 0 <= target < len(items):
            return index + 1, len(items)
        items[index], items[target] = items[target], items[index]
        for position, item in enumerate(items, 1):
            item.position = position
        return target + 1, len(items)


def reorder(instance: Instance, viewer: Viewer, pack_id: int, item_ids: list[int]) -> None:
    """Put every entry of the pack in the order given, in one write.

    ``item_ids`` must name each entry of the pack exactly once: an order made from a page that is out of
    date (an entry added or removed since, in another window) is refused, and nothing moves.
    """
    with instance.db.writing() as session:
        _owned(session, viewer, pack_id).updated_at = utcnow()
        items = {item.id: item for item in session.scalars(sa.select(PackItem).where(PackItem.pack_id == pack_id))}
        if len(set(item_ids)) != len(item_ids):
            raise Invalid(Message(N_("the new order names an entry more than once")))
        if set(item_ids) != set(items):
            raise Invalid(Message(N_("the new order does not name exactly the pack's entries (the pack has "
                                     "changed since the page was opened: reload it)")))
        for position, item_id in enumerate(item_ids, 1):
            items[item_id].position = position


def _item(session: Session, viewer: Viewer, pack_id: int, item_id: int) -> PackItem:
    _owned(session, viewer, pack_id).updated_at = utcnow()
    item = session.get(PackItem, item_id)
    if item is None or item.pack_id != pack_id:
        raise PackNotFound(item_id)
    return item


def set_notes(instance: Instance, viewer: Viewer, pack_id: int, item_id: int,
              trainer_notes: str, exercises: str, answers: str = "") -> None:
    """Per-practice notes (Markdown): trainer notes and answers appear only in the trainer edition."""
    if max(len(trainer_notes), len(exercises), len(answers)) > MAX_TEXT:
        raise Invalid(Message(N_("notes, exercises and answers may each have at most %(count)s characters"),
                            count=MAX_TEXT))
    with instance.db.writing() as session:
        item = _item(session, viewer, pack_id, item_id)
        item.trainer_notes, item.exercises, item.answers = trainer_notes, exercises, answers


def remove(instance: Instance, viewer: Viewer, pack_id: int, item_id: int) -> None:
    """Take an entry (a practice with its notes, or a section heading) out of the pack."""
    with instance.db.writing() as session:
        item = _item(session, viewer, pack_id, item_id)
        audit.record(session, viewer.email, "pack.remove", str(pack_id), practice=item.practice_id or "",
                     heading=item.heading or "")
        session.delete(item)


def remove_practice(instance: Instance, viewer: Viewer, pack_id: int, practice_id: str) -> None:
    """Take a practice out of the pack, in whatever language it was pinned (undoing "Add to pack")."""
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        group = _group_of(session, practice_id)
        items = list(session.scalars(sa.select(PackItem).where(
            PackItem.pack_id == pack_id, PackItem.practice_id.in_(_members(session, {group})))
            .order_by(PackItem.position.desc())))
        if not items:
            raise PracticeNotFound(practice_id)
        audit.record(session, viewer.email, "pack.remove", str(pack_id), practice=items[0].practice_id or "",
                     heading="")
        session.delete(items[0])  # the last added, if it was added twice
        pack.updated_at = utcnow()


@dataclass(frozen=True)
class Current:
    """The pack a person is building now (the one they changed last), and what it holds."""

    pack: Pack
    #: each practice in the pack, and each translation of one: "In this pack" in results in any language
    held: frozenset[str]


def current(instance: Instance, viewer: Viewer) -> Current | None:
    """The person's most recently changed pack and the practices it holds (None without a pack)."""
    with instance.db.session() as session:
        pack = session.scalars(sa.select(Pack).where(Pack.owner_id == viewer.id)
                               .order_by(Pack.updated_at.desc(), Pack.id.desc()).limit(1)).first()
        if pack is None:
            return None
        pinned = {practice_id for practice_id in session.scalars(sa.select(PackItem.practice_id).where(
            PackItem.pack_id == pack.id)) if practice_id is not None}
        groups = {record.translation_of or record.id for record in
                  session.scalars(sa.select(PracticeRecord).where(PracticeRecord.id.in_(pinned)))}
        return Current(pack, frozenset(_members(session, groups) | pinned))


def _group_of(session: Session, practice_id: str) -> str:
    record = session.get(PracticeRecord, practice_id)
    return (record.translation_of or record.id) if record is not None else practice_id


def _members(session: Session, groups: set[str]) -> set[str]:
    """The ids of every practice in these translation groups (the originals and their translations)."""
    if not groups:
        return set()
    return set(session.scalars(sa.select(PracticeRecord.id).where(
        sa.or_(PracticeRecord.id.in_(groups), PracticeRecord.translation_of.in_(groups))))) | groups


def update_item(instance: Instance, viewer: Viewer, pack_id: int, item_id: int) -> None:
    """Pin an entry to the practice's newest version, or to its translation into the pack's language if one
    has appeared (the trainer chose to update)."""
    with instance.db.writing() as session:
        item = _item(session, viewer, pack_id, item_id)
        if item.practice_id is None:
            raise PackNotFound(item_id)
        record = session.get(PracticeRecord, item.practice_id)
        if record is None or not policy.may_read(viewer, record):
            raise PracticeNotFound(item.practice_id)
        chosen, _untranslated = _in_language(session, viewer, record, session.get_one(Pack, pack_id).language)
        item.practice_id, item.version = chosen.id, chosen.version


def share(instance: Instance, viewer: Viewer, pack_id: int, sharing: str,
          colleague_ids: tuple[int, ...] = ()) -> str | None:
    """Set who may read the pack; returns a new read-only link token when sharing by link."""
    if sharing not in SHARING:
        raise Invalid(f"sharing must be one of {', '.join(SHARING)}")
    token = tokens.new() if sharing == "link" else None
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        pack.sharing = sharing
        pack.share_token_hash = tokens.digest(token) if token else None  # a new link revokes the old one
        session.execute(sa.delete(PackShare).where(PackShare.pack_id == pack_id))
        if sharing == "colleagues":
            session.add_all(PackShare(pack_id=pack_id, user_id=u) for u in set(colleague_ids))
        audit.record(session, viewer.email, "pack.share", str(pack_id), sharing=sharing)
    return token


def duplicate(instance: Instance, viewer: Viewer, pack_id: int) -> int:
    """A private copy of a pack the person may read, owned by them; its id.

    Trainer notes and answers are copied only from one's own pack: a colleague's copy gets what the
    participant edition shows.
    """
    pack, entries = read(instance, viewer, pack_id)
    own = policy.may_see_trainer_notes(viewer, pack)
    with instance.db.writing() as session:
        copy = Pack(owner_id=viewer.id, title=f"{pack.title} (copy)"[:300], language=pack.language,
                    introduction=pack.introduction)
        session.add(copy)
        session.flush()
        for position, entry in enumerate(entries, 1):
            item = entry.item
            session.add(PackItem(pack_id=copy.id, position=position, heading=item.heading,
                                 practice_id=item.practice_id, version=item.version,
                                 trainer_notes=item.trainer_notes if own else "", exercises=item.exercises,
                                 answers=item.answers if own else ""))
        return copy.id


def delete(instance: Instance, viewer: Viewer, pack_id: int, also: Callable[[Session], None] | None = None) -> None:
    """Delete a pack the person owns, with its entries and shares (the practices stay); ``also`` runs in
    the same transaction (``exports.jobs.delete_pack`` deletes the pack's exports with it)."""
    with instance.db.writing() as session:
        pack = _owned(session, viewer, pack_id)
        session.execute(sa.delete(PackItem).where(PackItem.pack_id == pack_id))
        session.execute(sa.delete(PackShare).where(PackShare.pack_id == pack_id))
        if also is not None:
            also(session)
        audit.record(session, viewer.email, "pack.delete", str(pack_id), title=pack.title)
        session.delete(pack)


def mine(instance: Instance, viewer: Viewer) -> list[Pack]:
    with instance.db.session() as session:
        query = sa.select(Pack).where(Pack.owner_id == viewer.id).order_by(Pack.updated_at.desc(), Pack.id.desc())
        return list(session.scalars(query))


def _readable(session: Session, viewer: Viewer, pack_id: int, token: str | None, token_digest: str | None) -> Pack:
    """The pack if the policy lets ``viewer`` read it, shown the link's token (or its digest)."""
    pack = session.get(Pack, pack_id)
    if pack is None:
        raise PackNotFound(pack_id)
    colleagues: set[int] = set()
    if pack.sharing == "colleagues":
        colleagues = set(session.scalars(sa.select(PackShare.user_id).where(PackShare.pack_id == pack_id)))
    if not policy.may_read_pack(viewer, pack, colleagues, tokens.digest(token) if token else token_digest):
        raise PackNotFound(pack_id)
    return pack


def get(instance: Instance, viewer: Viewer, pack_id: int, token: str | None = None,
        token_digest: str | None = None) -> Pack:
    """The pack alone, if this reader may read it now (no practice is read: for checks on busy paths)."""
    with instance.db.session() as session:
        return _readable(session, viewer, pack_id, token, token_digest)


def read(instance: Instance, viewer: Viewer, pack_id: int, token: str | None = None,
         token_digest: str | None = None) -> tuple[Pack, list[Entry]]:
    """The pack and the entries this reader may see, checked now (not when they were added).

    A few queries whatever the pack's length: its practices, their translations and their renderings
    are each read in one.
    """
    with instance.db.session() as session:
        pack = _readable(session, viewer, pack_id, token, token_digest)
        items = list(session.scalars(sa.select(PackItem).where(PackItem.pack_id == pack_id)
                                     .order_by(PackItem.position)))
        ids = {item.practice_id for item in items if item.practice_id is not None}
        records = {r.id: r for r in session.scalars(sa.select(PracticeRecord).where(PracticeRecord.id.in_(ids)))}
        translated = _translations(session, viewer, [r for r in records.values() if r.language != pack.language],
                                   pack.language)
        stored = reading.stored_renderings(session, [(item.practice_id, item.version) for item in items
                                                     if item.practice_id is not None and item.version is not None])
        entries = []
        for item in items:
            if item.practice_id is None:
                entries.append(Entry(item))
                continue
            assert item.version is not None  # a practice entry is always pinned to a version
            record = records.get(item.practice_id)
            practice = reading.readable_version(instance, record, item.version, viewer) if record else None
            if record is None or practice is None:
                continue  # unknown, or restricted for this reader (now or in the pinned version): left out
            translation = None
            if record.language != pack.language:
                chosen = translated.get(record.translation_of or record.id, record)
                translation = chosen.id if chosen.id != record.id else None
            entries.append(Entry(item, practice, record.version, record.language != pack.language,
                                 item.version, translation, reading.rendered(instance, session, practice,
                                                                             item.version, stored)))
        return pack, entries


def _translations(session: Session, viewer: Viewer, records: list[PracticeRecord],
                  language: str) -> dict[str, PracticeRecord]:
    """For each translation group of ``records``, its readable text in ``language`` (one query for all)."""
    groups = {record.translation_of or record.id for record in records}
    if not groups:
        return {}
    found: dict[str, PracticeRecord] = {}
    candidates = session.scalars(sa.select(PracticeRecord).where(
        sa.or_(PracticeRecord.id.in_(groups), PracticeRecord.translation_of.in_(groups)),
        PracticeRecord.language == language).order_by(PracticeRecord.id))
    for candidate in candidates:
        group = candidate.translation_of or candidate.id
        if group in groups and group not in found and policy.may_read(viewer, candidate):
            found[group] = candidate
    return found


def _in_language(session: Session, viewer: Viewer, record: PracticeRecord,
                 language: str) -> tuple[PracticeRecord, bool]:
    """The readable translation of ``record`` in ``language`` if there is one, else the record itself."""
    if record.language == language:
        return record, False
    group = record.translation_of or record.id
    candidates = session.scalars(sa.select(PracticeRecord).where(
        sa.or_(PracticeRecord.id == group, PracticeRecord.translation_of == group),
        PracticeRecord.language == language))
    for candidate in candidates:
        if policy.may_read(viewer, candidate):
            return candidate, False
    return record, True
