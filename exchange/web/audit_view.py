"""The audit log as people read it: action names in the interface language, details as "field: old → new",
people and cities by their names rather than their e-mails and slugs."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from exchange import audit
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.harvesting import harvests
from exchange.library import labels
from exchange.models import AuditEntry
from exchange.packs import exports
from exchange.web import i18n
from exchange.webhooks import hooks

#: names of the detail fields services record (others are shown by their key)
FIELD_NAMES = {
    "roles": _l("Roles"), "cities": _l("Cities"), "invited": _l("Invited"), "version": _l("Version"),
    "versions": _l("Versions"), "submission": _l("Submission"), "client": _l("Address"),
    "known_device": _l("Known browser"), "device": _l("Browser"), "language": _l("Language"),
    "reason": _l("Reason"), "country": _l("Country"), "name": _l("Name"), "attempted": _l("Attempted"),
    "devices_forgotten": _l("Browsers forgotten"), "comment": _l("Comment"), "note": _l("Note"),
    "sharing": _l("Sharing"), "format": _l("Format"), "edition": _l("Edition"), "title": _l("Title"),
    "sha256": _l("Text fingerprint"), "practice": _l("Practice"), "source": _l("File"), "entries": _l("Entries"),
    "job": _l("Export job"), "heading": _l("Section heading"),
    "practices": _l("Practices"),
    "url": _l("Target address"), "events": _l("Events"), "active": _l("Active"), "secret": _l("Secret"),
    "delivery": _l("Delivery"), "of": _l("Sent again from"),
    "created_at": _l("Backup made"), "negotiated": _l("Taken from the browser"), "complete": _l("Complete"),
    "expires": _l("Expires"), "scopes": _l("Scopes"), "frequency": _l("Alerts"), "sets": _l("Sets"),
    "interval_hours": _l("Every (hours)"), "token": _l("Token"), "method": _l("Method"), "status": _l("Status"),
    "current": _l("Version published meanwhile"),
    # a harvest's counts, by the statuses of its records (``harvest.run``)
    **{status.replace(" ", "_"): _l(name) for status, name in harvests.STATUSES.items()},
}
#: names of fields that mean something else in one action's entries (a city's name is not a person's)
ACTION_FIELD_NAMES = {
    ("city.add", "name"): _l("City name"),
    ("token.create", "name"): _l("Token name"),
    ("token.revoke", "name"): _l("Token name"),
}
#: fields whose values are city slugs, role keys or language codes (shown by their names)
CITY_FIELDS = {"cities", "city"}
ROLE_FIELDS = {"roles"}
LANGUAGE_FIELDS = {"language"}
#: fields whose values are keys of a fixed set, shown by their names
VALUE_NAMES: dict[str, Mapping[str, Any]] = {
    "sharing": {"private": _l("private"), "colleagues": _l("named colleagues"), "link": _l("read-only link")},
    "edition": {"participant": _l("participant edition"), "trainer": _l("trainer edition")},
    "format": {key: export_format.label for key, export_format in exports.FORMATS.items()},
    "events": {key: _l(name) for key, name in hooks.EVENTS.items()},  # messages marked in hooks.EVENTS
    "secret": {"made": _l("made by the library"), "chosen": _l("set by hand"), "replaced": _l("replaced")},
    "scopes": {key: _l(name) for key, name in tokens.SCOPE_NAMES.items()},  # messages marked in SCOPE_NAMES
    "frequency": {"immediate": _l("Immediately"), "daily": _l("Once a day"), "weekly": _l("Once a week")},
}
#: a version's text fingerprint is shown by its first characters (enough to tell versions apart)
FINGERPRINT_LENGTH = 12


@dataclass(frozen=True)
class Detail:
    """One detail of an entry: the field's name and its value (or its change) as text."""

    field: str
    text: str


@dataclass(frozen=True)
class Line:
    """An audit entry ready to show."""

    at: datetime.datetime
    actor: str
    actor_name: str | None
    action: str
    action_name: str
    target: str
    target_name: str | None
    #: the language of ``target_name`` when it is a practice's title (None: in the interface's)
    target_language: str | None
    details: list[Detail]


def action_name(action: str) -> str:
    """The action's name in the interface language (its key when it has none)."""
    name = audit.ACTION_NAMES.get(action)
    return str(_(name)) if name else action


def action_choices() -> list[tuple[str, str]]:
    """Every named action as (key, name), by name: the audit page's filter."""
    return sorted(((key, action_name(key)) for key in audit.ACTION_NAMES), key=lambda choice: choice[1])


def lines(rows: list[AuditEntry], everyone: list[people.Person], names: labels.Labels,
          practice_titles: Mapping[str, tuple[str, str]]) -> list[Line]:
    """``rows`` as people read them: ``everyone`` gives the names behind e-mails, ``practice_titles`` the
    titles behind practice ids, ``names`` the names of cities and languages."""
    by_email = {person.email: person.name for person in everyone}
    return [Line(at=row.at, actor=row.actor, actor_name=by_email.get(row.actor), action=row.action,
                 action_name=action_name(row.action), target=row.target,
                 target_name=by_email.get(row.target) or practice_titles.get(row.target, (None, None))[0],
                 target_language=None if row.target in by_email else practice_titles.get(row.target, (None, None))[1],
                 details=[Detail(_field(key, row.action), _change(key, value, names)) for key, value in
                          sorted((row.detail or {}).items())])
            for row in rows]


def _field(key: str, action: str = "") -> str:
    name = ACTION_FIELD_NAMES.get((action, key)) or FIELD_NAMES.get(key)
    return str(name) if name is not None else key


def _change(key: str, value: Any, names: labels.Labels) -> str:
    if isinstance(value, Mapping) and set(value) == {"from", "to"}:
        return f"{_value(key, value['from'], names)} → {_value(key, value['to'], names)}"
    return _value(key, value, names)


def _value(key: str, value: Any, names: labels.Labels) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value is None or value == [] or value == "":
        return str(_("(none)"))
    if isinstance(value, list | tuple):
        return i18n.listed(_value(key, item, names) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{_field(k)}: {_value(k, v, names)}" for k, v in sorted(value.items()))
    if key in ROLE_FIELDS and value in people.ROLE_NAMES:
        return str(_(people.ROLE_NAMES[value]))
    if key in CITY_FIELDS:
        return names.city(str(value))
    if key in LANGUAGE_FIELDS:
        return names.native(str(value))
    if key in ("note", "reason"):
        return i18n.note(str(value))
    if key in VALUE_NAMES:
        return str(VALUE_NAMES[key].get(str(value), value))
    if key == "sha256":
        return f"{str(value)[:FINGERPRINT_LENGTH]}…"
    return str(value)
