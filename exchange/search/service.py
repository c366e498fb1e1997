"""Searching the index: one function answers the search page, the home box and the JSON API alike.

Permissions are a mask over document numbers (``FacetCache.readable``), applied where a query is
evaluated, so totals, facet counts, suggestions, snippets and related practices only ever see what the
viewer may read. The statistics that scores, the key terms of related practices and spelling
suggestions are computed from come from the same documents (``Statistics``), so a restricted practice
moves no score, rank or suggestion a visitor sees either.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup
from markupsafe import escape
from whoosh import query as wq

from exchange.search import query as ql
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import analysis_language
from exchange.search.analysis import is_query_stopword
from exchange.search.analysis import tokens
from exchange.search.backend import ALL_WORDS_NOTICE
from exchange.search.backend import FACETS
from exchange.search.backend import STOPPED_NOTICE
from exchange.search.backend import TIME_LIMIT_SECONDS
from exchange.search.backend import Hit
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.backend import normal_value
from exchange.search.backend import sorted_counts
from exchange.search.evaluation import Deadline
from exchange.search.evaluation import Evaluation
from exchange.search.evaluation import Statistics
from exchange.search.expansion import MAX_PHRASE_WORDS
from exchange.search.expansion import concepts_for
from exchange.search.expansion import expansion_parts
from exchange.search.index import SearchIndex
from exchange.search.whoosh.schema import TEXT_FIELDS

log = logging.getLogger(__name__)

EXPANSION_BOOST = 0.3
SUGGEST_BELOW = 3
SNIPPET_CHARS = 240


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
    direct += [wq.Term("place", token) for token in tokens(text, "xx")]
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
    return wq.Term(name, normal_value(name, value))


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
        meaningful = [n for n in node.nodes if not (isinstance(n, ql.Word) and is_query_stopword(n.text))]
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


def search(index: SearchIndex, request: SearchRequest, visibilities: frozenset[str],
           seconds: float = TIME_LIMIT_SECONDS) -> SearchResults:
    """Results for ``request`` among practices whose visibility is in ``visibilities``.

    Matching stops once ``seconds`` have passed since it began (for all its attempts together: the query,
    a correction, any of its words): what was found by then, with a notice that the search was stopped
    (threats R-5). Opening the index and its caches comes before, and is not counted.
    """
    with index.searching() as searcher:
        return _search(index, searcher, request, visibilities, seconds)


def _search(index: SearchIndex, searcher, request: SearchRequest,  # type: ignore[no-untyped-def]
            visibilities: frozenset[str], seconds: float) -> SearchResults:
    """The query is evaluated over the whole index at once (arrays of match flags and scores); facet
    counts, totals, translation grouping, sorting and the page are then worked out with arrays of
    per-document values cached per segment. Counts are of practices: translations count once.
    """
    parsed = ql.parse(request.q)
    notices = list(parsed.notices)
    cache = index.facet_cache(searcher)
    statistics = cache.statistics(visibilities)
    readable = statistics.readable
    masks = {facet: cache.having(facet, values) for facet, values in request.facet_filters().items()}
    newest = request.sort == "newest" or parsed.tree is None

    text_query = to_whoosh(parsed.tree)
    deadline = time.monotonic() + seconds
    matched, scores, partial = _evaluate(index, searcher, text_query, statistics, deadline)
    selected = _apply(matched, masks)
    if not selected.any() and parsed.words():
        corrected = _suggest(index, searcher, parsed, statistics, masks, 0, cache, deadline)
        if corrected:
            parsed = ql.parse(corrected)
            text_query = to_whoosh(parsed.tree)
            matched, scores, partial = _evaluate(index, searcher, text_query, statistics, deadline)
            selected = _apply(matched, masks)
            notices.append(f"Nothing matched “{request.q}”; showing results for “{corrected}”.")
    if not selected.any() and parsed.plain and isinstance(parsed.tree, ql.All):
        any_query = to_whoosh(ql.Any(parsed.tree.nodes))
        any_matched, any_scores, any_partial = _evaluate(index, searcher, any_query, statistics, deadline)
        if _apply(any_matched, masks).any():
            text_query, matched, scores, partial = any_query, any_matched, any_scores, any_partial
            selected = _apply(matched, masks)
            notices.append(ALL_WORDS_NOTICE)
    if partial:
        notices.append(STOPPED_NOTICE)

    docs = np.flatnonzero(selected)
    if newest:  # among translations published the same day, the original leads its group
        original = np.fromiter((cache.groups[d] == cache.ids[d] for d in docs), bool, len(docs))
        order = np.lexsort((-docs, ~original, -cache.published[docs]))
    else:
        order = np.lexsort((docs, -scores[docs]))
    total = len(np.unique(cache.group_codes[docs]))
    start = (request.page - 1) * request.per_page
    shown = _leaders(cache, docs[order], start + request.per_page)[start:]
    terms = _body_terms(text_query)
    hits = []
    for docnum in shown:
        stored = searcher.stored_fields(docnum)
        hits.append(Hit(id=stored["id"], card=stored["card"], score=None if newest else round(float(scores[docnum]), 4),
                        snippet=_snippet(stored, terms), also_in=_also_in(cache, docnum, readable)))
    suggestion = None
    if total < SUGGEST_BELOW and parsed.words():
        suggestion = _suggest(index, searcher, parsed, statistics, masks, total, cache, deadline)
    facets = {facet: sorted_counts(cache.group_counts(facet, _apply(matched, masks, skip=facet))) for facet in FACETS}
    return SearchResults(query=request.q, total=total, page=request.page, per_page=request.per_page,
                         hits=hits, facets=facets, suggestion=suggestion, notices=notices)


def _evaluation(index: SearchIndex, searcher, statistics: Statistics,  # type: ignore[no-untyped-def]
                deadline: float) -> Evaluation:
    """An evaluation for one viewer, due to stop at ``deadline``."""
    return Evaluation(searcher, index.postings_cache(searcher), statistics, deadline)


def _evaluate(index: SearchIndex, searcher, text_query: wq.Query,  # type: ignore[no-untyped-def]
              statistics: Statistics, deadline: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """(readable matches, scores, timed out): readability is applied here, so nothing restricted is
    ever counted, suggested or shown, and the scores come from readable documents' statistics."""
    readable = statistics.readable
    try:
        matched, scores = _evaluation(index, searcher, statistics, deadline).run(text_query)
    except Deadline:
        return np.zeros(len(readable), bool), np.zeros(len(readable), np.float32), True
    return matched & readable, scores, False


def _apply(matched: np.ndarray, masks: dict[str, np.ndarray], skip: str | None = None) -> np.ndarray:
    """``matched`` narrowed by every facet filter (but ``skip``'s own, for that facet's counts)."""
    result = matched
    for facet, mask in masks.items():
        if facet != skip:
            result = result & mask
    return result


def _leaders(cache, ranked: np.ndarray, wanted: int) -> list[int]:  # type: ignore[no-untyped-def]
    """The best-ranked document of each translation group, in rank order, up to ``wanted`` of them."""
    seen: set[int] = set()
    leaders = []
    for docnum in ranked.tolist():
        group = int(cache.group_codes[docnum])
        if group not in seen:
            seen.add(group)
            leaders.append(docnum)
            if len(leaders) >= wanted:
                break
    return leaders


def _also_in(cache, docnum: int, readable: np.ndarray) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The other readable members of ``docnum``'s translation group: (id, language)."""
    others = np.flatnonzero((cache.group_codes == cache.group_codes[docnum]) & readable)
    return sorted((cache.ids[d], cache.languages[d]) for d in others.tolist() if d != docnum)


def _body_terms(text_query: wq.Query) -> dict[str, set[str]]:
    """The query's terms in each body field, for highlighting."""
    terms: dict[str, set[str]] = {}
    for fieldname, text in text_query.iter_all_terms():
        if fieldname.startswith("body_"):
            terms.setdefault(fieldname, set()).add(text)
    return terms


def _snippet(stored: dict, terms: dict[str, set[str]]) -> Markup:
    """The passage with most matches, escaped, with <mark> around the words the query matched; else
    the summary. Words are found in the stored text by their index terms (stems match any word that
    contains them), so showing a snippet never re-analyses the text."""
    language = analysis_language(stored["card"]["language"])
    content = stored["content"]
    spans = _term_spans(content, terms.get(f"body_{language}", set()), language)
    if not spans:
        summary = stored["card"]["summary"]
        return escape(summary if len(summary) <= SNIPPET_CHARS else summary[:SNIPPET_CHARS - 1] + "…")
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
    text = Markup(" ".join(str(Markup("").join(pieces)).split()))
    return (Markup("… ") if window_start else Markup("")) + text + (Markup(" …") if window_end < len(content) else "")


def _term_spans(content: str, terms: set[str], language: str) -> list[tuple[int, int]]:
    """Character ranges of the words in ``content`` that contain one of the index ``terms``."""
    usable = sorted((t for t in terms if len(t) > 1 or not t.isascii()), key=len, reverse=True)[:40]
    if not usable:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in usable), re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(content):
        start, end = match.start(), match.end()
        if language != "ja":  # Japanese has no spaces: mark the morpheme; elsewhere the whole word
            while start > 0 and content[start - 1].isalnum():
                start -= 1
            while end < len(content) and content[end].isalnum():
                end += 1
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
        if len(spans) >= 200:
            break
    return spans


def _suggest(index: SearchIndex, searcher, parsed: ql.Parsed, statistics: Statistics,  # type: ignore[no-untyped-def]
             masks: dict[str, np.ndarray], total: int, cache, deadline: float) -> str | None:
    """A corrected query that finds more, built only from words of public practices the viewer may read
    (the most frequent among them, counted in those practices alone); none past ``deadline``."""
    if time.monotonic() >= deadline:
        return None
    evaluation = _evaluation(index, searcher, statistics, deadline)
    words = parsed.words()
    corrected = []
    for word in words:
        lowered = word.lower()
        try:
            nearest = evaluation.nearest_word("spell_public", lowered, 2, 1) if lowered.isalpha() else None
        except Deadline:
            return None
        corrected.append(nearest if nearest and nearest != lowered and len(lowered) > 3 else lowered)
    if corrected == [w.lower() for w in words]:
        return None
    candidate = ql.parse(" ".join(corrected))
    matched, _scores, _partial = _evaluate(index, searcher, to_whoosh(candidate.tree), statistics, deadline)
    found = len(np.unique(cache.group_codes[_apply(matched, masks)]))
    return " ".join(corrected) if found > total else None


def related(index: SearchIndex, practice_id: str, visibilities: frozenset[str], limit: int = 5,
            seconds: float = TIME_LIMIT_SECONDS) -> list[Hit]:
    """Practices like ``practice_id`` (shared hazards, kind and key words), never its own translations;
    none when the viewer may not read ``practice_id`` itself, or once matching has taken ``seconds``."""
    with index.searching() as searcher:
        return _related(index, searcher, practice_id, visibilities, limit, seconds)


def _related(index: SearchIndex, searcher, practice_id: str, visibilities: frozenset[str],  # type: ignore[no-untyped-def]
             limit: int, seconds: float) -> list[Hit]:
    docnum = searcher.document_number(id=practice_id)
    cache = index.facet_cache(searcher)
    statistics = cache.statistics(visibilities)
    readable = statistics.readable
    if docnum is None or not readable[docnum]:
        return []
    deadline = time.monotonic() + seconds
    stored = searcher.stored_fields(docnum)
    card = stored["card"]
    language = analysis_language(card["language"])
    try:
        evaluation = _evaluation(index, searcher, statistics, deadline)
        key_terms = evaluation.key_terms(f"body_{language}", stored["content"], 8)
    except Deadline:  # as when the likeness query itself runs out of time
        return []
    likeness = [wq.Term(f"body_{language}", term, boost=0.5) for term in key_terms]
    likeness += [wq.Term("hazard", h, boost=2.0) for h in card["hazards"]]
    likeness += [wq.Term("kind", card["kind"]), wq.Term("phase", card["phases"][0], boost=0.5)]
    likeness += [wq.Term(f"title_{language}", t, boost=0.5) for t in tokens(card["title"], language) if len(t) > 1]
    matched, scores, _partial = _evaluate(index, searcher, wq.Or(likeness), statistics, deadline)
    matched &= cache.group_codes != cache.group_codes[docnum]
    docs = np.flatnonzero(matched)
    hits = []
    for other in _leaders(cache, docs[np.lexsort((docs, -scores[docs]))], limit):
        fields = searcher.stored_fields(other)
        hits.append(Hit(id=fields["id"], card=fields["card"], snippet=escape(fields["card"]["summary"]),
                        score=round(float(scores[other]), 4), also_in=_also_in(cache, other, readable)))
    return hits


def document_ids(index: SearchIndex) -> dict[str, str]:
    """Every indexed practice id with the checksum of the text it was indexed from (for drift checks)."""
    with index.searching() as searcher:
        return {fields["id"]: fields["sha"] for fields in searcher.all_stored_fields()}
