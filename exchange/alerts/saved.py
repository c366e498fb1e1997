"""A person's saved searches: saved, changed and deleted only by their owner, each with a private feed address.

A saved search keeps the search page's query and filters (checked as the API checks them: known facets,
known vocabulary values, bounded lengths) and how often its owner wants to hear of new and updated
matches (``FREQUENCIES``). Its feed address carries a token that is shown to the owner when it is made
and kept only as a digest: asking for a new address makes the old one stop working at once. Whoever
fetches the feed sees what the owner may read at that moment, and nothing once the account is disabled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import audit
from exchange import policy
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.errors import NotFound
from exchange.library import vocabularies
from exchange.models import SavedSearch
from exchange.models import utcnow
from exchange.search.backend import FACETS
from exchange.search.backend import SearchRequest
from exchange.search.query import MAX_QUERY_CHARS

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

FREQUENCIES = ("immediate", "daily", "weekly")
#: the most saved searches one person keeps
MAX_PER_PERSON = 50
MAX_NAME_CHARS = 200
#: the most values of one filter (as the search page takes them)
MAX_VALUES = 20
_VOCABULARY = {"hazard": "hazard", "kind": "kind", "phase": "phase"}


class SavedSearchNotFound(NotFound):
    """No such saved search of this person (or its feed address is no longer valid)."""


class InvalidSavedSearch(Invalid):
    """A saved search cannot be kept as given; the message names the field and the problem."""


@dataclass(frozen=True)
class Saved:
    """A saved search as its owner's page shows it."""

    id: int
    name: str
    query: str
    filters: dict[str, list[str]]
    frequency: str

    def arguments(self) -> dict[str, str | list[str]]:
        """The search page's address arguments for it."""
        found: dict[str, str | list[str]] = {"q": self.query} if self.query else {}
        found.update({facet: list(values) for facet, values in self.filters.items()})
        return found

    def request(self, per_page: int = 20) -> SearchRequest:
        """The search it keeps."""
        return SearchRequest(q=self.query, filters={k: list(v) for k, v in self.filters.items()}, per_page=per_page)


def _saved(row: SavedSearch) -> Saved:
    return Saved(row.id, row.name, row.query, {k: list(v) for k, v in row.filters.items()}, row.frequency)


def checked(name: str, query: str, filters: dict[str, list[str]],
            frequency: str) -> tuple[str, str, dict[str, list[str]]]:
    """The name, query and filters as kept, or InvalidSavedSearch naming what is wrong."""
    if frequency not in FREQUENCIES:
        raise InvalidSavedSearch(Message(N_("frequency must be immediate, daily or weekly")))
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidSavedSearch(Message(N_("the search words are longer than %(count)s characters"),
                                         count=MAX_QUERY_CHARS))
    kept: dict[str, list[str]] = {}
    for facet, values in filters.items():
        values = [value.strip() for value in values if value.strip()]
        if facet not in FACETS:
            raise InvalidSavedSearch(Message(N_("%(filter)s is not a filter of the search"), filter=repr(facet)))
        if len(values) > MAX_VALUES or any(len(value) > 100 for value in values):
            raise InvalidSavedSearch(Message(N_("the filter %(filter)s has too many or too long values"),
                                             filter=facet))
        if facet in _VOCABULARY:
            unknown = [v for v in values if v not in vocabularies.get(_VOCABULARY[facet])]
            if unknown:
                raise InvalidSavedSearch(Message(N_("%(value)s is not a known value of the filter %(filter)s"),
                                                 value=repr(unknown[0]), filter=facet))
        if values:
            kept[facet] = list(dict.fromkeys(values))
    name = " ".join(name.split()) or query.strip() or "…"
    if len(name) > MAX_NAME_CHARS:
        raise InvalidSavedSearch(Message(N_("the name is longer than %(count)s characters"), count=MAX_NAME_CHARS))
    return name, query.strip(), kept


def create(instance: Instance, person: policy.Viewer, name: str, query: str, filters: dict[str, list[str]],
           frequency: str) -> tuple[Saved, str]:
    """Save a search for ``person``; it and the token of its private feed (shown now, kept only hashed)."""
    if person.id is None:
        raise SavedSearchNotFound("nobody signed in")
    name, query, filters = checked(name, query, filters, frequency)
    token = tokens.new()
    with instance.db.writing() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)
                               .where(SavedSearch.user_id == person.id)) or 0
        if count >= MAX_PER_PERSON:
            raise InvalidSavedSearch(Message(N_("you already keep %(count)s saved searches; delete one first"),
                                             count=MAX_PER_PERSON))
        now = utcnow()
        row = SavedSearch(user_id=person.id, name=name, query=query, filters=filters, frequency=frequency,
                          feed_token_hash=tokens.digest(token), created_at=now, checked_at=now)
        session.add(row)
        session.flush()
        audit.record(session, person.email, "saved-search.create", str(row.id), frequency=frequency)
        saved = _saved(row)
    log.info("%r saved search %d (%s)", person.email, saved.id, frequency)
    return saved, token


def mine(instance: Instance, person: policy.Viewer) -> list[Saved]:
    """The person's saved searches, newest first."""
    with instance.db.session() as session:
        return [_saved(row) for row in session.scalars(sa.select(SavedSearch).where(
            SavedSearch.user_id == person.id).order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc()))]


def _own(session: sa.orm.Session, person: policy.Viewer, saved_id: int) -> SavedSearch:
    row = session.get(SavedSearch, saved_id)
    if row is None or person.id is None or row.user_id != person.id:
        raise SavedSearchNotFound(str(saved_id))
    return row


def set_frequency(instance: Instance, person: policy.Viewer, saved_id: int, frequency: str) -> None:
    """Change how often the person hears of the search's new matches (from now on)."""
    if frequency not in FREQUENCIES:
        raise InvalidSavedSearch(Message(N_("frequency must be immediate, daily or weekly")))
    with instance.db.writing() as session:
        row = _own(session, person, saved_id)
        if row.frequency != frequency:
            row.frequency = frequency
            row.checked_at = utcnow()  # a digest starts from now: nothing older arrives as news
            audit.record(session, person.email, "saved-search.frequency", str(saved_id), frequency=frequency)


def delete(instance: Instance, person: policy.Viewer, saved_id: int) -> None:
    """Delete the person's saved search: no more alerts, and its feed address stops working."""
    with instance.db.writing() as session:
        session.delete(_own(session, person, saved_id))
        audit.record(session, person.email, "saved-search.delete", str(saved_id))


def new_address(instance: Instance, person: policy.Viewer, saved_id: int) -> str:
    """A new token for the search's private feed; the old address stops working now."""
    token = tokens.new()
    with instance.db.writing() as session:
        _own(session, person, saved_id).feed_token_hash = tokens.digest(token)
        audit.record(session, person.email, "saved-search.new-address", str(saved_id))
    return token


def by_feed_token(instance: Instance, token: str) -> tuple[Saved, policy.Viewer]:
    """The saved search whose feed address carries ``token``, and its owner as they are now.

    SavedSearchNotFound when no search has that token (a replaced address, a deleted search) or its
    owner's account is disabled: the two look the same.
    """
    if not token or len(token) > 100:
        raise SavedSearchNotFound("feed")
    with instance.db.session() as session:
        row = session.scalar(sa.select(SavedSearch).where(SavedSearch.feed_token_hash == tokens.digest(token)))
    person = people.by_id(instance, row.user_id) if row is not None else None
    if row is None or person is None:
        raise SavedSearchNotFound("feed")
    return _saved(row), person
