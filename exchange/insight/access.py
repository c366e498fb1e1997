"""What a person may see: an administrator's answer to "why can (not) Siti read this?".

Every yes or no here comes from the app's own permission code, asked with the viewer the app would
make for that person when they sign in: ``policy.may_read`` for what a practice shows now, and
``reading.readable_version`` (on ``policy.may_read_version``) for each version. The reasons are the
facts those decisions were made from (the practice's visibility now, the visibility a version was
published with, what the person reads); this module decides nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.accounts import people
from exchange.library import reading
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion

if TYPE_CHECKING:
    from exchange.instance import Instance

#: why a version is readable or not (the page words each one)
READABLE = "readable"
DISABLED = "disabled"
PRACTICE_RESTRICTED = "practice-restricted"
VERSION_RESTRICTED = "version-restricted"
FILE_MISSING = "file-missing"


@dataclass(frozen=True)
class VersionAnswer:
    """Whether the person may read one version, and the facts that decided it."""

    version: int
    readable: bool
    reason: str
    #: the visibility this version was published with (None when its file could not be read)
    visibility: str | None


@dataclass(frozen=True)
class PracticeCheck:
    """The answer for one practice id: every version of it (none when there is no such practice)."""

    practice_id: str
    found: bool
    title: str = ""
    language: str = ""
    city: str = ""
    visibility: str = ""
    current_version: int = 0
    versions: tuple[VersionAnswer, ...] = ()


@dataclass(frozen=True)
class Tally:
    """Practices the person may read, of all there are (in a city, or of a visibility)."""

    readable: int = 0
    total: int = 0


@dataclass(frozen=True)
class Sight:
    """What ``person`` sees (None: the public, a visitor not signed in): their roles and cities, what they
    read, and the counts behind it."""

    person: people.Person | None
    #: False for a disabled account: it cannot sign in, so it sees what the public sees (True for the public)
    signs_in: bool
    #: the visibilities the person's practices may have (policy.readable_visibilities)
    reads: tuple[str, ...]
    by_visibility: dict[str, Tally]
    by_city: dict[str, Tally]
    check: PracticeCheck | None


def viewer_for(instance: Instance, person: people.Person | None) -> policy.Viewer:
    """The viewer the app makes for ``person`` when they sign in (the public's when they cannot, or for None:
    a visitor not signed in)."""
    account = people.by_id(instance, person.id) if person is not None and person.active else None
    return account if account is not None else policy.ANONYMOUS


def sight(instance: Instance, person: people.Person | None, practice_id: str = "") -> Sight:
    """What ``person`` may read now (None: the public), with the versions of ``practice_id`` checked when one
    is given."""
    viewer = viewer_for(instance, person)
    with instance.db.session() as session:
        records = list(session.scalars(sa.select(PracticeRecord)))
    by_visibility: dict[str, Tally] = {}
    by_city: dict[str, Tally] = {}
    for record in records:
        readable = int(policy.may_read(viewer, record))
        for tallies, key in ((by_visibility, record.visibility), (by_city, record.city)):
            before = tallies.get(key, Tally())
            tallies[key] = Tally(before.readable + readable, before.total + 1)
    # a disabled account is told apart from the public: it could read more, were it enabled
    disabled = person is not None and not person.active
    check = _check(instance, viewer, disabled, practice_id.strip().strip("/")) if practice_id.strip() else None
    return Sight(person=person, signs_in=not disabled,
                 reads=tuple(sorted(policy.readable_visibilities(viewer), key=["public", "partners"].index)),
                 by_visibility=by_visibility, by_city=dict(sorted(by_city.items())), check=check)


def _check(instance: Instance, viewer: policy.Viewer, disabled: bool, practice_id: str) -> PracticeCheck:
    with instance.db.session() as session:
        record = session.get(PracticeRecord, practice_id[:161])
        if record is None:
            return PracticeCheck(practice_id[:161], found=False)
        numbers = list(session.scalars(sa.select(PracticeVersion.version).where(
            PracticeVersion.practice_id == record.id).order_by(PracticeVersion.version.desc())))
    answers = []
    for number in numbers:
        readable = reading.readable_version(instance, record, number, viewer) is not None
        visibility = _published_with(instance, record, number)
        if readable:
            reason = READABLE
        elif visibility is None:
            reason = FILE_MISSING
        elif not policy.may_read(viewer, record):
            reason = DISABLED if disabled else PRACTICE_RESTRICTED
        else:
            reason = DISABLED if disabled else VERSION_RESTRICTED
        answers.append(VersionAnswer(number, readable, reason, visibility))
    return PracticeCheck(record.id, True, record.title, record.language, record.city, record.visibility,
                         record.version, tuple(answers))


def _published_with(instance: Instance, record: PracticeRecord, version: int) -> str | None:
    """The visibility ``version`` was published with, as its own file says (None: unreadable)."""
    try:
        return parse(instance.store.read_version(record.id, version), record.slug).visibility
    except (FileNotFoundError, UnsafePath, InvalidPractice):
        return None
