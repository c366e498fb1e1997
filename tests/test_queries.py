"""No page asks the database once per thing it shows: the number of SQL statements a page runs does not grow
with the number of practices, cities, submissions or pack entries on it (no N+1 queries).

Each page is requested twice over the real engine, once with a few things on it and once with several
times as many, and the statements the engine executed are counted with a SQLAlchemy event listener
(on SQLite and on PostgreSQL, as every database test runs). The count must not grow: a page that
looked up each city's label, or each pack entry's practice, with its own query would run more.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from exchange.accounts import people
from exchange.library import publishing
from exchange.packs import packs
from exchange.review import submissions
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import sign_in

CITIES = [("jakarta", "ID"), ("semarang", "ID"), ("padang", "ID"), ("yogyakarta", "ID"), ("tokyo", "JP"),
          ("kobe", "JP"), ("sendai", "JP"), ("melbourne", "AU"), ("brisbane", "AU"), ("manila", "PH")]


@contextlib.contextmanager
def counted(instance) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL statements run on the instance's engine while the block runs (transaction control aside)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(instance.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(instance.db.engine, "before_cursor_execute", count)


def publish_many(instance, make_practice, start: int, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` practices numbered from ``start``, spread over the partner cities, some in Indonesian."""
    for n in range(start, start + count):
        city, country = CITIES[n % len(CITIES)]
        language = "id" if n % 3 == 0 else "en"
        publishing.publish(instance, make_practice(title=f"Flood warning drill {n}", city=city, country=country,
                                                   language=language), f"flood-drill-{n}", "t")


@pytest.fixture
def reviewer(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "rev@bpbd.example", "Rina", ["contributor", "reviewer"], [c for c, _ in CITIES],
                       "t", PASSWORD)
    return people.load(instance, "1:1")


def queries_for(app, instance, path: str, email: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements one GET of ``path`` runs (signed in as ``email``). The library has just changed, so
    a public page is rendered, not taken from the page cache."""
    client = app.test_client()
    if email:
        sign_in(client, email)
    with counted(instance) as statements:
        response = client.get(HTTPS + path)
    assert response.status_code == 200, path
    return statements


def grow(instance, reviewer, make_practice, pack: int, start: int, count: int) -> None:  # type: ignore[no-untyped-def]
    """Add ``count`` practices, as many submissions waiting for review and as many pack entries."""
    publish_many(instance, make_practice, start, count)
    for n in range(start, start + count):
        city, country = CITIES[n % len(CITIES)]
        submission = submissions.save(instance, reviewer, city, f"proposal-{n}",
                                      make_practice(title=f"Proposal {n}", city=city, country=country).decode(),
                                      None)
        submissions.submit(instance, reviewer, submission.id)
        packs.add_practice(instance, reviewer, pack, f"{city}/flood-drill-{n}")


PAGES = {
    "home": ("/", None),
    "search page": ("/practices?q=flood", None),
    "search page, browsing": ("/practices", None),
    "city page": ("/cities/jakarta", None),
    "practice page": ("/practices/jakarta/flood-drill-0", None),
    "practice page, signed in": ("/practices/jakarta/flood-drill-0", "rev@bpbd.example"),
    "search page, signed in": ("/practices?q=flood", "rev@bpbd.example"),
    "review queue": ("/dashboard", "rev@bpbd.example"),
    "pack": ("/packs/{pack}", "rev@bpbd.example"),
    "packs": ("/packs", "rev@bpbd.example"),
}


def test_no_page_runs_a_query_per_thing_it_shows(app, instance, reviewer, make_practice):
    pack = packs.create(instance, reviewer, "Flood workshop", "en")
    grow(instance, reviewer, make_practice, pack, 0, 3)
    few = {name: queries_for(app, instance, path.format(pack=pack), email) for name, (path, email) in PAGES.items()}
    grow(instance, reviewer, make_practice, pack, 3, 12)
    many = {name: queries_for(app, instance, path.format(pack=pack), email) for name, (path, email) in PAGES.items()}
    grown = {name: (len(few[name]), len(many[name])) for name in PAGES if len(many[name]) > len(few[name])}
    assert not grown, grown
