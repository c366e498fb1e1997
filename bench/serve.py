"""Serving benchmark: the real ``exchange serve`` on loopback, driven by concurrent clients for a bounded time.

    python bench/serve.py                                  # 1,000 practices, 16 clients, 20 s
    python bench/serve.py --practices 10000 --clients 16 --seconds 30 --server-args "--workers 2"
    python bench/serve.py --skew 1                         # practice pages read as a Zipf law, not uniformly
    python bench/serve.py --only practice --skew 1         # one endpoint alone, as wrk measures one address
    python bench/serve.py --practices 10000 --seconds 600 --contributors 3   # the soak run (10 minutes)

It generates an instance of synthetic practices (``bench/corpus.py``; kept in ``--cache`` between runs,
so the same instance serves every run, but without the pages an earlier run cached; the related practices the
job runner finds ahead of readers (``related.fill``) are found before the clients start, timed),
starts ``python -m exchange serve --port 0`` on it (the server
prints the port it got), warms nothing, and lets ``--clients`` client processes send a realistic mix of
requests, each over its own keep-alive connection and with a browser's ``Accept-Encoding``:

    practice page 40 %, search page 20 %, /api/v1/search 15 %, home 10 %, city page 5 %, a CSS file 10 %

``--only NAME`` sends that endpoint alone (``practice``, ``search-page``, ``api-search``, ``home``,
``city`` or ``static``): what it serves when nothing else queues beside it.

Practice pages are chosen uniformly among the public ones (the worst case for any cache), or with
``--skew s`` by a Zipf law (the n-th most read page read in proportion to 1/n^s, as reading usually is).

Searches are 1-3 words of the corpus's own vocabulary in English, Indonesian and Japanese, some with a
facet filter. Meanwhile ``--contributors`` contributors (1 by default) each publish a new version of a
practice every two seconds (each in its own process, as the web form's publishing does, a word of its
own in the text) and ask the server's ``/api/v1/search`` for that word until it is found:
publish→searchable while the load runs. After ``--seconds`` it stops the clients and the server and
prints, per endpoint, requests per second, p50/p95/p99 latency and errors (any status but 200, or a
broken connection), and the publishes' p50/p95. The figures assert nothing; then it checks that every
publish the library accepted during the run is there (its version recorded, its text in the history,
the newest version of each practice the current file and found by the index) and exits 1 naming any
that is not: with ``--seconds 600 --contributors 3`` that is the soak run.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Corpus  # noqa: E402

MIX = (("practice", 40), ("search page", 20), ("api search", 15), ("home", 10), ("city", 5), ("static", 10))
WORDS = {
    "en": ["flood", "warning", "evacuation", "shelter", "heat", "community", "drill", "early", "river", "school",
           "hospital", "tsunami", "landslide", "volunteers", "recovery", "map", "alert", "elderly", "drainage"],
    "id": ["banjir", "evakuasi", "peringatan", "dini", "pengungsian", "warga", "sungai", "gempa", "relawan",
           "sekolah", "lansia", "bencana", "kesiapsiagaan"],
    "ja": ["避難", "避難所", "津波", "訓練", "地震", "高齢者", "防災", "洪水", "警報", "自治会"],
}
FACETS = (("hazard", "riverine-flood"), ("language", "en"), ("kind", "plan"), ("phase", "preparedness"),
          ("country", "ID"))
ACCEPT_ENCODING = "gzip, deflate, br"


def make_instance(folder: Path, n: int) -> None:
    """An instance of ``n`` synthetic practices, indexed, in ``folder`` (left as it is when already made)."""
    if (folder / "ready").exists():
        return
    from bench.search import make_instance as write_corpus
    from exchange.library import rendering
    from exchange.library.practice import parse
    from exchange.models import RenderedVersion
    from exchange.search import indexing

    started = time.perf_counter()
    corpus = Corpus()
    instance = write_corpus(folder, n, corpus)
    with instance.db.writing() as session:  # as publishing stores it
        for i in range(n):
            city, slug, data = corpus.practice(i)
            body = rendering.render(parse(data, slug).body)
            session.add(RenderedVersion(practice_id=f"{city}/{slug}", version=1, renderer=rendering.RENDERER,
                                        html=str(body.html), contents=body.stored_contents()))
    indexing.rebuild(instance)
    instance.search.close()
    instance.db.dispose()
    (folder / "ready").write_text(f"{n}\n")
    print(f"made an instance of {n:,} practices in {time.perf_counter() - started:.0f} s", flush=True)


def upgrade(folder: Path) -> None:
    """The kept instance's database brought to this code's schema (as ``exchange init`` would)."""
    from exchange.instance import Instance

    instance = Instance.open(folder)
    instance.db.migrate()
    instance.search.close()
    instance.db.dispose()


def prepare_related(folder: Path) -> None:
    """The public's related practices found for every public practice that has none kept (or one soon to
    expire), as the job runner does in the background after an import (``related.fill``): timed and
    said, not hidden in the run."""
    from exchange import related
    from exchange.initialise import prepare_search
    from exchange.instance import Instance

    instance = Instance.open(folder)
    prepare_search(instance)  # an index of an older schema is rebuilt first, as the server would
    started = time.monotonic()
    found = related.fill(instance, seconds=float("inf"))
    print(f"related practices found ahead for {found:,} practices in {time.monotonic() - started:.0f} s "
          "(the job runner's work after an import; kept lists are reused while they hold)", flush=True)
    instance.search.close()
    instance.db.dispose()


def public_practices(n: int) -> list[str]:
    """Paths of the practice pages an anonymous reader may open."""
    corpus = Corpus()
    found = []
    for i in range(n):
        city, slug, data = corpus.practice(i)
        if b"visibility: public" in data:
            found.append(f"/practices/{city}/{slug}")
    return found


def query(rng: random.Random) -> dict[str, str]:
    words = WORDS[rng.choice(("en", "en", "id", "ja"))]
    params = {"q": " ".join(rng.sample(words, k=rng.randint(1, 3)))}
    if rng.random() < 0.3:
        key, value = rng.choice(FACETS)
        params[key] = value
    return params


def pick(rng: random.Random, practices: list[str], popularity: list[float] | None,
         cities: list[str], only: str | None = None) -> tuple[str, str]:
    """(endpoint name, path) of one request of the mix (of endpoint ``only``, when given)."""
    name = only or rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
    if name == "practice":
        return name, rng.choices(practices, cum_weights=popularity)[0] if popularity else rng.choice(practices)
    if name == "search page":
        return name, "/practices?" + urlencode(query(rng))
    if name == "api search":
        return name, "/api/v1/search?" + urlencode(query(rng))
    if name == "city":
        return name, f"/cities/{rng.choice(cities)}"
    if name == "static":
        return name, "/static/style.css"
    return name, "/"


def client(number: int, port: int, until: float, practices: list[str], skew: float, cities: list[str],
           only: str | None, results: multiprocessing.Queue) -> None:
    """One client: requests one after another over a keep-alive connection until ``until``."""
    rng = random.Random(number)
    popularity = list(itertools.accumulate(1 / rank ** skew for rank in range(1, len(practices) + 1))) if skew else None
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings: list[tuple[str, float, bool]] = []
    while time.monotonic() < until:
        name, path = pick(rng, practices, popularity, cities, only)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Encoding": ACCEPT_ENCODING})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
        timings.append((name, time.perf_counter() - started, ok))
    results.put(timings)


def publisher(number: int, folder: Path, port: int, until: float, n: int, results: multiprocessing.Queue) -> None:
    """A contributor publishing a new version of a practice every two seconds until ``until``: for each
    accepted publish, the seconds until the server's search found it (10 s at most; longer counts as 10),
    the practice, its version and the word it carried."""
    from exchange.instance import Instance
    from exchange.library import publishing

    instance = Instance.open(folder)
    corpus = Corpus()
    accepted: list[tuple[float, str, int, str, float]] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    # Words of their own in every run: a word an earlier run published makes no new version (the text is
    # the same), and would leave the library, and every page cached under its generation, unchanged.
    rng = random.Random(f"{number} {time.time_ns()} {os.getpid()}")
    public = [i for i in range(n) if b"visibility: public" in corpus.practice(i)[2]]
    while time.monotonic() + 2 < until:
        marker = f"benchpublish{rng.randrange(10**9):09d}zz"
        city, slug, data = corpus.practice(rng.choice(public), marker=marker)
        started = time.perf_counter()
        outcome = publishing.publish(instance, data, slug, "bench")
        committed = time.perf_counter() - started
        while time.perf_counter() - started < 10:
            try:
                connection.request("GET", "/api/v1/search?" + urlencode({"q": marker}))
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):  # the server closed an idle keep-alive connection
                connection.close()
                continue
            if response.status == 200 and json.loads(answer)["total"]:
                break
            time.sleep(0.02)
        assert outcome.practice_id and outcome.version, outcome
        accepted.append((time.perf_counter() - started, outcome.practice_id, outcome.version, marker, committed))
        time.sleep(max(0.0, 2 - (time.perf_counter() - started)))
    instance.search.close()
    instance.db.dispose()
    results.put(accepted)


def missing_publishes(folder: Path, accepted: list[tuple[float, str, int, str, float]]) -> list[str]:
    """What is missing of the publishes the library accepted during the run (nothing, when all is well):
    each version recorded in the database with its text in the history, and the newest version of each
    practice its current file, found by the index for the word it carried."""
    from exchange.instance import Instance
    from exchange.models import PracticeVersion
    from exchange.search.backend import SearchRequest

    instance = Instance.open(folder)
    problems = []
    newest: dict[str, tuple[int, str]] = {}
    with instance.db.session() as session:
        for _seconds, practice_id, version, marker, _committed in accepted:
            if session.get(PracticeVersion, (practice_id, version)) is None:
                problems.append(f"{practice_id} version {version}: not recorded in the database")
            try:
                kept = instance.store.read_version(practice_id, version)
            except OSError:
                kept = b""
            if marker.encode() not in kept:
                problems.append(f"{practice_id} version {version}: its text is not in the history")
            newest[practice_id] = max(newest.get(practice_id, (0, "")), (version, marker))
    for practice_id, (version, marker) in newest.items():
        if marker.encode() not in instance.store.read_current(practice_id):
            problems.append(f"{practice_id}: the current file is not version {version}")
        found = instance.search.search(SearchRequest(q=marker), frozenset({"public"}))
        if practice_id not in [hit.id for hit in found.hits]:
            problems.append(f"{practice_id} version {version}: the index does not find {marker}")
    instance.search.close()
    instance.db.dispose()
    return problems


def start_server(folder: Path, server_args: list[str]) -> tuple[subprocess.Popen, int]:
    # Every client comes from 127.0.0.1, standing for many readers: the API's per-address limit for calls
    # without a token (60 a minute) would answer most of them 429, so it is lifted for the benchmark. Every
    # call is still counted in the database, so what counting costs is in the figures.
    environment = {**os.environ, "EXCHANGE_INSTANCE": str(folder), "PYTHONPATH": str(ROOT),
                   "EXCHANGE_API_ANONYMOUS_CALLS_PER_MINUTE": str(10**9)}
    # The server's log (gunicorn's and the runner's lines) goes to server.log beside the instance.
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "exchange", "serve", "--host", "127.0.0.1", "--port", "0", *server_args],
        env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=(folder / "server.log").open("a"), text=True,
        start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return process, int(found.group(1))
    raise SystemExit(f"the server stopped before it listened (status {process.wait()})")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tree_memory(pid: int) -> list[tuple[str, float]]:
    """(what it is, resident MB) of process ``pid`` and every process below it (Linux /proc): what each
    server process holds (the workers share the master's pages until they write them, so the sum overstates)."""
    found = []
    for each in _tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
            command = Path(f"/proc/{each}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        resident = re.search(r"VmRSS:\s+(\d+) kB", status)
        if resident:
            role = "master" if each == pid else "job runner" if " worker" in command else "web worker"
            found.append((role, int(resident.group(1)) / 1024))
    return sorted(found)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and every process below it (Linux /proc).

    On a machine shared with other work, requests per second say as much about the neighbours as about the
    server; the server's CPU time per request does not.
    """
    used: dict[int, float] = {}
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[each] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return sum(used.values())


def _tree(pid: int) -> set[int]:
    """Process ``pid`` and every process below it (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def first_request(port: int) -> float:
    """Seconds the first search of the server's life takes (what a restart costs the first user)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/practices?q=evacuation+shelter")
    connection.getresponse().read()
    connection.close()
    return time.perf_counter() - started


def report(timings: list[tuple[str, float, bool]], seconds: float, cpu: float,
           published: list[tuple[float, float]]) -> None:
    print(f"{'endpoint':14}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name in [m[0] for m in MIX] + ["all"]:
        rows = [t for t in timings if name in (t[0], "all")] if name != "all" else timings
        if not rows:
            continue
        times = [t[1] * 1000 for t in rows]
        errors = sum(not t[2] for t in rows)
        print(f"{name:14}{len(rows):>10}{len(rows) / seconds:>9.1f}{statistics.median(times):>9.1f}"
              f"{percentile(times, 0.95):>9.1f}{percentile(times, 0.99):>9.1f}{errors:>8}")
    if published:
        times = [t * 1000 for t, _committed in published]
        committed = [c * 1000 for _t, c in published]
        print(f"publish→searchable while the load runs: {len(times)} publishes, p50 {statistics.median(times):.0f} ms,"
              f" p95 {percentile(times, 0.95):.0f} ms (of which the publish itself, in its own process: p50 "
              f"{statistics.median(committed):.0f} ms, p95 {percentile(committed, 0.95):.0f} ms)")
    print(f"server CPU (all its processes) during the run: {cpu:.1f} s, {cpu * 1000 / max(len(timings), 1):.1f} ms "
          f"per request; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skew", type=float, default=0.0,
                        help="practice pages' popularity: 0 = uniform, s = Zipf (the n-th most read ∝ 1/n^s)")
    parser.add_argument("--only", choices=[m[0].replace(" ", "-") for m in MIX],
                        help="send this endpoint alone instead of the mix")
    parser.add_argument("--contributors", type=int, default=1, help="processes publishing while the load runs")
    parser.add_argument("--server-args", default="", help='passed to exchange serve, e.g. "--workers 2"')
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "px-serve-bench")
    arguments = parser.parse_args()
    folder = arguments.cache / f"instance-{arguments.practices}"
    make_instance(folder, arguments.practices)
    # Pages an earlier run left (clients ask the same addresses in every run) would be served as they were:
    # each run starts from none, as after a deploy (a new build's pages are new).
    shutil.rmtree(folder / "cache" / "pages", ignore_errors=True)
    upgrade(folder)
    prepare_related(folder)
    practices = public_practices(arguments.practices)
    cities = sorted({p.split("/")[2] for p in practices})
    print(f"Practice Exchange serving benchmark — {os.cpu_count()} cores, {arguments.practices:,} practices, "
          f"{arguments.clients} clients, {arguments.seconds:.0f} s, skew {arguments.skew}, "
          f"{'only ' + arguments.only if arguments.only else 'the mix'}, "
          f"serve {arguments.server_args or '(defaults)'}",
          flush=True)
    process, port = start_server(folder, shlex.split(arguments.server_args))
    try:
        print(f"first search after start: {first_request(port) * 1000:.0f} ms", flush=True)
        cpu_before = tree_cpu_seconds(process.pid)
        results: multiprocessing.Queue = multiprocessing.Queue()
        until = time.monotonic() + arguments.seconds
        only = arguments.only.replace("-", " ") if arguments.only else None
        clients = [multiprocessing.Process(target=client, args=(n, port, until, practices, arguments.skew, cities,
                                                                only, results)) for n in range(arguments.clients)]
        published: multiprocessing.Queue = multiprocessing.Queue()
        contributors = [multiprocessing.Process(target=publisher, args=(n, folder, port, until, arguments.practices,
                                                                        published))
                        for n in range(arguments.contributors)]
        for each in [*clients, *contributors]:
            each.start()
        timings = [t for _ in clients for t in results.get()]
        publishes = [p for _ in contributors for p in published.get()]
        for each in [*clients, *contributors]:
            each.join()
        cpu = tree_cpu_seconds(process.pid) - cpu_before
        memory = tree_memory(process.pid)
    finally:
        stop_server(process)
    report(timings, arguments.seconds, cpu, [(p[0], p[4]) for p in publishes])
    print("server processes' resident memory at the end: " + ", ".join(f"{role} {mb:.0f} MB" for role, mb in memory))
    problems = missing_publishes(folder, publishes)
    print(f"every accepted publish checked in the database, the history, the current files and the index: "
          f"{len(publishes)} publishes, {len(problems)} missing", flush=True)
    for problem in problems:
        print(f"  missing: {problem}")
    if problems or any(not ok for _name, _seconds, ok in timings):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
