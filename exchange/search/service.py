"""Searching the index: one function answers the search page, the home box and the JSON API alike.

Permissions are part of the Whoosh query (``filter=``), so totals, facet counts, suggestions, snippets
and related practices only ever see what the viewer may read.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from markupsafe import Markup
from markupsafe import escape
from whoosh import query as wq
from whoosh.analysis import STOP_WORDS
from whoosh.collectors import TimeLimitCollector
from whoosh.searching import TimeLimit

from exchange.search import query as ql
from exchange.search.analysis import INDONESIAN_STOPWORDS
from exchange.search.analysis import JAPANESE_STOPWORDS
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import analysis_language
from exchange.search.analysis import tokens
from exchange.search.expansion import MAX_PHRASE_WORDS
from exchange.search.expansion import concepts_for
from exchange.search.expansion import expansion_parts
from exchange.search.index import SearchIndex
from exchange.search.schema import FILTER_FIELDS
from exchange.search.schema import TEXT_FIELDS

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest")
MAX_PER_PAGE = 100
TIME_LIMIT_SECONDS = 2.0
EXPANSION_BOOST = 0.3
SUGGEST_BELOW = 3
SNIPPET_CHARS = 240


@dataclass
class SearchRequest:
    """What the user asked: query text, facet filters (any value within a facet), sort and page."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


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


# Building Whoosh queries -----------------------------------------------------------------------

def _in_language(text: str, language: str, boost: float = 1.0) -> list[wq.Query]:
    """Queries for ``text`` in one language's text fields."""
    analysed = tokens(text, language)
    if not analysed:
        return []
    queries: list[wq.Query] = []
    for name in TEXT_FIELDS:
        fieldname = f"{name}_{language}"
        if len(analysed) == 1:
            queries.append(wq.Term(fieldname, analysed[0], boost=boost))
        elif name == "tags":
            queries.append(wq.And([wq.Term(fieldname, t) for t in analysed], boost=boost))
        else:
            queries.append(wq.Phrase(fieldname, analysed, boost=boost))
    return queries


def _text_query(text: str) -> wq.Query:
    """``text`` in every language, plus its glossary equivalents in our languages, ranked lower.

    Equivalents are a disjunction-max: a practice that uses several synonyms of one concept is not
    scored as if it matched several query words.
    """
    direct = [q for language in LANGUAGES for q in _in_language(text, language)]
    direct.append(wq.Term("organisation", text.lower()))
    parts = []
    for part in expansion_parts(text):
        seen: set[tuple[str, tuple[str, ...]]] = set()
        alternatives = []
        for language, terms in part.items():
            for term in terms:
                key = (language, tuple(tokens(term, language)))
                if key[1] and key not in seen:
                    seen.add(key)
                    alternatives.append(wq.Or(_in_language(term, language, EXPANSION_BOOST)))
        if alternatives:
            parts.append(wq.DisjunctionMax(alternatives, tiebreak=0.1))
    if not parts:
        return wq.Or(direct)
    return wq.Or(direct + [parts[0] if len(parts) == 1 else wq.And(parts)])


#: English function words a query may contain without requiring them ("shelters after an earthquake").
QUERY_STOPWORDS = frozenset(STOP_WORDS | set("""
about above after again against all also any because been before being below between both but did do
does doing down during each few further had has how into its just more most much must no nor now off
once only other our out over own same should so some such than their them then there these they those
through too under until up very was were what where which while who whom why would
""".split()))


def _is_stopword(word: str) -> bool:
    """True for words too common to require (the, yang, の …) in a query of several words."""
    lowered = word.lower()
    return lowered in QUERY_STOPWORDS or lowered in INDONESIAN_STOPWORDS or lowered in JAPANESE_STOPWORDS


@dataclass(frozen=True)
class _ConceptRun:
    text: str
    words: tuple[ql.Node, ...]


def _join_concept_words(nodes: tuple[ql.Node, ...]) -> list[ql.Node | _ConceptRun]:
    """Consecutive plain words that together name a glossary concept ("early warning") are also looked
    for as that concept, in every language; the words on their own still match too."""
    joined: list[ql.Node | _ConceptRun] = []
    index = 0
    while index < len(nodes):
        for size in range(MAX_PHRASE_WORDS, 1, -1):
            run = nodes[index:index + size]
            if len(run) == size and all(isinstance(n, ql.Word) for n in run):
                text = " ".join(n.text for n in run)  # type: ignore[union-attr]
                if concepts_for(text):
                    joined.append(_ConceptRun(text, tuple(run)))  # type: ignore[arg-type]
                    index += size
                    break
        else:
            joined.append(nodes[index])
            index += 1
    return joined


def _filter_query(name: str, value: str) -> wq.Query:
    value = value.strip()
    value = value.upper() if name == "country" else value.lower()
    return wq.Term(name, value)


def to_whoosh(node: ql.Node | None) -> wq.Query:
    """The Whoosh query for a parsed query tree (everything, when empty)."""
    if node is None:
        return wq.Every()
    if isinstance(node, ql.Word | ql.Phrase):
        return _text_query(node.text)
    if isinstance(node, ql.Prefix):
        return wq.Or([wq.Prefix(f"{name}_{language}", node.text.lower())
                      for language in LANGUAGES for name in TEXT_FIELDS])
    if isinstance(node, ql.Filter):
        return _filter_query(node.name, node.value)
    if isinstance(node, ql.Not):
        return wq.And([wq.Every(), wq.Not(to_whoosh(node.node))])
    if isinstance(node, ql.All):
        meaningful = [n for n in node.nodes if not (isinstance(n, ql.Word) and _is_stopword(n.text))]
        nodes = meaningful if any(not isinstance(n, ql.Not) for n in meaningful) else list(node.nodes)
        positives: list[wq.Query] = []
        for item in _join_concept_words(tuple(nodes)):
            if isinstance(item, _ConceptRun):
                positives.append(wq.Or([_text_query(item.text), wq.And([to_whoosh(w) for w in item.words])]))
            elif not isinstance(item, ql.Not):
                positives.append(to_whoosh(item))
        negatives = [wq.Not(to_whoosh(n.node)) for n in nodes if isinstance(n, ql.Not)]
        return wq.And((positives or [wq.Every()]) + negatives)
    return wq.Or([to_whoosh(n) for n in node.nodes])


def permission_filter(visibilities: frozenset[str]) -> wq.Query:
    """Only what the viewer may read: part of every search, count, facet and suggestion."""
    return wq.Or([wq.Term("visibility", v) for v in sorted(visibilities)])


# Searching ---------------------------------------------------------------------------------------

def search(index: SearchIndex, request: SearchRequest, visibilities: frozenset[str]) -> SearchResults:
    """Results for ``request`` among practices whose visibility is in ``visibilities``.

    One pass over the index collects every readable match with its score; facet counts, totals,
    grouping, sorting and the page are then worked out from per-document values cached per segment.
    """
    parsed = ql.parse(request.q)
    notices = list(parsed.notices)
    searcher = index.searcher()
    cache = index.facet_cache(searcher)
    allowed = permission_filter(visibilities)
    filters = {k: [v for v in vs if v] for k, vs in request.filters.items() if k in FILTER_FIELDS}
    newest = request.sort == "newest" or parsed.tree is None

    text_query = to_whoosh(parsed.tree)
    found, partial = _collect(searcher, text_query, allowed, scored=not newest)
    selected = _passing(cache, found, filters)
    if not selected and parsed.words():
        corrected = _suggest(searcher, parsed, allowed, filters, 0, cache)
        if corrected:
            parsed = ql.parse(corrected)
            text_query = to_whoosh(parsed.tree)
            found, partial = _collect(searcher, text_query, allowed, scored=not newest)
            selected = _passing(cache, found, filters)
            notices.append(f"Nothing matched “{request.q}”; showing results for “{corrected}”.")
    if not selected and parsed.plain and isinstance(parsed.tree, ql.All):
        any_query = to_whoosh(ql.Any(parsed.tree.nodes))
        any_found, any_partial = _collect(searcher, any_query, allowed, scored=not newest)
        if _passing(cache, any_found, filters):
            text_query, found, partial = any_query, any_found, any_partial
            selected = _passing(cache, found, filters)
            notices.append("No practice has all of these words; showing practices with any of them.")
    if partial:
        notices.append("The search took too long; these are the results found so far.")

    if newest:
        # Among translations published the same day, the original leads its group.
        ranked = sorted(selected, key=lambda d: (cache.published[d], cache.groups[d] == cache.ids[d], cache.ids[d]),
                        reverse=True)
    else:
        ranked = sorted(selected, key=lambda d: (-found[d], cache.ids[d]))
    leaders = _one_per_group(cache, ranked)
    start = (request.page - 1) * request.per_page
    shown = leaders[start:start + request.per_page]
    terms = _body_terms(text_query)
    members = _group_members(cache, visibilities)
    hits = []
    for docnum in shown:
        stored = searcher.stored_fields(docnum)
        hits.append(Hit(id=stored["id"], card=stored["card"],
                        score=None if newest else round(found[docnum], 4),
                        snippet=_snippet(searcher, docnum, stored, terms),
                        also_in=[m for m in members.get(stored["group"], []) if m[0] != stored["id"]]))
    suggestion = None
    if len(leaders) < SUGGEST_BELOW and parsed.words():
        suggestion = _suggest(searcher, parsed, allowed, filters, len(leaders), cache)
    return SearchResults(query=request.q, total=len(leaders), page=request.page, per_page=request.per_page,
                         hits=hits, facets=_facet_counts(cache, set(found), filters), suggestion=suggestion,
                         notices=notices)


def _collect(searcher, text_query: wq.Query, allowed: wq.Query, scored: bool = True  # type: ignore[no-untyped-def]
             ) -> tuple[dict[int, float], bool]:
    """Every readable match with its score (0 when unscored), and whether the time limit cut it short.

    The permission restriction is part of the query, not a collector filter: Whoosh's time-limit
    collector would bypass a filter. It adds nothing to the score.
    """
    restricted = wq.And([text_query, wq.ConstantScoreQuery(allowed, 0.0)])
    collector = searcher.collector(limit=None, scored=scored)
    timed = TimeLimitCollector(collector, timelimit=TIME_LIMIT_SECONDS, use_alarm=False)
    partial = False
    try:
        searcher.search_with_collector(restricted, timed)
    except TimeLimit:
        partial = True
    results = timed.results()
    if scored:
        return {docnum: score for score, docnum in results.top_n}, partial
    return dict.fromkeys(results.docs(), 0.0), partial


def _passing(cache, docs, filters: dict[str, list[str]], skip: str | None = None) -> set[int]:  # type: ignore[no-untyped-def]
    wanted = {name: {_normal(name, v) for v in values} for name, values in filters.items() if values and name != skip}
    if not wanted:
        return set(docs)
    passing = set()
    for doc in docs:
        values = cache.facets[doc]
        if all(any((name, v) in values for v in options) for name, options in wanted.items()):
            passing.add(doc)
    return passing


def _normal(name: str, value: str) -> str:
    return value.strip().upper() if name == "country" else value.strip().lower()


def _facet_counts(cache, matched: set[int], filters: dict[str, list[str]]) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Per facet: counts among results of every other filter, so values within a facet can be combined."""
    counts: dict[str, dict[str, int]] = {}
    unfiltered: Counter | None = None
    for name in FILTER_FIELDS:
        if any(values for other, values in filters.items() if other != name):
            counter = Counter(v for doc in _passing(cache, matched, filters, skip=name)
                              for facet, v in cache.facets[doc] if facet == name)
        else:
            if unfiltered is None:
                unfiltered = Counter(pair for doc in matched for pair in cache.facets[doc])
            counter = Counter({v: n for (facet, v), n in unfiltered.items() if facet == name})
        counts[name] = dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
    return counts


def _one_per_group(cache, ranked: list[int]) -> list[int]:  # type: ignore[no-untyped-def]
    """The best-ranked document of each translation group, in rank order."""
    seen: set[str] = set()
    leaders = []
    for docnum in ranked:
        group = cache.groups[docnum]
        if group not in seen:
            seen.add(group)
            leaders.append(docnum)
    return leaders


def _group_members(cache, visibilities: frozenset[str]) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Translation group → the (id, language) of its members the viewer may read."""
    return {group: [(i, language) for i, language, visibility in members if visibility in visibilities]
            for group, members in cache.members.items()}


def _body_terms(text_query: wq.Query) -> dict[str, set[str]]:
    """The query's terms in each body field, for highlighting."""
    terms: dict[str, set[str]] = {}
    for fieldname, text in text_query.iter_all_terms():
        if fieldname.startswith("body_"):
            terms.setdefault(fieldname, set()).add(text)
    return terms


def _snippet(searcher, docnum: int, stored: dict, terms: dict[str, set[str]]) -> Markup:  # type: ignore[no-untyped-def]
    """The passage with most matches, escaped, with <mark> around them; else the summary.

    Match positions come from the postings (character offsets stored at indexing), so showing a
    snippet never re-analyses the text: Japanese analysis is far too slow for that.
    """
    fieldname = f"body_{analysis_language(stored['card']['language'])}"
    spans: list[tuple[int, int]] = []
    for text in terms.get(fieldname, ()):
        try:
            matcher = searcher.postings(fieldname, text)
            matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                spans.extend((start, end) for _pos, start, end in matcher.value_as("characters"))
        except Exception:  # noqa: S112 - a term absent from this segment or a field without offsets
            continue
    content = stored["content"]
    if not spans:
        summary = stored["card"]["summary"]
        return escape(summary if len(summary) <= SNIPPET_CHARS else summary[:SNIPPET_CHARS - 1] + "…")
    spans.sort()
    best_start, best_count = spans[0][0], 0
    for start, _end in spans:
        count = sum(1 for s, e in spans if start <= s and e <= start + SNIPPET_CHARS)
        if count > best_count:
            best_start, best_count = start, count
    window_start = max(0, best_start - 40)
    window_end = min(len(content), window_start + SNIPPET_CHARS)
    pieces, cursor = [], window_start
    for start, end in spans:
        if start < cursor or end > window_end:
            continue
        pieces.append(escape(content[cursor:start]))
        pieces.append(Markup("<mark>") + escape(content[start:end]) + Markup("</mark>"))
        cursor = end
    pieces.append(escape(content[cursor:window_end]))
    text = Markup("").join(pieces)
    text = Markup(" ".join(str(text).split()))
    return (Markup("… ") if window_start else Markup("")) + text + (Markup(" …") if window_end < len(content) else "")


def _suggest(searcher, parsed: ql.Parsed, allowed, filters, total: int, cache) -> str | None:  # type: ignore[no-untyped-def]
    """A corrected query that finds more, built only from words of public practices."""
    corrector = searcher.corrector("spell_public")
    words = parsed.words()
    corrected = []
    for word in words:
        lowered = word.lower()
        options = corrector.suggest(lowered, limit=1, maxdist=2, prefix=1) if lowered.isalpha() else []
        corrected.append(options[0] if options and options[0] != lowered and len(lowered) > 3 else lowered)
    if corrected == [w.lower() for w in words]:
        return None
    candidate = ql.parse(" ".join(corrected))
    matched, _partial = _collect(searcher, to_whoosh(candidate.tree), allowed, scored=False)
    found = len({cache.groups[d] for d in _passing(cache, matched, filters)})
    return " ".join(corrected) if found > total else None


def related(index: SearchIndex, practice_id: str, visibilities: frozenset[str], limit: int = 5) -> list[Hit]:
    """Practices like ``practice_id`` (shared hazards, kind and key words), never its own translations."""
    searcher = index.searcher()
    docnum = searcher.document_number(id=practice_id)
    if docnum is None:
        return []
    stored = searcher.stored_fields(docnum)
    card = stored["card"]
    language = analysis_language(card["language"])
    key_terms = searcher.key_terms_from_text(f"body_{language}", stored["content"], numterms=8)
    likeness = [wq.Term(f"body_{language}", term, boost=0.5) for term, _weight in key_terms]
    likeness += [wq.Term("hazard", h, boost=2.0) for h in card["hazards"]]
    likeness += [wq.Term("kind", card["kind"]), wq.Term("phase", card["phases"][0], boost=0.5)]
    likeness += [wq.Term(f"title_{language}", t, boost=0.5) for t in tokens(card["title"], language) if len(t) > 1]
    results = searcher.search(wq.Or(likeness), filter=permission_filter(visibilities), limit=limit * 3,
                              mask=wq.Term("group", stored["group"]))
    cache = index.facet_cache(searcher)
    members = _group_members(cache, visibilities)
    hits = []
    for docnum in _one_per_group(cache, [hit.docnum for hit in results])[:limit]:
        fields = searcher.stored_fields(docnum)
        hits.append(Hit(id=fields["id"], card=fields["card"], snippet=escape(fields["card"]["summary"]), score=None,
                        also_in=[m for m in members.get(fields["group"], []) if m[0] != fields["id"]]))
    return hits


def document_ids(index: SearchIndex) -> dict[str, str]:
    """Every indexed practice id with the checksum of the text it was indexed from (for drift checks)."""
    searcher = index.searcher()
    return {fields["id"]: fields["sha"] for fields in searcher.all_stored_fields()}
