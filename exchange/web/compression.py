"""Compressed responses: Brotli or gzip, whichever the client prefers of those it accepts.

Pages, JSON and the static CSS and scripts are text that shrinks to a fifth or less. Pages stored by
``page_cache`` keep their compressed forms; static files keep theirs here, by ETag (they change only
with a deploy); everything else is compressed as it goes out, at a level that costs about a millisecond.
The only module that imports brotli.
"""

from __future__ import annotations

import gzip
import threading

import brotli
from flask import Flask
from flask import Response
from flask import request

#: what is worth compressing (smaller bodies fit in one packet anyway)
MIN_BYTES = 512
TYPES = ("text/html", "text/css", "text/plain", "text/xml", "application/json", "application/javascript",
         "text/javascript", "application/xml", "application/atom+xml", "image/svg+xml")
#: Brotli's quality 5 and gzip's level 6: most of the gain for little time
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
_static: dict[tuple[str, str, str], bytes] = {}
_static_lock = threading.Lock()


def chosen() -> str | None:
    """The encoding to answer this request in: "br", "gzip" or None (as it is)."""
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if accepted[encoding] and accepted.quality(encoding) >= accepted.quality("identity"):
            return encoding
    return None


def encode(body: bytes, encoding: str) -> bytes:
    """``body`` compressed in ``encoding`` ("br" or "gzip")."""
    if encoding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def init_app(app: Flask) -> None:
    """Compress every response worth compressing."""
    app.after_request(_compress)


def _compress(response: Response) -> Response:
    if response.headers.get("Content-Type", "").split(";")[0].strip() not in TYPES:
        return response
    response.vary.add("Accept-Encoding")
    encoding = chosen()
    if (encoding is None or request.method == "HEAD" or response.status_code != 200
            or "Content-Encoding" in response.headers or response.is_streamed and not response.direct_passthrough):
        return response
    etag, _weak = response.get_etag()
    static = request.endpoint == "static" and etag is not None
    if static and f"{etag}-{encoding}" in request.if_none_match:
        unchanged = Response(status=304, headers={"Cache-Control": response.headers.get("Cache-Control", "")})
        unchanged.set_etag(f"{etag}-{encoding}")
        unchanged.vary.add("Accept-Encoding")
        response.close()  # the file send_file opened
        return unchanged
    source = response.response
    response.direct_passthrough = False  # a static file is read here (compressed once per ETag)
    body = response.get_data()
    if hasattr(source, "close"):
        source.close()
    if len(body) < MIN_BYTES:
        return response
    if static:
        key = (request.path, str(etag), encoding)
        with _static_lock:
            encoded = _static.get(key)
        if encoded is None:
            encoded = encode(body, encoding)
            with _static_lock:
                _static[key] = encoded
        response.set_etag(f"{etag}-{encoding}")
    else:
        encoded = encode(body, encoding)
        if etag is not None:
            response.set_etag(f"{etag}-{encoding}")
    response.set_data(encoded)
    response.headers["Content-Encoding"] = encoding
    return response
