"""Writing practices: the form with a live preview, drafts, submission, review and the dashboard."""

from __future__ import annotations

import datetime
import importlib.resources
from typing import Any

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
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import widgets
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from exchange import diffs
from exchange import policy
from exchange.library import bounded_rendering
from exchange.library import reading
from exchange.library import vocabularies
from exchange.library import yamlfile
from exchange.library.practice import InvalidPractice
from exchange.library.practice import compose
from exchange.library.practice import parse
from exchange.library.rendering import Rendered
from exchange.library.revision import revise
from exchange.review import notifications
from exchange.review import submissions
from exchange.web import errors
from exchange.web import i18n
from exchange.web import presentation
from exchange.web.extensions import library
from exchange.web.request_limits import form_number
from exchange.web.viewer import current as viewer
from exchange.web.viewer import current_id

bp = Blueprint("contribute", __name__)


class MultiCheckbox(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _choices(vocabulary: vocabularies.Vocabulary) -> list[SelectChoice]:
    """Options labelled in the interface language."""
    language = i18n.language()
    return [SelectChoice(key, vocabulary.label(key, language)) for key in vocabulary.keys()]


#: The form fields that hold front-matter keys (``country`` follows from the city).
FRONT_MATTER_FIELDS = ("city", "title", "summary", "language", "kind", "hazards", "phases", "published", "updated",
                       "review_by", "organisation", "authors", "sendai_priorities", "tags", "license", "visibility",
                       "translation_of", "source")
LISTED = ("authors", "tags")


class PracticeForm(FlaskForm):
    city = SelectField(_l("City"), choices=[], validators=[DataRequired()])
    slug = StringField(_l("Address (slug)"), validators=[DataRequired(), Length(max=80)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=400)])
    language = SelectField(_l("Language"), choices=[SelectChoice("en", "English"),
                                                    SelectChoice("id", "Bahasa Indonesia"),
                                                    SelectChoice("ja", "日本語")])
    kind = SelectField(_l("Kind"), choices=[])
    hazards = MultiCheckbox(_l("Hazards"), choices=[])
    phases = MultiCheckbox(_l("Phases"), choices=[])
    published = DateField(_l("Published"), default=datetime.date.today)
    updated = DateField(_l("Updated"), validators=[Optional()])
    review_by = DateField(_l("Review by"), validators=[Optional()])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=500)])
    authors = StringField(_l("Authors (comma-separated)"), validators=[Optional(), Length(max=1000)])
    sendai_priorities = MultiCheckbox(_l("Sendai Framework priorities"), choices=[], coerce=int)
    tags = StringField(_l("Tags (comma-separated)"), validators=[Optional(), Length(max=1000)])
    license = SelectField(_l("Licence"), choices=[])
    visibility = SelectField(_l("Visibility"), choices=[])
    translation_of = StringField(_l("Translation of (city/slug)"), validators=[Optional(), Length(max=161)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=1000)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=500_000)])
    note = StringField(_l("Change note"), validators=[Optional(), Length(max=2000)])

    def __init__(self, cities: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        labels = presentation.Labels(i18n.language())
        self.city.choices = [SelectChoice(c, labels.city(c)) for c in cities]  # named as the reader names it
        self.kind.choices = _choices(vocabularies.kinds())
        self.hazards.choices = _choices(vocabularies.hazards())
        self.phases.choices = _choices(vocabularies.phases())
        self.sendai_priorities.choices = _choices(vocabularies.sendai_priorities())
        self.license.choices = [SelectChoice(k, k) for k in vocabularies.licences()]
        self.visibility.choices = _choices(vocabularies.visibilities())

    def values(self) -> dict[str, Any]:
        """The front-matter values the fields hold (authors and tags split at commas)."""
        values = {name: _stripped(self[name].data) for name in FRONT_MATTER_FIELDS}
        for name in LISTED:
            values[name] = [v.strip() for v in (self[name].data or "").split(",") if v.strip()]
        values["country"] = _country(self.city.data)
        return values

    def text(self, base: str | None = None, slug: str = "") -> str:
        """The practice file these fields make; edited from ``base``, only the fields changed are rewritten.

        A field is changed when it differs from what the form showed for ``base``; everything else keeps
        its exact text. A real change moves ``updated`` to today unless the person set it.
        """
        if base is None:
            return compose(self.values(), self.body.data or "")
        shown = PracticeForm([self.city.data or ""], formdata=None, meta={"csrf": False})
        shown.fill(base, slug)
        values = self.values()
        changes = {name: _in_order(values[name], shown[name].data) if name in ("hazards", "phases") else values[name]
                   for name in FRONT_MATTER_FIELDS if _comparable(self[name].data) != _comparable(shown[name].data)}
        body = _comparable(self.body.data)
        new_body = None if body == _comparable(shown.body.data) else body + "\n"
        today = datetime.date.today()
        if (changes or new_body is not None) and "updated" not in changes and \
                isinstance(values["published"], datetime.date) and values["published"] <= today and \
                (shown.updated.data is None or shown.updated.data < today):
            changes["updated"] = today
        return revise(base, changes, new_body)

    def fill(self, text: str, slug: str) -> None:
        """Pre-fill from a practice file."""
        practice = parse(text.encode("utf-8"), slug)
        for name, value in practice.meta.items():
            if name in self._fields and name not in LISTED:
                self._fields[name].data = value
        for name in LISTED:
            self[name].data = ", ".join(practice.meta.get(name) or [])
        self.license.data, self.visibility.data = practice.licence, practice.visibility  # their defaults shown
        self.slug.data, self.body.data = slug, practice.body.strip()


def _in_order(chosen: Any, before: Any) -> Any:
    """A changed list keeps the order it was written in: kept values first, added ones after."""
    if not isinstance(chosen, list) or not isinstance(before, list):
        return chosen
    return [v for v in before if v in chosen] + [v for v in chosen if v not in before]


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _comparable(value: Any) -> Any:
    """A field's value as submitted or shown, without what browsers change (line ends, outer spaces)."""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").strip()
    if value in (None, "", [], ()):
        return None
    if isinstance(value, list):
        return sorted(value, key=str)  # checkboxes come back in the form's order, not the file's
    return value


def _country(city: str | None) -> str | None:
    from exchange.library import cities

    try:
        return cities.get(library.instance, city or "").country
    except LookupError:
        return None


def _template(kind: str, language: str) -> str:
    """The starting text for a practice of ``kind``, with headings in ``language`` (English when it has none)."""
    data = importlib.resources.files("exchange").joinpath("data/practice_templates.yaml").read_text("utf-8")
    templates: dict[str, dict[str, str]] = yamlfile.load_trusted(data)
    texts = templates.get(kind, {})
    return texts.get(language) or texts.get("en", "")


def _render(text: str) -> Rendered:
    """``text`` rendered within the preview budget, its time counted against the signed-in person's allowance."""
    return bounded_rendering.render_preview(text, (str(library.instance.path), viewer().id),
                                            current_app.config["PREVIEW_SECONDS"],
                                            current_app.config["PREVIEW_ALLOWANCE_SECONDS"])


def _preview(text: str) -> tuple[Markup | None, bounded_rendering.RenderRefused | None]:
    """``text`` rendered for a page that shows it beside other things, or (None, why not)."""
    try:
        return _render(text).html, None
    except bounded_rendering.RenderRefused as error:
        return None, error


def _editor(form: PracticeForm, base_version: int | None, submission_id: int | None,
            problems: list[str] | None = None, since: tuple[int, diffs.Changes] | None = None,
            status: int = 200) -> tuple[str, int]:
    preview, refusal = _preview(form.body.data or "")  # refused: the form keeps the text and says why
    if refusal is not None and status == 200:
        status = errors.refusal_status(refusal)
    return render_template("contribute.html", form=form, base_version=base_version, submission_id=submission_id,
                           problems=problems or [], preview=preview, refusal=refusal, since=since), status


def _handle(form: PracticeForm, base_version: int | None, submission_id: int | None,
            base_text: str | None = None, since: tuple[int, diffs.Changes] | None = None) -> ResponseReturnValue:
    """Save (and maybe submit) what the form holds; the editor again with problems if any."""
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}: {'; '.join(errors)}" for name, errors in form.errors.items()]
        return _editor(form, base_version, submission_id, problems, since,
                       status=400 if request.method == "POST" else 200)
    if request.form.get("action") == "preview":
        return _editor(form, base_version, submission_id, since=since)
    assert form.slug.data  # DataRequired
    try:
        draft = submissions.save(library.instance, viewer(), form.city.data, form.slug.data,
                                   form.text(base_text, form.slug.data or ""),
                                   base_version, form.note.data or "", submission_id)
    except submissions.NotAllowed:
        abort(404)
    except InvalidPractice as error:
        return _editor(form, base_version, submission_id, [str(p) for p in error.problems], status=400)
    except submissions.WrongState as error:
        return _editor(form, base_version, submission_id, [i18n.told(error)], status=409)
    if request.form.get("action") == "submit":
        try:
            submissions.submit(library.instance, viewer(), draft.id)
        except submissions.StaleEdit as error:
            kept = submissions.visible_submission(library.instance, viewer(), draft.id)
            return _editor(form, error.current_version, draft.id, [
                _("Someone published version %(version)s of this practice after you started. Your text is kept as "
                  "a draft. What they changed is shown below: bring it into your text, then save or submit again "
                  "(your text then answers to version %(version)s).", version=error.current_version)],
                since=submissions.published_since(library.instance, kept), status=409)
        flash(_("Submitted for review."))
    else:
        flash(_("Draft saved."))
    return redirect(url_for("contribute.submission", submission_id=draft.id))


@bp.route("/contribute", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    cities = [c for c in viewer().cities if policy.may_contribute(viewer(), c)]
    if not cities:
        abort(403)
    form = PracticeForm(cities)
    if request.method == "GET":
        original = request.args.get("translation_of", "")
        if original:
            _prefill_translation(form, original)
        else:
            form.kind.data = request.args.get("template", "procedure")
            form.language.data = i18n.language()  # most write in the language they read the site in
            form.body.data = _template(form.kind.data, form.language.data)
    return _handle(form, None, None)


def _prefill_translation(form: PracticeForm, original_id: str) -> None:
    """Start a translation: the original's metadata and text, with translation_of set."""
    view = reading.get(library.instance, original_id, viewer())
    form.fill(view.practice.text.decode("utf-8"), view.practice.slug)
    form.translation_of.data = view.practice.id
    form.slug.data = f"{view.practice.slug}-translation"[:80]
    if view.practice.city in (c.data for c in form.city):
        form.city.data = view.practice.city
    form.language.data = next((code for code in ("en", "id", "ja") if code != view.practice.language), "en")


@bp.route("/practices/<city>/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(city: str, slug: str) -> ResponseReturnValue:
    if not policy.may_contribute(viewer(), city):
        submissions.refuse(library.instance, viewer(), "edit", f"{city}/{slug}")
        abort(404)
    base = None
    if request.method == "POST":
        base = form_number(request.form.get("base_version", ""))
        if base is None:
            abort(428)  # an edit must say which version it was written against (threats K-2)
    view = reading.get(library.instance, f"{city}/{slug}", viewer(), base)
    form = PracticeForm([city])
    text = view.practice.text.decode("utf-8")
    if request.method == "GET":
        form.fill(text, slug)
    return _handle(form, view.version, None, base_text=text)


@bp.route("/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
@login_required
def edit_draft(submission_id: int) -> ResponseReturnValue:
    submission = submissions.visible_submission(library.instance, viewer(), submission_id)
    if not policy.is_author(viewer(), submission):
        abort(404)
    form = PracticeForm([submission.city])
    since = submissions.published_since(library.instance, submission)  # a newer version came out meanwhile
    base = since[0] if since else submission.base_version  # saving brings the draft forward to it
    shown = form_number(request.form.get("base_version", ""))
    if request.method == "POST" and submission.base_version is not None and shown is not None:
        base = shown  # the version the form showed
    if request.method == "GET":
        form.fill(submission.text, submission.practice_id.split("/")[1])
        form.note.data = submission.note
    return _handle(form, base, submission_id, base_text=submission.text, since=since)


@bp.route("/contribute/upload", methods=["GET", "POST"])
@login_required
def upload() -> ResponseReturnValue:
    if not policy.may_contribute_anywhere(viewer()):
        abort(403)
    form = FlaskForm()
    results = None
    if form.validate_on_submit():
        files = [(f.filename or "unnamed", f.read(submissions.MAX_UPLOAD_BYTES + 1))
                 for f in request.files.getlist("files")[:submissions.MAX_UPLOAD_FILES]]
        results = submissions.upload(library.instance, viewer(), files)
    return render_template("upload.html", form=form, results=results)


@bp.post("/contribute/submit-drafts")
@login_required
def submit_drafts() -> ResponseReturnValue:
    FlaskForm().validate_on_submit() or abort(400)
    done = 0
    for raw in request.form.getlist("submission")[:200]:
        number = form_number(raw)
        if number is not None:
            try:
                submissions.submit(library.instance, viewer(), number)
                done += 1
            except (submissions.NotAllowed, submissions.WrongState, submissions.StaleEdit) as error:
                flash(_("Submission %(number)s not submitted: %(reason)s.", number=raw, reason=i18n.told(error)))
    flash(ngettext("%(num)s submitted for review.", "%(num)s submitted for review.", done))
    return redirect(url_for("contribute.dashboard"))


@bp.post("/contribute/preview")
@login_required
def preview() -> ResponseReturnValue:
    """The body rendered by the same renderer as the published page (for the live preview).

    Past the preview's time, size or rate budget: the error page with its message (web/errors.py).
    """
    return str(_render(request.form.get("body", "")).html)


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> ResponseReturnValue:
    found = submissions.visible_submission(library.instance, viewer(), submission_id)
    document = parse(found.text.encode("utf-8"), found.practice_id.split("/")[1])
    preview, refusal = _preview(document.body)  # refused: the page still serves the reviewer, who may send it back
    return render_template("submission.html", submission=found, title=document.title, language=document.language,
                           preview=preview,
                           refusal=refusal,
                           diff=submissions.diff_against_live(library.instance, found),
                           since=submissions.published_since(library.instance, found),
                           events=submissions.events(library.instance, submission_id),
                           author=submissions.author_name(library.instance, found),
                           is_author=policy.is_author(viewer(), found), may_decide=policy.may_decide(viewer(), found),
                           may_administer=policy.may_administer(viewer()))


@bp.post("/submissions/<int:submission_id>/<action>")
@login_required
def act(submission_id: int, action: str) -> ResponseReturnValue:
    comment = request.form.get("comment", "")
    try:
        if action == "submit":
            submissions.submit(library.instance, viewer(), submission_id)
        elif action == "withdraw":
            submissions.withdraw(library.instance, viewer(), submission_id)
        elif action in ("approve", "request_changes", "reject", "comment"):
            version = submissions.review(library.instance, viewer(), submission_id, action, comment)
            if version:
                flash(_("Approved and published as version %(version)s.", version=version))
        else:
            abort(404)
    except submissions.NotAllowed:
        abort(403)
    except (submissions.WrongState, submissions.StaleEdit) as error:
        flash(_("Not done: %(reason)s.", reason=i18n.told(error)))
    return redirect(url_for("contribute.submission", submission_id=submission_id))


@bp.get("/notifications")
@login_required
def notifications_page() -> ResponseReturnValue:
    return render_template("notifications.html",
                           notifications=notifications.open_recent(library.instance, current_id()))


@bp.get("/notifications/<int:notification_id>")
@login_required
def notification(notification_id: int) -> ResponseReturnValue:
    """Follow a notification to what it is about, marking it read."""
    link = notifications.follow(library.instance, current_id(), notification_id)
    if link is None:
        abort(404)
    if not link.startswith("/") or link.startswith("//"):  # only places on this site
        return redirect(url_for("contribute.notifications_page"))
    return redirect(link)


@bp.post("/notifications/read")
@login_required
def notifications_read() -> ResponseReturnValue:
    notifications.mark_read(library.instance, current_id())
    return redirect(url_for("contribute.notifications_page"))


@bp.get("/dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    return render_template("dashboard.html", mine=submissions.mine(library.instance, viewer()),
                           queue=submissions.queue(library.instance, viewer()),
                           due=reading.due_for_review(library.instance, viewer().cities),
                           may_contribute=policy.may_contribute_anywhere(viewer()))
