"""Our language analysers (``exchange/search/analysis.py``) as Whoosh analysers.

Whoosh pickles analysers into the index schema: this class holds nothing but its language, and must
stay importable under this module path (moving it is a change of ``SCHEMA_VERSION``).
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Analyzer
from whoosh.analysis import Token

from exchange.search.analysis import analyse


class LanguageAnalyzer(Analyzer):
    """The terms ``exchange.search.analysis.analyse`` gives for one language, as Whoosh tokens.

    Stop words are always left out (Whoosh's ``removestops=False`` is not supported: nothing of ours
    asks for it).
    """

    def __init__(self, language: str) -> None:
        self.language = language

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.language!r})"

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0, start_char: int = 0,
                 tokenize: bool = True, mode: str = "", **kwargs: object) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in analyse(value, self.language, mode, split=tokenize):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term.start:term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar, token.endchar = start_char + term.start, start_char + term.end
            yield token
