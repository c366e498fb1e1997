"""Form bodies the app accepts: the same limits for URL-encoded and multipart forms (threats R-2, R-3).

Werkzeug enforces ``MAX_FORM_MEMORY_SIZE`` on each field of a multipart form, but on a URL-encoded form
only on the whole body, and only when the body announces its length: a chunked body (no Content-Length)
is read whole and every field accepted, while a Japanese text well under the limit is refused because
its percent-encoding is three times its size. :class:`LimitedRequest` parses URL-encoded bodies as a
stream instead, so that for both encodings:

- each field holds at most ``MAX_FORM_MEMORY_SIZE`` bytes of its decoded text, and a field past that is
  refused as soon as it is seen, before the rest of the body is read;
- a form holds at most ``MAX_FORM_PARTS`` fields;
- the body is read up to ``MAX_CONTENT_LENGTH`` bytes, and refused unread when it announces more.

Every refusal is a 413 whose description says which limit was passed.

Numbers in addresses and forms name rows of the database: one past the largest integer it holds names
nothing, and is refused as such before any lookup (which would fail on it: threats R-9).
"""

from __future__ import annotations

import urllib.parse
from typing import IO

import flask
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError

#: bytes read from the body at a time
CHUNK = 64 * 1024
#: percent-encoding spells a byte in at most three characters
ENCODED_PER_BYTE = 3
#: longer field names are not worth reading (the app's longest is 20 characters)
MAX_NAME = 1024
#: the largest integer the database holds (SQLite's INTEGER, PostgreSQL's bigint): the largest id there is
MAX_NUMBER = 2**63 - 1


class BoundedInteger(IntegerConverter):
    """``<int:…>`` in a route: a number past MAX_NUMBER names nothing (404), never a database overflow."""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_NUMBER)) or int(value) > MAX_NUMBER:
            raise ValidationError()
        return int(super().to_python(value))


def form_number(raw: str) -> int | None:
    """``raw`` as the number of a row (decimal digits, at most MAX_NUMBER), or None when it cannot be one."""
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_NUMBER)) and int(raw) <= MAX_NUMBER:
        return int(raw)
    return None


def limits_message(field_bytes: int | None, parts: int | None, body_bytes: int | None) -> str:
    """The sentence a refused form gets: every limit a form must keep."""
    limits = []
    if field_bytes is not None:
        limits.append(_("a text field may hold at most %(size)s KB (the size of a whole practice)",
                        size=field_bytes // 1024))
    if parts is not None:
        limits.append(_("a form at most %(count)s fields", count=parts))
    if body_bytes is not None:
        limits.append(_("a request at most %(size)s MB in all", size=body_bytes // 2**20))
    return str(_("This form is larger than the library accepts: %(limits)s.", limits=", ".join(limits)))


class FormTooLarge(RequestEntityTooLarge):
    """A form past one of the limits (413); the description names the limits, and the field if known."""


class LimitedFormParser(FormDataParser):
    """Werkzeug's form parser, with its multipart limits applied to URL-encoded forms too."""

    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None,
                          options: dict[str, str]) -> tuple[IO[bytes], MultiDict, MultiDict]:
        fields: list[tuple[str, str]] = []
        pending = bytearray()
        while chunk := stream.read(CHUNK):
            pending += chunk
            if b"&" in chunk:
                *complete, rest = pending.split(b"&")
                for pair in complete:
                    self._add(fields, pair)
                pending = rest
            limit = self.max_form_memory_size
            if limit is not None and len(pending) > ENCODED_PER_BYTE * limit + MAX_NAME:
                # Whatever the rest of it, this field decodes to more than the limit: stop reading.
                self._refuse(pending.partition(b"=")[0][:MAX_NAME])
        self._add(fields, pending)
        return stream, self.cls(fields), self.cls()

    def _add(self, fields: list[tuple[str, str]], pair: bytes | bytearray) -> None:
        if not pair:
            return
        if self.max_form_parts is not None and len(fields) >= self.max_form_parts:
            self._refuse(None)
        # The same decoding as Werkzeug's own: invalid UTF-8 in the raw body is a ValueError (an empty
        # form), invalid UTF-8 after percent-decoding is kept as %XX.
        for name, value in urllib.parse.parse_qsl(bytes(pair).decode(), keep_blank_values=True,
                                                  errors="werkzeug.url_quote"):
            if self.max_form_memory_size is not None and len(value.encode("utf-8")) > self.max_form_memory_size:
                self._refuse(name.encode("utf-8"))
            fields.append((name, value))

    def _refuse(self, name: bytes | bytearray | None) -> None:
        message = limits_message(self.max_form_memory_size, self.max_form_parts, self.max_content_length)
        if name is not None:
            field = urllib.parse.unquote_plus(bytes(name).decode("ascii", "replace"))[:80]
            message = str(_("The field %(field)s is too large. %(limits)s", field=repr(field), limits=message))
        raise FormTooLarge(message)


class LimitedRequest(flask.Request):
    """Flask's request, parsing forms with :class:`LimitedFormParser` and explaining every 413."""

    form_data_parser_class = LimitedFormParser

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except FormTooLarge:
            raise
        except RequestEntityTooLarge:
            # Werkzeug's own refusals (a multipart field, too many parts, an announced length past
            # MAX_CONTENT_LENGTH) come without a word of which limit was passed.
            raise FormTooLarge(limits_message(self.max_form_memory_size, self.max_form_parts,
                                              self.max_content_length)) from None
