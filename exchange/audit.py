"""The audit log: every write and security event, with who, what and when."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.models import AuditEntry

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)


def record(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Add an audit entry to ``session``'s transaction, so it commits (or not) with the write."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
    log.info("audit %s %s %r %r", actor, action, target, detail)


def entries(instance: Instance, actor: str = "", action: str = "", target: str = "", since: str = "",
            until: str = "", limit: int = 500) -> list[AuditEntry]:
    """Audit entries matching every given filter (substring for actor/action/target, ISO dates), newest first."""
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
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
