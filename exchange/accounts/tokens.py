"""Secret tokens in links (invitations, shared packs): handed out once, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets


def new() -> str:
    """A fresh unguessable token for a URL."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a token: a leaked database does not leak working links."""
    return hashlib.sha256(token.encode()).hexdigest()
