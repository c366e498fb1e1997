"""Signing in and out, accepting an invitation, changing one's password, one's personal API tokens."""

from __future__ import annotations

import urllib.parse

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import widgets
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired
from wtforms.validators import Length

from exchange.accounts import devices
from exchange.accounts import passwords
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.errors import NotFound
from exchange.web import i18n
from exchange.web.extensions import library

bp = Blueprint("auth", __name__)

#: The device cookie (see exchange.accounts.devices): host-only, HTTPS only, unreadable by scripts, and never
#: sent with a request another site starts, since only our own sign-in form needs it (threats AU-1, AU-8).
DEVICE_COOKIE = "__Host-px-device"


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=tokens.MAX_NAME)])
    scopes = SelectMultipleField(_l("Scopes"), choices=[SelectChoice(scope, scope) for scope in tokens.SCOPES],
                                 widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput())
    # no DataRequired: it puts `required` on every checkbox, so a browser would demand both scopes;
    # tokens.create refuses a token without any scope, saying so
    expires = DateField(_l("Expires on"), validators=[DataRequired()])


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)])


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the home page (threats AU-6)."""
    if not target:
        return url_for("pages.home")
    decoded = urllib.parse.unquote(target)
    for candidate in (target, decoded):
        if (not candidate.startswith("/") or candidate.startswith(("//", "/\\")) or "\\" in candidate
                or any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate)):
            return url_for("pages.home")
        if urllib.parse.urlsplit(candidate).scheme or urllib.parse.urlsplit(candidate).netloc:
            return url_for("pages.home")
    return target


def _client() -> str:
    return request.remote_addr or "unknown"


def _device_cookie() -> str | None:
    return request.cookies.get(DEVICE_COOKIE)


def _sign_in(signed_in: people.SignIn) -> Response:
    session.clear()  # a new session at every sign-in (threats AU-4)
    login_user(signed_in.account)
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie(DEVICE_COOKIE, signed_in.device_cookie, max_age=int(devices.LIFETIME.total_seconds()),
                        path="/", secure=True, httponly=True, samesite="Strict")
    return response


def _wait(seconds: int) -> str:
    minutes = -(-seconds // 60)
    if seconds < 60:
        return str(ngettext("%(num)s second", "%(num)s seconds", seconds))
    return str(ngettext("%(num)s minute", "%(num)s minutes", minutes))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        assert form.email.data and form.password.data  # DataRequired
        try:
            signed_in = people.authenticate(library.instance, form.email.data, form.password.data, _client(),
                                              _device_cookie(), language=i18n.browser_language())
        except people.Throttled as error:
            refusal = _("Too many failed attempts. Try again in %(wait)s.", wait=_wait(error.retry_after))
            response = current_app.make_response((render_template("login.html", form=form, error=refusal), 429))
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        if signed_in is not None:
            return _sign_in(signed_in)
        return render_template("login.html", form=form, error=_("The e-mail or password is not right.")), 401
    return render_template("login.html", form=form, error=None)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        people.end_sessions(library.instance, current_user.id, current_user.email, "logout")
    logout_user()
    session.clear()
    return redirect(url_for("pages.home"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    if len(token) > 100 or not people.invitation_is_valid(library.instance, token):
        abort(404)
    form = NewPasswordForm()
    if form.validate_on_submit():
        assert form.password.data  # DataRequired
        try:
            return _sign_in(people.accept_invitation(library.instance, token, form.password.data,
                                                       _device_cookie(), i18n.browser_language()))
        except (people.AccountError, passwords.WeakPassword) as error:
            return render_template("password.html", form=form, error=i18n.told(error), invitation=True), 400
    return render_template("password.html", form=form, error=None, invitation=True)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        assert form.current.data and form.password.data  # DataRequired
        try:
            signed_in = people.change_password(library.instance, current_user.id, form.current.data,
                                                 form.password.data, _device_cookie())
        except (people.AccountError, passwords.WeakPassword) as error:
            return render_template("password.html", form=form, error=i18n.told(error), invitation=False), 400
        flash(_("Your password was changed; other sessions were signed out."))
        return _sign_in(signed_in)
    return render_template("password.html", form=form, error=None, invitation=False)


@bp.post("/account/language")
def choose_language() -> ResponseReturnValue:
    """The header's switcher: remember the language in a cookie, and in the account of a signed-in person."""
    code = request.form.get("language", "")
    if code not in i18n.LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        people.set_language(library.instance, current_user.id, code)
    back = urllib.parse.urlsplit(safe_next(request.form.get("next")))
    query = urllib.parse.urlencode([(k, v) for k, v in urllib.parse.parse_qsl(back.query) if k != "lang"])
    response = redirect(back.path + (f"?{query}" if query else ""))
    i18n.remember(response, code)
    return response


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens() -> ResponseReturnValue:
    """The person's API tokens; a new one's secret is shown on this answer only (a signed-in page: never cached)."""
    form = TokenForm(scopes=[tokens.READ], expires=tokens.default_expiry())
    created, error, status = None, None, 200
    if form.validate_on_submit():
        assert form.name.data and form.expires.data  # DataRequired
        try:
            created = tokens.create(library.instance, current_user.id, form.name.data, form.scopes.data or [],
                                    form.expires.data)
            form = TokenForm(formdata=None, scopes=[tokens.READ], expires=tokens.default_expiry())
        except tokens.InvalidToken as refused:
            error, status = i18n.told(refused), 400
    elif form.is_submitted():
        error, status = "; ".join(f"{form[name].label.text}: {'; '.join(problems)}"
                                  for name, problems in form.errors.items()), 400
    return render_template("api_tokens.html", form=form, created=created, error=error,
                           tokens=tokens.mine(library.instance, current_user.id), now=tokens.utcnow(),
                           latest=tokens.latest_expiry(),
                           scope_names={scope: _(name) for scope, name in tokens.SCOPE_NAMES.items()}), status


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    FlaskForm().validate_on_submit() or abort(400)
    try:
        tokens.revoke(library.instance, current_user.id, token_id)
    except NotFound:
        abort(404)
    flash(_("The token was revoked; calls with it are refused from now on."))
    return redirect(url_for("auth.api_tokens"))
