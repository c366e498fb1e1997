"""A person's saved searches: saved from the search page, listed in their account, with their private feeds."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from exchange.alerts import saved
from exchange.search.backend import FACETS
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("saved", __name__, url_prefix="/account/saved-searches")


def _valid() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    return _page()


@bp.post("")
@login_required
def create() -> ResponseReturnValue:
    _valid()
    filters = {facet: request.form.getlist(facet) for facet in FACETS if request.form.getlist(facet)}
    made, token = saved.create(library.instance, viewer(), request.form.get("name", ""), request.form.get("q", ""),
                               filters, request.form.get("frequency", ""))
    return _page(made.id, token, _("The search was saved."))


@bp.post("/<int:saved_id>/frequency")
@login_required
def frequency(saved_id: int) -> ResponseReturnValue:
    _valid()
    saved.set_frequency(library.instance, viewer(), saved_id, request.form.get("frequency", ""))
    flash(_("How often you are alerted was changed."))
    return redirect(url_for("saved.index"))


@bp.post("/<int:saved_id>/address")
@login_required
def address(saved_id: int) -> ResponseReturnValue:
    _valid()
    token = saved.new_address(library.instance, viewer(), saved_id)
    return _page(saved_id, token, _("The feed has a new address; the old one no longer works."))


@bp.post("/<int:saved_id>/delete")
@login_required
def delete(saved_id: int) -> ResponseReturnValue:
    _valid()
    saved.delete(library.instance, viewer(), saved_id)
    flash(_("The saved search was deleted; its alerts and its feed stopped."))
    return redirect(url_for("saved.index"))


def _page(fresh: int | None = None, token: str | None = None, notice: str | None = None) -> ResponseReturnValue:
    """The list of the person's saved searches; ``fresh`` is shown with its feed's new address (``token``)."""
    feed = url_for("feeds.saved", token=token, _external=True) if token else None
    response = render_template("saved_searches.html", searches=saved.mine(library.instance, viewer()),
                               frequencies=saved.FREQUENCIES, fresh=fresh, feed=feed, notice=notice)
    return response, 200, {"Cache-Control": "private, no-store"}  # the address is a secret
