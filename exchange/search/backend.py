"""The engine-neutral values search speaks in: requests, results, and the facets a search filters and counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from markupsafe import Markup

#: The metadata a search filters on (``hazard=…``, ``hazard:tsunami``) and counts, in the order pages show them.
FACETS = ("hazard", "kind", "phase", "city", "country", "language", "year")
#: The facets a practice may have several values of; it has exactly one of each other facet.
MULTI_VALUED_FACETS = ("hazard", "phase")
SORTS = ("relevance", "newest")
MAX_PER_PAGE = 100
#: How long a search may spend matching before it answers without results (threats R-5).
TIME_LIMIT_SECONDS = 2.0


class IndexUnavailable(RuntimeError):
    """There is no usable index (missing, damaged, or of an older schema); search must degrade."""


class ReindexRunning(RuntimeError):
    """Another rebuild of this index is under way."""


@dataclass
class SearchRequest:
    """What the user asked: query text, facet filters (any value within a facet), sort and page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    def facet_filters(self) -> dict[str, list[str]]:
        """The filters on known facets that have values, each value in its indexed form."""
        wanted = {name: [normal_value(name, v) for v in values if v]
                  for name, values in self.filters.items() if name in FACETS}
        return {name: values for name, values in wanted.items() if values}


@dataclass
class Hit:
    """One result: a practice's card, its highlighted snippet, and its other visible translations."""

    id: str
    card: dict
    snippet: Markup
    score: float | None
    also_in: list[tuple[str, str]] = field(default_factory=list)


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
