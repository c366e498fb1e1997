"""A library's settings: defaults, then the instance's ``config.py``, then ``EXCHANGE_*`` environment variables.

Flask's convention: the instance folder holds a ``config.py`` of upper-case names (``SMTP_HOST =
"mail.example.org"``); an environment variable ``EXCHANGE_<NAME>`` overrides it (``EXCHANGE_SMTP_HOST``;
names that already start with ``EXCHANGE_`` are read as they are). The secret key is created once,
in the instance (``secret_key``), and read from there by every process: sessions and signed links
survive restarts and are the same in every worker. Several nodes of one library share the database and
the library store (``LIBRARY_STORE``) and each keeps its own instance folder; they share the secret key
by ``EXCHANGE_SECRET_KEY`` or by copying the file, and each has its own node name (``node_name``).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import SettingError
from exchange.library.bounded_rendering import RENDER_SECONDS
from exchange.mail import STANDARD_PORTS
from exchange.search.backend import TIME_LIMIT_SECONDS

#: The search engines an instance may use (SEARCH_ENGINE).
SEARCH_ENGINES = ("whoosh", "postgres")
#: SMTP_TLS's modes
SMTP_TLS_MODES = tuple(STANDARD_PORTS)
#: the instance folder when EXCHANGE_INSTANCE does not name one
DEFAULT_INSTANCE = "instance"
CONFIG_FILE = "config.py"
SECRET_KEY_FILE = "secret_key"
NODE_FILE = "node"
#: a node's name: it names the node's own jobs (``search.catch_up@<node>``) and its place in the index outbox
NODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def boolean(text: str) -> bool:
    """An on/off setting's text read as a bool (1/0, true/false, yes/no, on/off); ValueError for anything else."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


#: Settings an administrator may set, with their defaults and how an environment variable's text is read.
SETTINGS: dict[str, tuple[Any, Callable[[str], Any]]] = {
    "DATABASE_URL": (None, str),
    # The folder that holds library/ and history/ (the practice files), when not the instance folder:
    # a folder that several nodes share (NFS or similar), each node keeping its own instance folder.
    "LIBRARY_STORE": (None, str),
    # This node's name among the nodes of one library (each its own search index); default: a name made
    # once and kept in the instance folder's file ``node``.
    "NODE": (None, str),
    # Links sent to people (invitations, e-mail) use this, never the request's Host (threats AU-7).
    "EXCHANGE_BASE_URL": ("http://127.0.0.1:5000", str),
    # Seconds a search may spend matching before it stops and answers with no results (threats R-5).
    "SEARCH_SECONDS": (TIME_LIMIT_SECONDS, float),
    # The search engine: "whoosh" (an index in the instance folder) or "postgres" (a table of the PostgreSQL
    # database, which every node of a network shares; see README, "Search on PostgreSQL").
    "SEARCH_ENGINE": ("whoosh", str),
    # Seconds of wall clock one preview may take (exchange/library/bounded_rendering.py).
    "PREVIEW_SECONDS": (RENDER_SECONDS, float),
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none, reached directly).
    "TRUSTED_PROXIES": (0, int),
    "SMTP_HOST": (None, str),
    "SMTP_PORT": (None, str),
    "SMTP_TLS": (None, str),
    "SMTP_USER": (None, str),
    "SMTP_PASSWORD": (None, str),
    "SMTP_CA_FILE": (None, str),
    "MAIL_FROM": (None, str),
    # OAI-PMH (/oai): the repositoryIdentifier in record identifiers (default: EXCHANGE_BASE_URL's host
    # name), the name and address Identify gives harvesters (default: MAIL_FROM), and records per page.
    "OAI_REPOSITORY_ID": (None, str),
    "OAI_REPOSITORY_NAME": ("Practice Exchange", str),
    "OAI_ADMIN_EMAIL": (None, str),
    "OAI_PAGE_SIZE": (100, int),
    # Webhooks may go to private, loopback and link-local addresses (a receiver on this network); off by default.
    "WEBHOOKS_ALLOW_PRIVATE": (False, boolean),
    # API calls a minute per personal token, and per address without one (beyond them: 429, web/api.py).
    "API_CALLS_PER_MINUTE": (120, int),
    "API_ANONYMOUS_CALLS_PER_MINUTE": (60, int),
}

CONFIG_TEMPLATE = '''"""Settings of this Practice Exchange instance (Python; upper-case names only).

Each can also be set by an environment variable, which wins: EXCHANGE_<NAME> (e.g. EXCHANGE_SMTP_HOST).
The secret key is kept in the file secret_key beside this one: keep it private (the other nodes of this
library, and only they, get a copy of it; see README, "Running several nodes").
"""

# The address people use to reach this library: links in e-mails and citations start with it.
# EXCHANGE_BASE_URL = "https://practices.example.org"

# Another database than the SQLite file in this folder (any SQLAlchemy URL).
# DATABASE_URL = "postgresql+psycopg://exchange@db.example.org/exchange"

# Behind a reverse proxy (nginx, a load balancer): how many proxies pass the request on, so links and
# redirects use the address and scheme (https) people asked for. 0 (the default): none, headers ignored.
# TRUSTED_PROXIES = 1

# Several nodes: the folder they share for library/ and history/ (see README, "Running several nodes").
# LIBRARY_STORE = "/shared/practice-exchange"

# E-mail: a relay that takes STARTTLS and a sign-in (see README, "Accounts and contributions").
# SMTP_HOST = "mail.example.org"
# SMTP_USER = "practice-exchange"
# SMTP_PASSWORD = "…"
# MAIL_FROM = "practice-exchange@example.org"

# OAI-PMH (/oai): how harvesters name this library and whom they write to (see README, "OAI-PMH").
# OAI_REPOSITORY_NAME = "Jakarta's practice library"
# OAI_ADMIN_EMAIL = "library@example.org"
# Webhooks to private, loopback or link-local addresses (a receiver inside this network): off by default.
# WEBHOOKS_ALLOW_PRIVATE = True
'''


def instance_path_from_environment() -> Path:
    """The instance folder named by ``EXCHANGE_INSTANCE`` (default ``./instance``)."""
    return Path(os.environ.get("EXCHANGE_INSTANCE", DEFAULT_INSTANCE)).resolve()


def environment_name(name: str) -> str:
    """The environment variable that sets ``name``."""
    return name if name.startswith("EXCHANGE_") else f"EXCHANGE_{name}"


def load(instance_path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """Every setting for the instance in ``instance_path``: defaults < its config.py < the environment.

    A value the environment cannot give (say ``EXCHANGE_SEARCH_SECONDS=soon``) raises ValueError naming it.
    """
    values: dict[str, Any] = {name: default for name, (default, _read) in SETTINGS.items()}
    values.update(_config_file(instance_path / CONFIG_FILE))
    for name, (_default, read) in SETTINGS.items():
        text = environ.get(environment_name(name))
        if text not in (None, ""):
            try:
                values[name] = read(text)
            except ValueError:
                raise SettingError(Message(N_("%(name)s is %(value)s, which is not %(kind)s"),
                                           name=environment_name(name), value=repr(text),
                                           kind=_KINDS.get(read.__name__, read.__name__))) from None
    _check(values)  # before anything is written in the instance folder (its secret key)
    values["SECRET_KEY"] = environ.get("EXCHANGE_SECRET_KEY") or values.get("SECRET_KEY") or secret_key(instance_path)
    return values


#: how a setting's value must be written, by how it is read
_KINDS = {"int": N_("a whole number"), "float": N_("a number")}


def _check(values: Mapping[str, Any]) -> None:
    """SettingError naming the first setting whose value cannot be used (a library that starts with a setting
    it ignores would fail later, and less clearly: the first e-mail, the first node's job)."""
    if values["NODE"] and not NODE_PATTERN.match(values["NODE"]):
        raise SettingError(Message(N_("NODE is %(value)s: a node's name is 1 to 40 letters, digits, '.', '_' or '-', "
                                      "starting with a letter or digit"), value=repr(values["NODE"])))
    if values["LIBRARY_STORE"] and not Path(values["LIBRARY_STORE"]).is_absolute():
        raise SettingError(Message(N_("LIBRARY_STORE is %(value)s, which is not an absolute path"),
                                   value=repr(values["LIBRARY_STORE"])))
    check_search_engine(values["SEARCH_ENGINE"], values["DATABASE_URL"])
    port = values["SMTP_PORT"]
    if port not in (None, "") and not str(port).isdigit():
        raise SettingError(Message(N_("SMTP_PORT is %(value)s; it must be a port number"), value=repr(port)))
    tls = values["SMTP_TLS"]
    if tls not in (None, "") and str(tls).strip().lower() not in SMTP_TLS_MODES:
        raise SettingError(Message(N_("SMTP_TLS is %(value)s; it must be one of %(choices)s"), value=repr(tls),
                                   choices=", ".join(SMTP_TLS_MODES)))


def _config_file(path: Path) -> dict[str, Any]:
    """The upper-case names a config.py sets (as Flask's ``from_pyfile`` reads them); none when absent."""
    if not path.is_file():
        return {}
    scope: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_bytes(), str(path), "exec"), scope)  # noqa: S102 - the administrator's own file
    return {name: value for name, value in scope.items() if name.isupper()}


def secret_key(instance_path: Path) -> str:
    """The instance's secret key, created once (``SECRET_KEY_FILE``), the same for every process."""
    return _made_once(instance_path / SECRET_KEY_FILE, lambda: secrets.token_hex(32))


def node_name(instance_path: Path) -> str:
    """The name of the node this instance folder is, made once (``NODE_FILE``): the host's name and a few
    random characters, so two nodes never share one unless a folder is copied with its file."""
    def new_name() -> str:
        host = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname().split(".")[0]).strip("-")[:28] or "node"
        return f"{host}-{secrets.token_hex(4)}"

    return _made_once(instance_path / NODE_FILE, new_name)


def _made_once(path: Path, make: Callable[[], str]) -> str:
    """The text of ``path``, made by ``make`` if absent: written whole to a temporary file, then linked into
    place only if no other process got there first (a link never replaces a file), so every process reads
    the same."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-key-", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        except FileExistsError:
            pass  # another process created it meanwhile: theirs is the one
        finally:
            os.unlink(temp)
    return path.read_text().strip()


def write_config_template(instance_path: Path) -> bool:
    """Put a commented config.py in a new instance (never over an existing one); whether it was written."""
    path = instance_path / CONFIG_FILE
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(CONFIG_TEMPLATE)
    except FileExistsError:
        return False
    return True


def check_search_engine(engine: str, database_url: str | None) -> None:
    """SettingError unless ``engine`` is one of ``SEARCH_ENGINES`` and can search the database at
    ``database_url`` (None: the instance's SQLite file): the postgres engine needs PostgreSQL."""
    if engine not in SEARCH_ENGINES:
        raise SettingError(Message(N_("SEARCH_ENGINE is %(value)s; it must be one of %(choices)s"),
                                   value=repr(engine), choices=", ".join(SEARCH_ENGINES)))
    if engine == "postgres" and not str(database_url or "sqlite:").startswith("postgresql"):
        raise SettingError(Message(N_("SEARCH_ENGINE is 'postgres', which needs a PostgreSQL DATABASE_URL; this "
                                      "instance's database is SQLite (use 'whoosh' there)")))
