"""Known devices: what a device cookie holds and how long the database keeps it."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from exchange.accounts import devices
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.models import KnownDevice
from exchange.models import User

NOW = datetime.datetime(2026, 12, 1, 8, 0)


def _people(instance, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    for n in range(count):
        people.create_user(instance, f"staff{n}@bpbd.example", f"Staff {n}", ["reader"], [], "test")
    with instance.db.session() as session:
        return list(session.scalars(sa.select(User.id).order_by(User.id)))


def test_a_browser_keeps_the_cookies_of_its_most_recent_accounts(instance):
    people = _people(instance, devices.MAX_ACCOUNTS_PER_COOKIE + 1)
    cookie = None
    with instance.db.writing() as session:
        for person in people:
            cookie = devices.remember(session, person, cookie, NOW)
    assert len(devices.tokens_in(cookie)) == devices.MAX_ACCOUNTS_PER_COOKIE
    with instance.db.session() as session:
        assert devices.recognise(session, cookie, people[0], NOW) is None  # the least recent one made room
        assert all(devices.recognise(session, cookie, person, NOW) for person in people[1:])


def test_signing_in_again_replaces_the_token_of_the_same_device(instance):
    person = _people(instance, 1)[0]
    with instance.db.writing() as session:
        first = devices.remember(session, person, None, NOW)
        second = devices.remember(session, person, first, NOW + datetime.timedelta(days=1))
    with instance.db.session() as session:
        assert devices.recognise(session, first, person, NOW) is None  # a copy of the old cookie is worthless
        assert devices.recognise(session, second, person, NOW) is not None
        assert session.scalar(sa.select(sa.func.count()).select_from(KnownDevice)) == 1


def test_expired_devices_and_those_beyond_the_cap_are_forgotten(instance):
    person, other = _people(instance, 2)
    with instance.db.writing() as session:
        stale = devices.remember(session, other, None, NOW - devices.LIFETIME - datetime.timedelta(days=1))
        for n in range(devices.MAX_DEVICES_PER_ACCOUNT + 5):
            devices.remember(session, person, None, NOW + datetime.timedelta(minutes=n))
    with instance.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).where(KnownDevice.user_id == person)) == \
            devices.MAX_DEVICES_PER_ACCOUNT
        assert devices.recognise(session, stale, other, NOW) is None
        assert session.scalar(sa.select(sa.func.count()).where(KnownDevice.user_id == other)) == 0


def test_junk_in_the_cookie_is_ignored(instance):
    real = tokens.new()
    assert devices.tokens_in(f"<script>..{real}.{real}.' OR 1=1 --.{'A' * 500}") == [real]
    assert devices.tokens_in(None) == devices.tokens_in("") == []
