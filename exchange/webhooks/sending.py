"""One HTTP POST to a checked target: to the very address the guard passed, bounded in time and size.

The connection goes to ``Target.address`` (never a second resolution of the name), with the URL's host in
the Host header and, for https, in the TLS server name and certificate check. Redirects are not followed
(a 3xx is a failed attempt that says where it pointed); the response body is read only up to
``MAX_RESPONSE_BYTES``; the whole exchange must end within ``TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.webhooks.addresses import Target

#: how long connecting, sending and reading the answer may take, all together
TIMEOUT_SECONDS = 10.0
#: how much of a receiver's answer is read (the rest is left unread) and how much is kept in the log
MAX_RESPONSE_BYTES = 64 * 1024
KEPT_RESPONSE_CHARS = 300


@dataclass(frozen=True)
class Answer:
    """How an attempt ended: the receiver's status (None when none came) and, when it failed, why."""

    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


class _Connection(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, whatever its host name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TLSConnection(_Connection):
    """The same over TLS, the certificate checked against the URL's host name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target, timeout)
        self.context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_SECONDS,
         context: ssl.SSLContext | None = None) -> Answer:
    """POST ``body`` to ``target``; how it ended (never raises for the network's or the receiver's failures)."""
    deadline = time.monotonic() + timeout
    connection: _Connection
    if target.scheme == "https":
        connection = _TLSConnection(target, timeout, context or ssl.create_default_context())
    else:
        connection = _Connection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "PracticeExchange-Webhooks/1", **headers})
        response = connection.getresponse()
        kept = _read_bounded(response, deadline)
        status = response.status
    except (OSError, http.client.HTTPException, TimeoutError) as error:
        return Answer(None, _failure(error, target, timeout))
    finally:
        connection.close()
    if 200 <= status < 300:
        return Answer(status, None)
    if 300 <= status < 400:
        return Answer(status, Message(N_("HTTP %(status)s: redirected to %(location)s; redirects are not followed."),
                                      status=status, location=repr(response.getheader("Location", "?")[:300])))
    said = f"HTTP {status} {response.reason[:100]}".rstrip()
    if not kept.strip():
        return Answer(status, Message(N_("The receiver answered %(status)s."), status=said))
    return Answer(status, Message(N_("The receiver answered %(status)s: %(answer)s"), status=said,
                                  answer=kept[:KEPT_RESPONSE_CHARS].strip()))


def _failure(error: Exception, target: Target, timeout: float) -> Message:
    """Why no answer came, as a sentence in the catalogs (the OS's and the ssl module's words are English only)."""
    if isinstance(error, (TimeoutError, socket.timeout)):
        return Message(N_("The receiver did not answer within %(seconds)s seconds."), seconds=int(timeout))
    if isinstance(error, ConnectionRefusedError):
        return Message(N_("%(address)s refused the connection: nothing listens on port %(port)s there."),
                       address=target.address, port=target.port)
    if isinstance(error, ssl.SSLCertVerificationError):
        return Message(N_("The receiver's TLS certificate is not valid for %(host)s."), host=target.host)
    if isinstance(error, ssl.SSLError):
        return Message(N_("The secure (TLS) connection to the receiver could not be made."))
    if isinstance(error, http.client.HTTPException):
        return Message(N_("The receiver's answer was not valid HTTP."))
    if isinstance(error, ConnectionError):
        return Message(N_("The receiver broke off the connection."))
    return Message(N_("The connection to %(address)s failed (%(error)s)."), address=target.address,
                   error=f"{type(error).__name__}: {error}"[:300])


def _read_bounded(response: http.client.HTTPResponse, deadline: float) -> str:
    """At most MAX_RESPONSE_BYTES of the answer, stopping at the deadline; the start of it as text."""
    data = b""
    while len(data) < MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError("the receiver took too long to answer")
        chunk = response.read1(min(8192, MAX_RESPONSE_BYTES - len(data)))
        if not chunk:
            break
        data += chunk
    return data[:KEPT_RESPONSE_CHARS * 4].decode("utf-8", "replace")
