"""One bounded HTTP GET to another node: a read timeout, a size cap, and no redirect to another origin.

A node may be slow, send too much, or point elsewhere; :func:`get` returns the body or raises
:class:`FetchRefused` with a sentence that says which. Redirects are followed only within the origin
(scheme, host and port) of the URL asked for, at most :data:`MAX_REDIRECTS` times.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from typing import IO
from typing import Any

from exchange.catalogs import N_
from exchange.catalogs import Message

#: seconds a connection or a read may wait for the node
TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 3
USER_AGENT = "PracticeExchange-harvester/1"


class FetchRefused(Exception):  # noqa: N818 - names the outcome, as the library's refusals do
    """The node's answer was not taken (unreachable, too slow, too large, an error, a redirect elsewhere)."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            raise FetchRefused(Message(
                N_("the node redirected to another address, which was not followed: %(url)s"), url=newurl[:200]))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def check_url(url: str) -> str | None:
    """What is wrong with ``url`` as a node's base URL (None: nothing)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        return Message(N_("%(url)s is not an http(s) address"), url=repr(url[:200]))
    return None


def get(url: str, max_bytes: int, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The body of ``url``, at most ``max_bytes`` of it (FetchRefused otherwise, saying why)."""
    opener = urllib.request.build_opener(_SameOrigin())
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/xml"})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise _too_large(max_bytes)
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as error:
        raise FetchRefused(Message(N_("the node answered HTTP %(status)s"), status=error.code)) from None
    except TimeoutError:
        raise FetchRefused(Message(N_("the node did not answer within the time limit (%(seconds)s s)"),
                                   seconds=int(timeout))) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FetchRefused(Message(N_("the node could not be reached (%(reason)s)"),
                                   reason=str(reason)[:200])) from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _too_large(max_bytes: int) -> FetchRefused:
    return FetchRefused(Message(N_("the response is larger than %(limit)s MB, so it was not read"),
                                limit=max_bytes // 2**20))
