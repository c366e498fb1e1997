"""Password hashing and strength: the one module that imports argon2-cffi and zxcvbn's lists."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1024

# Argon2id, memory-hard: 64 MiB and 3 passes cost ~0.13 s of one core here (measured), so with the
# login throttle two cores are not exhausted by a flood of failed sign-ins.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)


@functools.cache
def _dummy_hash() -> str:
    """Verified when an account does not exist, so unknown users cost the same time as wrong passwords.

    Made on first use: a worker or command that never checks a password does not pay 64 MB and a tenth
    of a second for it."""
    return _hasher.hash("not a real password, only for timing")


class WeakPassword(Invalid):
    """A password is refused; the message says why."""


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_strength(password: str, email: str = "", name: str = "") -> None:
    """Raise WeakPassword when ``password`` is too short, too long, common, or the account's own name."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(Message(N_("Use at least %(count)s characters."), count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise WeakPassword(Message(N_("Use at most %(count)s characters."), count=MAX_LENGTH))
    lowered = password.lower()
    base = lowered.rstrip("0123456789!@#$%^&*.?-_ ")
    if lowered in _common() or (len(base) >= 4 and base in _common()):
        raise WeakPassword(Message(N_("This password is on the list of commonly used passwords; choose another.")))
    own_words = [email.lower(), email.lower().split("@")[0], *name.lower().split()]
    if any(len(own) >= 4 and own in lowered for own in own_words):
        raise WeakPassword(Message(N_("The password must not contain your name or e-mail address.")))
    if len(set(password)) < 4:
        raise WeakPassword(Message(N_("The password repeats too few different characters.")))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; takes as long for a missing account as for a wrong password."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
