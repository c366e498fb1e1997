"""Administration: people (invitations, roles and cities, disabling and re-enabling), the audit log
(readable, paged, filtered, downloadable as CSV) and the nodes this library harvests."""

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
from wtforms import IntegerField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from exchange import audit
from exchange import policy
from exchange.accounts import people
from exchange.errors import Invalid
from exchange.harvesting import harvests
from exchange.library import cities as city_service
from exchange.library import reading
from exchange.web import audit_view
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.presentation import Labels
from exchange.web.viewer import current as viewer

bp = Blueprint("admin", __name__, url_prefix="/admin")


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier to tap than a multi-select, and no ctrl-click)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(r, _l(people.ROLE_NAMES[r])) for r in people.ROLES]


def _at_least_one(_form: FlaskForm, field: SelectMultipleField) -> None:
    # not DataRequired: its "required" flag would make the browser insist on every checkbox
    if not field.data:
        raise ValidationError(_("Choose at least one role."))


class PersonForm(FlaskForm):
    roles = CheckboxesField(_l("Roles"), choices=_role_choices, validators=[_at_least_one])
    # an unknown city is the service's to refuse: its message names the city, in the reader's language
    cities = CheckboxesField(_l("Cities (for contributors)"), choices=[], validate_choice=False)

    def with_cities(self) -> PersonForm:
        """The form with the partner cities to choose from, by their names in the interface language."""
        ui = i18n.language()
        partners = sorted(city_service.all_cities(library.instance), key=lambda c: c.display_name(ui).casefold())
        self.cities.choices = [SelectChoice(c.slug, c.display_name(ui)) for c in partners]
        return self


class InviteForm(PersonForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


#: people and audit entries on one page of the audit log
AUDIT_PAGE = 100


def _admin_only() -> None:
    if not policy.may_administer(viewer()):
        abort(404)


def _role_names() -> dict[str, str]:
    return {r: _(name) for r, name in people.ROLE_NAMES.items()}


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """/admin itself: its first page, the people."""
    _admin_only()
    return redirect(url_for("admin.people"))


@bp.route("/people", methods=["GET", "POST"], endpoint="people")
@login_required
def people_page() -> ResponseReturnValue:
    _admin_only()
    form = InviteForm().with_cities()
    link = error = None
    if form.validate_on_submit():
        assert form.email.data and form.name.data and form.roles.data  # DataRequired
        try:
            token = people.create_user(library.instance, form.email.data, form.name.data, form.roles.data,
                                       form.cities.data or [], viewer().email)
            link = current_app.config["EXCHANGE_BASE_URL"].rstrip("/") + url_for("auth.invitation", token=token)
        except people.AccountError as problem:
            error = i18n.told(problem)
    elif form.is_submitted():
        error = " ".join(str(message) for messages in form.errors.values() for message in messages)
    return render_template("people.html", form=form, people=people.all_people(library.instance), link=link,
                           error=error, role_names=_role_names()), 400 if error else 200


def _person_or_404(user_id: int) -> people.Person:
    _admin_only()
    found = people.person(library.instance, user_id)
    if found is None:
        abort(404)
    return found


def _person_page(person: people.Person, form: PersonForm, error: str | None = None,
                 confirm: str | None = None) -> ResponseReturnValue:
    return render_template("person.html", person=person, form=form, error=error, confirm=confirm,
                           role_names=_role_names(), is_self=person.id == viewer().id), 400 if error else 200


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@login_required
def person(user_id: int) -> ResponseReturnValue:
    found = _person_or_404(user_id)
    form = PersonForm(data={"roles": list(found.roles), "cities": list(found.cities)}).with_cities()
    if not form.validate_on_submit():
        error = " ".join(str(m) for ms in form.errors.values() for m in ms) if form.is_submitted() else None
        return _person_page(found, form, error)
    try:
        changed = people.update_person(library.instance, user_id, form.roles.data or [], form.cities.data or [],
                                       viewer())
    except people.AccountError as problem:
        return _person_page(found, form, i18n.told(problem))
    flash(_("Saved the roles and cities of %(name)s.", name=found.name) if changed else _("Nothing changed."))
    return redirect(url_for("admin.person", user_id=user_id))


@bp.post("/people/<int:user_id>/<any(disable, enable):change>")
@login_required
def access(user_id: int, change: str) -> ResponseReturnValue:
    """Disable or re-enable an account, once the admin has confirmed it on the page this shows first."""
    found = _person_or_404(user_id)
    form = PersonForm(data={"roles": list(found.roles), "cities": list(found.cities)},
                      formdata=None).with_cities()
    if request.form.get("confirmed") != "yes":
        return _person_page(found, form, confirm=change)
    try:
        if change == "disable":
            people.disable(library.instance, found.email, viewer())
            flash(_("%(email)s is disabled; their sessions have ended.", email=found.email))
        else:
            people.enable(library.instance, found.email, viewer())
            flash(_("%(email)s can sign in again.", email=found.email))
    except people.AccountError as problem:
        return _person_page(found, form, i18n.told(problem))
    return redirect(url_for("admin.person", user_id=user_id))


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    _admin_only()
    filters = {name: request.args.get(name, "")[:200] for name in ("actor", "action", "target", "since", "until")}
    page = request.args.get("page", "1")
    page_number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) <= 10_000 else 1
    csv = request.args.get("format") == "csv"
    rows = audit.entries(library.instance, **filters, limit=500 if csv else AUDIT_PAGE + 1,
                         offset=0 if csv else (page_number - 1) * AUDIT_PAGE)
    if csv:
        return Response(audit.as_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
    shown = rows[:AUDIT_PAGE]
    lines = audit_view.lines(shown, people.all_people(library.instance), Labels(i18n.language()),
                             reading.titles(library.instance, [row.target for row in shown], viewer()))
    return render_template("audit.html", lines=lines, filters=filters, page=page_number,
                           more=len(rows) > AUDIT_PAGE, per_page=AUDIT_PAGE, actions=audit_view.action_choices())


class SourceForm(FlaskForm):
    base_url = StringField(_l("OAI-PMH address"), validators=[DataRequired(), Length(max=500)])
    sets = StringField(_l("Sets (optional, separated by spaces)"), validators=[Length(max=2000)])
    interval_hours = IntegerField(_l("Harvest every (hours; empty: only by hand)"), validators=[Optional()])


def _harvests_page(form: SourceForm, error: str | None = None) -> ResponseReturnValue:
    return render_template("harvests.html", form=form, sources=harvests.sources(library.instance), error=error,
                           statuses=harvests.STATUSES,
                           said=lambda kept: str(i18n.said(harvests.restored(kept)))), 400 if error else 200


@bp.route("/harvests", methods=["GET", "POST"])
@login_required
def harvest_sources() -> ResponseReturnValue:
    """The nodes this library harvests, their last run and its report; a form to add one."""
    _admin_only()
    form = SourceForm()
    if not form.is_submitted():
        return _harvests_page(form)
    if not form.validate():
        return _harvests_page(form, " ".join(str(m) for ms in form.errors.values() for m in ms))
    try:
        harvests.save_source(library.instance, viewer(), form.base_url.data or "", (form.sets.data or "").split(),
                             form.interval_hours.data)
    except Invalid as problem:
        return _harvests_page(form, i18n.told(problem))
    flash(_("Saved. A scheduled source is harvested within a few minutes."))
    return redirect(url_for("admin.harvest_sources"))


@bp.post("/harvests/<int:source_id>/harvest")
@login_required
def harvest_now(source_id: int) -> ResponseReturnValue:
    """Ask the job runner to harvest a source now."""
    _admin_only()
    try:
        harvests.harvest_soon(library.instance, viewer(), source_id)
    except Invalid:
        abort(404)
    flash(_("The harvest is queued; its report appears here when it is done."))
    return redirect(url_for("admin.harvest_sources"))
