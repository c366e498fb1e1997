"""Our analysers as Whoosh sees them: the same terms, positions and offsets Whoosh's own chains gave.

Practices indexed before analysis left Whoosh were analysed by Whoosh's ``StemmingAnalyzer`` (English)
and by chains of Whoosh filters; the terms of the bundled practices must come out exactly as they did,
or ranking moves (``bench/relevance.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.analysis import Filter
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.analysis import StemmingAnalyzer
from whoosh.analysis import StopFilter

from exchange.library.practice import parse
from exchange.library.rendering import plain_text
from exchange.search.analysis import _WORD
from exchange.search.analysis import INDONESIAN_STOPWORDS
from exchange.search.analysis import stem_indonesian
from exchange.search.whoosh.analysis import LanguageAnalyzer

PRACTICES = Path(__file__).parents[3] / "practices"


def texts(language: str) -> list[str]:
    found = []
    for path in sorted(PRACTICES.rglob("*.md")):
        practice = parse(path.read_bytes(), path.stem)
        if practice.language == language:
            found += [practice.title, practice.summary, " ".join(practice.tags or ()), plain_text(practice.body)]
    return found


class Sastrawi(Filter):
    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        for token in tokens:
            token.text = stem_indonesian(token.text)
            yield token


def whoosh_chain(language: str):  # type: ignore[no-untyped-def]
    """The analyser a language had when Whoosh's own classes did the work."""
    if language == "en":
        return StemmingAnalyzer(expression=_WORD)

    return RegexTokenizer(_WORD) | LowercaseFilter() | StopFilter(stoplist=INDONESIAN_STOPWORDS, minsize=2) | Sastrawi()


def analysed(analyser, text: str, mode: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyser(text, positions=True, chars=True, mode=mode)]


@pytest.mark.parametrize("language", ["en", "id"])
def test_terms_positions_and_offsets_are_whoosh_s(language):
    ours, theirs = LanguageAnalyzer(language), whoosh_chain(language)
    for text in texts(language) + ["The flood of the floods, and THE flooding", "banjir yang membanjiri di kampung"]:
        for mode in ("index", "query"):
            assert analysed(ours, text, mode) == analysed(theirs, text, mode), text[:60]
