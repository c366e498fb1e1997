"""Accounts: creating people, invitations, signing in with throttling, and ending sessions.

Every write here is audited. Sign-in throttling (threats AU-1, OWASP ASVS 2.2.1) counts failures in
the database, so every worker shares them, and slows down guessing without letting anyone lock a
person out of the browsers they use (OWASP's "device cookies"):

* A browser with a device cookie for the account (see ``exchange.accounts.devices``) answers only for itself:
  after ``MAX_FAILURES_PER_DEVICE`` failures within ``THROTTLE_WINDOW`` it waits. Nothing that other
  browsers do to the account, and nothing done from the same address, holds it back.
* Every other attempt is throttled per client address (``MAX_FAILURES_PER_CLIENT`` failures within
  ``THROTTLE_WINDOW``, for any accounts) and per account: after ``MAX_FAILURES_PER_ACCOUNT`` failures
  from unknown browsers within ``ACCOUNT_MEMORY``, each further attempt from an unknown browser waits
  ``ACCOUNT_FIRST_DELAY`` after the latest failure, doubling with every failure up to
  ``ACCOUNT_MAX_DELAY``.
* A throttled attempt is answered before any password is hashed, and an attempt counts as a failure
  from the moment it passes the check until its password proves right, so parallel requests cannot
  all slip past a limit.
"""

from __future__ import annotations

import datetime
import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.accounts import devices
from exchange.accounts import passwords
from exchange.accounts import tokens
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.models import City
from exchange.models import Invitation
from exchange.models import LoginFailure
from exchange.models import Membership
from exchange.models import User
from exchange.models import utcnow

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

ROLES = ("reader", "contributor", "reviewer", "admin")
#: each role's name for people (a catalog message: the web says it in the reader's language)
ROLE_NAMES = {"reader": N_("reader"), "contributor": N_("contributor"), "reviewer": N_("reviewer"),
              "admin": N_("administrator")}
INVITATION_DAYS = 7
THROTTLE_WINDOW = datetime.timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 20
MAX_FAILURES_PER_DEVICE = 5
MAX_FAILURES_PER_ACCOUNT = 5
ACCOUNT_MEMORY = datetime.timedelta(hours=24)
ACCOUNT_FIRST_DELAY = datetime.timedelta(minutes=1)
ACCOUNT_MAX_DELAY = datetime.timedelta(minutes=15)
#: what a used, expired or unknown invitation link is told
INVITATION_INVALID = Message(N_("This invitation link is not valid any more; ask an administrator for a new one."))
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")


class AccountError(Invalid):
    """An account change is refused; the message names the problem."""


class Throttled(Exception):
    """Too many failed sign-ins; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account(policy.Viewer):
    """A signed-in person as the rest of the app sees them (never the password hash): a policy Viewer
    that Flask-Login can keep in a session."""

    session_version: int = 0
    #: the interface language the person chose, or None
    language: str | None = None

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Flask-Login's session key: the id and the session version, so old sessions stop working."""
        return f"{self.id}:{self.session_version}"


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the account, and the new value of this browser's device cookie."""

    account: Account
    device_cookie: str


def _account(session: Session, user: User) -> Account:
    cities = tuple(session.scalars(sa.select(Membership.city).where(Membership.user_id == user.id)
                                   .order_by(Membership.city)))
    return Account(id=user.id, email=user.email, name=user.name, roles=tuple(user.roles), cities=cities,
                   session_version=user.session_version, language=user.language)


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise AccountError(Message(N_("%(email)s is not an e-mail address"), email=repr(email)))
    return email


def create_user(instance: Instance, email: str, name: str, roles: list[str], cities: list[str], actor: str,
                password: str | None = None) -> str | None:
    """Create an account; returns an invitation token when no password is given (the user sets one)."""
    email = normal_email(email)
    name = name.strip()
    if not 0 < len(name) <= 200:
        raise AccountError(Message(N_("name must be 1 to 200 characters")))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(f"role {unknown[0] if unknown else '(none)'!r} is not one of {', '.join(ROLES)}")
    if password is not None:
        passwords.check_strength(password, email, name)
    token = None
    with instance.db.writing() as session:
        if session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            raise AccountError(Message(N_("an account for %(email)s already exists"), email=email))
        missing = [c for c in cities if session.get(City, c) is None]
        if missing:
            raise AccountError(Message(N_("city %(city)s is not a partner city"), city=repr(missing[0])))
        user = User(email=email, name=name, roles=sorted(set(roles), key=ROLES.index),
                    password_hash=passwords.hash_password(password) if password else None)
        session.add(user)
        session.flush()
        session.add_all(Membership(user_id=user.id, city=c) for c in sorted(set(cities)))
        if password is None:
            token = tokens.new()
            session.add(Invitation(token_hash=tokens.digest(token), user_id=user.id,
                                   expires_at=utcnow() + datetime.timedelta(days=INVITATION_DAYS)))
        audit.record(session, actor, "user.create", email, roles=user.roles, cities=sorted(set(cities)),
                     invited=password is None)
    return token


def accept_invitation(instance: Instance, token: str, password: str, device_cookie: str | None = None,
                      language: str | None = None) -> SignIn:
    """The sign-in of the invited user, whose password is now set (once, before the invitation expires).

    The invitation link proves who is at this browser, so it becomes a known device of the account.
    ``language`` is the interface language this browser reads, kept if the account has none yet.
    """
    with instance.db.writing() as session:
        invitation = session.scalar(sa.select(Invitation).where(Invitation.token_hash == tokens.digest(token)))
        if invitation is None or invitation.used_at is not None or invitation.expires_at < utcnow():
            raise AccountError(INVITATION_INVALID)
        user = session.get(User, invitation.user_id)
        if user is None or not user.active:
            raise AccountError(INVITATION_INVALID)
        passwords.check_strength(password, user.email, user.name)
        user.password_hash = passwords.hash_password(password)
        invitation.used_at = utcnow()
        audit.record(session, user.email, "user.accept-invitation", user.email)
        _adopt_language(session, user, language)
        return SignIn(_account(session, user), devices.remember(session, user.id, device_cookie, utcnow()))


def invitation_is_valid(instance: Instance, token: str) -> bool:
    with instance.db.session() as session:
        invitation = session.scalar(sa.select(Invitation).where(Invitation.token_hash == tokens.digest(token)))
        return invitation is not None and invitation.used_at is None and invitation.expires_at >= utcnow()


def authenticate(instance: Instance, email: str, password: str, client: str, device_cookie: str | None = None,
                 now: datetime.datetime | None = None, language: str | None = None) -> SignIn | None:
    """The sign-in for these credentials, or None (the same for an unknown e-mail and a wrong password).

    Raises Throttled, before any password is hashed, when this attempt has to wait (the rule is in the
    module's docstring). ``client`` is the address the request came from; ``device_cookie`` the value
    of the browser's device cookie, if it sent one; ``language`` the interface language this browser
    reads, kept on the account if it has none yet (so its mail is written in it).
    """
    email = email.strip().lower()[:254]
    now = now or utcnow()
    with instance.db.session() as session:
        user = session.scalar(sa.select(User).where(User.email == email))
        device = devices.recognise(session, device_cookie, user.id, now) if user is not None and user.active else None
        keys = _throttle(session, email, client, device, now)  # turns a flood away without the write lock
    with instance.db.writing() as session:
        _throttle(session, email, client, device, now)
        pending = [LoginFailure(key=key, at=now) for key in keys]
        session.add_all(pending)
    valid = passwords.verify(user.password_hash if user else None, password)
    with instance.db.writing() as session:
        if not valid or user is None or not user.active:
            session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - ACCOUNT_MEMORY))
            audit.record(session, f"client:{client}", "login.failure", email,
                         **({"device": device} if device is not None else {}))
            return None
        session.execute(sa.delete(LoginFailure).where(LoginFailure.id.in_([failure.id for failure in pending])))
        if device is not None:  # its owner is back: the device starts afresh (the account's count stays)
            session.execute(sa.delete(LoginFailure).where(LoginFailure.key == keys[0]))
        audit.record(session, email, "login.success", email, client=client, known_device=device is not None)
        _adopt_language(session, session.get_one(User, user.id), language)
        return SignIn(_account(session, session.get_one(User, user.id)),
                      devices.remember(session, user.id, device_cookie, now))


def _adopt_language(session: Session, user: User, language: str | None) -> None:
    """Keep the language this person's browser reads as theirs, unless they have one (chosen or kept before).

    People who never touch the switcher still read the site in their browser's language; without this their
    alerts and notifications (written outside any request) would reach them in English.
    """
    if user.language is None and language is not None and re.fullmatch(r"[a-z]{2,3}", language):
        user.language = language
        audit.record(session, user.email, "user.language", user.email, language=language, negotiated=True)


def _throttle(session: Session, email: str, client: str, device: int | None, now: datetime.datetime) -> list[str]:
    """The keys a failure of this attempt is counted under; raises Throttled when the attempt must wait."""
    if device is not None:
        keys = [f"device:{device}"]
        waits = [_window_wait(session, keys[0], MAX_FAILURES_PER_DEVICE, now)]
    else:
        keys = [f"account:{email}", f"client:{client}"]
        waits = [_account_wait(session, keys[0], now), _window_wait(session, keys[1], MAX_FAILURES_PER_CLIENT, now)]
    if max(waits) > 0:
        log.warning("sign-in throttled for %r for %d s", keys[waits.index(max(waits))], max(waits))
        raise Throttled(max(waits))
    return keys


def _window_wait(session: Session, key: str, limit: int, now: datetime.datetime) -> int:
    """Seconds until ``key`` has fewer than ``limit`` failures within THROTTLE_WINDOW (0: it has now)."""
    oldest_that_counts = session.scalar(sa.select(LoginFailure.at).where(
        LoginFailure.key == key, LoginFailure.at > now - THROTTLE_WINDOW)
        .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1))
    return 0 if oldest_that_counts is None else _seconds(oldest_that_counts + THROTTLE_WINDOW - now)


def _account_wait(session: Session, key: str, now: datetime.datetime) -> int:
    """Seconds an unknown browser waits before trying this account again: the progressive delay."""
    count, latest = session.execute(sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(
        LoginFailure.key == key, LoginFailure.at > now - ACCOUNT_MEMORY)).one()
    beyond = count - MAX_FAILURES_PER_ACCOUNT
    if beyond < 0:
        return 0
    return _seconds(latest + min(ACCOUNT_FIRST_DELAY * 2 ** min(beyond, 10), ACCOUNT_MAX_DELAY) - now)


def _seconds(wait: datetime.timedelta) -> int:
    return max(math.ceil(wait.total_seconds()), 0)


def load(instance: Instance, session_key: str) -> Account | None:
    """The account a session names, if the session is still valid (same session version, active)."""
    user_id, _, version = session_key.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    with instance.db.session() as session:
        user = session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return _account(session, user)


def end_sessions(instance: Instance, user_id: int, actor: str, reason: str) -> None:
    """Make every existing session of the user stop working (logout, password change, disabling)."""
    with instance.db.writing() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.session_version += 1
            audit.record(session, actor, f"user.{reason}", user.email)


def change_password(instance: Instance, user_id: int, current: str, new: str,
                    device_cookie: str | None = None) -> SignIn:
    """The new sign-in after replacing the password (the current one checked first).

    Every other session ends and every other device stops being known: whoever learnt the old
    password, or copied a device cookie, loses what it gave them.
    """
    with instance.db.session() as session:
        user = session.get(User, user_id)
        if user is None or not passwords.verify(user.password_hash, current):
            raise AccountError(Message(N_("The current password is not right.")))
        email, name = user.email, user.name
    passwords.check_strength(new, email, name)
    with instance.db.writing() as session:
        user = session.get_one(User, user_id)  # accounts are disabled, never deleted
        user.password_hash = passwords.hash_password(new)
        user.session_version += 1
        forgotten = devices.forget_all(session, user.id)
        audit.record(session, email, "user.password-change", email, devices_forgotten=forgotten)
        return SignIn(_account(session, user), devices.remember(session, user.id, device_cookie, utcnow()))


def set_language(instance: Instance, user_id: int, language: str | None) -> None:
    """Keep the interface language the person chose (a primary language tag such as ``id``; None forgets it).

    Which languages the interface speaks is the web's to say; here the value only has to be a tag.
    """
    if language is not None and not re.fullmatch(r"[a-z]{2,3}", language):
        raise AccountError(f"{language!r} is not a language tag")
    with instance.db.writing() as session:
        user = session.get(User, user_id)
        if user is not None and user.language != language:
            user.language = language
            audit.record(session, user.email, "user.language", user.email, language=language)


#: who changes an account: a signed-in person (whose own rights are checked) or an operator at the command line
Actor = policy.Viewer | str


@dataclass(frozen=True)
class Person:
    """An account as an administrator manages it: who, which roles and cities, whether it may sign in."""

    id: int
    email: str
    name: str
    roles: tuple[str, ...]
    cities: tuple[str, ...]
    active: bool
    invited: bool  # the invitation is not accepted yet (no password set)


def _actor_name(actor: Actor) -> str:
    return actor if isinstance(actor, str) else actor.email


def _check_actor(actor: Actor) -> None:
    """Refuse a signed-in person who may not manage accounts (an operator at the command line may)."""
    if not isinstance(actor, str) and not policy.may_administer(actor):
        raise AccountError(Message(N_("only an administrator may change accounts")))


def _is_self(actor: Actor, user: User) -> bool:
    return not isinstance(actor, str) and actor.id == user.id


def _other_active_admins(session: Session, user: User) -> int:
    """How many active administrators there are besides ``user``, their rows locked until the commit (on
    PostgreSQL; SQLite's write transaction is exclusive), so two admins cannot demote each other at once."""
    active = session.scalars(sa.select(User).where(User.active.is_(True)).with_for_update())
    return sum(1 for other in active if other.id != user.id and policy.ADMIN in other.roles)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(Message(N_("there is no account number %(number)s"), number=user_id))
    return user


def person(instance: Instance, user_id: int) -> Person | None:
    """The account numbered ``user_id``, active or not, or None."""
    with instance.db.session() as session:
        user = session.get(User, user_id)
        return _person(session, user) if user is not None else None


def _person(session: Session, user: User) -> Person:
    cities = tuple(session.scalars(sa.select(Membership.city).where(Membership.user_id == user.id)
                                   .order_by(Membership.city)))
    return Person(id=user.id, email=user.email, name=user.name, roles=tuple(user.roles), cities=cities,
                  active=user.active, invited=user.password_hash is None)


def update_person(instance: Instance, user_id: int, roles: list[str], cities: list[str], actor: Actor) -> list[str]:
    """Give the account these roles and cities; returns what changed (``roles``, ``cities``), each change audited.

    Refused with a message naming the problem: an unknown role or city, no role at all, taking the
    administrator role from the last active administrator, or from oneself (one would be locked out).
    """
    _check_actor(actor)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AccountError(Message(N_("role %(role)s is not one of %(roles)s"), role=repr(unknown[0]),
                                   roles=", ".join(ROLES)))
    if not roles:
        raise AccountError(Message(N_("choose at least one role")))
    new_roles = sorted(set(roles), key=ROLES.index)
    new_cities = sorted(set(cities))
    changed = []
    with instance.db.writing() as session:
        user = _user(session, user_id)
        missing = [c for c in new_cities if session.get(City, c) is None]
        if missing:
            raise AccountError(Message(N_("city %(city)s is not a partner city"), city=repr(missing[0])))
        if policy.ADMIN in user.roles and policy.ADMIN not in new_roles:
            if _is_self(actor, user):
                raise AccountError(Message(N_("You cannot take the administrator role from yourself: you would "
                                              "lock yourself out. Ask another administrator.")))
            if user.active and not _other_active_admins(session, user):
                raise AccountError(Message(N_("%(email)s is the last active administrator; make someone else an "
                                              "administrator first."), email=user.email))
        old_cities = sorted(session.scalars(sa.select(Membership.city).where(Membership.user_id == user.id)))
        if list(user.roles) != new_roles:
            audit.record(session, _actor_name(actor), "user.roles", user.email,
                         roles={"from": list(user.roles), "to": new_roles})
            user.roles = new_roles  # sessions read the roles afresh with every request
            changed.append("roles")
        if old_cities != new_cities:
            session.execute(sa.delete(Membership).where(Membership.user_id == user.id,
                                                        Membership.city.not_in(new_cities)))
            session.add_all(Membership(user_id=user.id, city=c) for c in new_cities if c not in old_cities)
            audit.record(session, _actor_name(actor), "user.cities", user.email,
                         cities={"from": old_cities, "to": new_cities})
            changed.append("cities")
    return changed


def disable(instance: Instance, email: str, actor: Actor) -> None:
    """Disable an account: it cannot sign in, its sessions end and its devices are forgotten.

    Refused for oneself and for the last active administrator (nobody could manage accounts any more).
    """
    _check_actor(actor)
    with instance.db.writing() as session:
        user = session.scalar(sa.select(User).where(User.email == normal_email(email)))
        if user is None:
            raise AccountError(Message(N_("there is no account for %(email)s"), email=email))
        if _is_self(actor, user):
            raise AccountError(Message(N_("You cannot disable your own account.")))
        if not user.active:
            return
        if policy.ADMIN in user.roles and not _other_active_admins(session, user):
            raise AccountError(Message(N_("%(email)s is the last active administrator; make someone else an "
                                          "administrator first."), email=user.email))
        user.active = False
        user.session_version += 1
        devices.forget_all(session, user.id)
        audit.record(session, _actor_name(actor), "user.disable", user.email)


def enable(instance: Instance, email: str, actor: Actor) -> bool:
    """Let a disabled account sign in again (with its password; old sessions stay ended); False if it was active."""
    _check_actor(actor)
    with instance.db.writing() as session:
        user = session.scalar(sa.select(User).where(User.email == normal_email(email)))
        if user is None:
            raise AccountError(Message(N_("there is no account for %(email)s"), email=email))
        if user.active:
            return False
        user.active = True
        audit.record(session, _actor_name(actor), "user.enable", user.email)
        return True


def everyone(instance: Instance) -> list[tuple[User, tuple[str, ...]]]:
    """Every account with its cities, by e-mail."""
    with instance.db.session() as session:
        users = list(session.scalars(sa.select(User).order_by(User.email)))
        memberships = sa.select(Membership.city).where(Membership.user_id == sa.bindparam("user"))
        return [(u, tuple(session.scalars(memberships, {"user": u.id}))) for u in users]


def all_people(instance: Instance) -> list[Person]:
    """Every account, active or not, by name then e-mail."""
    with instance.db.session() as session:
        memberships: dict[int, list[str]] = {}
        for user_id, city in session.execute(sa.select(Membership.user_id, Membership.city).order_by(Membership.city)):
            memberships.setdefault(user_id, []).append(city)
        return [Person(id=u.id, email=u.email, name=u.name, roles=tuple(u.roles),
                       cities=tuple(memberships.get(u.id, ())), active=u.active, invited=u.password_hash is None)
                for u in session.scalars(sa.select(User).order_by(sa.func.lower(User.name), User.email))]


def by_id(instance: Instance, user_id: int) -> Account | None:
    """The account of an active user (for work done on their behalf, such as a CLI export)."""
    with instance.db.session() as session:
        user = session.get(User, user_id)
        return _account(session, user) if user is not None and user.active else None


def ids_for_emails(instance: Instance, emails: list[str]) -> tuple[list[int], list[str]]:
    """The ids of active accounts with these e-mails, and the e-mails that have none."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    with instance.db.session() as session:
        found = {u.email: u.id for u in session.scalars(sa.select(User).where(User.email.in_(wanted),
                                                                             User.active.is_(True)))}
    return [found[e] for e in wanted if e in found], [e for e in wanted if e not in found]
