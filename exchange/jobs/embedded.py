"""The embedded default: one job runner, a child process of the web server, started and stopped with it.

``exchange serve`` and ``exchange run`` start it unless told ``--no-worker`` (for an operator who runs
``exchange worker`` separately, on this machine or another). The child is ``exchange worker`` on the same
instance and database; it stops when asked (SIGTERM) and also when its standard input, a pipe from the
server, closes: a server that is killed outright does not leave its runner behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

#: how long a stopping runner may take to put back or finish the jobs in hand before it is killed
STOP_SECONDS = 30.0


@contextlib.contextmanager
def runner_process(instance_path: Path, database_url: str | None, base_url: str) -> Iterator[subprocess.Popen]:
    """A job runner process for the instance in ``instance_path`` while the block runs; stopped after it."""
    environment = {**os.environ, "EXCHANGE_INSTANCE": str(instance_path), "EXCHANGE_BASE_URL": base_url}
    if database_url:
        environment["EXCHANGE_DATABASE_URL"] = database_url
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "exchange.cli", "worker", "--until-stdin-closes"], env=environment,
        stdin=subprocess.PIPE)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, seconds: float = STOP_SECONDS) -> int:
    """Stop a runner process (SIGTERM, then SIGKILL after ``seconds``); its exit status."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
