"""How a webhook request is signed, and how a receiver checks it.

The signature is HMAC-SHA256, keyed with the webhook's secret, over ``<timestamp>.<body>`` (the Unix time
of the attempt in seconds, a full stop, the exact bytes of the body), sent as
``X-Exchange-Signature: t=<timestamp>,v1=<hex digest>``. A receiver recomputes it over the body it
received, compares in constant time, and refuses a timestamp far from its own clock (a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: the header that carries the signature, and the ones naming the event and the delivery
SIGNATURE_HEADER = "X-Exchange-Signature"
EVENT_HEADER = "X-Exchange-Event"
DELIVERY_HEADER = "X-Exchange-Delivery"
#: how far from the receiver's clock a timestamp may be before ``verify`` refuses it
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh random secret for a webhook (256 bits, URL-safe text)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds of ``now``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return hmac.compare_digest(expected, fields.get("v1", ""))
