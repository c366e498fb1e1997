"""Who is asking, as the policy module understands it."""

from __future__ import annotations

from flask_login import current_user

from exchange import policy


def current() -> policy.Viewer:
    """The person making this request, as the policy module sees them."""
    if getattr(current_user, "is_authenticated", False):
        return current_user  # an accounts.people.Account
    return policy.ANONYMOUS
