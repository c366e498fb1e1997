"""Search quality over the bundled practices, against the judged queries in tests/relevance/.

The thresholds are the figures reached when they were set (see bench/relevance.py for the table);
a change that makes search worse than that fails here.
"""

from __future__ import annotations

import pytest

from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS
from tests.relevance.evaluate import evaluate

# nDCG@10 reached when last tuned (bench/relevance.py), less 0.02 so unrelated changes do not flap.
MINIMUM_NDCG = {"all": 0.84, "english": 0.88, "indonesian": 0.82, "japanese": 0.85, "cross-language": 0.75,
                "misspelt": 0.84, "filtered": 0.89}


def ranked_ids(index, query) -> list[str]:  # type: ignore[no-untyped-def]
    results = index.search(SearchRequest(q=query.q, filters=query.filters, per_page=10),
                     frozenset({"public"}), seconds=SEARCH_SECONDS)
    ranked: list[str] = []
    for hit in results.hits:  # a result stands for its whole translation group ("also in: …")
        ranked.append(hit.id)
        ranked.extend(other for other, _language in hit.also_in)
    return list(dict.fromkeys(ranked))


@pytest.fixture(scope="module")
def scores(library_app):  # type: ignore[no-untyped-def]
    index = library_app.extensions["exchange"].search
    return evaluate(lambda query: ranked_ids(index, query))


@pytest.mark.parametrize("group", sorted(MINIMUM_NDCG))
def test_ndcg_does_not_fall(scores, group):
    ndcg, _recall, _count = scores[group]
    assert ndcg >= MINIMUM_NDCG[group], f"{group}: nDCG@10 {ndcg:.3f} < {MINIMUM_NDCG[group]}"
