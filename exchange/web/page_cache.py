"""Reading pages for the public, answered from a cache keyed by the library's generation, with ETags and 304s.

A page differs by viewer (restricted practices, the signed-in frame), so only the **public** request is
cached: no session cookie and no remember-me cookie, hence an anonymous reader with nothing pending in a
session. Everyone else gets the page rendered for them, ``private``. A public page is stored under
(address with its host, the library's generation, today's date, the Accept-Language header and any other cookie, such
as a language switcher's): any publish, restore, change of visibility, new city
or index catch-up makes a new generation (``library/generation.py``), so a page is never served after what
it shows has changed, and each worker process decides that from the database, not from its own memory.
A practice's own pages are keyed by that practice's generation instead (its versions and its
translations'), so a publish elsewhere does not make every practice page be rendered again.
Entries also expire after ``MAX_AGE_SECONDS`` (what the generation cannot see: a rebuilt index).

The ETag hashes that key with the app's secret key and build, so it is the same in every worker and
cannot be computed outside: a conditional request that matches gets 304 before anything is rendered. A
response that touched the session (a form's CSRF token, say) is not stored. Compressed forms of a stored
page are kept with it (``compression.py``).

Each worker keeps its pages in memory, and shares them with the others (and with itself after a restart)
as files in ``<instance>/cache/pages/`` named by that ETag (the page's note, a line, then the page): a
page one worker rendered, another serves without rendering it again (compressing it as it needs). A
file is written beside and renamed (readers see all or nothing), never synced (derived: deleting the
folder only costs rendering again), served while younger than ``MAX_AGE_SECONDS`` as the memory's
pages are, and swept once older.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from flask import session

from exchange.library import generation
from exchange.web import compression
from exchange.web.auth import DEVICE_COOKIE
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

#: how long a stored page may be served at most, even when the library's generation is unchanged
MAX_AGE_SECONDS = 300
#: the stored pages of one worker process, with their compressed forms, at most
DEFAULT_MAX_BYTES = 64 * 2**20
#: public pages: anyone may keep them, but must ask again (a 304 costs little) before showing them
PUBLIC = "public, no-cache"
#: a page for someone with a session: only their browser keeps it
PRIVATE = "private, no-cache"
#: what in a request may make another page of the same address
VARY = ("Cookie", "Accept-Encoding", "Accept-Language")
#: where the instance's processes share the pages they rendered, under its folder
FOLDER = ("cache", "pages")
#: pages written by this process between two sweeps of the shared folder's expired pages
SWEEP_EVERY = 500


@dataclass
class Page:
    """A stored page and its compressed forms."""

    body: bytes
    etag: str
    last_modified: datetime.datetime
    stored_at: float
    encoded: dict[str, bytes] = field(default_factory=dict)
    #: what the view said of the page as it rendered it (``note``), given back whenever it is served
    note: str | None = None

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(b) for b in self.encoded.values())


class PageCache:
    """Least recently used pages, at most ``max_bytes`` of them, shared by a process's threads."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple[str, ...], Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if time.monotonic() - page.stored_at > MAX_AGE_SECONDS:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, ...], page: Page) -> None:
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes and self._pages:
                self._drop(next(iter(self._pages)))

    def grew(self, page: Page, added: int) -> None:
        """Count ``added`` bytes of a compressed form stored with ``page``."""
        with self._lock:
            self._bytes += added

    def _drop(self, key: tuple[str, ...]) -> None:
        self._bytes -= self._pages.pop(key).size


def init_app(app: Flask) -> None:
    """Give the app its page cache and the build its ETags are made from; keep any response that sets a
    cookie out of shared caches."""
    app.extensions["exchange.pages"] = PageCache(app.config.get("PAGE_CACHE_BYTES", DEFAULT_MAX_BYTES))
    app.extensions["exchange.build"] = _build(Path(app.root_path), Path(app.root_path, app.template_folder or ""))
    # First in the list, so run last: after any other function that may set a cookie.
    app.after_request_funcs.setdefault(None, []).insert(0, _never_public_with_a_cookie)


def page(render: Callable[[], str], practice_id: str | None = None, mimetype: str = "text/html") -> Response:
    """The response for this request's page, ``render()`` being what makes it: from the cache for the public.

    A practice's page (``practice_id``) is kept until that practice or its translations change; any
    other page (a feed too, of ``mimetype``) until anything in the library does."""
    if not _public():
        response = Response(render(), mimetype=mimetype)
        response.headers["Cache-Control"] = PRIVATE  # a signed-in person's pages get no-store after the request
        return response
    now = generation.of_practice(library.instance, practice_id) if practice_id else generation.current(library.instance)
    # The address it was asked at too (host and scheme): pages and API answers name their own links from
    # it, and one asked with a forged Host must never be served to anyone else.
    key = (request.host_url, request.full_path, now.token, datetime.date.today().isoformat(), *_reader_choices())
    etag = _etag(key)
    encoding = compression.chosen()
    if _matches(etag):
        return _headers(Response(status=304), etag, encoding, now.last_modified)
    cache: PageCache = current_app.extensions["exchange.pages"]
    shared = _shared(etag)
    stored = cache.get(key)
    if stored is None:
        stored = _read(shared, etag, now.last_modified)
        if stored is not None:  # another process rendered it
            cache.put(key, stored)
    if stored is None:
        html = render()
        if g.get("page_not_kept"):  # a page made in a degraded state (the index being rebuilt, say)
            return _headers(Response(html, mimetype=mimetype), etag, None, now.last_modified, keep=False)
        if session.modified:  # the page put something in a new session: it is this reader's alone
            response = Response(html, mimetype=mimetype)
            response.headers["Cache-Control"] = PRIVATE
            return response
        stored = Page(html.encode("utf-8"), etag, now.last_modified, time.monotonic(), note=g.get("page_note"))
        _write(shared, (stored.note or "").encode("utf-8") + b"\n" + stored.body)  # its note, then the page
        cache.put(key, stored)
    else:
        g.page_note = stored.note
    body = stored.body
    if encoding is not None:
        body = stored.encoded.get(encoding) or b""
        if not body:
            body = stored.encoded.setdefault(encoding, compression.encode(stored.body, encoding))
            cache.grew(stored, len(body))
    response = Response(body, mimetype=mimetype)
    if encoding is not None:
        response.headers["Content-Encoding"] = encoding
    return _headers(response, etag, encoding, stored.last_modified)


def _shared(etag: str) -> Path:
    """Where the page tagged ``etag`` is shared with the instance's other processes."""
    return library.instance.path.joinpath(*FOLDER, etag[:2], etag)


def _read(path: Path, etag: str, last_modified: datetime.datetime) -> Page | None:
    """The page another process (or this one before a restart) shared at ``path``, while young enough."""
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:  # none yet
        return None
    try:
        shared = path.read_bytes() if 0 <= age < MAX_AGE_SECONDS else b""
    except OSError:  # swept meanwhile
        return None
    note, _, body = shared.partition(b"\n")
    if not body:
        return None
    return Page(body, etag, last_modified, time.monotonic() - age, note=note.decode("utf-8") or None)


#: counts the pages this process wrote, to sweep the shared folder every ``SWEEP_EVERY``
_writes = itertools.count(1)


def _write(path: Path, body: bytes) -> None:
    """Share ``body`` at ``path``: written beside, then renamed. A full disk only leaves it unshared."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(body)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        return
    if next(_writes) % SWEEP_EVERY == 0:
        sweep(path.parent.parent)


def sweep(folder: Path) -> None:
    """Remove the shared pages (and any torn temporary files) older than ``MAX_AGE_SECONDS``."""
    oldest = time.time() - MAX_AGE_SECONDS
    for path in folder.glob("*/*"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
        except OSError:  # swept by another process meanwhile
            continue


def _reader_choices() -> tuple[str, ...]:
    """What else in the request may choose how a public page reads: the languages the browser asks for,
    and any cookie but the sign-in device's (only signing in reads it; each browser has its own), such as a
    language switcher's."""
    cookies = sorted(f"{name}={value}" for name, value in request.cookies.items() if name != DEVICE_COOKIE)
    return (request.headers.get("Accept-Language", ""), *cookies)


def note(text: str) -> None:
    """Keep ``text`` (a line) with the page being rendered: whenever the stored page is served, ``noted()``
    gives it back (what a search page found, say, for a count made as it is sent)."""
    g.page_note = " ".join(text.splitlines())  # the shared file holds it on the page's first line


def noted() -> str | None:
    """What the view noted of this request's page, as it rendered it now or earlier (``note``)."""
    found: str | None = g.get("page_note")
    return found


def not_to_keep() -> None:
    """Say that the page being rendered must not be stored (it shows a passing state, such as a search
    answered from the catalogue while the index is rebuilt, which no publish would end)."""
    g.page_not_kept = True


def _public() -> bool:
    """Whether this request is the public's: nobody signed in, and no session of any kind."""
    cookies = request.cookies
    if current_app.config["SESSION_COOKIE_NAME"] in cookies:
        return False
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
        return False
    return not viewer().is_authenticated


def _etag(key: tuple[str, ...]) -> str:
    secret = str(current_app.config["SECRET_KEY"])
    material = "\n".join((secret, current_app.extensions["exchange.build"], *key))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _matches(etag: str) -> bool:
    """Whether the client's If-None-Match names this page, in any of its encodings."""
    return any(tag.split("-")[0] == etag for tag in request.if_none_match.as_set())


def _headers(response: Response, etag: str, encoding: str | None, last_modified: datetime.datetime,
             keep: bool = True) -> Response:
    if not keep:  # neither stored here nor to be revalidated with a tag that a later, whole page would share
        response.headers["Cache-Control"] = "public, no-cache, no-store"
        response.vary.update(VARY)
        return response
    response.set_etag(f"{etag}-{encoding}" if encoding else etag)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = PUBLIC
    # the same address is another page with a session, in another language or encoding: a shared cache
    # must not give this one for it
    response.vary.update(VARY)
    return response


def _never_public_with_a_cookie(response: Response) -> Response:
    """A response that sets a cookie is that reader's alone: never public, never revalidated as the public's."""
    if "Set-Cookie" in response.headers and "public" in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = PRIVATE
        del response.headers["ETag"]
    return response


def _build(*folders: Path) -> str:
    """What the code that renders pages is: a page stored by other code gets another ETag."""
    newest = max((p.stat().st_mtime_ns for folder in folders for p in folder.rglob("*")
                  if p.suffix in (".py", ".html", ".css", ".yaml")), default=0)
    return str(newest)
