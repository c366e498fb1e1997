"""Resumption tokens: where a list stopped and what it was asked for, signed so no one can forge one.

A token is ``<payload>.<signature>``: the payload is the list's query (verb, metadataPrefix, set, from,
until), how many records were already sent (the cursor) and the key of the last one sent (the moment
it is dated, to the microsecond, and its id), as compact JSON in URL-safe base64; the signature is an
HMAC-SHA256 of it under a key derived from the instance's secret key. The next page starts after that
key, so a record dated meanwhile is not skipped. A token is good for :data:`LIFETIME`; anything else is
``badResumptionToken``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from exchange.oai.arguments import OaiError

LIFETIME = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class Position:
    """A list's query and how far a harvester has got through it."""

    verb: str
    metadata_prefix: str
    set_spec: str | None
    start: datetime.datetime | None
    end: datetime.datetime | None
    #: records already sent
    cursor: int
    #: the key (moment, practice id) of the last record sent
    after: tuple[datetime.datetime, str]
    issued: datetime.datetime

    @property
    def expires(self) -> datetime.datetime:
        return self.issued + LIFETIME


def _key(secret: str | bytes) -> bytes:
    secret = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(secret, b"oai-pmh resumption token", hashlib.sha256).digest()


def _when(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment is not None else None


def _moment(text: Any) -> datetime.datetime | None:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f") if text is not None else None


def issue(position: Position, secret: str | bytes) -> str:
    """The token for ``position``, signed with ``secret``."""
    payload = json.dumps([position.verb, position.metadata_prefix, position.set_spec, _when(position.start),
                          _when(position.end), position.cursor, _when(position.after[0]), position.after[1],
                          _when(position.issued)], separators=(",", ":"), ensure_ascii=False)
    body = base64.urlsafe_b64encode(payload.encode("utf-8")).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest()).rstrip(b"=")
    return (body + b"." + signature).decode("ascii")


def read(token: str, verb: str, secret: str | bytes, now: datetime.datetime) -> Position:
    """The position ``token`` carries, if this instance signed it for ``verb`` and it has not expired.

    Raises :class:`OaiError` ``badResumptionToken`` otherwise.
    """
    body, _, signature = token.encode("utf-8", "replace").partition(b".")
    expected = base64.urlsafe_b64encode(hmac.new(_key(secret), body, hashlib.sha256).digest()).rstrip(b"=")
    if not hmac.compare_digest(expected, signature):
        raise OaiError("badResumptionToken", "the resumption token is not one this repository issued")
    try:
        fields = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        (token_verb, prefix, set_spec, start, end, cursor, after_stamp, after_id, issued) = fields
        position = Position(token_verb, prefix, set_spec, _moment(start), _moment(end), int(cursor),
                            (_moment(after_stamp) or datetime.datetime.min, str(after_id)),
                            _moment(issued) or datetime.datetime.min)
    except (ValueError, TypeError, binascii.Error) as error:
        raise OaiError("badResumptionToken", "the resumption token cannot be read") from error
    if position.verb != verb:
        raise OaiError("badResumptionToken", f"the resumption token was issued for {position.verb}, not {verb}")
    if now >= position.expires:
        raise OaiError("badResumptionToken", "the resumption token has expired: start the list again")
    return position
