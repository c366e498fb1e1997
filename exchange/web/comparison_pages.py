"""Comparing practices across cities: ``/compare?p=<id>&p=<id>[&p=<id>]``, a shareable address.

The list being compared lives in the address alone (no session, so public pages stay cacheable): search
results carry it in ``compare=`` while a reader ticks practices, and ``/compare`` shows them side by side.
"""

from __future__ import annotations

from flask import Blueprint
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from exchange import comparison
from exchange.web import i18n
from exchange.web import page_cache
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("comparison", __name__)


@bp.get("/compare")
def practices() -> ResponseReturnValue:
    """Two or three practices side by side; fewer: the one chosen and how to choose more (400 for more than
    three or a malformed id, 404 naming the id of one the reader may not read), each offering what can be
    compared of what was asked."""
    try:
        ids = comparison.chosen(request.args.getlist("p"))
    except comparison.InvalidComparison as error:
        kept = comparison.choosing(request.args.getlist("p"))
        return render_template("compare_practices.html", ids=kept, comparison=None, problem=i18n.told(error),
                               picked=comparison.picked(library.instance, kept, viewer(), i18n.language())), 400
    if len(ids) < comparison.MIN_PRACTICES:
        return page_cache.page(lambda: render_template(
            "compare_practices.html", ids=ids, comparison=None,
            picked=comparison.picked(library.instance, ids, viewer(), i18n.language())))
    try:
        found = comparison.compare(library.instance, ids, viewer(), i18n.language())
    except comparison.UnreadablePractice as error:
        rest = [i for i in ids if i != error.practice_id]
        return render_template("compare_practices.html", ids=rest, comparison=None, unreadable=error.practice_id,
                               picked=comparison.picked(library.instance, rest, viewer(), i18n.language())), 404
    return page_cache.page(lambda: render_template("compare_practices.html", ids=ids, comparison=found))
