"""Administration: people (invitations, disabling) and the audit log (filter, download as CSV)."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired
from wtforms.validators import Length

from exchange import audit
from exchange import policy
from exchange.accounts import people
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("admin", __name__, url_prefix="/admin")


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    roles = SelectMultipleField(_l("Roles"), choices=[SelectChoice(r, _l(people.ROLE_NAMES[r])) for r in people.ROLES],
                                validators=[DataRequired()])
    cities = StringField(_l("Cities (comma-separated slugs)"), validators=[Length(max=1000)])


def _admin_only() -> None:
    if not policy.may_administer(viewer()):
        abort(404)


@bp.route("/people", methods=["GET", "POST"], endpoint="people")
@login_required
def people_page() -> ResponseReturnValue:
    _admin_only()
    form = InviteForm()
    link = error = None
    if form.validate_on_submit():
        assert form.email.data and form.name.data and form.roles.data  # DataRequired
        cities = [c.strip() for c in (form.cities.data or "").split(",") if c.strip()]
        try:
            token = people.create_user(library.instance, form.email.data, form.name.data, form.roles.data, cities,
                                         viewer().email)
            link = current_app.config["EXCHANGE_BASE_URL"].rstrip("/") + url_for("auth.invitation", token=token)
        except people.AccountError as problem:
            error = i18n.told(problem)
    everyone = [(user, cities, user.active and policy.may_disable(viewer(), user.id))
                for user, cities in people.everyone(library.instance)]
    return render_template("people.html", form=form, people=everyone, link=link, error=error,
                           role_names={r: _(name) for r, name in people.ROLE_NAMES.items()}), 400 if error else 200


@bp.post("/people/<int:user_id>/disable")
@login_required
def disable(user_id: int) -> ResponseReturnValue:
    _admin_only()
    found = [user for user, _cities in people.everyone(library.instance) if user.id == user_id]
    if not found:
        abort(404)
    people.disable(library.instance, found[0].email, viewer().email)
    flash(_("%(email)s is disabled; their sessions have ended.", email=found[0].email))
    return redirect(url_for("admin.people"))


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    _admin_only()
    filters = {name: request.args.get(name, "")[:200] for name in ("actor", "action", "target", "since", "until")}
    rows = audit.entries(library.instance, actor=filters["actor"], action=filters["action"], target=filters["target"],
                         since=filters["since"], until=filters["until"])
    if request.args.get("format") == "csv":
        return Response(audit.as_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
    return render_template("audit.html", rows=rows, filters=filters)
