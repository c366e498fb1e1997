"""Reading pages find their rows through selective indexes on SQLite, never by scanning the library.

Without statistics SQLite's planner takes any usable index, and ``visibility`` is a poor one: nine
practices in ten are public, so a query narrowed by visibility and something selective (a translation
group) read most of the library (4.8 ms of a practice page's first view at 10,000 practices). The
planner's choice does not depend on the number of rows, so the bundled library shows the plan a large
one gets."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

#: the library's large tables, and the indexes that select too little of them to be worth searching
LARGE_TABLES = ("practices", "practice_versions", "rendered_versions", "harvested_practices")
POOR = re.compile(r"USING (COVERING )?INDEX ix_\w+_visibility \(visibility=")

PAGES = ("/", "/practices?q=flood", "/practices?q=banjir&city=jakarta", "/practices/kobe/shelter-operation-procedure",
         "/practices/kobe/hinanjo-unei-tejun", "/practices/kobe/hinanjo-unei-tejun/versions/1", "/cities/kobe",
         "/api/v1/search?q=flood", "/api/v1/practices/kobe/shelter-operation-procedure", "/feeds/library.atom",
         "/feeds/city/kobe.atom")


def test_reading_pages_never_scan_the_library_nor_search_it_by_visibility(library_app, database):
    if database.server is not None:
        pytest.skip("SQLite's planner: PostgreSQL keeps statistics of its own (autovacuum analyses)")
    engine = library_app.extensions["exchange"].db.engine
    statements: dict[str, object] = {}

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.setdefault(statement, parameters)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        client = library_app.test_client()
        for path in PAGES:
            assert client.get(path).status_code == 200, path
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert any("translation_of" in statement for statement in statements)  # the family of a practice was read
    bad = []  # a whole table read row by row, or searched by visibility (an index walked in order may stop early)
    with engine.connect() as connection:
        for statement, parameters in statements.items():
            plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            scans = [step for step in plan if re.match(rf"SCAN ({'|'.join(LARGE_TABLES)})$", step)]
            if scans or any(POOR.search(step) for step in plan):
                bad.append((plan, " ".join(statement.split())))
    assert not bad
