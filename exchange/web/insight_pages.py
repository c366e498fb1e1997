"""Administrators' views of the library: content health, the content-gap report, the coverage matrix,
and what a person may see. Each page is for administrators only (403 for anyone else signed in)."""

from __future__ import annotations

import urllib.parse

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required

from exchange import policy
from exchange.accounts import people
from exchange.insight import access
from exchange.insight import coverage
from exchange.insight import gaps
from exchange.insight import health
from exchange.insight import links
from exchange.library import cities as city_service
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("insight", __name__, url_prefix="/admin")

#: rows of each list of the content-health page shown at first (the rest behind "show all"), so that every
#: list's heading is within the first screens, on a phone too
SHOWN = 5


@bp.before_request
@login_required
def _admin_only() -> None:
    if not policy.may_administer(viewer()):
        abort(403)


def _partner_cities() -> list[tuple[str, str]]:
    ui = i18n.language()
    return sorted(((c.slug, c.display_name(ui)) for c in city_service.all_cities(library.instance)),
                  key=lambda city: city[1].casefold())


@bp.get("/health")
def content_health() -> ResponseReturnValue:
    partner_cities = _partner_cities()
    city = request.args.get("city", "")[:80] or None
    error = None
    if city is not None and city not in dict(partner_cities):
        error, city = _("There is no partner city “%(city)s”: showing every city.", city=city), None
    found = health.health(library.instance, current_app.config["EXCHANGE_BASE_URL"], city)
    return render_template("admin_health.html", health=found, cities=partner_cities, city=city, shown=SHOWN,
                           error=error), 400 if error else 200


@bp.post("/health/check-links")
def check_links() -> ResponseReturnValue:
    """Ask the job runner to check the links to other sites (never in this request)."""
    site = urllib.parse.urlsplit(current_app.config["EXCHANGE_BASE_URL"]).netloc
    if links.request_check(library.instance, site):
        flash(_("The links to other sites will be checked in the background, at most %(count)s a run: "
                "come back to this page later.", count=links.MAX_LINKS))
    else:
        flash(_("A check of the links to other sites is already waiting or running."))
    return redirect(url_for("insight.content_health") + "#links")


@bp.get("/gaps")
def content_gaps() -> ResponseReturnValue:
    days = request.args.get("days", "")
    window = int(days) if days.isascii() and days.isdigit() and int(days) in gaps.WINDOWS else gaps.WINDOWS[0]
    return render_template("admin_gaps.html", report=gaps.report(library.instance, window), windows=gaps.WINDOWS)


@bp.post("/gaps/clear")
def clear_gaps() -> ResponseReturnValue:
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that the whole log is to be cleared; nothing was deleted."))
        return redirect(url_for("insight.content_gaps"))
    deleted = gaps.clear(library.instance, viewer().email)
    flash(ngettext("The content-gap log is cleared (%(num)s row deleted).",
                   "The content-gap log is cleared (%(num)s rows deleted).", deleted))
    return redirect(url_for("insight.content_gaps"))


@bp.get("/coverage")
def coverage_matrix() -> ResponseReturnValue:
    phase = request.args.get("phase", "") or None
    error = None
    if phase is not None and phase not in coverage.PHASE_GROUPS:
        error, phase = _("There is no phase “%(phase)s”: showing every phase.", phase=phase[:80]), None
    return render_template("admin_coverage.html", matrix=coverage.matrix(library.instance, phase),
                           phases=coverage.PHASE_GROUPS, city_names=dict(_partner_cities()),
                           error=error), 400 if error else 200


@bp.get("/access")
def person_access() -> ResponseReturnValue:
    everyone = people.all_people(library.instance)
    chosen = request.args.get("person", "")
    practice_id = request.args.get("practice", "")[:200]
    person = next((p for p in everyone if chosen.isascii() and chosen.isdigit() and p.id == int(chosen)), None)
    error = _("There is no person with this id: choose one from the list.") if chosen and person is None else None
    sight = access.sight(library.instance, person, practice_id) if error is None else None  # None: the public
    return render_template("admin_access.html", everyone=everyone, person=person, sight=sight,
                           practice_id=practice_id, city_names=dict(_partner_cities()),
                           role_names={role: _(name) for role, name in people.ROLE_NAMES.items()},
                           error=error), 400 if error else 200
