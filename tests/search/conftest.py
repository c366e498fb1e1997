"""The search suite runs against every engine behind ``SearchBackend``.

``engine`` is parametrised over ``ENGINES`` (``-k catalogue`` or ``-k whoosh`` picks one): every app a
search test gets (``app``, ``library_app``, and this folder's own corpora through ``searching_with``)
answers through that engine. A test that needs what only some engines offer says so with
``@pytest.mark.needs(capability, …)`` (from ``exchange.search.backend``), and is skipped for an engine
whose ``capabilities`` lack it; a test of the Whoosh engine's own workings is marked
``@pytest.mark.engine("whoosh")``. A new engine joins ``ENGINES`` and passes the suite.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterator

import pytest
from flask import Flask

from exchange.instance import Instance
from exchange.search import indexing
from exchange.search.backend import SearchBackend
from exchange.search.catalogue import CatalogueBackend
from exchange.search.postgres.backend import PostgresBackend
from exchange.search.whoosh.backend import WhooshBackend


def built_in_database(instance: Instance) -> PostgresBackend:
    """The PostgreSQL engine of ``instance``'s database, built from its library (as ``exchange reindex`` does)."""
    if instance.db.engine.dialect.name != "postgresql":
        pytest.skip("the postgres engine runs only on PostgreSQL: this is the SQLite run")
    engine, own = PostgresBackend(instance.db), instance.search
    instance.search = engine
    try:
        indexing.rebuild(instance)
    finally:
        instance.search = own
    return engine


#: Each engine: its class, and how it is made for an instance (None: the one ``Instance.open`` makes,
#: Whoosh). tests/search/test_engines.py checks each class against the SearchBackend protocol.
ENGINES: dict[str, tuple[type[SearchBackend], Callable[[Instance], SearchBackend] | None]] = {
    "whoosh": (WhooshBackend, None),
    "catalogue": (CatalogueBackend, lambda instance: CatalogueBackend(instance.db)),
    # Only on the PostgreSQL test server: its index is a table of the instance's database.
    "postgres": (PostgresBackend, built_in_database),
}
#: Engines that need the instance's database to be PostgreSQL (skipped, saying so, on SQLite).
POSTGRESQL_ONLY = frozenset({"postgres"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): skipped for engines that lack one of these capabilities")
    config.addinivalue_line("markers", "engine(name): a test of one engine's own workings, skipped for the others")


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """The name of the engine this module's searches go through."""
    return request.param


@pytest.fixture(autouse=True)
def _engine_offers_what_the_test_needs(request: pytest.FixtureRequest) -> None:
    """Skip a test for an engine that lacks what it needs. Tests that search no app (the query parser,
    analysis) do not ask for ``engine`` and run once."""
    if "engine" not in request.fixturenames:
        return
    engine: str = request.getfixturevalue("engine")
    engine_class, _make = ENGINES[engine]
    only = request.node.get_closest_marker("engine")
    if only is not None and engine not in only.args:
        pytest.skip(f"tests the {'/'.join(only.args)} engine's own workings")
    if engine in POSTGRESQL_ONLY and "database" in request.fixturenames \
            and request.getfixturevalue("database").server is None:
        pytest.skip(f"the {engine} engine runs only on PostgreSQL: this is the SQLite run")
    needs = request.node.get_closest_marker("needs")
    missing = sorted(set(needs.args if needs else ()) - engine_class.capabilities)
    if missing:
        pytest.skip(f"the {engine} engine does not offer {', '.join(missing)}")


@contextlib.contextmanager
def searching_with(app: Flask, engine: str) -> Iterator[Flask]:
    """``app``, answering searches through ``engine`` until the block ends."""
    instance = app.extensions["exchange"]
    _engine_class, make = ENGINES[engine]
    own = instance.search
    if make is not None:
        instance.search = make(instance)
    try:
        yield app
    finally:
        instance.search = own


@pytest.fixture
def app(app: Flask, engine: str) -> Iterator[Flask]:
    with searching_with(app, engine):
        yield app


@pytest.fixture(scope="module")
def library_app(library_app: Flask, engine: str) -> Iterator[Flask]:
    with searching_with(library_app, engine):
        yield library_app
