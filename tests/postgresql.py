"""A throwaway PostgreSQL 15 server for one test session, and a fresh database for each test.

The server is Debian's ``postgresql-15`` (``scripts/system-packages --for-tests`` installs it):
``initdb`` into a temporary folder, then ``pg_ctl start`` on a free port of 127.0.0.1 with its Unix
socket in that folder, durability switched off (a test server holds nothing worth keeping). As root
it runs as an unprivileged user, because PostgreSQL refuses to run as root. ``stop`` ends it and
removes the folder.

Each test gets its own database, copied from a template that already holds the migrated schema:
``CREATE DATABASE … TEMPLATE`` copies files, which is much faster than running the migrations again
for every test. The template itself is built once per session by ``Database.migrate``, so the
migrations do run on PostgreSQL from an empty database.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from exchange.db import Database

#: Where Debian's postgresql-15 puts its programs (not on PATH); EXCHANGE_PG_BIN points elsewhere.
BIN = Path(os.environ.get("EXCHANGE_PG_BIN") or "/usr/lib/postgresql/15/bin")
TEMPLATE = "px_template"
SUPERUSER = "postgres"
# Speed over durability: the server and its data are deleted at the end of the session.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "200",
}


class PostgreSQLUnavailable(Exception):
    """The test server could not be started; the message says why and what to install."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server: None (ourselves) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):  # Debian's package creates postgres; nobody exists everywhere
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgreSQLUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PostgreSQLServer:
    """A running throwaway server: ``url(name)`` addresses a database on it."""

    def __init__(self, folder: Path, port: int, user: str | None) -> None:
        self.folder = folder
        self.port = port
        self.user = user
        self._names = itertools.count(1)

    @classmethod
    def start(cls) -> PostgreSQLServer:
        """Initialise a cluster in a new temporary folder and start a server on it (PostgreSQLUnavailable if not)."""
        if not (BIN / "initdb").is_file():
            raise PostgreSQLUnavailable(
                f"{BIN / 'initdb'} not found: install Debian's postgresql-15 "
                "(scripts/system-packages --for-tests does) or set EXCHANGE_PG_BIN")
        try:
            import psycopg  # noqa: F401 - only to say clearly what is missing
        except ImportError as missing:
            raise PostgreSQLUnavailable(f"{missing}: pip install -e '.[postgres]'") from None
        user = _server_user()
        # As another user the server must reach its folder: /tmp is open to all, a private TMPDIR may not be.
        folder = Path(tempfile.mkdtemp(prefix="px-postgresql-", dir="/tmp" if user else None))
        server = cls(folder, 0, user)
        try:
            if user:
                account = pwd.getpwnam(user)
                os.chown(folder, account.pw_uid, account.pw_gid)
            server._run(BIN / "initdb", "-D", folder / "data", "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync", "--no-instructions")
            server._listen()
            server._create_template()
        except BaseException:
            server.stop()
            raise
        return server

    def _listen(self) -> None:
        """Start the server on a free port, trying another if somebody took the port in between."""
        for _attempt in range(3):
            self.port = _free_port()
            options = " ".join([f"-p {self.port}", f"-k {self.folder}",
                                *(f"-c {name}={value}" for name, value in SETTINGS.items())])
            try:
                self._run(BIN / "pg_ctl", "-D", self.folder / "data", "-l", self.folder / "server.log", "-w",
                          "-o", options, "start")
                return
            except PostgreSQLUnavailable:
                if "could not bind" not in self.log():
                    raise
        raise PostgreSQLUnavailable(f"no free port for the server:\n{self.log()}")

    def _run(self, *command: str | Path) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        result = subprocess.run([*prefix, *map(str, command)], capture_output=True, text=True, cwd=self.folder)
        if result.returncode != 0:
            raise PostgreSQLUnavailable(
                f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{self.log()}")

    def log(self) -> str:
        """The end of the server's log (what it said when it failed)."""
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.is_file() else ""

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]  # our own names, not input

    def _create_template(self) -> None:
        self._execute(f"CREATE DATABASE {TEMPLATE}")
        template = Database(self.url(TEMPLATE))
        try:
            template.migrate()
        finally:
            template.dispose()

    def create_database(self, like: str | None = None) -> str:
        """The URL of a new database: a copy of the database at URL ``like`` (which nobody may be connected
        to), by default of the migrated, empty schema."""
        name = f"px_test_{next(self._names)}"
        template = like.rsplit("/", 1)[1] if like else TEMPLATE
        # FILE_COPY copies the template's files (its checkpoints cost nothing with fsync off): faster here than
        # PostgreSQL 15's default of writing every block of the copy to the WAL.
        self._execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database at ``url``, ending any connection a test left open."""
        self._execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once (nothing in it is kept) and delete its folder."""
        if (self.folder / "data" / "postmaster.pid").exists():
            with contextlib.suppress(PostgreSQLUnavailable):
                self._run(BIN / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
