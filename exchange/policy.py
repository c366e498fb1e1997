"""The one place that decides who may do what to which practice.

Views, the catalogue, search, the API, feeds and pack exports all ask here. Unknown and forbidden
look the same from outside (both are "not found").
"""

from __future__ import annotations

from typing import Protocol


class Viewer(Protocol):
    """Whoever is asking: an account (later issues) or an anonymous visitor."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_partner_staff(self) -> bool: ...


class _Anonymous:
    is_authenticated = False
    is_partner_staff = False

    def __repr__(self) -> str:
        return "<anonymous>"


ANONYMOUS: Viewer = _Anonymous()


class PracticeLike(Protocol):
    @property
    def visibility(self) -> str: ...


def readable_visibilities(viewer: Viewer | None) -> frozenset[str]:
    """The visibility values whose practices ``viewer`` may read."""
    if viewer is not None and viewer.is_authenticated and viewer.is_partner_staff:
        return frozenset({"public", "partners"})
    return frozenset({"public"})


def may_read(viewer: Viewer | None, practice: PracticeLike) -> bool:
    """True when ``viewer`` may see ``practice`` (its page, its text, its existence)."""
    return practice.visibility in readable_visibilities(viewer)


def may_contribute(viewer: Viewer | None, city: str) -> bool:
    """True when ``viewer`` writes for ``city`` (a contributor who is a member of it)."""
    return bool(viewer is not None and viewer.is_authenticated and "contributor" in getattr(viewer, "roles", ())
                and city in getattr(viewer, "cities", ()))


def may_review(viewer: Viewer | None) -> bool:
    """True when ``viewer`` reviews and publishes for the network."""
    return bool(viewer is not None and viewer.is_authenticated and "reviewer" in getattr(viewer, "roles", ()))


def may_administer(viewer: Viewer | None) -> bool:
    """True for administrators (people, cities, settings, the audit log)."""
    return bool(viewer is not None and viewer.is_authenticated and "admin" in getattr(viewer, "roles", ()))
