"""Rendering benchmark: hostile Markdown (threats R-1, R-2), and what rendering in a worker process costs.

    python bench/rendering.py            # every payload once, overhead over every bundled practice x 20
    python bench/rendering.py 5          # overhead with 5 rounds

Prints, for each hostile payload cut to the practice cap (512 KB): its size, the seconds
rendering.render takes in this process, the size of its HTML, and what render_bounded does with it at
the default budget. Then, for the bundled practices, the median time of one render in process and in a
worker (the overhead is pipes, JSON and a context switch), a worker's start, and how long a normal
practice takes to render in this process while another thread renders a hostile text in process
(holding the GIL) or in a worker. The test suite asserts none of these times: they depend on the machine.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.library import bounded_rendering  # noqa: E402
from exchange.library.practice import MAX_DOCUMENT_BYTES  # noqa: E402
from exchange.library.practice import parse  # noqa: E402
from exchange.library.rendering import render  # noqa: E402
from tests.test_rendering import PATHOLOGICAL  # noqa: E402

#: R-2, and more that cost as much as R-1's worst (flat emphasis more than nested; repeated h2 headings and
#: task items were quadratic in mdit-py-plugins, hours for 512 KB, before rendering.py took their place)
MORE = {
    "flat-emphasis": "*a* **a** " * 60000,
    "inline-links": "[a](b) " * 80000,
    "headings": "# a\n" * 140000,
    "repeated-h2": "## a\n" * 110000,
    "task-list": "- [ ] a\n" * 70000,
    "tables-with-links": ("| a | b |\n|---|---|\n" + "| [x](https://example.org) | y |\n" * 20 + "\n") * 500,
    "one-long-line": "word " * 110000,
}


def seconds_of(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bounded_outcome(text: str) -> str:
    started = time.perf_counter()
    try:
        bounded_rendering.render_bounded(text)
    except bounded_rendering.RenderRefused as refusal:
        return f"{type(refusal).__name__} after {time.perf_counter() - started:.2f} s"
    return f"rendered in {time.perf_counter() - started:.2f} s"


def payloads() -> None:
    budget = bounded_rendering.RENDER_SECONDS
    print(f"{'payload':20}{'KB':>6}{'in process, s':>15}{'HTML, KB':>10}   render_bounded (budget {budget:g} s)")
    for name, text in {**PATHOLOGICAL, **MORE}.items():
        text = text.encode("utf-8")[:MAX_DOCUMENT_BYTES].decode("utf-8", "ignore")
        started = time.perf_counter()
        html = render(text).html
        took = time.perf_counter() - started
        print(f"{name:20}{len(text.encode()) // 1024:>6}{took:>15.2f}{len(html) // 1024:>10}   "
              f"{bounded_outcome(text)}", flush=True)


def overhead(rounds: int) -> None:
    bodies = [parse(path.read_bytes(), path.stem).body for path in sorted((ROOT / "practices").rglob("*.md"))]
    pool = bounded_rendering.RenderPool()
    start = seconds_of(lambda: pool.render("Starts the worker."))
    local, remote = [], []
    for _ in range(rounds):
        for body in bodies:
            local.append(seconds_of(lambda body=body: render(body)))
            remote.append(seconds_of(lambda body=body: pool.render(body)))
    sizes = sorted(len(body.encode()) for body in bodies)
    print(f"\n{len(bodies)} bundled practices ({sizes[0] // 1024}-{sizes[-1] // 1024} KB, median "
          f"{statistics.median(sizes) // 1024} KB) x {rounds} rounds")
    print(f"{'one render, in process':34}{statistics.median(local) * 1000:8.2f} ms median"
          f"{max(local) * 1000:8.2f} ms max")
    print(f"{'one render, in a worker':34}{statistics.median(remote) * 1000:8.2f} ms median"
          f"{max(remote) * 1000:8.2f} ms max")
    print(f"{'overhead of the worker':34}{(statistics.median(remote) - statistics.median(local)) * 1000:8.2f} ms")
    print(f"{'a worker starting (not budgeted)':34}{start * 1000:8.0f} ms")

    contention(pool, max(bodies, key=len))
    pool.close()


def contention(pool: bounded_rendering.RenderPool, normal: str, hostile_requests: int = 4) -> None:
    """Other work of the web process (here: 50 renders of a normal practice) while hostile previews run."""
    hostile = MORE["flat-emphasis"][:128 * 1024]

    def in_process() -> None:
        render(hostile)

    def in_a_worker() -> None:
        try:
            pool.render(hostile, seconds=60)
        except bounded_rendering.RenderersBusy:
            pass

    work = lambda: [render(normal) for _ in range(50)]  # noqa: E731
    print(f"\n50 renders of a normal practice ({len(normal) // 1024} KB) in this process: "
          f"{seconds_of(work):.2f} s alone; while {hostile_requests} threads render {len(hostile) // 1024} KB of "
          "flat emphasis")
    for where, hostile_work in (("in process", in_process), ("with render_bounded", in_a_worker)):
        threads = [threading.Thread(target=hostile_work) for _ in range(hostile_requests)]
        for thread in threads:
            thread.start()
        time.sleep(0.1)  # let them get going
        took = seconds_of(work)
        for thread in threads:
            thread.join()
        print(f"{'  ... ' + where:34}{took:8.2f} s")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    logging.getLogger("exchange").setLevel(logging.ERROR)  # not a warning per refused payload
    print(f"Practice Exchange rendering benchmark — {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    payloads()
    overhead(rounds)
    bounded_rendering.pool.close()


if __name__ == "__main__":
    main()
