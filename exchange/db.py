"""The database connection: the one module that sets up SQLAlchemy engines and sessions.

SQLite (the default) runs in WAL mode with ``synchronous=FULL`` and a busy timeout; writes take the
write lock up front with ``BEGIN IMMEDIATE`` so that two writers queue instead of failing midway.
PostgreSQL keeps the same promise with a transaction-scoped advisory lock that every writing
transaction takes first: writers queue, readers never wait, and the lock ends with the transaction.
The one exception is ``counting``: counts whose last moments a crash may lose (the API's calls a
minute) are committed without waiting for the disk.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

BUSY_TIMEOUT_MS = 10_000
#: The key of the PostgreSQL advisory lock that writing transactions queue on (any fixed 64-bit number).
WRITE_LOCK = 0x50582D7772697465  # "PX-write"
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, synchronous: str = "FULL") -> sa.Engine:
    """An engine for ``url``; SQLite connections get our pragmas (``synchronous`` among them) and explicit
    transactions."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows the UPDATE or DELETE that gave ``result`` matched."""
    # Session.execute is typed to return a Result for any statement; for DML it is a CursorResult.
    return cast(sa.CursorResult[Any], result).rowcount


class Database:
    """Engine and sessions for one instance's database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite's connections for ``counting`` and their sessions (made when first needed)
        self._counting_engine: sa.Engine | None = None
        self._counting_sessions: sessionmaker[Session] | None = None

    def session(self) -> Session:
        """A new session for reading; close it when done."""
        return self._sessions()

    def writing(self) -> contextlib.AbstractContextManager[Session]:
        """A session whose transaction holds the write lock from its start, committed on success."""
        return self._transaction(behind_every_writer=True)

    def claiming(self) -> contextlib.AbstractContextManager[Session]:
        """A short writing session that locks rows rather than queueing behind every writer, committed on success.

        For the job queue (``exchange/jobs``): on PostgreSQL its statements lock the rows they touch
        (``FOR UPDATE SKIP LOCKED`` where they choose among several), so job runners never wait for a
        publish, nor a publish for them. SQLite has a single write lock, taken up front as in ``writing``.
        """
        return self._transaction(behind_every_writer=False)

    def counting(self) -> contextlib.AbstractContextManager[Session]:
        """A short writing session, as ``claiming``, for counts that a crash may lose a few seconds of (the
        API's calls a minute): committed on success without waiting for the disk.

        Such a count is written on every API call, and an fsync per call would cost more than the count is
        worth (on SQLite a commit with ``synchronous=FULL`` took 1.1 ms against 0.26 ms). SQLite commits it
        with ``synchronous=NORMAL`` (its own connections: the WAL stays consistent, and the commit is on disk
        at the next checkpoint or the next durable commit), PostgreSQL with ``synchronous_commit = off``.
        """
        if self.engine.dialect.name != "sqlite":
            return self._transaction(behind_every_writer=False, durable=False)
        if self._counting_sessions is None:
            self._counting_engine = make_engine(self.url, synchronous="NORMAL")
            self._counting_sessions = sessionmaker(self._counting_engine, expire_on_commit=False)
        return self._transaction(behind_every_writer=False, sessions=self._counting_sessions)

    @contextlib.contextmanager
    def _transaction(self, behind_every_writer: bool, durable: bool = True,
                     sessions: sessionmaker[Session] | None = None) -> Iterator[Session]:
        """A session (of ``sessions``, default the engine's) whose transaction takes SQLite's write lock from
        its start and, when ``behind_every_writer``, queues on PostgreSQL behind every other writer; committed
        on success (on PostgreSQL without waiting for the disk unless ``durable``)."""
        with (sessions or self._sessions)() as session:
            connection = session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            if connection.dialect.name == "postgresql" and not durable:
                connection.execute(sa.text("SET LOCAL synchronous_commit = off"))
            if behind_every_writer and connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITE_LOCK)))
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Bring the schema up to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    def leave_inherited(self) -> None:
        """In a freshly forked process: leave the parent's pooled connections (of every engine) to it, so that
        this process opens its own."""
        self.engine.dispose(close=False)
        if self._counting_engine is not None:
            self._counting_engine.dispose(close=False)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._counting_engine is not None:
            self._counting_engine.dispose()
