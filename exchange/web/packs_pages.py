"""Course pack pages: my packs, building a pack, reading a shared one."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from exchange.accounts import people
from exchange.errors import PracticeNotFound
from exchange.library import reading
from exchange.library import rendering
from exchange.library import vocabularies
from exchange.models import Pack
from exchange.packs import exports
from exchange.packs import packs
from exchange.packs.exports import jobs
from exchange.packs.exports import markdown_zip
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("packs", __name__, url_prefix="/packs")
#: exports whose secrets a browser session keeps, for the list on the pack's page
MAX_REMEMBERED = 10


def _valid() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _number(name: str) -> int:
    raw = request.form.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        abort(400)
    return int(raw)


@bp.route("", methods=["GET", "POST"])
@login_required
def index():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        _valid()
        try:
            pack_id = packs.create(library.instance, current_user, request.form.get("title", ""),
                                   request.form.get("language", "en")[:3])
        except ValueError as error:
            flash(str(error))
            return redirect(url_for("packs.index"))
        return redirect(url_for("packs.show", pack_id=pack_id))
    return render_template("packs.html", packs=packs.mine(library.instance, current_user))


@bp.get("/<int:pack_id>")
def show(pack_id: int):  # type: ignore[no-untyped-def]
    token = request.args.get("token")
    try:
        pack, entries = packs.read(library.instance, viewer(), pack_id, token)
    except packs.PackNotFound:
        abort(404)
    owner = pack.owner_id == getattr(current_user, "id", None)
    rendered = {e.item.id: e.rendered.html for e in entries if e.rendered}
    notes = {e.item.id: {field: rendering.render(getattr(e.item, field)).html
                         for field in ("trainer_notes", "exercises", "answers")} for e in entries if e.practice}
    recent = _recent_exports(pack_id)
    changes = {e.item.id: reading.compare(library.instance, library.session, e.item.practice_id, viewer(),
                                                   e.item.version, e.latest_version)
               for e in entries if owner and e.outdated}
    return render_template("pack.html", pack=pack, entries=entries, owner=owner, rendered=rendered, notes=notes,
                           changes=changes,
                           intro=rendering.render(pack.introduction).html, exports=recent,
                           formats=exports.FORMATS, languages=vocabularies.languages(), token=token)


@bp.post("/add")
@login_required
def add_from_results():  # type: ignore[no-untyped-def]
    """Add a practice to the pack chosen in a result card, then go back to the results."""
    _valid()
    try:
        packs.add_practice(library.instance, current_user, _number("pack"), request.form.get("practice_id", "")[:161])
    except (packs.PackNotFound, PracticeNotFound):
        abort(404)
    flash("Added to the pack.")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/practices") and not back.startswith("//") else url_for("packs.index"))


@bp.post("/import")
@login_required
def import_pack():  # type: ignore[no-untyped-def]
    """A pack from a Markdown ZIP exported here or by another library."""
    _valid()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a pack .zip file to import.")
        return redirect(url_for("packs.index"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.zip"  # never the sender's name: it may be "../x"
        upload.save(path)
        try:
            imported = markdown_zip.import_pack(library.instance, current_user, path)
        except ValueError as error:
            flash(f"Not imported: {error}")
            return redirect(url_for("packs.index"))
    flash("Pack imported." + "".join(f" {note}." for note in imported.notes))
    return redirect(url_for("packs.show", pack_id=imported.pack_id))


@bp.post("/<int:pack_id>/export")
def export(pack_id: int):  # type: ignore[no-untyped-def]
    """Queue an export (owner, colleague or link holder); the job page shows progress, then the file."""
    _valid()
    instance = library.instance
    link = request.form.get("token") or None
    try:
        job_id, key = jobs.submit(instance, viewer(), pack_id, request.form.get("format", ""),
                                  request.form.get("edition", "participant"), link)
    except packs.PackNotFound:
        abort(404)
    except ValueError as error:
        flash(str(error))
        return redirect(url_for("packs.show", pack_id=pack_id, token=link))
    # The job's secret lives in this browser's session (and in the job's address), never in the database.
    keys = session.get("export_keys", {})
    keys = dict(list(keys.items())[-(MAX_REMEMBERED - 1):]) | {str(job_id): key}
    session["export_keys"] = keys
    return redirect(url_for("packs.export_status", pack_id=pack_id, job_id=job_id, key=key, token=link))


def _job(pack_id: int, job_id: int):  # type: ignore[no-untyped-def]
    try:
        job = jobs.get(library.instance, job_id, request.args.get("key", ""))
    except jobs.JobNotFound:
        abort(404)
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
def export_status(pack_id: int, job_id: int):  # type: ignore[no-untyped-def]
    job = _job(pack_id, job_id)
    pack = _readable_for(job)
    return render_template("pack_job.html", pack=pack, job=job, key=request.args.get("key", ""),
                           token=request.args.get("token"), format=exports.FORMATS[job.format])


def _readable_for(job) -> Pack:  # type: ignore[no-untyped-def]
    """The job's pack if whoever asked may still read it (a revoked link or lost access ends downloads)."""
    try:
        return packs.get(library.instance, jobs.asker(library.instance, job), job.pack_id,
                         token_digest=job.link_hash)
    except packs.PackNotFound:
        abort(404)


@bp.get("/<int:pack_id>/exports/<int:job_id>/download")
def export_download(pack_id: int, job_id: int):  # type: ignore[no-untyped-def]
    job = _job(pack_id, job_id)
    path = jobs.file_path(library.instance, job)
    if job.status != "done" or not path.is_file():
        abort(404)
    pack = _readable_for(job)
    name = exports.filename(pack.title, pack.id, job.edition, job.format)
    response = send_file(path, mimetype=exports.FORMATS[job.format].mimetype, as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:pack_id>/<action>")
@login_required
def change(pack_id: int, action: str):  # type: ignore[no-untyped-def]
    _valid()
    instance = library.instance
    try:
        if action == "add":
            packs.add_practice(instance, current_user, pack_id, request.form.get("practice_id", "")[:161])
            flash("Added to the pack.")
        elif action == "section":
            packs.add_section(instance, current_user, pack_id, request.form.get("heading", "Section"))
        elif action in ("up", "down"):
            packs.move(instance, current_user, pack_id, _number("item"), -1 if action == "up" else 1)
        elif action == "notes":
            packs.set_notes(instance, current_user, pack_id, _number("item"), request.form.get("trainer_notes", ""),
                            request.form.get("exercises", ""), request.form.get("answers", ""))
            flash("Notes saved.")
        elif action == "rename":
            packs.rename_section(instance, current_user, pack_id, _number("item"), request.form.get("heading", ""))
        elif action == "remove":
            packs.remove(instance, current_user, pack_id, _number("item"))
            flash("Removed from the pack.")
        elif action == "edit":
            packs.edit(instance, current_user, pack_id, request.form.get("title", ""),
                       request.form.get("language", ""), request.form.get("introduction", ""))
            flash("Pack details saved.")
        elif action == "update":
            packs.update_item(instance, current_user, pack_id, _number("item"))
            flash("The pack now uses the newest version of that practice.")
        elif action == "delete":
            packs.delete(instance, current_user, pack_id)
            flash("Pack deleted.")
            return redirect(url_for("packs.index"))
        elif action == "duplicate":
            return redirect(url_for("packs.show", pack_id=packs.duplicate(instance, current_user, pack_id)))
        elif action == "share":
            sharing = request.form.get("sharing", "private")
            colleagues: list[int] = []
            if sharing == "colleagues":
                colleagues, unknown = people.ids_for_emails(instance, request.form.get("emails", "").split(",")[:50])
                if unknown:
                    flash(f"No account for {', '.join(unknown)}; not shared with them.")
            token = packs.share(instance, current_user, pack_id, sharing, tuple(colleagues))
            if token:
                flash("Read-only link (a new link revokes the old one): "
                      + url_for("packs.show", pack_id=pack_id, token=token, _external=True))
        else:
            abort(404)
    except (packs.PackNotFound, PracticeNotFound):
        abort(404)
    except ValueError as error:
        flash(str(error))
    return redirect(request.form.get("back") if request.form.get("back", "").startswith("/practices/")
                    else url_for("packs.show", pack_id=pack_id))
