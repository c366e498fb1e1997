"""The PostgreSQL engine behind the ``SearchBackend`` protocol, for networks past one node's Whoosh index.

Its index is the ``search_documents`` table (migration 0022): a row per published practice whose
``terms`` tsvector holds the terms of our own analysers (``documents.py``), with GIN indexes. Every node
of a network searches the same rows, kept up to date through the same outbox as the Whoosh engine
(``exchange/search/indexing.py``). A query is translated to SQL (``queries.py``); the viewer's
visibilities are a condition of that SQL, so totals, facet counts, ranks, snippets and translations only
ever come from practices they may read. Ranks are ``ts_rank_cd`` with the weights of title, summary,
tags and body, which depends on each practice alone: no restricted practice moves a score. Only the best
``RESCORED`` matches by their title, summary and tags (``ts_rank`` of the ``head`` column) are so ranked,
as a search engine's rescoring window: a common word's thousands of matches would otherwise each be read
whole out of TOAST to rank a page of twenty.

Misspelt words are mended as the Whoosh engine mends them (``exchange/search/spelling.py``), from the
vocabulary of the practices the viewer may read (``vocabulary.py``). On SQLite it is unavailable, and
says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import cast

import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from exchange.db import Database
from exchange.models import SearchDocument
from exchange.models import SearchEngineState
from exchange.models import utcnow
from exchange.search import query as ql
from exchange.search import spelling
from exchange.search.analysis import analysis_language
from exchange.search.analysis import tokens
from exchange.search.backend import ALL_WORDS_NOTICE
from exchange.search.backend import CROSS_LANGUAGE
from exchange.search.backend import FACETS
from exchange.search.backend import FULL_TEXT
from exchange.search.backend import MULTI_VALUED_FACETS
from exchange.search.backend import OWN_INDEX
from exchange.search.backend import QUERY_LANGUAGE
from exchange.search.backend import RANKING
from exchange.search.backend import RELATED
from exchange.search.backend import ROMAJI
from exchange.search.backend import SNIPPETS
from exchange.search.backend import STEMMING
from exchange.search.backend import STOPPED_NOTICE
from exchange.search.backend import SUGGESTIONS
from exchange.search.backend import TIME_LIMIT_SECONDS
from exchange.search.backend import TRANSLATIONS_AS_ONE
from exchange.search.backend import Hit
from exchange.search.backend import IndexDocument
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import ReindexRunning
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.backend import Translation
from exchange.search.backend import sorted_counts
from exchange.search.lexicon import query_languages
from exchange.search.places import countries_named
from exchange.search.postgres.documents import SCHEMA_VERSION
from exchange.search.postgres.documents import quoted
from exchange.search.postgres.documents import row
from exchange.search.postgres.queries import FACET_COLUMNS
from exchange.search.postgres.queries import Translated
from exchange.search.postgres.queries import Translator
from exchange.search.postgres.queries import places_tsquery
from exchange.search.postgres.queries import snippet_terms
from exchange.search.postgres.vocabulary import Vocabulary
from exchange.search.postgres.vocabulary import bring
from exchange.search.postgres.vocabulary import count_all
from exchange.search.postgres.vocabulary import take_back
from exchange.search.snippets import snippet

log = logging.getLogger(__name__)

ENGINE = "postgres"
#: ts_rank_cd's weights of D (body), C (tags), B (summary), A (title): the Whoosh engine's field boosts.
WEIGHTS = "{0.33, 0.67, 0.67, 1.0}"
#: ts_rank_cd's normalisation: the rank divided by 1 + the logarithm of the practice's length.
NORMALISATION = 1
#: How much more a practice of a city or country the query names scores (as in the Whoosh engine).
PLACE_PREFERENCE = 4.0
#: How much covering less of a question's concepts costs (the Whoosh engine's ``Coordinated``).
COVERAGE_EXPONENT = 1.0
#: How many of the best matches by their title, summary and tags are ranked again by their whole text.
RESCORED = 500
#: Advisory locks (any fixed 64-bit numbers): the single writer of the rows, and one rebuild at a time.
WRITE_LOCK = 0x50582D7365617263  # "PX-searc"
REBUILD_LOCK = 0x50582D7265627569  # "PX-rebui"
#: A row's columns, in order, and how each is written from a parameter.
COLUMNS = ("id", "group_id", "sha256", "visibility", "language", "published", "revised", "city", "country", "kind",
           "year", "hazards", "phases", "card", "content", "terms", "vocabulary")
_CASTS = {"card": "json", "terms": "tsvector", "vocabulary": "jsonb"}
_VALUES = ", ".join(f"CAST(:{name} AS {_CASTS[name]})" if name in _CASTS else f":{name}" for name in COLUMNS)
TABLE = cast(sa.Table, SearchDocument.__table__)


class PostgresBackend:
    """Search over the ``search_documents`` table of ``db`` (a PostgreSQL database)."""

    capabilities = frozenset({RANKING, FULL_TEXT, STEMMING, CROSS_LANGUAGE, SNIPPETS, SUGGESTIONS, RELATED,
                              QUERY_LANGUAGE, TRANSLATIONS_AS_ONE, OWN_INDEX, ROMAJI})

    def __init__(self, db: Database) -> None:
        self.db = db
        self.translator = Translator(TABLE)

    def search(self, request: SearchRequest, visibilities: frozenset[str],
               seconds: float = TIME_LIMIT_SECONDS) -> SearchResults:
        """Results for ``request`` among practices whose visibility is in ``visibilities``; once its
        statements have taken ``seconds`` (each statement is cut off there), no results and a notice."""
        self._usable()
        if seconds <= 0:
            return _stopped(request)
        with self._limited(seconds) as session:
            # The planner prices a row's ``terms @@`` as cheap and scans the whole table when a word is common,
            # reading every row's tsvector out of TOAST; the GIN index's bitmap answers without reading one.
            session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            # room to hash the ids of a common word's rows (queries.Translator.contains) at 100,000 practices
            session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
            try:
                return _Search(session, self.translator, request, visibilities).results()
            except sa.exc.OperationalError as error:
                if not _cancelled(error):
                    raise
                session.rollback()
                return _stopped(request)

    def related(self, practice_id: str, visibilities: frozenset[str], limit: int = 5,
                seconds: float = TIME_LIMIT_SECONDS) -> list[Hit]:
        """Practices like ``practice_id`` (its key words, hazards, kind and first phase), never its own
        translations; none when the viewer may not read it, or once a statement has taken ``seconds``.

        Its key words are the body words it uses most, weighed by how rare they are among the practices
        the viewer may read (tf-idf): what a viewer may not read moves no key word, score or rank of theirs.
        """
        self._usable()
        if seconds <= 0:
            return []
        with self._limited(seconds) as session:
            try:
                return _related(session, practice_id, visibilities, limit)
            except sa.exc.OperationalError as error:
                if not _cancelled(error):
                    raise
                return []

    @contextlib.contextmanager
    def _limited(self, seconds: float) -> Iterator[Session]:
        """A session whose statements are each cut off after ``seconds`` (QueryCanceled, ``_cancelled``) and
        never compiled to machine code: JIT takes about a second, and a search's plan is priced past its
        threshold whenever no index serves (seqscans are off in a search, the table is read anyway)."""
        with self.db.session() as session:
            session.execute(sa.text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))
            session.execute(sa.text("SET LOCAL jit = off"))
            yield session

    def suggest(self, request: SearchRequest, visibilities: frozenset[str],
                seconds: float = TIME_LIMIT_SECONDS) -> str | None:
        """A corrected ``request.q`` that finds more practices the viewer may read (with the request's
        filters), built from words of practices they may read; None when there is none, or past ``seconds``."""
        self._usable()
        parsed = ql.parse(request.q)
        if not parsed.words() or seconds <= 0:
            return None
        with self._limited(seconds) as session:
            session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            try:
                found = _Search(session, self.translator, request, visibilities)
                vocabulary = found.vocabulary()
                return spelling.correction(parsed, vocabulary, vocabulary.complete(parsed.tree) if parsed.tree else 0)
            except sa.exc.OperationalError as error:
                if not _cancelled(error):
                    raise
                return None

    def update(self, practice_ids: Sequence[str], document: Callable[[str], IndexDocument | None]) -> None:
        """Write ``document(id)``'s row for each of ``practice_ids`` (or delete it, for None) in one
        transaction, holding this engine's single writer (an advisory lock) while the documents are read."""
        self._usable()
        with self.db.session() as session:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITE_LOCK)))
            for practice_id in practice_ids:
                found = document(practice_id)
                take_back(session, practice_id)
                if found is None:
                    session.execute(sa.delete(TABLE).where(TABLE.c.id == practice_id))
                else:
                    session.execute(sa.text(f"INSERT INTO search_documents ({', '.join(COLUMNS)}) VALUES ({_VALUES}) "
                                            "ON CONFLICT (id) DO UPDATE SET "
                                            + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])),
                                    _parameters(found))
                    bring(session, practice_id)
            session.commit()

    def rebuild(self, documents: Callable[[], Iterable[IndexDocument]], wait: bool = True) -> int:
        """Write every row of ``documents()`` into a temporary table, then replace the live rows with them
        in the same transaction, holding the writer only for that swap: searches see the old rows until
        the commit, and updates keep changing them meanwhile. A rebuild killed midway leaves nothing
        behind (its temporary table ends with its connection)."""
        self._available()
        with self.db.engine.connect() as connection:
            locked = connection.scalar(sa.select(sa.func.pg_try_advisory_lock(REBUILD_LOCK)))
            if not locked:
                if not wait:
                    connection.rollback()
                    raise ReindexRunning("another rebuild of the search index is running")
                connection.execute(sa.select(sa.func.pg_advisory_lock(REBUILD_LOCK)))
            connection.commit()
            try:
                count = self._build(connection, documents)
            finally:
                connection.rollback()
                connection.execute(sa.select(sa.func.pg_advisory_unlock(REBUILD_LOCK)))
                connection.commit()
        return count

    def _build(self, connection: sa.Connection, documents: Callable[[], Iterable[IndexDocument]]) -> int:
        connection.execute(sa.text("CREATE TEMPORARY TABLE search_build (LIKE search_documents) ON COMMIT DROP"))
        insert = sa.text(f"INSERT INTO search_build ({', '.join(COLUMNS)}) VALUES ({_VALUES})")
        count = 0
        batch: list[dict] = []
        for document in documents():
            batch.append(_parameters(document))
            count += 1
            if len(batch) >= 500:
                connection.execute(insert, batch)
                batch = []
        if batch:
            connection.execute(insert, batch)
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITE_LOCK)))
        connection.execute(sa.text("DELETE FROM search_documents"))
        connection.execute(sa.text(f"INSERT INTO search_documents ({', '.join(COLUMNS)}) "
                                   f"SELECT {', '.join(COLUMNS)} FROM search_build"))
        count_all(connection)
        connection.execute(sa.text("INSERT INTO search_engine_state (engine, schema_version, built_at) "
                                   "VALUES (:engine, :version, :now) ON CONFLICT (engine) DO UPDATE SET "
                                   "schema_version = EXCLUDED.schema_version, built_at = EXCLUDED.built_at"),
                           {"engine": ENGINE, "version": SCHEMA_VERSION, "now": utcnow()})
        connection.commit()
        return count

    def check(self) -> dict[str, str]:
        """Every indexed practice id with the checksum of the text it was indexed from."""
        self._usable()
        with self.db.session() as session:
            return {found.id: found.sha256 for found in session.execute(sa.select(TABLE.c.id, TABLE.c.sha256))}

    def verify(self) -> None:
        """Raise IndexUnavailable unless the rows were built, with this version of the analysis, on PostgreSQL."""
        self._usable()

    def sweep(self) -> list[str]:
        """Nothing is ever left behind: a killed rebuild's temporary table ended with its connection."""
        return []

    def rebuilding(self) -> bool:
        """Whether a rebuild (on any node) holds the rebuild lock now, as ``pg_locks`` shows it: looked at, not
        tried, so that asking never keeps a rebuild from starting."""
        if self.db.engine.dialect.name != "postgresql":
            return False
        with self.db.session() as session:
            return bool(session.scalar(sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND classid = :high AND objid = :low)"),
                {"high": REBUILD_LOCK >> 32, "low": REBUILD_LOCK & 0xFFFFFFFF}))

    def close(self) -> None:
        """Nothing is held open: sessions close after each call (the database belongs to the instance)."""

    def _available(self) -> None:
        if self.db.engine.dialect.name != "postgresql":
            raise IndexUnavailable(f"the PostgreSQL search engine needs a PostgreSQL database; this instance's "
                                   f"database is {self.db.engine.dialect.name}")

    def _usable(self) -> None:
        self._available()
        with self.db.session() as session:
            version = session.scalar(sa.select(SearchEngineState.schema_version)
                                     .where(SearchEngineState.engine == ENGINE))
        if version is None:
            raise IndexUnavailable("the PostgreSQL search index has not been built yet")
        if version != SCHEMA_VERSION:
            raise IndexUnavailable(f"the PostgreSQL search index was built by version {version} of the "
                                   f"analysis, not {SCHEMA_VERSION}")


#: How many of a practice's most used body words are weighed for its key words, and how many are kept.
KEY_TERM_CANDIDATES = 30
KEY_TERMS = 8


def _related(session: Session, practice_id: str, visibilities: frozenset[str], limit: int) -> list[Hit]:
    readable = TABLE.c.visibility.in_(sorted(visibilities))
    practice = session.execute(sa.select(TABLE.c.group_id, TABLE.c.kind, TABLE.c.hazards, TABLE.c.phases,
                                         TABLE.c.card).where(TABLE.c.id == practice_id, readable)).one_or_none()
    if practice is None:
        return []
    words = session.execute(sa.text(
        "SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf FROM search_documents, unnest(terms) "
        "WHERE id = :id AND 'D' = ANY(weights) AND length(lexeme) > 1 AND left(lexeme, 1) NOT IN ('~', '@', '%', '^') "
        "ORDER BY tf DESC, lexeme LIMIT :n"), {"id": practice_id, "n": KEY_TERM_CANDIDATES}).all()
    readable_count = session.scalar(sa.select(sa.func.count()).where(readable)) or 1

    def rarity(term: str) -> float:  # Whoosh's BM25 idf, among the practices the viewer may read
        frequency = session.scalar(sa.select(sa.func.count()).where(
            readable, TABLE.c.terms.bool_op("@@")(sa.cast(sa.literal(quoted(term)), TSQUERY)))) or 0
        return math.log(readable_count / (frequency + 1)) + 1

    rarities = {word.lexeme: rarity(word.lexeme) for word in words}
    weighed = sorted(((word.tf * rarities[word.lexeme], word.lexeme) for word in words), key=lambda p: (-p[0], p[1]))
    likeness = {lexeme: rarities[lexeme] for _weight, lexeme in weighed[:KEY_TERMS]}
    language = analysis_language(practice.card["language"])
    for term in tokens(practice.card["title"], language):
        if len(term) > 1 and term not in likeness:
            likeness[term] = 0.5 * rarity(term)
    text_score: sa.ColumnElement[Any] = sa.literal(0.0)
    for term, weight in likeness.items():  # each word's rank counts as much as the word is rare
        text_score = text_score + weight * sa.func.ts_rank_cd(
            sa.literal(WEIGHTS).cast(sa.ARRAY(sa.REAL)), TABLE.c.terms, sa.cast(sa.literal(quoted(term)), TSQUERY),
            NORMALISATION)
    shared_hazards = sa.func.cardinality(sa.func.array(
        sa.select(sa.func.unnest(TABLE.c.hazards)).intersect(
            sa.select(sa.func.unnest(sa.cast(sa.literal(list(practice.hazards)), sa.ARRAY(sa.Text)))))
        .scalar_subquery()))
    score = (text_score + 2.0 * shared_hazards + sa.case((TABLE.c.kind == practice.kind, 1.0), else_=0.0)
             + sa.case((TABLE.c.phases.bool_op("@>")(sa.cast(sa.literal([practice.phases[0]]), sa.ARRAY(sa.Text))),
                        0.5), else_=0.0)).label("score")
    candidates = sa.select(TABLE.c.id, TABLE.c.group_id, score).where(
        readable, TABLE.c.group_id != practice.group_id).subquery()
    leaders = sa.select(candidates, sa.func.row_number().over(
        partition_by=candidates.c.group_id, order_by=[candidates.c.score.desc(), candidates.c.id]).label("leads")
    ).subquery()
    rows = session.execute(sa.select(leaders.c.id, leaders.c.group_id, leaders.c.score)
                           .where(leaders.c.leads == 1, leaders.c.score > 0)
                           .order_by(leaders.c.score.desc(), leaders.c.id).limit(limit)).all()
    cards = dict(session.execute(sa.select(TABLE.c.id, TABLE.c.card).where(TABLE.c.id.in_([r.id for r in rows]))).all())
    members: dict[str, list[Translation]] = {}
    for member in session.execute(sa.select(TABLE.c.group_id, TABLE.c.id, TABLE.c.language, TABLE.c.card)
                                  .where(readable, TABLE.c.group_id.in_([r.group_id for r in rows]))):
        members.setdefault(member.group_id, []).append(Translation(member.id, member.language, member.card["title"]))
    return [Hit(id=r.id, card=cards[r.id], snippet=escape(cards[r.id]["summary"]), score=round(float(r.score), 4),
                translations=sorted(t for t in members.get(r.group_id, []) if t.id != r.id)) for r in rows]


def _parameters(document: IndexDocument) -> dict:
    values = row(document)
    values["card"] = json.dumps(values["card"])
    values["vocabulary"] = json.dumps(values["vocabulary"])
    return values


def _cancelled(error: sa.exc.OperationalError) -> bool:
    """Whether ``error`` is a statement cut off by its ``statement_timeout``."""
    return type(error.orig).__name__ == "QueryCanceled"


def _stopped(request: SearchRequest) -> SearchResults:
    return SearchResults(query=request.q, total=0, page=request.page, per_page=request.per_page, hits=[],
                         facets={facet: {} for facet in FACETS}, notices=[STOPPED_NOTICE])


#: the facet name of the totals' rows in ``_Search.tally``'s answer (no facet is so named)
_TOTALS = "·totals"


class _Search:
    """One search's statements, in one session."""

    def __init__(self, session: Session, translator: Translator, request: SearchRequest,
                 visibilities: frozenset[str]) -> None:
        self.session = session
        self.translator = translator
        self.request = request
        self.visibilities = sorted(visibilities)
        self.readable = TABLE.c.visibility.in_(self.visibilities)
        self.filters = {facet: translator.filter(facet, values) for facet, values in request.facet_filters().items()
                        if facet in FACET_COLUMNS}

    def where(self, translated: Translated, skip: str | None = None) -> sa.ColumnElement[bool]:
        """Readable rows ``translated`` matches, narrowed by every facet filter but ``skip``'s."""
        return sa.and_(self.readable, translated.condition.matched,
                       *(condition for facet, condition in self.filters.items() if facet != skip))

    def tally(self, translated: Translated) -> tuple[tuple[int, int, int], dict[str, dict[str, int]]]:
        """(practices matched, of them covering every concept, documents matched), translations counting
        once, and each facet's counts among what the query and every *other* facet's filter select: one
        statement, matching the query once (a materialised CTE of the readable matches, each facet filter a
        flag on it) rather than once per facet."""
        flags = {facet: condition.label(f"f_{facet}") for facet, condition in self.filters.items()}
        matched = sa.select(TABLE.c.group_id, *(TABLE.c[FACET_COLUMNS[facet]] for facet in FACETS),
                            translated.condition.completes.label("complete"), *flags.values()).where(
            self.readable, translated.condition.matched).cte("matched").prefix_with("MATERIALIZED")

        def filtered(skip: str | None = None) -> sa.ColumnElement[bool]:
            return sa.and_(sa.true(), *(matched.c[f"f_{facet}"] for facet in flags if facet != skip))

        everything = filtered()
        group = sa.func.count(sa.distinct(matched.c.group_id))
        parts: list[Any] = [sa.select(sa.literal(_TOTALS).label("facet"), sa.literal(name).label("value"),
                                      counted.label("practices")).where(sa.true())
                            for name, counted in (("practices", group.filter(everything)),
                                                  ("complete", group.filter(sa.and_(everything, matched.c.complete))),
                                                  ("documents", sa.func.count(matched.c.group_id).filter(everything)))]
        for facet in FACETS:
            column = matched.c[FACET_COLUMNS[facet]]
            value = sa.func.unnest(column) if facet in MULTI_VALUED_FACETS else column
            inner = sa.select(value.label("value"), matched.c.group_id).where(filtered(skip=facet)).subquery()
            parts.append(sa.select(sa.literal(facet).label("facet"), sa.cast(inner.c.value, sa.Text).label("value"),
                                   sa.func.count(sa.distinct(inner.c.group_id)).label("practices"))
                         .group_by(inner.c.value))
        totals: dict[str, int] = {}
        found: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        for facet, value, practices in self.session.execute(sa.union_all(*parts)):
            if facet == _TOTALS:
                totals[value] = int(practices)
            else:
                found[facet][str(value)] = int(practices)
        return ((totals["practices"], totals["complete"], totals["documents"]),
                {facet: sorted_counts(values) for facet, values in found.items()})

    def results(self) -> SearchResults:
        request = self.request
        parsed = ql.parse(request.q)
        notices = list(parsed.notices)
        translated = self.translator.translate(parsed.tree)
        (total, complete, documents), facets = self.tally(translated)
        vocabulary = self.vocabulary()
        corrected = None
        if parsed.words() and (not complete or spelling.wrong_kanji(parsed, vocabulary)):
            corrected = spelling.correction(parsed, vocabulary, 0)
            if corrected:
                notices.append(spelling.corrected_notice(request.q, corrected, nothing=not total))
                parsed = ql.parse(corrected)
                translated = self.translator.translate(parsed.tree)
                (total, complete, documents), facets = self.tally(translated)
        if not total and parsed.plain and isinstance(parsed.tree, ql.All):
            any_word = self.translator.translate(parsed.tree, any_word=True)
            found, any_facets = self.tally(any_word)
            if found[0]:
                translated, (total, complete, documents), facets = any_word, found, any_facets
                notices.append(ALL_WORDS_NOTICE)
        elif total and not complete:
            notices.append(ALL_WORDS_NOTICE)
        newest = request.sort in ("newest", "updated") or parsed.tree is None  # in order of time, not scored
        reads = tuple(dict.fromkeys(query_languages(parsed.words()) + request.reads)) if request.reads else ()
        hits = self.page(translated, parsed, newest, reads)
        suggestion = None
        if complete < spelling.SUGGEST_BELOW and parsed.words():
            suggestion = spelling.correction(parsed, vocabulary, complete)
        return SearchResults(query=request.q, total=total, page=request.page, per_page=request.per_page,
                             hits=hits, facets=facets, suggestion=suggestion, notices=notices, corrected=corrected,
                             documents=documents)

    def vocabulary(self) -> Vocabulary:
        """What spelling asks about the practices the viewer may read that the request's filters select."""
        return Vocabulary(self.session, self.translator, self.visibilities, list(self.filters.values()))

    def factor(self, translated: Translated, parsed: ql.Parsed) -> sa.ColumnElement[Any]:
        """What a practice's rank is multiplied by: the share of a question's concepts it covers (as the
        Whoosh engine's ``Coordinated``), raised for practices of the places the query names."""
        factor: sa.ColumnElement[Any] = sa.literal(1.0)
        for share in translated.coverage:
            factor = factor * sa.func.power(share, COVERAGE_EXPONENT)
        places = places_tsquery(parsed.words())
        countries = sorted(countries_named(parsed.words()))
        named = [self.translator.contains(places)] if places else []
        named += [TABLE.c.country.in_(countries)] if countries else []
        if named:
            factor = factor * sa.case((sa.or_(*named), 1 + PLACE_PREFERENCE), else_=1.0)
        return factor

    def selected(self, translated: Translated, parsed: ql.Parsed, newest: bool) -> sa.CTE:
        """The readable matches with their ``score`` and whether it is ``windowed``: every match is first
        ranked by ``ts_rank`` of its title, summary and tags (``head``, kept in the row), and the best
        ``RESCORED`` of them again by ``ts_rank_cd`` of their whole text, which must be read out of TOAST;
        the rest keep the first rank, after those. With fewer matches than that, all are ranked whole."""
        complete = translated.condition.completes.label("complete")
        rank_query = translated.rank_query()
        columns = [TABLE.c.id, TABLE.c.group_id, TABLE.c.language, TABLE.c.published, TABLE.c.revised, complete]
        if newest or rank_query is None:
            return sa.select(*columns, sa.true().label("windowed"), sa.literal(0.0).label("score")).where(
                self.where(translated)).cte("selected").prefix_with("MATERIALIZED")
        ranked_by = sa.cast(sa.literal(rank_query), TSQUERY)
        weights = sa.literal(WEIGHTS).cast(sa.ARRAY(sa.REAL))
        factor = self.factor(translated, parsed)
        matched = sa.select(*columns, factor.label("factor"),
                            (sa.func.ts_rank(weights, TABLE.c.head, ranked_by, NORMALISATION) * factor).label("quick")
                            ).where(self.where(translated)).cte("matched").prefix_with("MATERIALIZED")
        positioned = sa.select(matched, sa.func.row_number().over(
            order_by=[matched.c.complete.desc(), matched.c.quick.desc(), matched.c.id]).label("position")).subquery()
        whole = TABLE.alias("whole")
        rank = sa.select(sa.func.ts_rank_cd(weights, whole.c.terms, ranked_by, NORMALISATION)).where(
            whole.c.id == positioned.c.id).scalar_subquery()
        windowed = positioned.c.position <= RESCORED
        return sa.select(positioned.c.id, positioned.c.group_id, positioned.c.language, positioned.c.published,
                         positioned.c.revised, positioned.c.complete, windowed.label("windowed"),
                         sa.case((windowed, rank * positioned.c.factor), else_=positioned.c.quick).label("score")
                         ).cte("selected").prefix_with("MATERIALIZED")

    def page(self, translated: Translated, parsed: ql.Parsed, newest: bool, reads: tuple[str, ...]) -> list[Hit]:
        """The request's page: each translation group once, ranked by its best member, shown in the
        reader's language where it has a matching version."""
        selected = self.selected(translated, parsed, newest)
        original = selected.c.group_id == selected.c.id
        # Each group's leader (its best member) orders the page; the member shown is the one in the reader's
        # language. Both in one pass of window functions (a self-join of the groups was quadratic).
        leader_keys = ([selected.c.published, original, selected.c.id] if newest
                       else [selected.c.complete, selected.c.windowed, selected.c.score, selected.c.id])
        if newest and self.request.sort == "updated":  # the version received last first, as in the Whoosh engine
            leader_keys.insert(0, selected.c.revised)
        descending = [True] * len(leader_keys) if newest else [True, True, True, False]
        best = [key.desc() if down else key for key, down in zip(leader_keys, descending, strict=True)]
        preference = sa.func.coalesce(sa.func.array_position(sa.literal(list(reads), sa.ARRAY(sa.Text)),
                                                             selected.c.language), len(reads) + 1)
        ranked = sa.select(selected.c.id, selected.c.group_id, selected.c.score,
                           *(sa.func.first_value(key).over(partition_by=selected.c.group_id, order_by=best)
                             .label(f"lead_{n}")
                             for n, key in enumerate(leader_keys)),
                           sa.func.row_number().over(partition_by=selected.c.group_id,
                                                     order_by=[preference, *best]).label("shows")).cte("ranked")
        order = [ranked.c[f"lead_{n}"].desc() if down else ranked.c[f"lead_{n}"] for n, down in enumerate(descending)]
        start = (self.request.page - 1) * self.request.per_page
        rows = self.session.execute(
            sa.select(ranked.c.id, ranked.c.group_id, ranked.c.score).where(ranked.c.shows == 1)
            .order_by(*order).offset(start).limit(self.request.per_page)).all()
        if not rows:
            return []
        stored = {found.id: found for found in self.session.execute(
            sa.select(TABLE.c.id, TABLE.c.card, TABLE.c.content).where(TABLE.c.id.in_([r.id for r in rows])))}
        others = self.translations([r.group_id for r in rows])
        hits = []
        for found in rows:
            card = stored[found.id].card
            terms = snippet_terms(translated.texts, card["language"])
            hits.append(Hit(id=found.id, card=card, score=None if newest else round(float(found.score), 4),
                            snippet=snippet(stored[found.id].content, card["summary"], terms,
                                            analysis_language(card["language"])),
                            translations=sorted(t for t in others.get(found.group_id, []) if t.id != found.id)))
        return hits

    def translations(self, groups: list[str]) -> dict[str, list[Translation]]:
        """The readable members of each of ``groups``."""
        found: dict[str, list[Translation]] = {}
        for member in self.session.execute(
                sa.select(TABLE.c.group_id, TABLE.c.id, TABLE.c.language, TABLE.c.card)
                .where(self.readable, TABLE.c.group_id.in_(groups))):
            found.setdefault(member.group_id, []).append(Translation(member.id, member.language, member.card["title"]))
        return found
