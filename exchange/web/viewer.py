"""Who is asking, as the policy module understands it."""

from __future__ import annotations

from exchange import policy


def current() -> policy.Viewer:
    """The person making this request (everyone is anonymous until accounts arrive)."""
    return policy.ANONYMOUS
