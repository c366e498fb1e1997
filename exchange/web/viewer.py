"""Who is asking, as the policy module understands it."""

from __future__ import annotations

from flask_login import current_user

from exchange import policy


def current() -> policy.Viewer:
    """The person making this request (an ``accounts.people.Account``), or ``policy.ANONYMOUS``."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if isinstance(user, policy.Viewer) and user.is_authenticated:
        return user
    return policy.ANONYMOUS
