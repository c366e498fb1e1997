"""Who is asking, as the policy module understands it."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from exchange import policy


def current() -> policy.Viewer:
    """The person making this request (an ``accounts.people.Account``), or ``policy.ANONYMOUS``.

    An API call with a personal token acts as the token's person (``web/api.py`` sets ``g.token_account``),
    whatever session cookie came with it.
    """
    account = g.get("token_account")
    if isinstance(account, policy.Viewer):
        return account
    user = current_user._get_current_object()
    if isinstance(user, policy.Viewer) and user.is_authenticated:
        return user
    return policy.ANONYMOUS


def current_id() -> int:
    """The signed-in person's id, in a view behind ``login_required``."""
    user_id = current().id
    assert user_id is not None, "only for views behind login_required"
    return user_id
