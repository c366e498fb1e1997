"""Administration of webhooks: add one (its secret shown once), change, test, delete it, read its delivery log
and send a delivery again. Every write is a call to ``exchange.webhooks.hooks``."""

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
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from exchange import policy
from exchange.errors import Conflict
from exchange.errors import Invalid
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer
from exchange.webhooks import hooks
from exchange.webhooks.addresses import MAX_URL

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(FlaskForm):
    url = StringField(_l("Target address (https://…)"), validators=[DataRequired(), Length(max=MAX_URL)])
    # an unknown or missing event is the service's to refuse, with a message naming it
    events = _Checkboxes(_l("Events"), choices=lambda: [SelectChoice(key, _(name)) for key, name
                                                        in hooks.EVENTS.items()], validate_choice=False)
    active = BooleanField(_l("Active: send deliveries"), default=True)
    secret = StringField(_l("Secret (leave empty to have one made)"), validators=[Length(max=hooks.MAX_SECRET)])
    new_secret = BooleanField(_l("Make a new secret"))


def _admin() -> policy.Viewer:
    if not policy.may_administer(viewer()):
        abort(404)
    return viewer()


def _errors(form: FlaskForm) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


@bp.route("", methods=["GET", "POST"], endpoint="list")
@login_required
def webhooks_page() -> ResponseReturnValue:
    admin = _admin()
    form, error, secret = WebhookForm(), None, None
    if form.validate_on_submit():
        try:
            _id, secret = hooks.create(library.instance, admin, form.url.data or "", form.events.data or [],
                                       form.active.data, (form.secret.data or "").strip())
        except Invalid as problem:
            error = i18n.told(problem)
    elif form.is_submitted():
        error = _errors(form)
    if secret:
        form = WebhookForm(formdata=None)
    form.secret.data = ""  # a secret is never written back into the page
    return render_template("webhooks.html", form=form, hooks=hooks.all_webhooks(library.instance, admin),
                           error=error, secret=secret, event_names=hooks.EVENTS), 400 if error else 200


@bp.route("/<int:webhook_id>", methods=["GET", "POST"], endpoint="edit")
@login_required
def webhook_page(webhook_id: int) -> ResponseReturnValue:
    admin = _admin()
    found = hooks.webhook(library.instance, admin, webhook_id)
    form = WebhookForm(data={"url": found.url, "events": list(found.events), "active": found.active})
    error = secret = None
    if form.validate_on_submit():
        try:
            secret = hooks.update(library.instance, admin, webhook_id, form.url.data or "", form.events.data or [],
                                  form.active.data, (form.secret.data or "").strip(), form.new_secret.data)
        except Invalid as problem:
            error = i18n.told(problem)
        else:
            if not secret:
                flash(_("Saved the webhook."))
                return redirect(url_for("webhooks.edit", webhook_id=webhook_id))
            found = hooks.webhook(library.instance, admin, webhook_id)
    elif form.is_submitted():
        error = _errors(form)
    return _page(admin, found, form, error=error, secret=secret)


def _page(admin: policy.Viewer, found: hooks.WebhookView, form: WebhookForm, **values: object) -> ResponseReturnValue:
    form.secret.data, form.new_secret.data = "", False  # a secret is never written back into the page
    return render_template("webhook.html", hook=found, form=form, event_names=hooks.EVENTS,
                           deliveries=hooks.deliveries(library.instance, admin, found.id),
                           **values), 400 if values.get("error") else 200


@bp.post("/<int:webhook_id>/delete")
@login_required
def delete(webhook_id: int) -> ResponseReturnValue:
    """Delete a webhook once the admin has confirmed it on the page this shows first."""
    admin = _admin()
    found = hooks.webhook(library.instance, admin, webhook_id)
    if request.form.get("confirmed") != "yes":
        return _page(admin, found, WebhookForm(data={"url": found.url, "events": list(found.events),
                                                     "active": found.active}), confirm=True)
    hooks.delete(library.instance, admin, webhook_id)
    flash(_("Deleted the webhook to %(url)s.", url=found.url))
    return redirect(url_for("webhooks.list"))


@bp.post("/<int:webhook_id>/test")
@login_required
def send_test(webhook_id: int) -> ResponseReturnValue:
    try:
        hooks.send_test(library.instance, _admin(), webhook_id)
        flash(_("A test event is queued; its attempts appear in the delivery log below."))
    except Conflict as problem:
        flash(i18n.told(problem))
    return redirect(url_for("webhooks.edit", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@login_required
def redeliver(webhook_id: int, delivery_id: int) -> ResponseReturnValue:
    try:
        hooks.redeliver(library.instance, _admin(), webhook_id, delivery_id)
        flash(_("The event is queued again as a new delivery."))
    except Conflict as problem:
        flash(i18n.told(problem))
    return redirect(url_for("webhooks.edit", webhook_id=webhook_id))
