"""The production server: gunicorn's pre-forking master with several worker processes, each with a few threads.

One Python process answers on about one core (the GIL), so ``exchange serve`` forks ``workers``
processes from a master that has already built the app and warmed it (the search index's caches, the
glossary, compiled templates): the workers share those pages of memory until they write to them, and
the first request after a restart finds them ready. The socket listens only once the app is ready.

What must not cross a fork is dropped in each worker as it starts: the database connections and the
pooled index searchers (open files whose read offsets forked processes would share). Each worker opens
its own, reads the index read-only and sees a new publish as any process does (a searcher is reopened
when the index has a new generation). Only gunicorn is imported here; the app and what runs beside it
(the job runner, started once by the master) are the caller's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter


class Server(BaseApplication):
    """``app`` served by ``workers`` processes of ``threads`` threads each on ``host:port``.

    ``ready(port)`` is called in the master once the socket listens (with the port it got, for
    ``--port 0``); ``forked()`` in each worker as it starts, to close what it inherited but must not share.
    """

    def __init__(self, app: Flask, host: str, port: int, workers: int, threads: int,
                 ready: Callable[[int], None], forked: Callable[[], None]) -> None:
        self.app = app
        self.options: dict[str, Any] = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            # gthread: keep-alive connections, and a slow request does not hold its whole process
            "worker_class": "gthread",
            "threads": threads,
            # the app is built (and warmed) once, in the master, before the workers are forked
            "preload_app": True,
            # a control socket would be one per user, shared by every instance served
            "control_socket_disable": True,
            "when_ready": lambda arbiter: ready(_port(arbiter)),
            "post_fork": lambda _arbiter, _worker: forked(),
            "proc_name": "practice-exchange",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def _port(arbiter: Arbiter) -> int:
    port: int = arbiter.LISTENERS[0].sock.getsockname()[1]
    return port


def close_inherited(app: Flask, files: list[int]) -> None:
    """In a freshly forked worker: leave the master's database connections and index searchers to it,
    and close ``files`` (descriptors only the master should hold, such as the job runner's pipe)."""
    instance = app.extensions["exchange"]
    instance.db.leave_inherited()  # the master's connections are its own; open new ones
    instance.search.close()
    for descriptor in files:
        with contextlib.suppress(OSError):
            os.close(descriptor)

