"""One running library's state: its folder, database and practice files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exchange import settings
from exchange.db import Database
from exchange.library.storage import LibraryStore
from exchange.mail import MailSettings
from exchange.search import indexing
from exchange.search.backend import TIME_LIMIT_SECONDS
from exchange.search.backend import SearchBackend
from exchange.search.postgres.backend import PostgresBackend
from exchange.search.whoosh.backend import WhooshBackend

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass
class Instance:
    """Everything a service needs to read or write one library instance."""

    path: Path
    db: Database
    store: LibraryStore
    search: SearchBackend
    mail: MailSettings | None = None
    #: how long a search may spend matching before it stops and answers with no results (threats R-5)
    search_seconds: float = TIME_LIMIT_SECONDS
    #: the library's public address (EXCHANGE_BASE_URL), for links in what leaves it: e-mail, exports
    base_url: str = DEFAULT_BASE_URL
    #: whether webhooks may go to private, loopback and link-local addresses (WEBHOOKS_ALLOW_PRIVATE)
    webhooks_allow_private: bool = False
    #: this node's name (``settings.node_name``): whose search index ``search`` is, among the library's nodes
    node: str = "node"

    def index_published(self) -> None:
        """Make what was just published searchable now (publishing calls this after its commit); if the
        index cannot take it, the outbox keeps it for the job runner. Never fails a publish."""
        indexing.index_now(self)

    @classmethod
    def open(cls, path: Path, database_url: str | None = None, mail: MailSettings | None = None,
             search_seconds: float = TIME_LIMIT_SECONDS, base_url: str = DEFAULT_BASE_URL,
             library_store: Path | str | None = None, node: str | None = None,
             search_engine: str = "whoosh") -> Instance:
        """The instance in ``path`` (its database defaults to ``exchange.db`` inside it, its practice files to
        ``library/`` and ``history/`` inside it unless ``library_store`` names the folder that holds them),
        searching with ``search_engine`` (``settings.check_search_engine``: SettingError, a ValueError, names the
        setting when it is no engine or the postgres engine on SQLite)."""
        settings.check_search_engine(search_engine, database_url)
        path = Path(path).resolve()
        path.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{path / 'exchange.db'}"
        db = Database(url)
        search: SearchBackend = PostgresBackend(db) if search_engine == "postgres" else WhooshBackend(path / "index")
        store = LibraryStore(Path(library_store).resolve() if library_store else path)
        return cls(path=path, db=db, store=store, search=search, mail=mail, search_seconds=search_seconds,
                   base_url=base_url, node=node or settings.node_name(path))
