"""The one place that decides who may do what to which practice, submission or pack.

Views, the catalogue, search, the API, feeds, pack exports and notifications all ask here; nothing
else compares roles, owners or authors. Unknown and forbidden look the same from outside (both are
"not found"). The decisions are plain functions of a :class:`Viewer` and the facts a service loaded
(a practice's visibility, a pack's owner and shares): this module reads no database.

Roles: a *reader* reads partners-only practices; a *contributor* writes for the cities they are a
member of; a *reviewer* reviews and publishes for the whole network; an *admin* manages people and
reads the audit log. Any role makes a person partner staff.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

CONTRIBUTOR = "contributor"
REVIEWER = "reviewer"
ADMIN = "admin"


@dataclass(frozen=True)
class Viewer:
    """Whoever is asking: a signed-in person (``id`` set) or an anonymous visitor."""

    id: int | None = None
    email: str = ""
    name: str = ""
    roles: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    @property
    def is_authenticated(self) -> bool:
        return self.id is not None

    @property
    def is_partner_staff(self) -> bool:
        return self.is_authenticated and bool(self.roles)


#: a visitor who has not signed in
ANONYMOUS = Viewer()


class PracticeLike(Protocol):
    @property
    def visibility(self) -> str: ...


class SubmissionLike(Protocol):
    @property
    def author_id(self) -> int: ...


class PackLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def owner_id(self) -> int: ...

    @property
    def sharing(self) -> str: ...

    @property
    def share_token_hash(self) -> str | None: ...


def _is(viewer: Viewer | None, role: str) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and role in viewer.roles)


def _is_person(viewer: Viewer | None, person_id: int | None) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and person_id is not None and viewer.id == person_id)


# Practices


def readable_visibilities(viewer: Viewer | None) -> frozenset[str]:
    """The visibility values whose practices ``viewer`` may read (the search filter asks this)."""
    if viewer is not None and viewer.is_authenticated and viewer.is_partner_staff:
        return frozenset({"public", "partners"})
    return frozenset({"public"})


def may_read(viewer: Viewer | None, practice: PracticeLike) -> bool:
    """True when ``viewer`` may see ``practice`` (its page, its text, its existence)."""
    return practice.visibility in readable_visibilities(viewer)


def may_read_version(viewer: Viewer | None, practice: PracticeLike, version: PracticeLike) -> bool:
    """True when ``viewer`` may read a version: under the visibility it was published with and the
    practice's visibility now (DESIGN 5)."""
    return may_read(viewer, practice) and may_read(viewer, version)


def may_read_visibility(viewer: Viewer | None, visibility: str | None) -> bool:
    """True when ``viewer`` may read what was published with ``visibility`` (unrecorded counts as partners-only)."""
    return (visibility or "partners") in readable_visibilities(viewer)


def may_contribute(viewer: Viewer | None, city: str) -> bool:
    """True when ``viewer`` writes for ``city`` (a contributor who is a member of it)."""
    return viewer is not None and _is(viewer, CONTRIBUTOR) and city in viewer.cities


def may_contribute_anywhere(viewer: Viewer | None) -> bool:
    """True when ``viewer`` writes for at least one city."""
    return viewer is not None and any(may_contribute(viewer, city) for city in viewer.cities)


def may_translate(viewer: Viewer | None) -> bool:
    """True when ``viewer`` may start a translation (a contributor; the city is checked when it is saved)."""
    return _is(viewer, CONTRIBUTOR)


def may_review(viewer: Viewer | None) -> bool:
    """True when ``viewer`` reviews and publishes for the network (and restores earlier versions)."""
    return _is(viewer, REVIEWER)


def may_administer(viewer: Viewer | None) -> bool:
    """True for administrators (people, cities, settings, the audit log, who published what)."""
    return _is(viewer, ADMIN)


def may_disable(viewer: Viewer | None, person_id: int) -> bool:
    """True when ``viewer`` may disable the account ``person_id`` (an administrator, not their own)."""
    return may_administer(viewer) and not _is_person(viewer, person_id)


# Submissions


def is_author(viewer: Viewer | None, submission: SubmissionLike) -> bool:
    """True when ``viewer`` wrote ``submission`` (and so may edit, submit or withdraw it)."""
    return _is_person(viewer, submission.author_id)


def may_see_submission(viewer: Viewer | None, submission: SubmissionLike) -> bool:
    """True for the submission's author and for reviewers."""
    return is_author(viewer, submission) or may_review(viewer)


def may_decide(viewer: Viewer | None, submission: SubmissionLike) -> bool:
    """True when ``viewer`` may approve, reject or send back ``submission``: a reviewer who did not write it.
    (Any reviewer may comment.)"""
    return may_review(viewer) and not is_author(viewer, submission)


def told_of_submissions(person: Viewer) -> bool:
    """True when ``person`` is told that a text is waiting for review: whoever reviews."""
    return may_review(person)


def told_of_review_due(person: Viewer, city: str) -> bool:
    """True when ``person`` is told that a practice of ``city`` is due for review: its contributors."""
    return may_contribute(person, city)


# Course packs


def may_edit_pack(viewer: Viewer | None, pack: PackLike) -> bool:
    """True for the pack's owner: only they change it, share it or delete it."""
    return _is_person(viewer, pack.owner_id)


def may_read_pack(viewer: Viewer | None, pack: PackLike, colleagues: Collection[int] = (),
                  link_digest: str | None = None) -> bool:
    """True for the owner, a named colleague (one of ``colleagues``, the people it is shared with) while
    it is shared with colleagues, and whoever holds its current read-only link (the link's digest)."""
    if may_edit_pack(viewer, pack):
        return True
    if pack.sharing == "link" and link_digest and pack.share_token_hash == link_digest:
        return True
    return pack.sharing == "colleagues" and viewer is not None and viewer.is_authenticated and viewer.id in colleagues


def may_see_trainer_notes(viewer: Viewer | None, pack: PackLike) -> bool:
    """True when ``viewer`` sees a pack's trainer notes and answers (on its page and in copies): the owner."""
    return may_edit_pack(viewer, pack)


def may_export_trainer_edition(viewer: Viewer | None, pack: PackLike) -> bool:
    """True when ``viewer`` may export the trainer edition (with notes and answers): the owner.
    Anyone else who may read the pack gets the participant edition."""
    return may_see_trainer_notes(viewer, pack)
