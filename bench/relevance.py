"""Print nDCG@10 and recall@10 per query group: our search beside plain SQLite FTS5 on the same data, for the
development sets (tests/relevance/queries.yaml and the blind tests/relevance/devblind/, tuned on) and the held-out set
(tests/relevance/heldout/, only measured). ``--dev`` prints the development sets only (while tuning);
``--postgres`` measures the PostgreSQL engine (``SEARCH_ENGINE=postgres``, on a throwaway PostgreSQL 15
server from tests/postgresql.py) in place of Whoosh.

    python bench/relevance.py
    python bench/relevance.py --postgres
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exchange.app import create_app  # noqa: E402
from exchange.initialise import initialise  # noqa: E402
from exchange.library.practice import parse  # noqa: E402
from exchange.library.rendering import plain_text  # noqa: E402
from exchange.search.documents import facet_values  # noqa: E402
from tests.relevance.evaluate import DEVBLIND  # noqa: E402
from tests.relevance.evaluate import HELDOUT  # noqa: E402
from tests.relevance.evaluate import LONG  # noqa: E402
from tests.relevance.evaluate import QUERIES  # noqa: E402
from tests.relevance.evaluate import Fts5Baseline  # noqa: E402
from tests.relevance.evaluate import evaluate  # noqa: E402
from tests.test_relevance import ranked_ids  # noqa: E402


def library_documents(instance) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every current practice as a plain document (id, title, summary, body text, facets) for the baselines."""
    documents = []
    for practice_id in instance.store.practice_ids():
        practice = parse(instance.store.read_current(practice_id), practice_id.split("/")[1])
        facets: dict[str, list[str]] = {}
        for name, value in facet_values(practice):
            facets.setdefault(name, []).append(value)
        documents.append({"id": practice_id, "title": practice.title, "summary": practice.summary,
                          "body": plain_text(practice.body), "facets": facets})
    return documents


def main() -> None:
    if "--postgres" not in sys.argv:
        measure({})
        return
    from tests.postgresql import PostgreSQLServer

    server = PostgreSQLServer.start()
    try:
        measure({"DATABASE_URL": server.create_database(), "SEARCH_ENGINE": "postgres"})
    finally:
        server.stop()


def measure(settings: dict) -> None:
    print(f"engine: {settings.get('SEARCH_ENGINE', 'whoosh')}")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE": Path(folder) / "instance", **settings})
        instance = app.extensions["exchange"]
        initialise(instance, "bench", seed=True)
        documents = library_documents(instance)
        words, trigrams = Fts5Baseline(documents), Fts5Baseline(documents, "trigram")
        sets = {name: (evaluate(lambda query: ranked_ids(instance.search, query), path),
                       evaluate(lambda query: words.search(query.q, query.filters), path),
                       evaluate(lambda query: trigrams.search(query.q, query.filters), path))
                for name, path in (("development", QUERIES), ("blind development", DEVBLIND), ("held-out", HELDOUT))
                if name != "held-out" or "--dev" not in sys.argv}
    # FTS5: SQLite FTS5 with the unicode61 (word) tokenizer; tri: with the trigram tokenizer.
    print(f"{'':<17}" + "".join(f"{name:<60}" for name in sets).rstrip())
    columns = f"{'queries':>8}{'nDCG@10':>10}{'FTS5':>7}{'tri':>7}{'recall@10':>11}{'FTS5':>7}{'tri':>7}    "
    print((f"{'group':<17}" + columns * len(sets)).rstrip())
    for group in ["english", "indonesian", "japanese", "cross-language", "misspelt", "filtered", LONG, "all"]:
        line = f"{group:<17}"
        for ours, fts5, trigram in sets.values():
            if group in ours:
                n1, r1, count = ours[group]
                n2, r2, _ = fts5[group]
                n3, r3, _ = trigram[group]
                line += f"{count:>8}{n1:>10.3f}{n2:>7.3f}{n3:>7.3f}{r1:>11.3f}{r2:>7.3f}{r3:>7.3f}    "
            else:
                line += f"{'-':>8}{'':>49}    "
        print(line.rstrip())


if __name__ == "__main__":
    main()
