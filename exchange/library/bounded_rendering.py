"""Markdown rendered in worker processes, within a time and size budget (threats R-1, R-2; invariant 7).

markdown-it-py is pure Python. A hostile text of a few hundred KB (tens of thousands of emphasis or link
marks) keeps it busy for seconds, and while it runs it holds the GIL of its process, so that every
other request of a threaded web server waits too. :func:`render_bounded` renders in a worker process:

- a text larger than a practice may be is refused before anything runs (:class:`TextTooLarge`);
- the worker has ``seconds`` of wall clock for the text; past them it is killed, a fresh worker takes
  its place, and the caller gets :class:`TextTooComplex` (so does a text that needs more memory than
  :data:`MEMORY_LIMIT_BYTES`);
- at most :data:`MAX_WORKERS` renders run at once in a process; a caller that finds every worker busy
  for :data:`WAIT_SECONDS` gets :class:`RenderersBusy` rather than a place in an endless queue.

:func:`render_preview` adds a per-person allowance of rendering time, for the previews anyone signed in
may ask for at will (:class:`RenderingAllowanceUsed`). ``str(error)`` of each refusal is a sentence for
the person who wrote the text; ``exchange/web/errors.py`` maps them to HTTP.

Workers are started when first needed, each a fresh interpreter (never a fork of the threaded web
process) in isolated mode, with an empty environment, no file descriptors but its two pipes, ``/`` as
its working directory and a cap on its address space. They are ended when the process exits, and end
themselves when their pipe closes (if the process is killed). The output is :func:`rendering.render`'s,
exactly; the worker runs that function and sends its result back as JSON (never pickle).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import resource
import select
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import BinaryIO

from markupsafe import Markup

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.library import rendering
from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.library.rendering import Rendered

log = logging.getLogger(__name__)

#: the default budget of one render, in seconds of wall clock (512 KB of prose takes about 0.2 s)
RENDER_SECONDS = 2.0
#: renders running at once in one process (each in its own worker process)
MAX_WORKERS = 2
#: how long a render waits for a free worker before it is refused as busy
WAIT_SECONDS = 1.0
#: how long a new worker may take to load its code; not counted in any render's budget
STARTUP_SECONDS = 30.0
#: a worker's address space (the worst texts the size cap lets through peak at about 350 MB)
MEMORY_LIMIT_BYTES = 1024 * 2**20
#: the rendering time each person's previews may take within :data:`ALLOWANCE_PERIOD_SECONDS` (a normal
#: preview takes a few milliseconds; a text refused as too slow counts its whole budget)
ALLOWANCE_SECONDS = 10.0
#: a version is rendered once, when it is published: a generous budget, then it is refused as too complex
PUBLISH_SECONDS = 30.0
#: publishes take turns at their worker for up to this long
PUBLISH_WAIT_SECONDS = 120.0
ALLOWANCE_PERIOD_SECONDS = 60.0

_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds the exchange package
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from exchange.library.bounded_rendering import serve; serve()"
_READY = b"ready"
_HEADER = struct.Struct(">I")
#: a reply larger than this is not believed (the largest real one is a few MB of HTML)
_MAX_REPLY_BYTES = 256 * 2**20


class RenderRefused(Exception):
    """A text was not rendered; ``str(error)`` tells the person who wrote it why, and what to do."""


class TextTooLarge(RenderRefused):
    """The text is larger than a practice may be."""

    def __init__(self, size: int) -> None:
        super().__init__(Message(N_("This text is %(size)s KB; a practice may hold at most %(limit)s KB. Shorten it, "
                                    "or split it into two practices."), size=-(-size // 1024),
                                 limit=MAX_DOCUMENT_BYTES // 1024))


class TextTooComplex(RenderRefused):
    """The text could not be rendered within the time or memory one render may use."""

    ADVICE = N_("its formatting marks (such as * _ [ ] and `) nest or repeat far more than a practice needs. "
                "Simplify the formatting, or split the text into smaller parts.")

    @classmethod
    def slow(cls, seconds: float) -> TextTooComplex:
        return cls(Message(N_("This text is too complex to render in %(seconds)s seconds: %(advice)s"),
                           seconds=f"{seconds:g}", advice=Message(cls.ADVICE)))

    @classmethod
    def large(cls) -> TextTooComplex:
        return cls(Message(N_("This text is too complex to render in %(megabytes)s MB of memory: %(advice)s"),
                           megabytes=MEMORY_LIMIT_BYTES // 2**20, advice=Message(cls.ADVICE)))


class RenderersBusy(RenderRefused):
    """Every worker was busy for as long as a render may wait."""

    def __init__(self) -> None:
        super().__init__(Message(N_("Every text renderer is busy just now; try again in a few seconds.")))


class RenderingAllowanceUsed(RenderRefused):
    """The person has used their rendering time for the moment."""

    def __init__(self, seconds: float, period: float) -> None:
        super().__init__(Message(N_("Your texts have taken more than %(seconds)s seconds to render in the last "
                                    "%(period)s seconds; wait a minute, and simplify the formatting of the text."),
                                 seconds=f"{seconds:g}", period=f"{period:g}"))


class _Late(Exception):
    """The worker did not answer in time."""


class _Gone(Exception):
    """The worker's pipe closed: it ended, most likely for want of memory."""


class _Worker:
    """One worker process, its pipes, and the framed exchange over them."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-I", "-X", "utf8", "-c", _BOOT, _ROOT], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env={}, cwd="/", close_fds=True, start_new_session=True, bufsize=0)
        self.ready = False

    def render(self, data: bytes, seconds: float) -> dict[str, Any]:
        """The worker's reply for ``data``; _Late past ``seconds`` (not counting its start), _Gone if it ended."""
        if not self.ready:
            if self._receive(time.monotonic() + STARTUP_SECONDS) != _READY:
                raise _Gone()
            self.ready = True
        deadline = time.monotonic() + seconds
        self._send(data)
        reply: dict[str, Any] = json.loads(self._receive(deadline))
        return reply

    def _send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        view = memoryview(_HEADER.pack(len(data)) + data)
        try:
            while view:
                written = self.process.stdin.write(view)
                view = view[written or 0:]
        except BrokenPipeError:
            raise _Gone() from None

    def _receive(self, deadline: float) -> bytes:
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > _MAX_REPLY_BYTES:
            raise _Gone()
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        waiting = select.poll()  # not select.select: a busy server's descriptors pass FD_SETSIZE
        waiting.register(descriptor, select.POLLIN)
        parts: list[bytes] = []
        missing = size
        while missing:
            left = deadline - time.monotonic()
            if left <= 0 or not waiting.poll(left * 1000):
                raise _Late()
            part = os.read(descriptor, min(missing, 1 << 20))
            if not part:
                raise _Gone()
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)

    def end(self, graceful: bool) -> None:
        """Stop the process: ``graceful`` closes its input and waits a moment first; it is reaped either way."""
        assert self.process.stdin is not None and self.process.stdout is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if graceful:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1)
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()


class RenderPool:
    """Up to ``size`` worker processes, started when first needed, each rendering one text at a time."""

    def __init__(self, size: int = MAX_WORKERS, wait_seconds: float = WAIT_SECONDS) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._turns = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._pid = os.getpid()
        self._ends_at_exit = False

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A turn to render, waited for up to ``wait_seconds``; RenderersBusy when none comes."""
        if not self._turns.acquire(timeout=self.wait_seconds):
            raise RenderersBusy()
        try:
            yield
        finally:
            self._turns.release()

    def render(self, markdown: str, seconds: float = RENDER_SECONDS) -> Rendered:
        """``markdown`` as :func:`rendering.render` renders it, done by a worker within ``seconds``.

        TextTooLarge, TextTooComplex or RenderersBusy (each a RenderRefused) when it is not rendered;
        RuntimeError when a worker cannot start or the renderer fails on the text (a bug).
        """
        data = markdown.encode("utf-8")
        if len(data) > MAX_DOCUMENT_BYTES:
            raise TextTooLarge(len(data))
        with self.turn():
            worker = self._take()
            try:
                reply = worker.render(data, seconds)
            except _Late:
                self._replace(worker)
                if not worker.ready:
                    log.warning("a render worker did not start within %s s", STARTUP_SECONDS)
                    raise RenderersBusy() from None
                log.warning("stopped rendering a text of %d bytes after %g s", len(data), seconds)
                raise TextTooComplex.slow(seconds) from None
            except _Gone:
                code = self._replace(worker)
                if not worker.ready:
                    raise RuntimeError(f"a render worker ended as it started (exit status {code})") from None
                log.warning("a render worker ended (exit status %s) on a text of %d bytes", code, len(data))
                raise TextTooComplex.large() from None
            except BaseException:
                self._replace(worker)
                raise
            self._give_back(worker)
        if "failed" in reply:
            raise TextTooComplex.large()
        if "error" in reply:
            raise RuntimeError(f"the renderer failed in its worker:\n{reply['error']}")
        return Rendered(html=Markup(reply["html"]),
                                  toc=tuple(rendering.Heading(*heading) for heading in reply["toc"]))

    def pids(self) -> list[int]:
        """The process ids of the workers running now (idle or busy)."""
        with self._lock:
            return sorted(worker.process.pid for worker in self._workers)

    def close(self) -> None:
        """End every worker now (a render under way fails); later renders start new ones."""
        with self._lock:
            workers, self._workers, self._idle = list(self._workers), set(), []
        for worker in workers:
            worker.end(graceful=worker.ready)

    def _take(self) -> _Worker:
        with self._lock:
            if self._pid != os.getpid():  # a fork of this process: those workers are its parent's
                self._pid, self._workers, self._idle = os.getpid(), set(), []
            if self._idle:
                return self._idle.pop()
            return self._start()

    def _start(self) -> _Worker:
        if not self._ends_at_exit:
            atexit.register(self.close)
            self._ends_at_exit = True
        worker = _Worker()
        self._workers.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:  # not if close() ended it meanwhile
                self._idle.append(worker)

    def _replace(self, worker: _Worker) -> int | None:
        """End ``worker`` and start another in its place (its code loads while nobody waits); the exit status."""
        worker.end(graceful=False)
        with self._lock:
            if worker in self._workers:
                self._workers.discard(worker)
                self._idle.append(self._start())
        return worker.process.returncode


class Allowance:
    """The rendering time each person has used within the last ``period`` seconds (by ``clock``)."""

    def __init__(self, period: float = ALLOWANCE_PERIOD_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self.clock = clock
        self._lock = threading.Lock()
        self._spent: dict[Hashable, list[tuple[float, float]]] = {}

    def check(self, person: Hashable, seconds: float) -> None:
        """Nothing if ``person`` has used less than ``seconds`` within the period; RenderingAllowanceUsed if not."""
        if self.used(person) >= seconds:
            raise RenderingAllowanceUsed(seconds, self.period)

    def used(self, person: Hashable) -> float:
        """Seconds of rendering ``person`` has used within the last period."""
        since = self.clock() - self.period
        with self._lock:
            recent = [(at, spent) for at, spent in self._spent.get(person, ()) if at > since]
            if recent:
                self._spent[person] = recent
            else:
                self._spent.pop(person, None)
            return sum(spent for _at, spent in recent)

    def charge(self, person: Hashable, seconds: float) -> None:
        """Count ``seconds`` of rendering against ``person``."""
        with self._lock:
            self._spent.setdefault(person, []).append((self.clock(), seconds))


pool = RenderPool()
previews = Allowance()
#: one worker of its own for publishing, so previews never make a publish wait (or the other way round)
publishing = RenderPool(size=1, wait_seconds=PUBLISH_WAIT_SECONDS)


def render_bounded(markdown: str, seconds: float = RENDER_SECONDS) -> Rendered:
    """``markdown`` as :func:`rendering.render` renders it, done in a worker process within ``seconds``.

    TextTooLarge (over the practice cap), TextTooComplex (past ``seconds``, or the worker's memory) or
    RenderersBusy (every worker busy for WAIT_SECONDS); each is a RenderRefused whose message is for the writer.
    """
    return pool.render(markdown, seconds)


def render_for_publishing(markdown: str) -> Rendered:
    """``markdown`` rendered by the publishing worker within PUBLISH_SECONDS (RenderRefused past it)."""
    return publishing.render(markdown, PUBLISH_SECONDS)


def render_preview(markdown: str, person: Hashable, seconds: float = RENDER_SECONDS,
                   allowance_seconds: float = ALLOWANCE_SECONDS, allowance: Allowance = previews) -> Rendered:
    """:func:`render_bounded`, with the time it takes counted against ``person``'s allowance.

    RenderingAllowanceUsed, before anything runs, once ``person``'s renders have taken ``allowance_seconds``
    within the allowance's period; a text refused as too slow counts its whole budget.
    """
    allowance.check(person, allowance_seconds)
    started = time.monotonic()
    try:
        rendered = render_bounded(markdown, seconds)
    except TextTooComplex:
        allowance.charge(person, time.monotonic() - started)
        raise
    allowance.charge(person, time.monotonic() - started)
    return rendered


def serve() -> None:
    """Be a render worker: answer each text framed on stdin with its rendering on stdout, until stdin closes."""
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the pipe carries replies only
    rendering.render("Loads *the* parser and the [cleaner](https://example.org) before the first budget runs.")
    # After the code is loaded, so that the cap meets a render rather than an import; never above a cap
    # the operator has set already.
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(hard, MEMORY_LIMIT_BYTES)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    _write(replies, _READY)
    while (header := requests.read(_HEADER.size)) and len(header) == _HEADER.size:
        (size,) = _HEADER.unpack(header)
        _write(replies, _reply(requests.read(size)))


def _reply(data: bytes) -> bytes:
    try:
        rendered = rendering.render(data.decode("utf-8"))
        return json.dumps({"html": str(rendered.html),
                           "toc": [[heading.level, heading.id, heading.text] for heading in rendered.toc]}).encode()
    except MemoryError:
        return b'{"failed": "memory"}'
    except Exception:
        return json.dumps({"error": traceback.format_exc()}).encode()


def _write(stream: BinaryIO, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()
