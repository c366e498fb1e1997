"""Secret tokens: in links (invitations, shared packs) and personal API tokens; handed out once, stored only as hashes.

A personal API token acts with its person's permissions, within its scopes (``read``, ``submit``), until
it expires (at most ``MAX_DAYS`` after it was made) or is revoked; a disabled account's tokens stop
working with it. Its secret is shown once, when it is made: only its SHA-256 digest is kept, so a leaked
database does not leak working tokens. Every token made or revoked is audited, by its id (never its secret).

A token's calls a minute are counted as it is authenticated, in the same transaction (``api_calls``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import audit
from exchange.accounts import api_calls
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.errors import NotFound
from exchange.models import ApiToken
from exchange.models import User
from exchange.models import utcnow

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

READ = "read"
SUBMIT = "submit"
SCOPES = (READ, SUBMIT)
#: what each scope allows, for people (catalog messages: the account page says them in the reader's language)
SCOPE_NAMES = {READ: N_("read practices"), SUBMIT: N_("submit practices for review")}
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_NAME = 100
#: every API token starts so, so a leaked one is easy to recognise (in logs, in a repository)
PREFIX = "pxt_"
_TOKEN = re.compile(r"^pxt_[A-Za-z0-9_-]{43}$")


def new() -> str:
    """A fresh unguessable token for a URL."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a token: a leaked database does not leak working links."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRefused(Exception):
    """An API token that does not work: unknown, expired, revoked, or its account disabled (``reason`` says which)."""

    def __init__(self, reason: str, token_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_id = token_id


class InvalidToken(Invalid):
    """A token cannot be made as asked; the message names the field and the problem."""


@dataclass(frozen=True)
class TokenInfo:
    """A personal API token as its owner sees it on the account page (never its secret)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime.datetime
    expires_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None

    @property
    def expires_on(self) -> datetime.date:
        """The last day it works (UTC): it stops at the end of it."""
        return (self.expires_at - datetime.timedelta(days=1)).date()

    def state(self, now: datetime.datetime) -> str:
        """"active", "expired" or "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class TokenUse:
    """A working token: whose it is, what it may do, and where it stands against its calls a minute."""

    token_id: int
    user_id: int
    scopes: tuple[str, ...]
    #: this call counted (refused when past the limit)
    allowance: api_calls.Allowance


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, tuple(row.scopes), row.created_at, row.expires_at, row.last_used_at,
                     row.revoked_at)


def default_expiry(today: datetime.date | None = None) -> datetime.date:
    """The expiry date the form offers: ``DEFAULT_DAYS`` from today."""
    return (today or utcnow().date()) + datetime.timedelta(days=DEFAULT_DAYS)


def latest_expiry(today: datetime.date | None = None) -> datetime.date:
    """The furthest expiry date a token may have: ``MAX_DAYS`` from today."""
    return (today or utcnow().date()) + datetime.timedelta(days=MAX_DAYS)


def create(instance: Instance, user_id: int, name: str, scopes: list[str],
           expires: datetime.date) -> tuple[TokenInfo, str]:
    """A new token of ``user_id`` and its secret, which is never shown again; it works until the end of ``expires``."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidToken(Message(N_("name: give the token a name of 1 to %(count)s characters"), count=MAX_NAME))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InvalidToken(Message(N_("scopes: choose at least one of %(scopes)s"), scopes=", ".join(SCOPES)))
    today = utcnow().date()
    if not today < expires <= latest_expiry(today):
        raise InvalidToken(Message(N_("expiry: choose a date after today and at most %(days)s days ahead"),
                                   days=MAX_DAYS))
    secret = PREFIX + secrets.token_urlsafe(32)
    with instance.db.writing() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise NotFound(f"no active account {user_id}")
        row = ApiToken(user_id=user_id, name=name, token_hash=digest(secret),
                       scopes=[s for s in SCOPES if s in scopes],
                       expires_at=datetime.datetime.combine(expires + datetime.timedelta(days=1), datetime.time()))
        session.add(row)
        session.flush()
        audit.record(session, user.email, "token.create", f"token:{row.id}", name=name, scopes=row.scopes,
                     expires=expires.isoformat())
        return _info(row), secret


def mine(instance: Instance, user_id: int) -> list[TokenInfo]:
    """The tokens of ``user_id``, newest first (revoked and expired ones too, so their last use stays visible)."""
    with instance.db.session() as session:
        rows = session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id)
                               .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
        return [_info(row) for row in rows]


def revoke(instance: Instance, user_id: int, token_id: int) -> None:
    """Stop ``token_id`` of ``user_id`` working from now on (NotFound for another person's token)."""
    with instance.db.writing() as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user_id:
            raise NotFound(f"no token {token_id} of account {user_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            owner = session.get_one(User, user_id)
            audit.record(session, owner.email, "token.revoke", f"token:{row.id}", name=row.name)


def authenticate(instance: Instance, secret: str, limit: int) -> TokenUse:
    """The use ``secret`` gives, with its last use noted and the call counted against ``limit`` calls a
    minute (in one transaction); TokenRefused when it does not work.

    Nothing is written for a refused token (an unknown one is not even looked up when it cannot be one).
    """
    if not _TOKEN.match(secret):
        raise TokenRefused("unknown")
    now = utcnow()
    with instance.db.claiming() as session:
        row = session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
        if row is None:
            raise TokenRefused("unknown")
        if row.revoked_at is not None:
            raise TokenRefused("revoked", row.id)
        if row.expires_at <= now:
            raise TokenRefused("expired", row.id)
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            raise TokenRefused("account disabled", row.id)
        row.last_used_at = now
        return TokenUse(row.id, row.user_id, tuple(row.scopes),
                        api_calls.count(session, api_calls.token_caller(row.id), limit, now))


def record_call(instance: Instance, token_id: int, method: str, path: str, status: int) -> None:
    """Audit one API call made with ``token_id`` (by its id, never its secret), refused or answered."""
    with instance.db.claiming() as session:
        row = session.get(ApiToken, token_id)
        owner = session.get(User, row.user_id) if row is not None else None
        audit.record(session, owner.email if owner else f"token:{token_id}", "api.call" if status < 400 else
                     "api.refused", path[:300], token=token_id, method=method, status=status)
