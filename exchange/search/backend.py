"""What every search engine offers (``SearchBackend``), and the engine-neutral values it speaks in.

An engine is handed ``IndexDocument``s — what each practice contributes to search — by the indexing
service (``exchange/search/indexing.py``), and answers ``SearchRequest``s with ``SearchResults`` for a
viewer given as the set of visibilities they may read. Whatever the engine, a viewer's results, totals,
facet counts, suggestions and related practices only ever come from practices they may read.

Whoosh + numpy (``exchange/search/whoosh/``) is the embedded engine. The catalogue
(``exchange/search/catalogue.py``) is the degraded one search falls back to while there is no usable
index. An engine that cannot do something says so in its ``capabilities``; tests/search/ runs the
same suite against each engine, skipping what an engine does not offer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import NamedTuple
from typing import Protocol
from typing import runtime_checkable

from markupsafe import Markup

#: The metadata a search filters on (``hazard=…``, ``hazard:tsunami``) and counts, in the order pages show them.
FACETS = ("hazard", "kind", "phase", "city", "country", "language", "year")
#: The facets a practice may have several values of; it has exactly one of each other facet.
MULTI_VALUED_FACETS = ("hazard", "phase")
#: A practice's texts that words are searched in, each analysed in the practice's language.
TEXT_FIELDS = ("title", "summary", "tags", "body")
#: ``newest``: by the date a practice says it was first published; ``updated``: by when the library received
#: its current version (a revision brings it forward).
SORTS = ("relevance", "newest", "updated")
MAX_PER_PAGE = 100
#: How long a search may spend matching before it answers without results (threats R-5).
TIME_LIMIT_SECONDS = 2.0


# What an engine may offer beyond filters, facets, permissions, totals, pages and the newest-first and
# recently-updated orders, which every engine offers.
#: Results ranked by relevance, with scores.
RANKING = "ranking"
#: Words are looked for in bodies, tags, organisations and place names too, not only titles and summaries.
FULL_TEXT = "full text"
#: Inflected forms meet (floods, flooding → flood; kebanjiran → banjir); Japanese compounds are split.
STEMMING = "stemming"
#: A word also finds its glossary equivalents in our other languages (flood → banjir, 洪水).
CROSS_LANGUAGE = "cross-language"
#: Each result shows the passage that matched, with the words marked.
SNIPPETS = "snippets"
#: "Did you mean" suggestions, and misspelt searches corrected when they find nothing.
SUGGESTIONS = "suggestions"
#: Practices like a given one.
RELATED = "related"
#: The whole query language (``query.py``): "phrases", OR, NOT / -word, prefix*, hazard: and the other named filters.
QUERY_LANGUAGE = "query language"
#: A practice and its translations count and show as one result, naming the other languages.
TRANSLATIONS_AS_ONE = "translations as one"
#: A Japanese word typed in romaji (hinanjo, bousai) finds the Japanese practices whose words read so.
ROMAJI = "romaji"
#: The engine keeps its own copy of the library, brought up to date through the indexing outbox (so a
#: publish is searchable once the outbox is drained, and ``check`` can find drift).
OWN_INDEX = "own index"
CAPABILITIES = frozenset({RANKING, FULL_TEXT, STEMMING, CROSS_LANGUAGE, SNIPPETS, SUGGESTIONS, RELATED, QUERY_LANGUAGE,
                          TRANSLATIONS_AS_ONE, OWN_INDEX, ROMAJI})


class IndexUnavailable(RuntimeError):
    """There is no usable index (missing, damaged, or of an older schema); search must degrade."""


class ReindexRunning(RuntimeError):
    """Another rebuild of this index is under way."""


@dataclass(frozen=True)
class IndexDocument:
    """What one published practice contributes to search, whatever the engine.

    ``texts`` holds the practice's ``TEXT_FIELDS`` (the body as plain text, tags joined by spaces), all
    written in ``language`` and analysed with ``exchange.search.analysis`` for it. ``places`` are its
    city's and country's names in our languages, so "Tokyo", "東京" or "Jepang" find Tokyo's practices in
    any language. ``facets`` are its (facet, value) pairs; ``card`` is what a result shows of it.
    """

    id: str
    sha256: str
    visibility: str
    #: The id of the original this practice translates, or its own: a translation group shows as one result.
    group: str
    language: str
    published: datetime.date
    #: The number of its current version, and when the library received that version (UTC): what
    #: "recently updated" orders by. Its ``visibility`` is that version's, so no viewer learns of a
    #: version they may not read from it.
    version: int
    revised: datetime.datetime
    texts: Mapping[str, str]
    organisation: str
    places: tuple[str, ...]
    facets: tuple[tuple[str, str], ...]
    card: Mapping[str, object]

    def values(self, facet: str) -> list[str]:
        """The practice's values of ``facet``."""
        return [value for name, value in self.facets if name == facet]


@runtime_checkable
class DocumentParts(Protocol):
    """Documents a rebuild may make in parts, each part in a process of its own (what ``indexing.rebuild``
    hands an engine: it is picklable and reads no database).

    Iterating gives every document; ``part(start, stop)`` gives those of sources ``start`` to ``stop`` of
    ``len()`` (some sources give none: a file that cannot be read), so parts taken in order give the
    whole, in the same order.
    """

    def __len__(self) -> int:
        ...

    def __iter__(self) -> Iterator[IndexDocument]:
        ...

    def part(self, start: int, stop: int) -> Iterator[IndexDocument]:
        """The documents of sources ``start`` to ``stop`` (not included), in order."""
        ...


@dataclass
class SearchRequest:
    """What the user asked: query text, facet filters (any value within a facet), sort and page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    #: The languages the reader reads, most preferred first: a practice shows in the first of them it
    #: has a matching version in (its other versions named beside it); none: the best-matching version.
    reads: tuple[str, ...] = ()

    def facet_filters(self) -> dict[str, list[str]]:
        """The filters on known facets that have values, each value in its indexed form."""
        wanted = {name: [normal_value(name, v) for v in values if v]
                  for name, values in self.filters.items() if name in FACETS}
        return {name: values for name, values in wanted.items() if values}


class Translation(NamedTuple):
    """Another member of a hit's translation group that the viewer may read."""

    id: str
    language: str
    title: str


@dataclass
class Hit:
    """One result: a practice's card, its highlighted snippet, and its other visible translations."""

    id: str
    card: dict
    snippet: Markup
    score: float | None
    #: The other members of its translation group the viewer may read, by id.
    translations: list[Translation] = field(default_factory=list)

    @property
    def also_in(self) -> list[tuple[str, str]]:
        """(id, language) of each of ``translations``: what pages name them by."""
        return [(translation.id, translation.language) for translation in self.translations]


@dataclass
class SearchResults:
    """A page of results with everything the page and the API show around it."""

    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    notices: list[str] = field(default_factory=list)
    degraded: bool = False
    #: The query ``total`` and ``hits`` are for when ``query`` found nothing and the engine searched this
    #: correction of it instead; None when they are for ``query`` itself.
    corrected: str | None = None
    #: How many documents the ``total`` practices are, counting each translation (pages say so when
    #: translations are grouped); None when the engine counts each translation as a practice of its own.
    documents: int | None = None

    @property
    def grouped(self) -> bool:
        """Whether translations were counted with their originals here (so ``documents`` > ``total``)."""
        return self.documents is not None and self.documents > self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# What every engine says the same way.
ALL_WORDS_NOTICE = "No practice has all of these words; showing practices with any of them."
STOPPED_NOTICE = "The search took too long and was stopped; try fewer or more specific words."


def normal_value(facet: str, value: str) -> str:
    """A facet value as it is indexed: country codes in capitals, everything else in small letters."""
    return value.strip().upper() if facet == "country" else value.strip().lower()


def sorted_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Facet counts, largest first (ties alphabetically)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class SearchBackend(Protocol):
    """A search engine: keeps a searchable copy of the library's published practices and answers searches.

    ``visibilities`` are those the viewer may read (``policy.readable_visibilities``): nothing of a
    practice of another visibility may show in what they get, not even in a score.
    """

    #: What the engine offers of ``CAPABILITIES``.
    capabilities: frozenset[str]

    def search(self, request: SearchRequest, visibilities: frozenset[str],
               seconds: float = TIME_LIMIT_SECONDS) -> SearchResults:
        """The page of results for ``request``, with its total, facet counts, suggestion and notices.

        Once matching has taken ``seconds``, the search stops and answers with no results at all and a
        notice that it was stopped (``STOPPED_NOTICE``).
        """
        ...

    def related(self, practice_id: str, visibilities: frozenset[str], limit: int = 5,
                seconds: float = TIME_LIMIT_SECONDS) -> list[Hit]:
        """Practices like ``practice_id``, never its own translations; none when the viewer may not read it."""
        ...

    def suggest(self, request: SearchRequest, visibilities: frozenset[str],
                seconds: float = TIME_LIMIT_SECONDS) -> str | None:
        """A corrected query that finds more than ``request.q`` does for the viewer, or None."""
        ...

    def update(self, practice_ids: Sequence[str], document: Callable[[str], IndexDocument | None]) -> None:
        """Bring ``practice_ids`` up to date, as one change searches see at once: each is indexed as
        ``document(practice_id)``, or dropped when that is None.

        ``document`` is called while this engine's single writer is held, so what it reads is newer than
        anything indexed before: a slower update can never put back an older text. Raises
        IndexUnavailable when there is no usable index to change.
        """
        ...

    def rebuild(self, documents: Callable[[], Iterable[IndexDocument]], wait: bool = True) -> int:
        """Build a new index of ``documents()`` and make it the one searched; the number of documents.

        Searches keep answering from the old index until then, and ``update`` keeps changing it (the
        caller replays what changed meanwhile once this returns). ``documents`` is called once this
        rebuild has begun (other rebuilds are kept out), never while the writer ``update`` needs is held.
        Raises ReindexRunning when another rebuild is under way and ``wait`` is false; else waits for it.
        """
        ...

    def check(self) -> dict[str, str]:
        """Every indexed practice id with the checksum of the text it was indexed from (for drift checks).

        Raises IndexUnavailable when there is no usable index.
        """
        ...

    def verify(self) -> None:
        """Raise IndexUnavailable unless searches can be answered from an index (missing, damaged, outdated)."""
        ...

    def sweep(self) -> list[str]:
        """Remove what rebuilds killed midway left behind (unless a rebuild is running now); what was removed."""
        ...

    def rebuilding(self) -> bool:
        """Whether a rebuild of this index is under way now, by any process (on any node that shares it)."""
        ...

    def close(self) -> None:
        """Let go of what the engine holds open (searchers, files); it opens them again when used."""
        ...
