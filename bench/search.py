"""Search benchmark: our Whoosh search beside plain SQLite FTS5 on the same synthetic corpus.

    python bench/search.py                 # N = 1,000, 10,000 and 50,000 (takes a long while)
    python bench/search.py 1000 10000      # chosen sizes
    python bench/search.py --postgres 10000 100000   # and our PostgreSQL engine beside them
    python bench/search.py --no-whoosh 100000        # FTS5 and PostgreSQL only

With ``--postgres``, a throwaway PostgreSQL 15 server (tests/postgresql.py) holds a second instance of
the same corpus searched by the postgres engine (``SEARCH_ENGINE=postgres``); its bulk indexing, table
and index size, publish-to-searchable and repeated-query latencies are printed beside Whoosh's.

For each N it prints bulk index throughput, index size, peak memory of the indexing process,
publish-to-searchable latency (p50/p95 over 20 publishes) and query latency p50/p95 for plain,
phrase, filtered and faceted+highlighted queries through the instance's search engine
(``instance.search.search``), as the JSON API and the pages make them. Every one of our queries
computes facet counts and highlights the shown page; the FTS5 "faceted" query adds snippet() and
GROUP BY counts. Repeated queries find their postings cached; the "not cached" line empties that
cache before each query. The "distinct" lines run 300 different faceted+highlighted queries (words of
the corpus, random facet filters), each once, in a process started for them (nothing cached, as after
a restart), then the same queries again in that process; and once more in a fresh process after the
warm-up a server runs before it listens (``initialise.warm_up``). The first query after the warm-up is
timed in five more fresh processes, each with another of the distinct queries (one query alone would
say more about that query than about a first one), beside the median after warm-up and those same
queries' times when they came late. FTS5
runs the same queries the same way (its own fresh process, snippets and facet counts), and the lines
give p50/p95/p99 on both sides and their ratios. Index sizes are after a checkpoint (no WAL counted).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Corpus  # noqa: E402
from exchange.initialise import initialise  # noqa: E402
from exchange.instance import Instance  # noqa: E402
from exchange.library import cities  # noqa: E402
from exchange.library import publishing  # noqa: E402
from exchange.library.practice import parse  # noqa: E402
from exchange.library.rendering import plain_text  # noqa: E402
from exchange.models import PracticeVersion  # noqa: E402
from exchange.search.backend import SearchRequest  # noqa: E402

QUERIES = {
    "plain": ["flood warning", "evacuation shelter", "banjir", "避難所", "heatwave", "early warning", "drill",
              "pengungsian", "津波", "community"],
    "phrase": ['"early warning"', '"evacuation centre"', '"air quality"', '"peringatan dini"', '"storm surge"'],
    "filtered": [("flood", {"hazard": ["riverine-flood"]}), ("evacuation", {"language": ["en"]}),
                 ("banjir", {"country": ["ID"]}), ("避難", {"kind": ["plan"]}), ("heat", {"year": ["2024"]})],
    "faceted+highlighted": [("warning", {"hazard": ["riverine-flood", "tsunami"], "phase": ["preparedness"]}),
                            ("shelter", {"language": ["en", "id"], "kind": ["procedure", "plan"]}),
                            ("evakuasi", {"country": ["ID", "PH"]}), ("訓練", {"phase": ["preparedness"]})],
}
REPEATS = 60
DISTINCT = 300
#: The distinct queries each run first in a process of their own after the warm-up: not its own queries,
#: and late in the list, so that their times in the warmed run of all of them are typical ones.
FIRST_QUERIES = (150, 180, 210, 240, 270)
FACET_CHOICES = {"hazard": ["riverine-flood", "tsunami", "earthquake", "heatwave", "landslide"],
                 "phase": ["preparedness", "response", "recovery"], "language": ["en", "id", "ja"],
                 "country": ["ID", "JP", "AU", "PH"], "kind": ["procedure", "plan", "case-study"]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def make_instance(folder: Path, n: int, corpus: Corpus, database_url: str | None = None,
                  search_engine: str = "whoosh") -> Instance:
    """An instance holding n synthetic practices (files and catalogue written directly, not indexed)."""
    instance = Instance.open(folder, database_url, search_engine=search_engine)
    initialise(instance, "bench", seed=False)
    for slug, country in corpus.cities:
        cities.add(instance, cities.CitySpec(slug=slug, country=country, name=slug), "bench")
    with instance.db.writing() as session:
        for i in range(n):
            city, slug, data = corpus.practice(i)
            path = instance.store.library / city / f"{slug}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            history = instance.store.history / city / slug / "1.md"
            history.parent.mkdir(parents=True, exist_ok=True)
            history.write_bytes(data)
            practice = parse(data, slug)
            digest = publishing.sha256(data)
            publishing._catalogue(session, None, practice, 1, digest)
            session.add(PracticeVersion(practice_id=practice.id, version=1, sha256=digest, actor="bench"))
    return instance


def timed_rebuild(folder: Path) -> dict:
    """Run a full rebuild in a child process; its wall time and peak RSS."""
    code = ("import sys, time, json; from exchange.instance import Instance; from exchange.search import indexing;"
            f"i = Instance.open(__import__('pathlib').Path({str(folder)!r})); t = time.perf_counter();"
            "n = indexing.rebuild(i); print(json.dumps({'n': n, 'seconds': time.perf_counter() - t}))")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_mb"] = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return result


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def our_queries(instance: Instance) -> dict[str, tuple[float, float]]:
    visible = frozenset({"public"})
    out = {}
    for kind, items in QUERIES.items():
        requests = [SearchRequest(q=i) if isinstance(i, str) else SearchRequest(q=i[0], filters=i[1]) for i in items]
        for request in requests:  # warm: searcher, caches, analysers
            instance.search.search(request, visible)
        times = []
        for n in range(REPEATS):
            started = time.perf_counter()
            instance.search.search(requests[n % len(requests)], visible)
            times.append((time.perf_counter() - started) * 1000)
        out[kind] = (statistics.median(times), percentile(times, 0.95))
    return out


def our_cold_queries(instance: Instance) -> tuple[float, float]:
    """Latency of queries whose postings are not cached yet (the cache is emptied before each)."""
    visible = frozenset({"public"})
    times = []
    for items in QUERIES.values():
        for item in items:
            request = SearchRequest(q=item) if isinstance(item, str) else SearchRequest(q=item[0], filters=item[1])
            instance.search.index._postings.clear()
            started = time.perf_counter()
            instance.search.search(request, visible)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def distinct_queries(corpus: Corpus, count: int = DISTINCT, seed: int = 11) -> list[dict]:
    """``count`` different faceted queries: one to three words of the corpus's own text, one or two filters."""
    rng = random.Random(seed)
    # Japanese has no spaces: its words are runs of two to four kanji or of katakana (避難所, ボランティア),
    # not the whole sentences a letters-only pattern would take for words.
    patterns = {"ja": r"[\u4e00-\u9fff]{2,4}|[\u30a1-\u30fa\u30fc]{3,}"}
    words = {language: sorted({w for p in paragraphs for w in re.findall(patterns.get(language, r"[^\W\d_]{4,}"), p)})
             for language, paragraphs in corpus.paragraphs.items()}
    seen: set[str] = set()
    queries: list[dict] = []
    while len(queries) < count:
        language = rng.choice(["en", "en", "id", "ja"])
        q = " ".join(rng.sample(words[language], rng.randint(1, 3)))
        facets = rng.sample(sorted(FACET_CHOICES), rng.randint(1, 2))
        filters = {f: rng.sample(FACET_CHOICES[f], rng.randint(1, 2)) for f in facets}
        if q not in seen:
            seen.add(q)
            queries.append({"q": q, "filters": filters})
    return queries


def our_distinct_queries(folder: Path, queries: list[dict], warm: bool = False, database_url: str | None = None,
                         search_engine: str = "whoosh") -> dict[str, list[float]]:
    """The milliseconds of each query once in a fresh process (nothing cached; with ``warm``, after the
    warm-up a server runs before it listens, ``initialise.warm_up``), then of all again in it."""
    code = ("import json, sys, time, pathlib; from exchange.instance import Instance;"
            "from exchange.search.backend import SearchRequest; from exchange.initialise import warm_up;"
            f"i = Instance.open(pathlib.Path({str(folder)!r}), {database_url!r}, search_engine={search_engine!r});"
            " queries = json.load(sys.stdin); out = {}\n"
            f"if {warm}: warm_up(i)\n"
            "for name in ('fresh', 'repeated'):\n"
            "    times = []\n"
            "    for item in queries:\n"
            "        t = time.perf_counter(); i.search.search(SearchRequest(q=item['q'], filters=item['filters']),"
            " frozenset({'public'})); times.append((time.perf_counter() - t) * 1000)\n"
            "    out[name] = times\n"
            "import resource; out['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
            "print(json.dumps(out))")
    return _times_from(code, queries)


def first_queries(folder: Path, queries: list[dict]) -> list[dict[str, float]]:
    """For each of ``queries``, a fresh process that runs the warm-up a server runs before it listens
    (``initialise.warm_up``) and then that query first: the warm-up's seconds and the query's milliseconds."""
    code = ("import json, sys, time, pathlib; from exchange.instance import Instance;"
            "from exchange.search.backend import SearchRequest; from exchange.initialise import warm_up;"
            f"i = Instance.open(pathlib.Path({str(folder)!r})); item = json.load(sys.stdin)\n"
            "t = time.perf_counter(); warm_up(i); warm = time.perf_counter() - t\n"
            "t = time.perf_counter(); i.search.search(SearchRequest(q=item['q'], filters=item['filters']),"
            " frozenset({'public'})); first = (time.perf_counter() - t) * 1000\n"
            "print(json.dumps({'warm_up': warm, 'first': first}))")
    return [_times_from(code, item) for item in queries]


def fts_distinct_queries(folder: Path, queries: list[dict]) -> dict[str, list[float]]:
    """The same distinct queries through FTS5 doing the same work (ranked page with snippets, and the
    facet counts), once in a fresh process and then again in it."""
    code = ("import json, sys, time, pathlib; sys.path.insert(0, '.'); from bench.search import Fts5;"
            f"fts = Fts5(pathlib.Path({str(folder)!r}), create=False); queries = json.load(sys.stdin); out = {{}}\n"
            "for name in ('fresh', 'repeated'):\n"
            "    times = []\n"
            "    for item in queries:\n"
            "        t = time.perf_counter(); fts.query('faceted+highlighted', (item['q'], item['filters']));"
            " times.append((time.perf_counter() - t) * 1000)\n"
            "    out[name] = times\n"
            "print(json.dumps(out))")
    return _times_from(code, queries)


def _times_from(code: str, queries: list[dict] | dict) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, input=json.dumps(queries), capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``values``."""
    return statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)


def our_publish_latency(instance: Instance, corpus: Corpus, n: int) -> tuple[float, float]:
    times = []
    for k in range(20):
        marker = f"benchmarker{k:03d}zz"
        city, slug, data = corpus.practice(k * 37 % n, marker=marker)
        started = time.perf_counter()
        publishing.publish(instance, data, slug, "bench")
        found = instance.search.search(SearchRequest(q=marker), frozenset({"public", "partners"})).total
        times.append((time.perf_counter() - started) * 1000)
        assert found == 1, f"{marker} not searchable right after publishing"
    return statistics.median(times), percentile(times, 0.95)


class Fts5:
    """The same corpus in SQLite FTS5 (unicode61, bm25) with a metadata table."""

    def __init__(self, folder: Path, create: bool = True) -> None:
        self.db = sqlite3.connect(folder / "fts.db")
        if not create:
            return
        self.db.executescript("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE VIRTUAL TABLE docs USING fts5(title, summary, body, tokenize='unicode61');
            CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, language TEXT, kind TEXT, country TEXT,
                              year TEXT, hazards TEXT, phases TEXT, visibility TEXT);
            CREATE INDEX meta_visibility ON meta(visibility);
        """)

    def load(self, corpus: Corpus, n: int) -> float:
        started = time.perf_counter()
        with self.db:
            for i in range(n):
                self._insert(i, *corpus.practice(i))
        return time.perf_counter() - started

    def _insert(self, rowid: int, city: str, slug: str, data: bytes) -> None:
        p = parse(data, slug)
        self.db.execute("INSERT OR REPLACE INTO docs(rowid, title, summary, body) VALUES (?,?,?,?)",
                        (rowid, p.title, p.summary, plain_text(p.body)))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?,?,?,?,?,?,?,?,?)",
                        (rowid, p.id, p.language, p.kind, p.country, str(p.published.year), ",".join(p.hazards),
                         ",".join(p.phases), p.visibility))

    def query(self, kind: str, item) -> None:  # type: ignore[no-untyped-def]
        q, filters = (item, {}) if isinstance(item, str) else item
        # As ours: one or two words must all match; of three or more, any (ranked by how many match).
        words = q.split()
        expression = q if q.startswith('"') else (" AND " if len(words) <= 2 else " OR ").join(f'"{w}"' for w in words)
        where, args = ["docs MATCH ?", "m.visibility = 'public'"], [expression]
        for name, values in filters.items():
            column = {"hazard": "hazards", "phase": "phases"}.get(name, name)
            where.append("(" + " OR ".join(f"m.{column} LIKE ?" for _ in values) + ")")
            args += [f"%{v}%" for v in values]
        sql = " FROM docs JOIN meta m ON m.rowid = docs.rowid WHERE " + " AND ".join(where)
        if kind == "faceted+highlighted":
            self.db.execute("SELECT m.id, snippet(docs, 2, '<mark>', '</mark>', '…', 20)" + sql +
                            " ORDER BY bm25(docs, 3.0, 2.0, 1.0) LIMIT 20", args).fetchall()
            for column in ("language", "kind", "country", "year", "hazards", "phases"):
                self.db.execute(f"SELECT m.{column}, count(*)" + sql + f" GROUP BY m.{column}", args).fetchall()
        else:
            self.db.execute("SELECT m.id" + sql + " ORDER BY bm25(docs, 3.0, 2.0, 1.0) LIMIT 20", args).fetchall()

    def timings(self) -> dict[str, tuple[float, float]]:
        out = {}
        for kind, items in QUERIES.items():
            times = []
            for n in range(REPEATS):
                started = time.perf_counter()
                self.query(kind, items[n % len(items)])
                times.append((time.perf_counter() - started) * 1000)
            out[kind] = (statistics.median(times), percentile(times, 0.95))
        return out

    def publish_latency(self, corpus: Corpus, n: int) -> tuple[float, float]:
        times = []
        for k in range(20):
            city, slug, data = corpus.practice(k * 37 % n, marker=f"benchmarker{k:03d}zz")
            started = time.perf_counter()
            with self.db:
                self._insert(k * 37 % n, city, slug, data)
            self.db.execute("SELECT rowid FROM docs WHERE docs MATCH ?", (f"benchmarker{k:03d}zz",)).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), percentile(times, 0.95)


def postgres_run(folder: Path, n: int, corpus: Corpus, server,  # type: ignore[no-untyped-def]
                 queries: list[dict]) -> dict:
    """The postgres engine over the same corpus, in a database of ``server``: what ``run`` prints beside Whoosh."""
    from exchange.search import indexing

    url = server.create_database()
    try:
        instance = make_instance(folder, n, corpus, url, "postgres")
        started = time.perf_counter()
        indexed = indexing.rebuild(instance)
        seconds = time.perf_counter() - started
        print(f"postgres engine: {indexed:,} practices indexed in {seconds:.0f} s", flush=True)
        with instance.db.session() as session:
            size = session.execute(sa.text("SELECT pg_total_relation_size('search_documents')")).scalar() or 0
        with instance.db.engine.connect() as connection:  # the planner's statistics, as autovacuum gathers them
            connection.execute(sa.text("ANALYZE search_documents"))
            connection.commit()
        result = {"per_second": indexed / seconds, "mb": size / 2**20, "queries": our_queries(instance),
                  "distinct": our_distinct_queries(folder, queries, database_url=url, search_engine="postgres"),
                  "publish": our_publish_latency(instance, corpus, n)}
        instance.db.dispose()
        return result
    finally:
        server.drop_database(url)


def run(n: int, corpus: Corpus, server=None) -> None:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix=f"px-bench-{n}-"))
    try:
        started = time.perf_counter()
        instance = make_instance(folder / "instance", n, corpus)
        print(f"\n== N = {n:,}  (corpus written in {time.perf_counter() - started:.0f} s)", flush=True)
        rebuild = timed_rebuild(folder / "instance")
        live = instance.search.index.live_folder()
        size = folder_mb(live)
        ours = our_queries(instance)
        cold = our_cold_queries(instance)
        queries = distinct_queries(corpus)
        distinct = our_distinct_queries(folder / "instance", queries)
        warmed = our_distinct_queries(folder / "instance", queries, warm=True)
        firsts = first_queries(folder / "instance", [queries[i] for i in FIRST_QUERIES])
        publish = our_publish_latency(instance, corpus, n)
        fts = Fts5(folder)
        fts_seconds = fts.load(corpus, n)
        fts.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # its size without a write-ahead log, as ours
        fts_size = (folder / "fts.db").stat().st_size / 2**20
        fts_distinct = fts_distinct_queries(folder, queries)
        fts_queries = fts.timings()
        fts_publish = fts.publish_latency(corpus, n)
        print(f"FTS5: {n:,} practices loaded in {fts_seconds:.0f} s", flush=True)
        pg = postgres_run(folder / "postgres", n, corpus, server, queries) if server else None
        if pg:
            print(f"{'':34}{'Whoosh (ours)':>18}{'SQLite FTS5':>18}{'PostgreSQL (ours)':>20}")
            print(f"{'bulk index, practices/s':34}{rebuild['n'] / rebuild['seconds']:>18.1f}{n / fts_seconds:>18.1f}"
                  f"{pg['per_second']:>20.1f}")
            print(f"{'index size, MB':34}{size:>18.1f}{fts_size:>18.1f}{pg['mb']:>20.1f}")
            print(f"{'publish→searchable p50/p95, ms':34}{publish[0]:>10.0f} /{publish[1]:>6.0f}"
                  f"{fts_publish[0]:>10.1f} /{fts_publish[1]:>6.1f}{pg['publish'][0]:>12.1f} /{pg['publish'][1]:>6.1f}")
            for kind in QUERIES:
                a, b, c = ours[kind], fts_queries[kind], pg["queries"][kind]
                print(f"{kind + ' p50/p95, ms':34}{a[0]:>10.1f} /{a[1]:>6.1f}{b[0]:>10.1f} /{b[1]:>6.1f}"
                      f"{c[0]:>12.1f} /{c[1]:>6.1f}", flush=True)
            for label, name, mine in (("distinct p50/p95, fresh process", "fresh", distinct),
                                      ("distinct p50/p95, the same again", "repeated", distinct)):
                a, b, c = spread(mine[name]), spread(fts_distinct[name]), spread(pg["distinct"][name])
                print(f"{label:34}{a[0]:>10.1f} /{a[1]:>6.1f}{b[0]:>10.1f} /{b[1]:>6.1f}{c[0]:>12.1f} /{c[1]:>6.1f}",
                      flush=True)
            print()
        print(f"{'':34}{'Whoosh (ours)':>18}{'SQLite FTS5':>18}")
        print(f"{'bulk index, practices/s':34}{rebuild['n'] / rebuild['seconds']:>18.1f}{n / fts_seconds:>18.1f}")
        print(f"{'index size, MB':34}{size:>18.1f}{fts_size:>18.1f}")
        print(f"{'peak memory while indexing, MB':34}{rebuild['peak_mb']:>18.0f}{'-':>18}")
        print(f"{'publish→searchable p50/p95, ms':34}{publish[0]:>10.0f} /{publish[1]:>6.0f}"
              f"{fts_publish[0]:>10.1f} /{fts_publish[1]:>6.1f}")
        for kind in QUERIES:
            a, b = ours[kind], fts_queries[kind]
            print(f"{kind + ' p50/p95, ms':34}{a[0]:>10.1f} /{a[1]:>6.1f}{b[0]:>10.1f} /{b[1]:>6.1f}", flush=True)
        print(f"{'any query, postings not cached':34}{cold[0]:>10.1f} /{cold[1]:>6.1f}{'-':>18}", flush=True)
        print(f"\n{len(queries)} distinct faceted+highlighted queries    p50 / p95 / p99, ms (ours)"
              f"      FTS5 p50 / p95 / p99     ratio p50 / p95")
        for mine, theirs, name, label in ((distinct, fts_distinct, "fresh", "fresh process"),
                                          (warmed, fts_distinct, "fresh", "fresh process after warm-up"),
                                          (distinct, fts_distinct, "repeated", "the same again")):
            a, b = spread(mine[name]), spread(theirs[name])
            print(f"{label:34}{a[0]:>8.1f} /{a[1]:>6.1f} /{a[2]:>6.1f}{b[0]:>12.1f} /{b[1]:>5.1f} /{b[2]:>5.1f}"
                  f"{a[0] / b[0]:>10.1f}× /{a[1] / b[1]:>4.1f}×", flush=True)
        median = statistics.median(warmed["fresh"])
        first = [f["first"] for f in firsts]
        later = [warmed["fresh"][i] for i in FIRST_QUERIES]
        print(f"{'first of the 300: cold / warmed':34}{distinct['fresh'][0]:>8.1f} /{warmed['fresh'][0]:>6.1f} ms"
              f"  ({warmed['fresh'][0] / median:.1f}× the median after warm-up: one query, often a costly one)",
              flush=True)
        print(f"first query after warm-up, {len(first)} processes each with another query: p50 / max "
              f"{statistics.median(first):.1f} / {max(first):.1f} ms ({statistics.median(first) / median:.1f}× / "
              f"{max(first) / median:.1f}× the median after warm-up, {median:.1f} ms); the same queries later "
              f"in a warmed process {statistics.median(later):.1f} / {max(later):.1f} ms; warm-up "
              f"{statistics.median(f['warm_up'] for f in firsts):.1f} s", flush=True)
        print(f"memory of a searching process (peak resident, after the warm-up and twice the 300 queries): "
              f"{warmed['peak_mb']:.0f} MB", flush=True)
        instance.search.close()
        instance.db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_without_whoosh(n: int, corpus: Corpus, server) -> None:  # type: ignore[no-untyped-def]
    """FTS5 and the postgres engine only (``--no-whoosh``: Whoosh's own rebuild takes most of an hour at 100,000)."""
    folder = Path(tempfile.mkdtemp(prefix=f"px-bench-{n}-"))
    try:
        print(f"\n== N = {n:,}  (Whoosh not run)", flush=True)
        queries = distinct_queries(corpus)
        fts = Fts5(folder)
        fts_seconds = fts.load(corpus, n)
        fts.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fts_size = (folder / "fts.db").stat().st_size / 2**20
        fts_distinct = fts_distinct_queries(folder, queries)
        fts_queries = fts.timings()
        fts_publish = fts.publish_latency(corpus, n)
        print(f"FTS5: {n:,} practices loaded in {fts_seconds:.0f} s", flush=True)
        pg = postgres_run(folder / "postgres", n, corpus, server, queries)
        print(f"{'':34}{'SQLite FTS5':>18}{'PostgreSQL (ours)':>20}")
        print(f"{'bulk index, practices/s':34}{n / fts_seconds:>18.1f}{pg['per_second']:>20.1f}")
        print(f"{'index size, MB':34}{fts_size:>18.1f}{pg['mb']:>20.1f}")
        print(f"{'publish→searchable p50/p95, ms':34}{fts_publish[0]:>10.1f} /{fts_publish[1]:>6.1f}"
              f"{pg['publish'][0]:>12.1f} /{pg['publish'][1]:>6.1f}")
        for kind in QUERIES:
            b, c = fts_queries[kind], pg["queries"][kind]
            print(f"{kind + ' p50/p95, ms':34}{b[0]:>10.1f} /{b[1]:>6.1f}{c[0]:>12.1f} /{c[1]:>6.1f}", flush=True)
        for label, name in (("distinct p50/p95/p99, fresh process", "fresh"),
                            ("distinct p50/p95/p99, the same again", "repeated")):
            b, c = spread(fts_distinct[name]), spread(pg["distinct"][name])
            print(f"{label:38}{b[0]:>7.1f} /{b[1]:>6.1f} /{b[2]:>6.1f}{c[0]:>9.1f} /{c[1]:>6.1f} /{c[2]:>6.1f}"
                  f"   ratio p95 {c[1] / b[1]:.1f}×", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    arguments = sys.argv[1:]
    postgres = "--postgres" in arguments
    without_whoosh = "--no-whoosh" in arguments
    postgres = postgres or without_whoosh
    sizes = [int(a) for a in arguments if not a.startswith("--")] or [1000, 10000, 50000]
    corpus = Corpus()
    print(f"Practice Exchange search benchmark — {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    server = None
    if postgres:
        from tests.postgresql import PostgreSQLServer

        server = PostgreSQLServer.start()
    try:
        for n in sizes:
            if without_whoosh:
                run_without_whoosh(n, corpus, server)
            else:
                run(n, corpus, server)
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    random.seed(0)
    main()
