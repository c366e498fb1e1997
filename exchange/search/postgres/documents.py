"""An ``IndexDocument`` as a row of ``search_documents``: its terms written as a tsvector literal.

The terms are exactly those the Whoosh engine indexes (``exchange.search.analysis.analyse`` in the
practice's language, mode "index"): PostgreSQL's own parsers and dictionaries never see the text, so
Indonesian (Sastrawi), Japanese (MeCab) and English (Porter) are analysed alike in both engines. Each
term keeps its word positions (for phrases and cover density) and the weight of the text it is in:
title A, summary B, tags C, body D. Besides the words, the vector holds a few kinds of marked term that
no analysed word can be (each begins with a character our analysers never keep at a word's start):

- ``~key``: a glossary concept the practice names (``concepts.py``): weight B in its title, summary,
  tags or metadata, D in its body, so a query meets it in any language;
- ``@term``: a term of its city's and country's names in our languages (weight C);
- ``%word``: a word of its organisation (weight B);
- ``^key``: how a Japanese practice's words read (``analysis.reading_terms``), for words typed in romaji:
  weight C in its title, summary or tags, D in its body (below the words themselves).

Beside the terms, a row keeps the words it brings to spelling's vocabulary (``vocabulary.py``): its
texts' words as written, and for an Indonesian practice its body's root words.
"""

from __future__ import annotations

from collections import defaultdict

from exchange.search.analysis import analyse
from exchange.search.analysis import analysis_language
from exchange.search.analysis import reading_terms
from exchange.search.backend import IndexDocument
from exchange.search.concepts import concept_keys
from exchange.search.concepts import metadata_keys
from exchange.search.spelling import word_uses

#: The tsvector weight of each of ``TEXT_FIELDS``.
TEXT_WEIGHTS = {"title": "A", "summary": "B", "tags": "C", "body": "D"}
CONCEPT = "~"
PLACE = "@"
ORGANISATION = "%"
READING = "^"
#: Bumped whenever analysis or the row's terms or columns change: rows of another version are rebuilt
#: (2: ``revised``, migration 0026; 3: romaji readings; 4: rows keep their spelling vocabulary).
SCHEMA_VERSION = 4
#: PostgreSQL keeps word positions up to 16,383 and at most 256 positions of one lexeme, and refuses a
#: lexeme of 2 KB or more (a whole row would then fail, and the outbox retry it for ever): longer terms
#: (a pasted hash, a run of letters) are left out, as no one searches for them.
MAX_LEXEME_BYTES = 2_046
MAX_POSITION = 16_383
MAX_POSITIONS_PER_TERM = 255
#: Positions left empty between two texts, so a phrase never runs from one into the next.
GAP = 2


class _Vector:
    """Terms with their positions and weights, written as a tsvector literal."""

    def __init__(self) -> None:
        self.positions: dict[str, list[str]] = defaultdict(list)
        self.next = 1

    def add(self, term: str, position: int, weight: str) -> None:
        if len(term.encode("utf-8")) > MAX_LEXEME_BYTES:
            return
        kept = self.positions[term]
        if position <= MAX_POSITION and len(kept) < MAX_POSITIONS_PER_TERM:
            kept.append(f"{position}{weight}")

    def add_text(self, terms: list[tuple[str, int]], weight: str) -> None:
        """Terms at their word positions, after everything added so far."""
        start = self.next
        last = -1
        for term, position in terms:
            self.add(term, start + position, weight)
            last = max(last, position)
        self.next = start + last + 1 + GAP

    def literal(self) -> str:
        return " ".join(f"{quoted(term)}:{','.join(places)}" for term, places in self.positions.items() if places)


def quoted(term: str) -> str:
    """``term`` as a tsvector or tsquery lexeme: in single quotes, quotes and backslashes doubled."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def row(document: IndexDocument) -> dict:
    """The column values of ``document``'s row."""
    language = analysis_language(document.language)
    texts = document.texts
    vector = _Vector()
    for name, weight in TEXT_WEIGHTS.items():
        vector.add_text([(t.text, t.position) for t in analyse(texts[name], language, "index")], weight)
    head = [key for name in ("title", "summary", "tags") for key in concept_keys(texts[name], document.language)]
    head += metadata_keys([value for facet in ("hazard", "kind", "phase") for value in document.values(facet)])
    vector.add_text([(CONCEPT + key, i) for i, key in enumerate(head)], "B")
    vector.add_text([(CONCEPT + key, i) for i, key in enumerate(concept_keys(texts["body"], document.language))], "D")
    places = [t for place in document.places for t in analyse(place, "xx", "index")]
    vector.add_text([(PLACE + t.text, i) for i, t in enumerate(places)], "C")
    vector.add_text([(ORGANISATION + t.text, t.position) for t in analyse(document.organisation, "xx", "index")], "B")
    # last: a long Japanese body's readings may run past the positions PostgreSQL keeps, and nothing after
    # them should be lost
    readings = [key for name in ("title", "summary", "tags") for key in reading_terms(texts[name], document.language)]
    vector.add_text([(READING + key, i) for i, key in enumerate(readings)], "C")
    vector.add_text([(READING + key, i) for i, key in enumerate(reading_terms(texts["body"], document.language))], "D")
    [city] = document.values("city")
    [country] = document.values("country")
    [kind] = document.values("kind")
    [year] = document.values("year")
    return {"id": document.id, "group_id": document.group, "sha256": document.sha256,
            "visibility": document.visibility, "language": document.language, "published": document.published,
            "revised": document.revised, "city": city, "country": country, "kind": kind, "year": year,
            "hazards": document.values("hazard"), "phases": document.values("phase"), "card": dict(document.card),
            "content": texts["body"], "terms": vector.literal(), "vocabulary": vocabulary(document)}


#: The sources of ``search_words``: the texts' words as written, and Indonesian bodies' root words.
WORDS = "word"
INDONESIAN_ROOTS = "id"


def vocabulary(document: IndexDocument) -> dict[str, dict[str, int]]:
    """The words ``document`` brings to spelling's vocabulary, by source, with how often it uses each."""
    texts = document.texts
    found = {WORDS: dict(word_uses([texts[name] for name in ("title", "summary", "tags", "body")]))}
    if analysis_language(document.language) == "id":
        roots: dict[str, int] = defaultdict(int)
        for term in analyse(texts["body"], "id", "index"):
            roots[term.text] += 1
        found[INDONESIAN_ROOTS] = dict(roots)
    return found
