"""Administration: the audit log (filter, download as CSV)."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask_login import current_user
from flask_login import login_required

from exchange import audit
from exchange import policy
from exchange.extensions import library

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/audit")
@login_required
def audit_log():  # type: ignore[no-untyped-def]
    if not policy.may_administer(current_user):
        abort(404)
    filters = {name: request.args.get(name, "")[:200] for name in ("actor", "action", "target", "since", "until")}
    rows = audit.entries(library.session, **filters)
    if request.args.get("format") == "csv":
        return Response(audit.as_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=audit-log.csv"})
    return render_template("audit.html", rows=rows, filters=filters)
