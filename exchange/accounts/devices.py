"""Known devices: the long-lived cookie a browser gets when someone signs in from it.

A device cookie holds one random token per account signed in from that browser (at most
``MAX_ACCOUNTS_PER_COOKIE``, joined by dots, so colleagues sharing an office computer each keep theirs).
The database keeps only each token's hash, the account it is for and when it expires: a token cannot
be forged, means nothing for any other account, and stops counting when the password changes or the
account is disabled. Sign-in throttling (``accounts.authenticate``) lets an account's known devices
past the account-wide throttle that strangers trigger, so guessing someone's password from elsewhere
cannot lock that person out of the browsers they use.

Each sign-in replaces the token that named the account's device, so a copied cookie stops working
once its owner signs in again.
"""

from __future__ import annotations

import datetime
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import db
from exchange.accounts import tokens
from exchange.models import KnownDevice

#: How long a device stays known without a sign-in from it (each sign-in renews it).
LIFETIME = datetime.timedelta(days=180)
MAX_ACCOUNTS_PER_COOKIE = 5
#: An account's least recently used devices beyond this many are forgotten.
MAX_DEVICES_PER_ACCOUNT = 20
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def tokens_in(cookie: str | None) -> list[str]:
    """The well-formed tokens in a device cookie's value, in order, without repeats (junk is dropped)."""
    found: list[str] = []
    for token in (cookie or "")[:1000].split("."):
        if _TOKEN.match(token) and token not in found:
            found.append(token)
    return found[:MAX_ACCOUNTS_PER_COOKIE]


def recognise(session: Session, cookie: str | None, user_id: int, now: datetime.datetime) -> int | None:
    """The id of the account's unexpired known device that the cookie names, or None."""
    hashes = [tokens.digest(token) for token in tokens_in(cookie)]
    if not hashes:
        return None
    return session.scalar(sa.select(KnownDevice.id).where(
        KnownDevice.token_hash.in_(hashes), KnownDevice.user_id == user_id, KnownDevice.expires_at > now))


def remember(session: Session, user_id: int, cookie: str | None, now: datetime.datetime) -> str:
    """The device cookie's new value after the account signed in from this browser.

    The account's token in ``cookie`` (if it is still valid) is replaced by a new one for the same
    device; otherwise a new device is recorded. Other accounts' tokens that are still valid are kept.
    """
    presented = {tokens.digest(token): token for token in tokens_in(cookie)}
    live = list(session.scalars(sa.select(KnownDevice).where(
        KnownDevice.token_hash.in_(list(presented)), KnownDevice.expires_at > now)))
    theirs = {device.token_hash for device in live if device.user_id != user_id}
    others = [token for token_hash, token in presented.items() if token_hash in theirs]  # most recent first
    own = next((device for device in live if device.user_id == user_id), None)
    token = tokens.new()
    if own is None:
        own = KnownDevice(user_id=user_id, created_at=now)
        session.add(own)
    own.token_hash = tokens.digest(token)
    own.last_used_at = now
    own.expires_at = now + LIFETIME
    session.flush()
    _prune(session, user_id, now)
    return ".".join([token, *others][:MAX_ACCOUNTS_PER_COOKIE])


def forget_all(session: Session, user_id: int) -> int:
    """How many devices the account had; none of their cookies count any more (password change, disabling)."""
    return db.rowcount(session.execute(sa.delete(KnownDevice).where(KnownDevice.user_id == user_id)))


def _prune(session: Session, user_id: int, now: datetime.datetime) -> None:
    """Drop expired devices (anyone's) and the account's least recently used ones beyond the cap."""
    session.execute(sa.delete(KnownDevice).where(KnownDevice.expires_at <= now))
    keep = sa.select(KnownDevice.id).where(KnownDevice.user_id == user_id).order_by(
        KnownDevice.last_used_at.desc(), KnownDevice.id.desc()).limit(MAX_DEVICES_PER_ACCOUNT)
    session.execute(sa.delete(KnownDevice).where(KnownDevice.user_id == user_id, KnownDevice.id.not_in(keep)))
