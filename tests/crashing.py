"""A process that runs library operations and is killed (SIGKILL) at a chosen durable step of one.

    python -m tests.crashing INSTANCE DATABASE_URL

Started once by tests/test_faults.py, it imports the application once, then reads one request a line on
standard input (JSON: the operation, its arguments and ``step``) and for each forks a child that opens
the instance afresh and runs the operation, killing itself with SIGKILL just before its ``step``-th
durable step: an fsync, a rename or replace, or a database commit (SQLAlchemy's ``Session.commit``),
whoever makes it (our storage, the database, the search index). It answers one JSON line: ``killed``,
or ``done`` with the number of steps the operation took (a step past the last one lets it finish).
Forking from this single-threaded process costs milliseconds where a fresh interpreter costs seconds,
so a test can afford to kill an operation at every one of its steps.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from exchange.accounts import people
from exchange.instance import Instance
from exchange.library import bounded_rendering
from exchange.library import publishing
from exchange.review import submissions


def kill_at(step: int) -> list[int]:
    """Make the ``step``-th durable step of this process kill it first; the steps taken so far, counted."""
    taken = [0]

    def trapped(original: Callable[..., Any]) -> Callable[..., Any]:
        def step_then(*args: Any, **kwargs: Any) -> Any:
            taken[0] += 1
            if taken[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return step_then

    for name in ("fsync", "replace", "rename"):
        setattr(os, name, trapped(getattr(os, name)))
    Session.commit = trapped(Session.commit)  # type: ignore[method-assign]
    return taken


def run(instance: Instance, request: dict[str, Any]) -> None:
    if request["operation"] == "publish":
        publishing.publish(instance, request["text"].encode(), request["slug"], "crash-test")
    elif request["operation"] == "approve":
        reviewer = people.load(instance, request["reviewer"])
        submissions.review(instance, reviewer, request["submission"], "approve")
    else:
        raise ValueError(f"no operation {request['operation']!r}")


def main() -> None:
    folder, url = Path(sys.argv[1]), sys.argv[2]
    # Start the publishing render worker here, once: each child inherits it (idle whenever a child is
    # killed, as rendering comes before the first durable step) instead of starting its own interpreter.
    bounded_rendering.render_for_publishing("# Ready\n")
    for line in sys.stdin:
        request = json.loads(line)
        reading, writing = os.pipe()
        child = os.fork()
        if child == 0:  # the child: run the operation, killed at the chosen step
            os.close(reading)
            try:
                instance = Instance.open(folder, url)
                taken = kill_at(request["step"])
                run(instance, request)
                os.write(writing, str(taken[0]).encode())
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        os.close(writing)
        with os.fdopen(reading) as answer:
            steps = answer.read()
        _pid, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            print(json.dumps({"outcome": "killed"}), flush=True)
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            print(json.dumps({"outcome": "done", "steps": int(steps)}), flush=True)
        else:
            print(json.dumps({"outcome": "failed", "status": status}), flush=True)


if __name__ == "__main__":
    main()
