"""A library's settings: defaults, then the instance's ``config.py``, then ``EXCHANGE_*`` environment variables.

Flask's convention: the instance folder holds a ``config.py`` of upper-case names (``SMTP_HOST =
"mail.example.org"``); an environment variable ``EXCHANGE_<NAME>`` overrides it (``EXCHANGE_SMTP_HOST``;
names that already start with ``EXCHANGE_`` are read as they are). The secret key is created once,
in the instance (``secret_key``), and read from there by every process: sessions and signed links
survive restarts and are the same in every worker.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exchange.library.bounded_rendering import RENDER_SECONDS
from exchange.search.backend import TIME_LIMIT_SECONDS

#: the instance folder when EXCHANGE_INSTANCE does not name one
DEFAULT_INSTANCE = "instance"
CONFIG_FILE = "config.py"
SECRET_KEY_FILE = "secret_key"

#: Settings an administrator may set, with their defaults and how an environment variable's text is read.
SETTINGS: dict[str, tuple[Any, Callable[[str], Any]]] = {
    "DATABASE_URL": (None, str),
    # Links sent to people (invitations, e-mail) use this, never the request's Host (threats AU-7).
    "EXCHANGE_BASE_URL": ("http://127.0.0.1:5000", str),
    # Seconds a search may spend matching before it stops and answers with no results (threats R-5).
    "SEARCH_SECONDS": (TIME_LIMIT_SECONDS, float),
    # The search engine: "whoosh" (an index in the instance folder) or "postgres" (a table of the PostgreSQL
    # database, which every node of a network shares; see README, "Search on PostgreSQL").
    "SEARCH_ENGINE": ("whoosh", str),
    # Seconds of wall clock one preview may take (exchange/library/bounded_rendering.py).
    "PREVIEW_SECONDS": (RENDER_SECONDS, float),
    "SMTP_HOST": (None, str),
    "SMTP_PORT": (None, str),
    "SMTP_TLS": (None, str),
    "SMTP_USER": (None, str),
    "SMTP_PASSWORD": (None, str),
    "SMTP_CA_FILE": (None, str),
    "MAIL_FROM": (None, str),
}

CONFIG_TEMPLATE = '''"""Settings of this Practice Exchange instance (Python; upper-case names only).

Each can also be set by an environment variable, which wins: EXCHANGE_<NAME> (e.g. EXCHANGE_SMTP_HOST).
The secret key is kept in the file secret_key beside this one; do not copy it anywhere else.
"""

# The address people use to reach this library: links in e-mails and citations start with it.
# EXCHANGE_BASE_URL = "https://practices.example.org"

# Another database than the SQLite file in this folder (any SQLAlchemy URL).
# DATABASE_URL = "postgresql+psycopg://exchange@db.example.org/exchange"

# E-mail: a relay that takes STARTTLS and a sign-in (see README, "Accounts and contributions").
# SMTP_HOST = "mail.example.org"
# SMTP_USER = "practice-exchange"
# SMTP_PASSWORD = "…"
# MAIL_FROM = "practice-exchange@example.org"
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
                raise ValueError(f"{environment_name(name)} is {text!r}, which is not a {read.__name__}") from None
    values["SECRET_KEY"] = environ.get("EXCHANGE_SECRET_KEY") or values.get("SECRET_KEY") or secret_key(instance_path)
    return values


def _config_file(path: Path) -> dict[str, Any]:
    """The upper-case names a config.py sets (as Flask's ``from_pyfile`` reads them); none when absent."""
    if not path.is_file():
        return {}
    scope: dict[str, Any] = {"__file__": str(path)}
    exec(compile(path.read_bytes(), str(path), "exec"), scope)  # noqa: S102 - the administrator's own file
    return {name: value for name, value in scope.items() if name.isupper()}


def secret_key(instance_path: Path) -> str:
    """The instance's secret key, created once: written whole to a temporary file, then linked into place
    only if no other process got there first (a link never replaces a file), so every process reads the same."""
    key_file = instance_path / SECRET_KEY_FILE
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-key-", dir=instance_path)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, key_file)
        except FileExistsError:
            pass  # another process created it meanwhile: theirs is the key
        finally:
            os.unlink(temp)
    return key_file.read_text().strip()


def write_config_template(instance_path: Path) -> bool:
    """Put a commented config.py in a new instance (never over an existing one); whether it was written."""
    path = instance_path / CONFIG_FILE
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(CONFIG_TEMPLATE)
    except FileExistsError:
        return False
    return True
