"""Hostile search queries (threats R-5, R-6): how long each takes on the bundled library.

    python bench/hostile_queries.py [ROUNDS]      # default 5 rounds

Builds a fresh instance seeded with the bundled practices, then times each query of the search tests'
hostile table through the search page (as a visitor meets it) and through the search service alone,
and prints the median and the worst of ROUNDS, and whether the deadline (TIME_LIMIT_SECONDS) stopped it.
The test suite asserts none of these times: they depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.app import create_app  # noqa: E402
from exchange.initialise import initialise  # noqa: E402
from exchange.search.backend import TIME_LIMIT_SECONDS  # noqa: E402
from exchange.search.backend import SearchRequest  # noqa: E402
from tests.search.test_search import HOSTILE_QUERIES  # noqa: E402

PUBLIC = frozenset({"public"})
STOPPED = "The search took too long"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    folder = Path(tempfile.mkdtemp(prefix="px-hostile-queries-"))
    try:
        app = create_app({"INSTANCE": folder / "instance", "TESTING": True, "SERVER_NAME": "px.test"})
        instance = app.extensions["exchange"]
        initialise(instance, "bench", seed=True)
        client = app.test_client()
        print(f"Practice Exchange hostile queries — {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
              f"deadline {TIME_LIMIT_SECONDS:g} s, {rounds} rounds\n")
        print(f"{'query':26}{'page p50 / max, ms':>22}{'service p50 / max, ms':>25}  stopped")
        for name, q in HOSTILE_QUERIES.items():
            page, service = [], []
            stopped = False
            for _ in range(rounds):
                started = time.perf_counter()
                client.get("/practices", query_string={"q": q})
                page.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                results = instance.search.search(SearchRequest(q=q), PUBLIC)
                service.append((time.perf_counter() - started) * 1000)
                stopped = stopped or any(notice.startswith(STOPPED) for notice in results.notices)
            print(f"{name:26}{statistics.median(page):>12.1f} /{max(page):>8.1f}"
                  f"{statistics.median(service):>15.1f} /{max(service):>8.1f}  {'yes' if stopped else 'no'}",
                  flush=True)
        instance.search.close()
        instance.db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
