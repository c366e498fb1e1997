"""Links to other sites found in practices, checked by a background job and kept with their outcome.

Only the job runner fetches anything (never a page view): an administrator asks for a check, and the
job asks each site for at most ``MAX_LINKS`` addresses per run (least recently checked first), one
HEAD request each (GET when HEAD is refused), with ``TIMEOUT_SECONDS`` to connect and answer; a
redirect counts as working, as does any answer below 400. Contributors write these addresses, so
the job refuses any host that resolves to an address that is not public (loopback, private,
link-local: threats of server-side request forgery) and connects to the address it checked, so a
second DNS answer cannot send it elsewhere. Nothing of the answer is kept but its status.
"""

from __future__ import annotations

import datetime
import hashlib
import html
import http.client
import ipaddress
import logging
import re
import socket
import ssl
import urllib.parse
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange.jobs import queue
from exchange.library import reading
from exchange.models import LinkCheck
from exchange.models import PracticeRecord
from exchange.models import utcnow

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

KIND = "links.check"
#: addresses asked for in one run, at most
MAX_LINKS = 200
TIMEOUT_SECONDS = 5.0
#: why a link to another site does not work (besides an HTTP status of 400 or more)
NO_SUCH_HOST = "no-such-host"
REFUSED_ADDRESS = "refused-address"
NO_ANSWER = "no-answer"

_HREF = re.compile(r'<a\b[^>]*?\bhref="(https?://[^"]+)"')


def digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def external_links(instance: Instance, site: str) -> set[str]:
    """Every address of another site (http or https, not on ``site``, this library's host[:port]) linked
    from a current version."""
    with instance.db.session() as session:
        keys = [(practice_id, version) for practice_id, version in
                session.execute(sa.select(PracticeRecord.id, PracticeRecord.version))]
        stored = reading.stored_renderings(session, keys)
    found = set()
    for rendering in stored.values():
        for raw in _HREF.findall(rendering.html):
            url = html.unescape(raw)
            try:
                parts = urllib.parse.urlsplit(url)
            except ValueError:
                continue
            if parts.hostname and parts.netloc.lower() != site.lower():
                found.add(url)
    return found


def request_check(instance: Instance, site: str) -> bool:
    """Queue a check of the links to other sites (once: asking while one is queued does nothing); whether
    a job was queued."""
    with instance.db.writing() as session:
        return queue.enqueue(session, KIND, {"site": site}, key=KIND) is not None


def checks(instance: Instance) -> dict[str, LinkCheck]:
    """The last check of every address checked, by address."""
    with instance.db.session() as session:
        return {row.url: row for row in session.scalars(sa.select(LinkCheck))}


def check(instance: Instance, site: str, allow_private: bool = False, limit: int = MAX_LINKS,
          timeout: float = TIMEOUT_SECONDS) -> int:
    """Check up to ``limit`` links to other sites, those never or least recently checked first, and keep
    each outcome; how many were checked. ``allow_private`` is for tests on a loopback server only."""
    urls = external_links(instance, site)
    last = {row.digest: row.checked_at for row in checks(instance).values()}
    oldest = datetime.datetime.min
    chosen = sorted(urls, key=lambda url: (last.get(digest(url), oldest), url))[:limit]
    for url in chosen:
        status, problem = probe(url, allow_private, timeout)
        with instance.db.claiming() as session:
            session.merge(LinkCheck(digest=digest(url), url=url, status=status, problem=problem, checked_at=utcnow()))
        log.info("link %r: %s", url, problem or status)
    return len(chosen)


def probe(url: str, allow_private: bool, timeout: float) -> tuple[int | None, str]:
    """(the status ``url`` answers with, "" or why it does not work)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError):
        return None, NO_SUCH_HOST
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        return None, NO_SUCH_HOST
    if not allow_private and not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        return None, REFUSED_ADDRESS
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        status = _ask(addresses[0], host, port, parts.scheme == "https", "HEAD", path, timeout)
        if status in (405, 501):  # a site that does not answer HEAD
            status = _ask(addresses[0], host, port, parts.scheme == "https", "GET", path, timeout)
    except (OSError, ssl.SSLError, http.client.HTTPException):
        return None, NO_ANSWER
    return status, "" if status < 400 else f"http-{status}"


def _ask(address: str, host: str, port: int, secure: bool, method: str, path: str, timeout: float) -> int:
    sock = socket.create_connection((address, port), timeout=timeout)
    try:
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock  # the address checked above, not a second lookup
        connection.request(method, path, headers={"User-Agent": "PracticeExchange-link-check",
                                                  "Host": host if port in (80, 443) else f"{host}:{port}"})
        return connection.getresponse().status
    finally:
        sock.close()
