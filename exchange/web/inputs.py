"""What every request must satisfy before a view sees it: no NUL characters in its text.

No practice id, city, token, search or form field has a use for NUL, and PostgreSQL cannot hold or
even compare text that contains one: a lookup raises instead of finding nothing. So a NUL in the path
means the page cannot exist (404), and one in the query string or a form field is a bad request (400).
Uploaded files are not checked here; their own readers refuse what they cannot take.
"""

from __future__ import annotations

from flask import Flask
from flask import abort
from flask import request
from flask_babel import gettext as _

NUL = "\x00"


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    """Stop a request whose path (404) or query string or form fields (400) hold a NUL character."""
    if NUL in request.path:
        abort(404)
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    # A multipart part whose name Werkzeug cannot read comes with the name None.
    if any(NUL in (name or "") or NUL in (value or "") for name, value in fields):
        abort(400, _("A field of this request holds a NUL character, which no field accepts."))
