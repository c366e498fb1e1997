"""The postgres engine's own workings: its terms are our analysers', its rows are kept and rebuilt as the
Whoosh engine's folders are, several nodes share them, and on SQLite it says it is unavailable.

What it answers is checked by the shared suite (tests/search/); these are the parts no other engine has.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from exchange import consistency
from exchange.app import create_app
from exchange.instance import Instance
from exchange.library import publishing
from exchange.models import SearchDocument
from exchange.models import SearchEngineState
from exchange.models import SearchWord
from exchange.search import discovery
from exchange.search import indexing
from exchange.search.analysis import tokens
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import SearchRequest
from exchange.search.catalogue import DEGRADED_NOTICE
from exchange.search.catalogue import UNAVAILABLE_NOTICE
from exchange.search.postgres import backend as postgres_backend
from exchange.search.postgres.backend import PostgresBackend
from tests.conftest import SEARCH_SECONDS

pytestmark = pytest.mark.engine("postgres")
PUBLIC = frozenset({"public"})


def found(instance: Instance, q: str) -> list[str]:
    """The ids an anonymous visitor finds for ``q`` through the instance's engine."""
    results = instance.search.search(SearchRequest(q=q, per_page=100), PUBLIC, seconds=SEARCH_SECONDS)
    return [hit.id for hit in results.hits]


def terms(instance: Instance, practice_id: str) -> set[str]:
    """The lexemes of a practice's row."""
    with instance.db.session() as session:
        return set(session.scalars(sa.select(sa.func.unnest(sa.func.tsvector_to_array(SearchDocument.terms)))
                                   .where(SearchDocument.id == practice_id)))


def test_rows_hold_the_terms_our_analysers_give(instance, make_practice):
    texts = {"title": "Banjir di kampung", "summary": "Warga kebanjiran setiap musim hujan.",
             "body": f"Relawan membanjiri posko dengan bantuan. {'z' * 3000}\n"}  # a word too long for a lexeme
    publishing.publish(instance, make_practice(language="id", **texts), "banjir-kampung", "test")
    publishing.publish(instance, make_practice(
        title="避難所運営の手順", summary="地域の避難所を開く。", language="ja", city="kobe", country="JP",
        body="避難所運営委員会が開設する。\n"), "hinanjo", "test")
    indonesian = terms(instance, "jakarta/banjir-kampung")
    # exactly the Whoosh engine's terms: Sastrawi's stems, stop words left out
    assert {term for text in texts.values() for term in tokens(text, "id", "index") if len(term) < 2000} <= indonesian
    assert {"banjir", "kampung", "posko", "bantu"} <= indonesian and "di" not in indonesian
    assert "kebanjiran" not in indonesian and "membanjiri" not in indonesian
    assert {"~flood", "@jakarta"} <= indonesian  # the glossary concept and the city, in any language
    assert {"避難", "所", "運営", "委員"} <= terms(instance, "kobe/hinanjo")  # MeCab's morphemes
    assert found(instance, "membanjiri") == ["jakarta/banjir-kampung"]
    assert found(instance, "避難所運営") == ["kobe/hinanjo"]
    assert found(instance, "flood") == ["jakarta/banjir-kampung"]  # the concept: English meets Indonesian


def test_an_unbuilt_index_degrades_search_until_the_rebuild(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol plan", body="Walk the levee.\n"), "levee", "test")
    with instance.db.writing() as session:
        session.execute(sa.delete(SearchEngineState))
    with pytest.raises(IndexUnavailable, match="not been built"):
        instance.search.verify()
    results = discovery.find(instance, SearchRequest(q="levee"), None)
    assert results.degraded and results.notices == [UNAVAILABLE_NOTICE]  # no rebuild runs: none is claimed
    assert [drift.kind for drift in consistency.check(instance)] == ["index unusable"]
    during: list[list[str]] = []
    elsewhere = PostgresBackend(instance.db)  # another node, meeting the unbuilt rows while this one rebuilds
    assert not elsewhere.rebuilding()
    original = instance.search.rebuild

    def rebuild(documents, wait=True):  # type: ignore[no-untyped-def]
        def watched():  # type: ignore[no-untyped-def]
            during.append(discovery.find(instance, SearchRequest(q="levee"), None).notices)
            during.append([str(elsewhere.rebuilding())])
            return documents()
        return original(watched, wait)

    instance.search.rebuild = rebuild  # type: ignore[method-assign]
    assert indexing.rebuild(instance) == 1
    assert during == [[DEGRADED_NOTICE], ["True"]] and not elsewhere.rebuilding()
    assert found(instance, "levee") == ["jakarta/levee"] and consistency.check(instance) == []


def test_check_finds_a_stale_row_and_repair_fixes_it(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    with instance.db.session() as session:
        old = session.execute(sa.select(SearchDocument.sha256, SearchDocument.terms)
                              .where(SearchDocument.id == "jakarta/levee")).one()
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the quokkaline levee.\n"),
                       "levee", "test")
    with instance.db.writing() as session:  # a backup of the rows from before the second version
        session.execute(sa.update(SearchDocument).where(SearchDocument.id == "jakarta/levee")
                        .values(sha256=old.sha256, terms=old.terms))
    assert found(instance, "quokkaline") == []
    assert [(drift.kind, drift.practice_id) for drift in consistency.check(instance)] == [
        ("stale in index", "jakarta/levee")]
    consistency.repair(instance, consistency.check(instance), "test")
    assert consistency.check(instance) == [] and found(instance, "quokkaline") == ["jakarta/levee"]


def test_a_rebuild_answers_from_the_old_rows_until_its_swap_and_a_failed_one_changes_nothing(
        instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee patrol", body="Walk the levee.\n"), "levee", "test")
    elsewhere = PostgresBackend(instance.db)  # another node, searching during the rebuild
    seen_during: list[list[str]] = []

    def documents_then_fail():  # type: ignore[no-untyped-def]
        yield from ()
        seen_during.append([hit.id for hit in elsewhere.search(SearchRequest(q="levee"), PUBLIC,
                                                              seconds=SEARCH_SECONDS).hits])
        raise OSError("the library folder went away")

    with pytest.raises(OSError):
        instance.search.rebuild(documents_then_fail)
    assert seen_during == [["jakarta/levee"]] and found(instance, "levee") == ["jakarta/levee"]

    def no_documents():  # type: ignore[no-untyped-def]
        seen_during.append([hit.id for hit in elsewhere.search(SearchRequest(q="levee"), PUBLIC,
                                                              seconds=SEARCH_SECONDS).hits])
        return iter(())

    assert instance.search.rebuild(no_documents, wait=False) == 0  # the failed rebuild let go of its lock
    assert seen_during[-1] == ["jakarta/levee"] and found(instance, "levee") == []


def test_a_practice_published_on_one_node_is_found_on_another(instance, make_practice, tmp_path):
    other = create_app({"INSTANCE": tmp_path / "node-2", "TESTING": True, "SERVER_NAME": "px.test",
                        "DATABASE_URL": instance.db.url, "SEARCH_ENGINE": "postgres"})
    node = other.extensions["exchange"]
    try:
        assert isinstance(node.search, PostgresBackend)
        publishing.publish(instance, make_practice(title="Dam plan", body="Open the zebraword sluice.\n"),
                           "dam", "test")
        assert found(node, "zebraword") == ["jakarta/dam"]
        assert "jakarta/dam" in other.test_client().get("/practices?q=zebraword").get_data(as_text=True)
    finally:
        node.db.dispose()


def test_on_sqlite_the_engine_is_unavailable_and_says_so(tmp_path):
    with pytest.raises(ValueError, match="SEARCH_ENGINE is 'postgres', which needs a PostgreSQL DATABASE_URL"):
        Instance.open(tmp_path / "instance", search_engine="postgres")
    with pytest.raises(ValueError, match="SEARCH_ENGINE is 'solr'; it must be one of whoosh, postgres"):
        Instance.open(tmp_path / "instance", search_engine="solr")
    sqlite = Instance.open(tmp_path / "instance")
    try:
        sqlite.db.migrate()
        engine = PostgresBackend(sqlite.db)  # made by hand, past the setting's check
        with pytest.raises(IndexUnavailable, match="needs a PostgreSQL database; this instance's database is sqlite"):
            engine.verify()
        with pytest.raises(IndexUnavailable):
            engine.rebuild(lambda: iter(()))
        sqlite.search = engine
        assert discovery.find(sqlite, SearchRequest(q="flood"), None).degraded
    finally:
        sqlite.db.dispose()


def test_a_question_reads_no_practice_s_terms_but_to_rank_it(instance, make_practice):
    """A row's tsvector lives in TOAST: reading it for every row a common word matches cost more than the
    rest of a search. Which rows match, and which concepts each covers, come from the GIN index."""
    bodies = ["Inspect the levee and the pump.", "Test the pump.", "Walk the levee with the community."]
    for n, body in enumerate(bodies):
        publishing.publish(instance, make_practice(title=f"Drill {n}", body=body + "\n"), f"drill-{n}", "test")
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "search_documents" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            cursor.execute("EXPLAIN " + statement, parameters)  # in the search's own transaction and settings
            plans.extend(line for (line,) in cursor.fetchall())

    sa.event.listen(instance.db.engine, "before_cursor_execute", explain)
    try:
        assert set(found(instance, "levee pump community")) == {f"jakarta/drill-{n}" for n in range(3)}
        text_plans = list(plans)
        # with no words the table is read (no index serves), and no search is compiled by JIT for a second
        browsed = instance.search.search(SearchRequest(q="", filters={"city": ["jakarta"]}), PUBLIC,
                                         seconds=SEARCH_SECONDS)
        assert browsed.total == 3 and not browsed.notices
    finally:
        sa.event.remove(instance.db.engine, "before_cursor_execute", explain)
    assert text_plans and not [line for line in text_plans if "Seq Scan on search_documents" in line]
    assert not [line for line in text_plans if "Filter:" in line and "terms @@" in line]  # no row-by-row match
    assert len(plans) > len(text_plans) and not [line for line in plans if "JIT" in line]


def test_past_the_rescoring_window_matches_follow_by_their_title_summary_and_tags(instance, make_practice,
                                                                                  monkeypatch):
    monkeypatch.setattr(postgres_backend, "RESCORED", 2)
    texts = {"title": {"title": "Zebraword drill"}, "summary": {"summary": "A zebraword exercise."},
             "dense": {"body": "Zebraword zebraword zebraword, then zebraword.\n"},
             "once": {"body": "One zebraword among many other words of a long body.\n"}}
    for slug, fields in texts.items():
        publishing.publish(instance, make_practice(**{"title": f"Drill {slug}", **fields}), slug, "test")
    ranked = found(instance, "zebraword")
    # the two matching in their title or summary are ranked whole, first; the body-only ones after them
    assert ranked[:2] == ["jakarta/title", "jakarta/summary"] and set(ranked[2:]) == {"jakarta/dense", "jakarta/once"}
    pages = [hit.id for page in (1, 2) for hit in instance.search.search(
        SearchRequest(q="zebraword", page=page, per_page=2), PUBLIC, seconds=SEARCH_SECONDS).hits]
    assert pages == ranked  # pages neither repeat nor skip a practice across the window's edge
    monkeypatch.setattr(postgres_backend, "RESCORED", 10)
    # with every match in the window, the whole text counts: four times in the body outranks once in the title
    assert found(instance, "zebraword") == ["jakarta/dense", "jakarta/title", "jakarta/summary", "jakarta/once"]


def vocabulary(instance: Instance) -> dict[tuple[str, str, str], int]:
    """Every row of spelling's vocabulary: (visibility, source, word) → uses."""
    with instance.db.session() as session:
        return {(row.visibility, row.source, row.word): row.uses for row in session.scalars(sa.select(SearchWord))}


def test_spelling_s_vocabulary_follows_each_change_as_a_rebuild_would_count_it(instance, make_practice):
    publishing.publish(instance, make_practice(title="Dam plan", body="Open the zebraword sluice, zebraword.\n"),
                       "dam", "test")
    publishing.publish(instance, make_practice(title="Levee walk", body="Walk the quokkaline levee.\n",
                                               visibility="partners"), "levee", "test")
    words = vocabulary(instance)
    assert words[("public", "word", "zebraword")] == 2 and ("partners", "word", "quokkaline") in words
    assert not [key for key in words if key[0] == "public" and key[2] == "quokkaline"]
    assert instance.search.search(SearchRequest(q="zebrawrd"), PUBLIC, seconds=SEARCH_SECONDS).corrected == "zebraword"

    publishing.publish(instance, make_practice(title="Dam plan", body="Open the xenokipas sluice.\n"), "dam", "test")
    publishing.publish(instance, make_practice(title="Pengungsian banjir", language="id",
                                               body="Warga mengevakuasi lansia.\n"), "banjir", "test")
    words = vocabulary(instance)
    assert ("public", "word", "xenokipas") in words and ("public", "id", "evakuasi") in words
    assert not [key for key in words if key[2] == "zebraword"]  # taken back, not left at 0 uses
    assert instance.search.search(SearchRequest(q="zebrawrd"), PUBLIC, seconds=SEARCH_SECONDS).corrected is None
    assert instance.search.search(SearchRequest(q="xenokipaz"), PUBLIC, seconds=SEARCH_SECONDS).corrected == "xenokipas"
    indexing.rebuild(instance)
    assert vocabulary(instance) == words
    instance.search.update(["jakarta/levee"], lambda practice_id: None)  # a practice leaves the index
    assert not [key for key in vocabulary(instance) if key[0] == "partners"]


def test_a_misspelt_word_is_mended_only_into_words_the_reader_may_read(instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee walk", body="Walk the quokkaline levee.\n",
                                               visibility="partners"), "levee", "test")
    staff = frozenset({"public", "partners"})
    assert instance.search.suggest(SearchRequest(q="quokaline"), staff, seconds=SEARCH_SECONDS) == "quokkaline"
    assert instance.search.search(SearchRequest(q="quokaline"), staff, seconds=SEARCH_SECONDS).corrected \
        == "quokkaline"
    assert instance.search.suggest(SearchRequest(q="quokaline"), PUBLIC, seconds=SEARCH_SECONDS) is None
    seen = instance.search.search(SearchRequest(q="quokaline"), PUBLIC, seconds=SEARCH_SECONDS)
    assert (seen.corrected, seen.suggestion, seen.total) == (None, None, 0)
