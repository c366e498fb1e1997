"""Relevance evaluation: nDCG@10 and recall@10 of a ranking against graded judgements."""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

QUERIES = Path(__file__).parent / "queries.yaml"
DEVBLIND = Path(__file__).parent / "devblind" / "judgments.yaml"  # written blind, may be tuned on
HELDOUT = Path(__file__).parent / "heldout" / "judgments.yaml"  # frozen: measured, never tuned on
K = 10
LONG = "long (5+ words)"
# A word: a run of one script (kanji, hiragana, katakana) or anything else between spaces, so that an unspaced
# Japanese phrase counts roughly as many words as its English equivalent (particles count, as "of" and "the" do).
_WORD = re.compile(r"[\u4e00-\u9fff\u3005]+|[\u3040-\u309f]+|[\u30a0-\u30ff]+|[^\s\u3040-\u30ff\u4e00-\u9fff\u3005]+")


@dataclass(frozen=True)
class Judged:
    id: str
    group: str
    q: str
    filters: dict[str, list[str]]
    relevant: dict[str, int]
    tags: tuple[str, ...] = ()


def judged_queries(path: Path = QUERIES) -> list[Judged]:
    """The judged queries of one set (QUERIES, the development set, or HELDOUT); those with nothing relevant are left
    out, since no ranking can score on them."""
    return [Judged(e["id"], e["group"], e["q"], {k: [str(x) for x in v] for k, v in (e.get("filters") or {}).items()},
                   dict(e["relevant"]), tuple(e.get("tags") or ()))
            for e in yaml.safe_load(path.read_text("utf-8")) if e["relevant"]]


def words(q: str) -> int:
    return len(_WORD.findall(q))


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    gains = [relevant.get(doc, 0) for doc in ranked[:k]]
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    best = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def evaluate(rank: Callable[[Judged], list[str]], path: Path = QUERIES) -> dict[str, tuple[float, float, int]]:
    """Group → (mean nDCG@10, mean recall@10, number of queries); "all" for every query, LONG for those of 5+ words."""
    scores: dict[str, list[tuple[float, float]]] = {}
    for query in judged_queries(path):
        ranked = rank(query)
        pair = (ndcg(ranked, query.relevant), recall(ranked, query.relevant))
        scores.setdefault(query.group, []).append(pair)
        scores.setdefault("all", []).append(pair)
        if words(query.q) >= 5:
            scores.setdefault(LONG, []).append(pair)
    return {group: (sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs), len(pairs))
            for group, pairs in scores.items()}


class Fts5Baseline:
    """Plain SQLite FTS5 (bm25) over the same documents: all words, then any word. ``tokenizer`` is FTS5's
    ``unicode61`` (words) or ``trigram`` (three-character pieces: a word matches inside longer ones and
    through small misspellings' unchanged parts; words shorter than three characters are left out)."""

    def __init__(self, documents: list[dict], tokenizer: str = "unicode61") -> None:
        self.trigram = tokenizer == "trigram"
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, summary, body, "
                        f"meta UNINDEXED, tokenize='{tokenizer}')")
        self.meta: dict[str, dict] = {}
        for doc in documents:
            self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, '')", (doc["id"], doc["title"], doc["summary"],
                                                                       doc["body"]))
            self.meta[doc["id"]] = doc["facets"]

    def search(self, q: str, filters: dict[str, list[str]], limit: int = K) -> list[str]:
        words = [w for w in q.replace('"', " ").split() if w.upper() not in ("OR", "AND", "NOT")
                 and (len(w) >= 3 or not self.trigram)]
        if not words:
            candidates = list(self.meta)
        else:
            candidates = self._match(" AND ".join(f'"{w}"' for w in words)) or \
                self._match(" OR ".join(f'"{w}"' for w in words))
        kept = [d for d in candidates
                if all(not vs or set(vs) & set(self.meta[d].get(k, ())) for k, vs in filters.items())]
        return kept[:limit]

    def _match(self, expression: str) -> list[str]:
        rows = self.db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 2.0, 1.0) LIMIT 200",
                               (expression,)).fetchall()
        return [r[0] for r in rows]
