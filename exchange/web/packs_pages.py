"""Course pack pages: my packs, building a pack, reading a shared one."""

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
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from exchange import accounts
from exchange import pack_exports
from exchange import packs
from exchange import rendering
from exchange.errors import PracticeNotFound
from exchange.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("packs", __name__, url_prefix="/packs")


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
    rendered = {e.item.id: rendering.render(e.practice.body).html for e in entries if e.practice}
    return render_template("pack.html", pack=pack, entries=entries, owner=owner, rendered=rendered,
                           intro=rendering.render(pack.introduction).html)


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


@bp.get("/<int:pack_id>/export.html")
@login_required
def export_html(pack_id: int):  # type: ignore[no-untyped-def]
    edition = request.args.get("edition", "participant")
    if edition not in pack_exports.EDITIONS:
        abort(400)
    try:
        document = pack_exports.html(library.instance, current_user, pack_id, edition,
                                     current_app.config["EXCHANGE_BASE_URL"])
    except packs.PackNotFound:
        abort(404)
    return Response(document, mimetype="text/html", headers={
        "Content-Disposition": f"attachment; filename=pack-{pack_id}-{edition}.html"})


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
                            request.form.get("exercises", ""))
        elif action == "update":
            packs.update_item(instance, current_user, pack_id, _number("item"))
        elif action == "duplicate":
            return redirect(url_for("packs.show", pack_id=packs.duplicate(instance, current_user, pack_id)))
        elif action == "share":
            sharing = request.form.get("sharing", "private")
            colleagues: list[int] = []
            if sharing == "colleagues":
                colleagues, unknown = accounts.ids_for_emails(instance, request.form.get("emails", "").split(",")[:50])
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
