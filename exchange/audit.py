"""The audit log: every write and security event, with who, what and when."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from exchange.models import AuditEntry

log = logging.getLogger(__name__)


def record(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> None:
    """Add an audit entry to ``session``'s transaction, so it commits (or not) with the write."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))
    log.info("audit %s %s %r %r", actor, action, target, detail)
