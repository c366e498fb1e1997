"""The database: durable, serialised writes on SQLite and PostgreSQL, and migrations at head."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from exchange.models import City


# PRAGMAs exist only in SQLite; PostgreSQL is durable (fsync, full page writes) as configured by its
# administrator, which no test of ours can check on a throwaway server that runs with fsync off.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_sqlite_runs_in_wal_with_full_sync_and_a_busy_timeout(instance):
    with instance.db.session() as session:
        assert session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert session.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 5000


def test_only_counts_commit_without_waiting_for_the_disk(instance):
    postgresql = instance.db.engine.dialect.name == "postgresql"
    setting = sa.text("SHOW synchronous_commit" if postgresql else "PRAGMA synchronous")
    if postgresql:  # the throwaway server runs with it off; this database asks for it on, as a real server has it
        with instance.db.engine.connect() as connection:
            name = instance.db.engine.url.database
            connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = on'))
            connection.commit()
        instance.db.dispose()

    def durability(transaction):  # type: ignore[no-untyped-def]
        with transaction() as session:
            return session.execute(setting).scalar()

    assert durability(instance.db.counting) == ("off" if postgresql else 1)  # SQLite's NORMAL: no fsync a commit
    # every other write after it (on the same pooled connection, on PostgreSQL) waits for the disk
    assert [durability(instance.db.writing), durability(instance.db.claiming)] == [("on" if postgresql else 2)] * 2


def test_a_forked_worker_leaves_the_masters_connections_for_counts_too(instance):
    def connections() -> list[object]:
        found = []
        for transaction in (instance.db.claiming, instance.db.counting):
            with transaction() as session:
                found.append(session.connection().connection.dbapi_connection)
        return found

    masters = connections()
    assert all(a is b for a, b in zip(connections(), masters, strict=True))  # pooled: the same ones again
    instance.db.leave_inherited()  # as server.close_inherited does in a new worker
    assert not any(a is b for a in connections() for b in masters)
    for connection in masters:  # in a real fork they stay the master's
        connection.close()  # type: ignore[attr-defined]


def test_migrations_are_at_head_and_create_the_tables(instance):
    with instance.db.session() as session:
        assert session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0027"
        tables = set(sa.inspect(session.connection()).get_table_names())
        user_columns = {column["name"] for column in sa.inspect(session.connection()).get_columns("users")}
    assert {"cities", "practices", "practice_versions", "audit_log", "index_outbox", "users", "memberships",
            "invitations", "login_failures", "submissions", "submission_events", "notifications", "packs",
            "pack_items", "pack_shares", "export_jobs", "known_devices", "jobs", "search_gaps", "link_checks",
            "webhooks", "webhook_deliveries", "saved_searches", "sent_alerts", "harvest_sources",
            "harvested_practices", "api_tokens", "api_call_counts", "index_nodes", "index_outbox_applied"} <= tables
    assert "language" in user_columns  # the interface language a person chose (0011)
    # the postgres search engine's index (0022), on PostgreSQL only
    postgresql = instance.db.engine.dialect.name == "postgresql"
    assert ({"search_documents", "search_engine_state"} <= tables) == postgresql
    instance.db.migrate()  # running again changes nothing and does not fail


def test_writes_take_the_lock_up_front_so_a_second_writer_waits(instance):
    order: list[str] = []
    first_has_lock = threading.Event()
    release = threading.Event()

    def first() -> None:
        with instance.db.writing() as session:
            first_has_lock.set()
            release.wait(5)
            session.add(City(slug="first", country="ID", name="First"))
            order.append("first committed")

    thread = threading.Thread(target=first)
    thread.start()
    # Waited for, not assumed: had the thread not begun within a few seconds, this writer took the lock first.
    assert first_has_lock.wait(120), "the first writer never began"
    timer = threading.Timer(0.3, release.set)
    timer.start()
    with instance.db.writing() as session:  # blocks on BEGIN IMMEDIATE / the advisory lock until then
        order.append("second began")
        session.add(City(slug="second", country="ID", name="Second"))
    thread.join()
    assert order == ["first committed", "second began"]
