"""Pool the top results of several systems for every held-out query, for judging.

    python bench/pool_heldout.py            # writes tests/relevance/heldout/pool.yaml and prints a summary
    python bench/pool_heldout.py tests/relevance/devblind    # the same for another set's queries.yaml

Systems, each cut at DEPTH ids (a hit's translations count as ranked right after it, as in the tests):
  ours       our search, the query as typed
  ours-or    our search with every word optional (the words joined with OR)
  fts5       Fts5Baseline from tests/relevance/evaluate.py (unicode61, all words, else any word)
  bm25       plain BM25, no glossary: FTS5 unicode61, bm25() over title/summary/body, any word may match
  trigram    FTS5 with the trigram tokenizer (substrings: catches misspellings and unspaced Japanese), any
             three-letter piece may match, bm25() ranking
The pool is written as query id -> sorted ids, each with the systems that found it.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.relevance import library_documents  # noqa: E402
from exchange.app import create_app  # noqa: E402
from exchange.initialise import initialise  # noqa: E402
from exchange.search.backend import SearchRequest  # noqa: E402
from tests.relevance.evaluate import Fts5Baseline  # noqa: E402

HELDOUT = Path(__file__).resolve().parent.parent / "tests" / "relevance" / "heldout"
DEPTH = 20
OPERATORS = ("OR", "AND", "NOT")


def words(query: str) -> list[str]:
    """The query's words without operators, quotes, minus signs or parentheses."""
    return [w for w in re.sub(r'["()]', " ", query).split() if w.upper() not in OPERATORS and w.strip("-")]


def ours(index, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    results = index.search(SearchRequest(q=query, per_page=DEPTH), frozenset({"public"}))
    ranked: list[str] = []
    for hit in results.hits:
        ranked.append(hit.id)
        ranked.extend(other for other, _language in hit.also_in)
    return list(dict.fromkeys(ranked))[:DEPTH]


class AnyWord:
    """FTS5 with one tokenizer, bm25() over title/summary/body, any of the query's words (or trigrams) may match."""

    def __init__(self, documents: list[dict], tokenizer: str) -> None:
        self.trigram = tokenizer == "trigram"
        self.db = sqlite3.connect(":memory:")
        self.db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, summary, body, "
                        f"tokenize='{tokenizer}')")
        for doc in documents:
            self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?)", (doc["id"], doc["title"], doc["summary"],
                                                                    doc["body"]))

    def search(self, query: str) -> list[str]:
        terms = words(query.lower())
        if self.trigram:  # every three-character piece of every word
            terms = [w[i:i + 3] for w in terms for i in range(max(1, len(w) - 2)) if len(w[i:i + 3]) == 3]
        terms = list(dict.fromkeys(t.replace('"', "") for t in terms if t))
        if not terms:
            return []
        expression = " OR ".join(f'"{t}"' for t in terms)
        rows = self.db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 2.0, 1.0) LIMIT ?",
                               (expression, DEPTH)).fetchall()
        return [r[0] for r in rows]


def main(folder: Path = HELDOUT) -> None:
    queries = yaml.safe_load((folder / "queries.yaml").read_text("utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as temporary:
        app = create_app({"INSTANCE": Path(temporary) / "instance"})
        instance = app.extensions["exchange"]
        initialise(instance, "bench", seed=True)
        documents = library_documents(instance)
        fts5 = Fts5Baseline(documents)
        bm25 = AnyWord(documents, "unicode61")
        trigram = AnyWord(documents, "trigram")
        systems = {
            "ours": lambda q: ours(instance.search, q),
            "ours-or": lambda q: ours(instance.search, " OR ".join(words(q))) if words(q) else [],
            "fts5": lambda q: fts5.search(q, {}, limit=DEPTH),
            "bm25": bm25.search,
            "trigram": trigram.search,
        }
        pool: dict[str, dict[str, list[str]]] = {}
        for entry in queries:
            found: dict[str, list[str]] = {}
            for name, system in systems.items():
                for practice_id in system(entry["query"]):
                    found.setdefault(practice_id, []).append(name)
            pool[entry["id"]] = {practice_id: found[practice_id] for practice_id in sorted(found)}
    header = (f"# Pooled top {DEPTH} of: {', '.join(systems)} (see bench/pool_heldout.py).\n"
              "# query id -> practice id -> the systems that returned it. Written by bench/pool_heldout.py.\n")
    (folder / "pool.yaml").write_text(header + yaml.safe_dump(pool, allow_unicode=True, sort_keys=True,
                                                               default_flow_style=None, width=120), "utf-8")
    sizes = [len(found) for found in pool.values()]
    print(f"{len(pool)} queries, pool size min {min(sizes)} / mean {sum(sizes) / len(sizes):.1f} / max {max(sizes)}")
    for name in systems:
        print(f"{name:<8} returned something for {sum(1 for f in pool.values() if any(name in s for s in f.values()))}"
              " queries")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HELDOUT)
