"""A pack as a Markdown ZIP: the practices as published (front matter and all) plus the pack's structure.

Layout: ``practices/<city>/<slug>.md`` (the exact text of the version in the pack), ``cities.yaml`` and
``pack.yaml`` (title, language, introduction, sections, order, notes). ``exchange import`` takes the
practices back (it skips ``pack.yaml``); :func:`import_pack` rebuilds the pack itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.library import bundles
from exchange.library import cities
from exchange.library import yamlfile
from exchange.models import Pack
from exchange.models import PackItem
from exchange.models import PracticeRecord
from exchange.packs import packs
from exchange.packs.exports.course import Course
from exchange.packs.exports.course import Progress
from exchange.packs.exports.course import no_progress
from exchange.policy import Viewer

if TYPE_CHECKING:
    from exchange.instance import Instance

FORMAT = "practice-exchange-pack/1"
MAX_ENTRIES = 500


def write(course: Course, progress: Progress = no_progress) -> bytes:
    """The ZIP's bytes: trainer notes and answers only in the trainer edition."""
    files: dict[str, bytes] = {}
    entries: list[dict] = []
    for entry in course.entries:
        if entry.practice is None:
            entries.append({"section": entry.item.heading or ""})
            continue
        name = f"practices/{entry.practice.id}.md"
        files[name] = entry.practice.text
        item = {"practice": entry.practice.id, "version": entry.version, "file": name}
        if course.trainer and entry.item.trainer_notes:
            item["trainer_notes"] = entry.item.trainer_notes
        if entry.item.exercises:
            item["exercises"] = entry.item.exercises
        if course.trainer and entry.item.answers:
            item["answers"] = entry.item.answers
        entries.append(item)
    progress(0.8, "packing the files")
    structure = {"format": FORMAT, "title": course.pack.title, "language": course.pack.language,
                 "edition": course.edition, "introduction": course.pack.introduction, "made": course.made,
                 "source": f"{course.base_url}/packs/{course.pack.id}", "entries": entries}
    return bundles.zip_bytes({bundles.PACK_FILE: yamlfile.dump(structure, block=True).encode("utf-8"),
                              bundles.CITIES_FILE: cities.as_yaml(course.cities).encode("utf-8"), **files})


@dataclass(frozen=True)
class Imported:
    """What importing a pack did: the new pack, and a line for each entry that needs the trainer's eye."""

    pack_id: int
    notes: list[str]


def import_pack(instance: Instance, viewer: Viewer, path: Path) -> Imported:
    """A new private pack for ``viewer`` from a pack ZIP; Invalid (with the reason) if it is not one.

    Each practice is matched in this library by its id and pinned at the version whose text is the
    ZIP's; practices this library lacks, or that ``viewer`` may not read, are left out and reported.
    """
    try:
        found, extras = bundles.read_zip(path)
    except bundles.BadBundle as error:
        raise Invalid(str(error).replace(str(path), path.name)) from None
    if bundles.PACK_FILE not in extras:
        raise Invalid(Message(N_("%(file)s has no %(structure)s: it is not a course pack (import practices with "
                                 "exchange import)"), file=path.name, structure=bundles.PACK_FILE))
    structure = _structure(extras[bundles.PACK_FILE])
    title, language, introduction = packs.checked_details(structure["title"], structure["language"],
                                                          structure["introduction"])
    texts = {entry.source.split(":", 1)[1]: entry.data for entry in found}
    notes: list[str] = []
    with instance.db.writing() as session:
        pack = Pack(owner_id=viewer.id, title=title, language=language, introduction=introduction)
        session.add(pack)
        session.flush()
        pack_id = pack.id
        position = 0
        for entry in structure["entries"]:
            item = _item(instance, session, viewer, entry, texts, notes)
            if item is not None:
                position += 1
                item.pack_id, item.position = pack_id, position
                session.add(item)
        audit.record(session, viewer.email, "pack.import", str(pack_id), source=path.name, entries=position)
    return Imported(pack_id, notes)


def _item(instance: Instance, session: Session, viewer: Viewer, entry: dict, texts: dict,
          notes: list[str]) -> PackItem | None:
    if "section" in entry:
        return PackItem(heading=entry["section"][:300])
    practice_id = entry["practice"]
    record = session.get(PracticeRecord, practice_id)
    if record is None or not policy.may_read(viewer, record):
        notes.append(Message(N_("%(practice)s: not in this library (import its file with exchange import first); "
                                "left out"), practice=practice_id))
        return None
    text = texts.get(entry.get("file", ""))
    version = next((v for v in range(record.version, 0, -1) if text and _text(instance, practice_id, v) == text), None)
    if version is None:
        version = record.version
        notes.append(Message(N_("%(practice)s: the pack's text is not a version of this library's practice; pinned "
                                "to its version %(version)s"), practice=practice_id, version=version))
    return PackItem(practice_id=practice_id, version=version, trainer_notes=entry.get("trainer_notes", ""),
                    exercises=entry.get("exercises", ""), answers=entry.get("answers", ""))


def _text(instance: Instance, practice_id: str, version: int) -> bytes | None:
    try:
        return instance.store.read_version(practice_id, version)
    except FileNotFoundError:
        return None


def _structure(data: bytes) -> dict:
    """``pack.yaml`` checked field by field; Invalid naming the first problem."""
    try:
        value = yamlfile.load_untrusted(data.decode("utf-8"), max_bytes=bundles.MAX_EXTRA_BYTES,
                                        what=bundles.PACK_FILE)
    except (UnicodeDecodeError, yamlfile.YamlProblem) as error:
        raise Invalid(f"{bundles.PACK_FILE}: {error}") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise Invalid(f"{bundles.PACK_FILE}: not a pack structure (format must be {FORMAT})")
    for key in ("title", "language", "introduction"):
        if not isinstance(value.get(key, ""), str):
            raise Invalid(f"{bundles.PACK_FILE}: {key} must be text")
    entries = value.get("entries")
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise Invalid(f"{bundles.PACK_FILE}: entries must be a list of at most {MAX_ENTRIES}")
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or ("section" in entry) == ("practice" in entry):
            raise Invalid(f"{bundles.PACK_FILE}: entry {number} must have either a section or a practice")
        for key, text in entry.items():
            if key not in ("section", "practice", "file", "trainer_notes", "exercises", "answers", "version"):
                raise Invalid(f"{bundles.PACK_FILE}: entry {number} has an unknown key {key!r}")
            if key == "version" and not (isinstance(text, int) and not isinstance(text, bool)):
                raise Invalid(f"{bundles.PACK_FILE}: entry {number}: version must be a number")
            if key != "version" and not isinstance(text, str):
                raise Invalid(f"{bundles.PACK_FILE}: entry {number}: {key} must be text")
    return {"title": value.get("title", ""), "language": value.get("language", "en"),
            "introduction": value.get("introduction", ""), "entries": entries}


