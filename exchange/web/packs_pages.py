"""Course pack pages: my packs, building a pack (a small view for each change), reading a shared one, exports.

An unknown pack, or one the person may not read or change, is "not found" (exchange/web/errors.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from exchange import diffs
from exchange import policy
from exchange.accounts import people
from exchange.library import rendering
from exchange.library import vocabularies
from exchange.models import ExportJob
from exchange.models import Pack
from exchange.packs import exports
from exchange.packs import packs
from exchange.packs.exports import jobs
from exchange.packs.exports import markdown_zip
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.request_limits import form_number
from exchange.web.viewer import current as viewer

bp = Blueprint("packs", __name__, url_prefix="/packs")
#: exports whose secrets a browser session keeps, for the list on the pack's page
MAX_REMEMBERED = 10


def _valid() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _number(name: str) -> int:
    number = form_number(request.form.get(name, ""))
    if number is None:
        abort(400)
    return number


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    if request.method == "POST":
        _valid()
        try:
            pack_id = packs.create(library.instance, viewer(), request.form.get("title", ""),
                                   request.form.get("language", "en")[:3])
        except ValueError as error:
            flash(i18n.told(error))
            return redirect(url_for("packs.index"))
        return redirect(url_for("packs.show", pack_id=pack_id))
    return render_template("packs.html", packs=packs.mine(library.instance, viewer()))


@bp.get("/<int:pack_id>")
def show(pack_id: int) -> ResponseReturnValue:
    token, who = request.args.get("token"), viewer()
    pack, entries = packs.read(library.instance, who, pack_id, token)
    may_edit = policy.may_edit_pack(who, pack)
    rendered = {e.item.id: e.rendered.html for e in entries if e.rendered}
    notes = {e.item.id: {field: rendering.render(getattr(e.item, field)).html
                         for field in ("trainer_notes", "exercises", "answers")} for e in entries if e.practice}
    changes = {e.item.id: diffs.compare(library.instance, e.item.practice_id, who, e.item.version,
                                          e.latest_version).changes
               for e in entries if may_edit and e.outdated  # so a practice entry, pinned, with a newer version
               and e.item.practice_id is not None and e.item.version is not None and e.latest_version is not None}
    return render_template("pack.html", pack=pack, entries=entries, rendered=rendered, notes=notes, changes=changes,
                           may_edit=may_edit, may_see_notes=policy.may_see_trainer_notes(who, pack),
                           may_export_trainer=policy.may_export_trainer_edition(who, pack),
                           intro=rendering.render(pack.introduction).html, exports=_recent_exports(pack_id),
                           formats=exports.FORMATS, languages=vocabularies.languages(), token=token)


@bp.post("/add")
@login_required
def add_from_results() -> ResponseReturnValue:
    """Add a practice to the pack chosen in a result card, then go back to that result (or answer a script)."""
    _valid()
    practice_id = request.form.get("practice_id", "")[:161]
    added = packs.add_practice(library.instance, viewer(), _number("pack"), practice_id)
    return _answer(_("Added to the pack.") if added else _("Already in this pack."), _to_result(practice_id))


@bp.post("/take-out")
@login_required
def remove_from_results() -> ResponseReturnValue:
    """Take a practice out of a pack from its result card ("In this pack", Remove), back to that result."""
    _valid()
    practice_id = request.form.get("practice_id", "")[:161]
    packs.remove_practice(library.instance, viewer(), _number("pack"), practice_id)
    return _answer(_("Removed from the pack."), _to_result(practice_id))


def _wants_json() -> bool:
    """Whether the page's script asked (it then updates the page in place) rather than the form itself."""
    return request.accept_mimetypes.best == "application/json"


def _answer(done: str, back: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(message=done)
    flash(done)
    return redirect(back)


def _to_result(practice_id: str) -> str:
    """The results (or practice) page the form was on, at the practice's own place in it."""
    back = request.form.get("back", "").split("#", 1)[0]
    if not back.startswith("/practices") or back.startswith("//"):
        return url_for("packs.index")
    return f"{back}#{_anchor('practice', practice_id)}"


def _anchor(kind: str, key: object) -> str:
    return f"{kind}-{quote(str(key), safe='/')}"


@bp.post("/import")
@login_required
def import_pack() -> ResponseReturnValue:
    """A pack from a Markdown ZIP exported here or by another library."""
    _valid()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a pack .zip file to import."))
        return redirect(url_for("packs.index"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.zip"  # never the sender's name: it may be "../x"
        upload.save(path)
        try:
            imported = markdown_zip.import_pack(library.instance, viewer(), path)
        except ValueError as error:
            flash(_("Not imported: %(reason)s", reason=i18n.told(error)))
            return redirect(url_for("packs.index"))
    flash(_("Pack imported.") + "".join(f" {i18n.said(note)}." for note in imported.notes))
    return redirect(url_for("packs.show", pack_id=imported.pack_id))


@bp.post("/<int:pack_id>/export")
def export(pack_id: int) -> ResponseReturnValue:
    """Queue an export (owner, colleague or link holder); the job page shows progress, then the file."""
    _valid()
    instance = library.instance
    link = request.form.get("token") or None
    try:
        job_id, key = jobs.submit(instance, viewer(), pack_id, request.form.get("format", ""),
                                  request.form.get("edition", "participant"), link)
    except ValueError as error:
        flash(i18n.told(error))
        return redirect(url_for("packs.show", pack_id=pack_id, token=link))
    # The job's secret lives in this browser's session (and in the job's address), never in the database.
    keys = session.get("export_keys", {})
    keys = dict(list(keys.items())[-(MAX_REMEMBERED - 1):]) | {str(job_id): key}
    session["export_keys"] = keys
    return redirect(url_for("packs.export_status", pack_id=pack_id, job_id=job_id, key=key, token=link))


def _job(pack_id: int, job_id: int) -> ExportJob:
    job = jobs.get(library.instance, job_id, request.args.get("key", ""))
    if job.pack_id != pack_id:
        abort(404)
    return job


def _recent_exports(pack_id: int) -> list:
    found = []
    for job_id, key in reversed(session.get("export_keys", {}).items()):
        try:
            job = jobs.get(library.instance, int(job_id), key)
        except (jobs.JobNotFound, ValueError):
            continue
        if job.pack_id == pack_id:
            found.append((job, key))
    return found


@bp.get("/<int:pack_id>/exports/<int:job_id>")
def export_status(pack_id: int, job_id: int) -> ResponseReturnValue:
    job = _job(pack_id, job_id)
    pack = _readable_for(job)
    return render_template("pack_job.html", pack=pack, job=job, key=request.args.get("key", ""),
                           token=request.args.get("token"), format=exports.FORMATS[job.format])


def _readable_for(job: ExportJob) -> Pack:
    """The job's pack if whoever asked may still read it (a revoked link or lost access ends downloads)."""
    asker = jobs.asker(library.instance, job)
    if asker is None:  # their account was disabled
        abort(404)
    return packs.get(library.instance, asker, job.pack_id, token_digest=job.link_hash)


@bp.get("/<int:pack_id>/exports/<int:job_id>/download")
def export_download(pack_id: int, job_id: int) -> ResponseReturnValue:
    job = _job(pack_id, job_id)
    path = jobs.file_path(library.instance, job)
    if job.status != "done" or not path.is_file():
        abort(404)
    pack = _readable_for(job)
    response = send_file(path, mimetype=exports.FORMATS[job.format].mimetype, max_age=0)
    response.headers["Content-Disposition"] = exports.content_disposition(pack.title, pack.id, job.edition,
                                                                          job.format, pack.language)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _back(pack_id: int, anchor: str = "") -> Response:
    """Back to the practice page the form was on (adding from it), else to the pack (at ``anchor``)."""
    back = request.form.get("back", "")
    if back.startswith("/practices/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("packs.show", pack_id=pack_id) + (f"#{anchor}" if anchor else ""))


def _change(pack_id: int, change: Callable[[], object], done: str | Callable[[Any], str] | None = None,
            anchor: str = "") -> ResponseReturnValue:
    """Make a change to a pack one owns: say it is done, or why it was refused; then back to the form's page
    (or, to the page's script, the same in JSON)."""
    _valid()
    try:
        result = change()
    except ValueError as error:
        if _wants_json():
            return jsonify(error=i18n.told(error)), 400
        flash(i18n.told(error))
    else:
        said = done(result) if callable(done) else done
        if _wants_json():
            return jsonify(message=said or "")
        if said:
            flash(said)
    return _back(pack_id, anchor)


@bp.post("/<int:pack_id>/add")
@login_required
def add_practice(pack_id: int) -> ResponseReturnValue:
    practice_id = request.form.get("practice_id", "")[:161]
    return _change(pack_id, lambda: packs.add_practice(library.instance, viewer(), pack_id, practice_id),
                   lambda added: str(_("Added to the pack.") if added else _("Already in this pack.")))


@bp.post("/<int:pack_id>/section")
@login_required
def add_section(pack_id: int) -> ResponseReturnValue:
    heading = request.form.get("heading", "Section")
    return _change(pack_id, lambda: packs.add_section(library.instance, viewer(), pack_id, heading))


@bp.post("/<int:pack_id>/rename")
@login_required
def rename_section(pack_id: int) -> ResponseReturnValue:
    return _change(pack_id, lambda: packs.rename_section(library.instance, viewer(), pack_id, _number("item"),
                                                         request.form.get("heading", "")))


def _moved(result: tuple[int, int]) -> str:
    position, count = result
    return str(_("Moved to position %(position)s of %(count)s.", position=position, count=count))


@bp.post("/<int:pack_id>/up")
@login_required
def move_up(pack_id: int) -> ResponseReturnValue:
    item = _number("item")
    return _change(pack_id, lambda: packs.move(library.instance, viewer(), pack_id, item, -1), _moved,
                   _anchor("item", item))


@bp.post("/<int:pack_id>/down")
@login_required
def move_down(pack_id: int) -> ResponseReturnValue:
    item = _number("item")
    return _change(pack_id, lambda: packs.move(library.instance, viewer(), pack_id, item, 1), _moved,
                   _anchor("item", item))


@bp.post("/<int:pack_id>/order")
@login_required
def reorder(pack_id: int) -> ResponseReturnValue:
    """The whole new order at once (dragging an entry): the entries' numbers, comma-separated."""
    raw = request.form.get("order", "")[:20_000].split(",")

    def change() -> None:
        numbers = [number for number in map(form_number, raw) if number is not None]
        if len(numbers) != len(raw):
            raise ValueError(_("The new order must list the entries' numbers, separated by commas."))
        packs.reorder(library.instance, viewer(), pack_id, numbers)

    return _change(pack_id, change, _("New order saved."))


@bp.post("/<int:pack_id>/notes")
@login_required
def save_notes(pack_id: int) -> ResponseReturnValue:
    form = request.form
    return _change(pack_id, lambda: packs.set_notes(library.instance, viewer(), pack_id, _number("item"),
                                                    form.get("trainer_notes", ""), form.get("exercises", ""),
                                                    form.get("answers", "")), _("Notes saved."))


@bp.post("/<int:pack_id>/remove")
@login_required
def remove_entry(pack_id: int) -> ResponseReturnValue:
    return _change(pack_id, lambda: packs.remove(library.instance, viewer(), pack_id, _number("item")),
                   _("Removed from the pack."))


@bp.post("/<int:pack_id>/update")
@login_required
def update_entry(pack_id: int) -> ResponseReturnValue:
    return _change(pack_id, lambda: packs.update_item(library.instance, viewer(), pack_id, _number("item")),
                   _("The pack now uses the newest version of that practice."))


@bp.post("/<int:pack_id>/edit")
@login_required
def edit_details(pack_id: int) -> ResponseReturnValue:
    form = request.form
    return _change(pack_id, lambda: packs.edit(library.instance, viewer(), pack_id, form.get("title", ""),
                                               form.get("language", ""), form.get("introduction", "")),
                   _("Pack details saved."))


@bp.post("/<int:pack_id>/share")
@login_required
def share(pack_id: int) -> ResponseReturnValue:
    sharing = request.form.get("sharing", "private")

    def change() -> None:
        colleagues: list[int] = []
        if sharing == "colleagues":
            emails = request.form.get("emails", "").split(",")[:50]
            colleagues, unknown = people.ids_for_emails(library.instance, emails)
            if unknown:
                flash(_("No account for %(emails)s; not shared with them.", emails=", ".join(unknown)))
        token = packs.share(library.instance, viewer(), pack_id, sharing, tuple(colleagues))
        if token:
            flash(_("Read-only link (a new link revokes the old one):") + " "
                  + url_for("packs.show", pack_id=pack_id, token=token, _external=True))

    return _change(pack_id, change)


@bp.post("/<int:pack_id>/duplicate")
@login_required
def duplicate(pack_id: int) -> ResponseReturnValue:
    _valid()
    return redirect(url_for("packs.show", pack_id=packs.duplicate(library.instance, viewer(), pack_id)))


@bp.post("/<int:pack_id>/delete")
@login_required
def delete(pack_id: int) -> ResponseReturnValue:
    _valid()
    jobs.delete_pack(library.instance, viewer(), pack_id)
    flash(_("Pack deleted."))
    return redirect(url_for("packs.index"))
