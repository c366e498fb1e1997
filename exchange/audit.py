"""The audit log: every write and security event, with who, what and when."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.catalogs import N_
from exchange.db import rowcount
from exchange.models import AuditEntry

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: each action's name for people (catalog messages: the audit page says them in the reader's language, and
#: its filter offers them); every action recorded anywhere has one (``tests/test_accounts.py`` reads the code)
ACTION_NAMES = {
    "api.call": N_("API call with a token"),
    "api.refused": N_("API call with a token refused"),
    "city.add": N_("city added"),
    "harvest.run": N_("node harvested"),
    "harvest.source": N_("harvest source saved"),
    "instance.backup": N_("instance backed up"),
    "instance.restore": N_("instance restored from a backup"),
    "library.export": N_("library exported"),
    "login.failure": N_("sign-in failed"),
    "login.success": N_("signed in"),
    "pack.add": N_("practice added to a pack"),
    "pack.create": N_("pack created"),
    "pack.delete": N_("pack deleted"),
    "pack.export": N_("pack exported"),
    "pack.import": N_("pack imported"),
    "pack.remove": N_("practice removed from a pack"),
    "pack.share": N_("pack sharing changed"),
    "permission.refused": N_("permission refused"),
    "practice.publish": N_("practice published"),
    "practice.restore-file": N_("practice file restored"),
    "practice.set-aside": N_("practice versions set aside"),
    "practice.unlist": N_("practice unlisted"),
    "saved-search.create": N_("search saved"),
    "saved-search.delete": N_("saved search deleted"),
    "saved-search.frequency": N_("saved search's alerts changed"),
    "saved-search.new-address": N_("saved search's feed given a new address"),
    "search-log.clear": N_("content-gap log cleared"),
    "submission.approve": N_("submission approved"),
    "submission.close-published": N_("submission closed as published"),
    "submission.comment": N_("submission commented on"),
    "submission.harvest": N_("harvested version sent for review"),
    "submission.reject": N_("submission rejected"),
    "submission.request_changes": N_("changes requested"),
    "submission.save": N_("submission saved"),
    "submission.stale": N_("submission out of date"),
    "submission.submit": N_("submission submitted"),
    "submission.withdraw": N_("submission withdrawn"),
    "token.create": N_("API token created"),
    "token.revoke": N_("API token revoked"),
    "user.accept-invitation": N_("invitation accepted"),
    "user.cities": N_("cities changed"),
    "user.create": N_("account created"),
    "user.disable": N_("account disabled"),
    "user.enable": N_("account re-enabled"),
    "user.language": N_("interface language chosen"),
    "user.logout": N_("signed out"),
    "user.password-change": N_("password changed"),
    "user.roles": N_("roles changed"),
    "webhook.create": N_("webhook added"),
    "webhook.delete": N_("webhook deleted"),
    "webhook.redeliver": N_("webhook delivery sent again"),
    "webhook.test": N_("webhook test event sent"),
    "webhook.update": N_("webhook changed"),
}


def record(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Add an audit entry to ``session``'s transaction, so it commits (or not) with the write."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
    log.info("audit %s %s %r %r", actor, action, target, detail)


#: Routine, high-volume entries (each API call a token answered) are kept this long; every other entry
#: (writes, sign-ins, refusals) is kept for good.
ROUTINE = ("api.call",)
KEEP_ROUTINE = datetime.timedelta(days=90)


def purge_routine(session: Session, now: datetime.datetime) -> int:
    """Delete ``ROUTINE`` entries older than ``KEEP_ROUTINE``; how many."""
    result = session.execute(sa.delete(AuditEntry).where(AuditEntry.action.in_(ROUTINE),
                                                         AuditEntry.at < now - KEEP_ROUTINE))
    return rowcount(result)


def entries(instance: Instance, actor: str = "", action: str = "", target: str = "", since: str = "",
            until: str = "", limit: int = 500, offset: int = 0) -> list[AuditEntry]:
    """Audit entries matching every given filter (substring for actor/action/target, ISO dates), newest first:
    at most ``limit`` of them, after skipping the newest ``offset``."""
    query = (sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
             .limit(limit).offset(max(offset, 0)))
    for column, value in ((AuditEntry.actor, actor), (AuditEntry.action, action), (AuditEntry.target, target)):
        if value:
            query = query.where(column.contains(value[:200]))
    for value, bound in ((since, "since"), (until, "until")):
        try:
            day = datetime.date.fromisoformat(value) if value else None
        except ValueError:
            day = None
        if day and bound == "since":
            query = query.where(AuditEntry.at >= datetime.datetime.combine(day, datetime.time()))
        elif day:
            query = query.where(AuditEntry.at < datetime.datetime.combine(day + datetime.timedelta(days=1),
                                                                          datetime.time()))
    with instance.db.session() as session:
        return list(session.scalars(query))


def as_csv(rows: list[AuditEntry]) -> str:
    """CSV of audit entries (cells that a spreadsheet would run as formulas are quoted as text)."""
    import csv
    import io
    import json

    def cell(value: str) -> str:
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "target", "detail"])
    for row in rows:
        writer.writerow([row.at.isoformat(timespec="seconds"), cell(row.actor), cell(row.action), cell(row.target),
                         cell(json.dumps(row.detail, ensure_ascii=False, sort_keys=True))])
    return out.getvalue()
