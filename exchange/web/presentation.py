"""What templates may call: human labels for vocabulary keys and cities, and the HTTP headers every page gets."""

from __future__ import annotations

import datetime

from flask import Flask
from flask import Response
from flask import g
from flask import request

from exchange import policy
from exchange.library import cities
from exchange.library import labels
from exchange.models import Pack
from exchange.packs import packs
from exchange.review import notifications
from exchange.web import i18n
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

#: Pages carry no scripts; images in practices may come from any https server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
#: JSON (the API, /healthz) is data, never a document: if a browser ever renders it, it may load nothing.
DATA_SECURITY_POLICY = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

#: No page asks for a device's sensors, camera, microphone, location or payment; nor may a page framing us.
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
                      "magnetometer=(), microphone=(), payment=(), usb=()")


class Labels(labels.Labels):
    """Labels in the interface language, any partner city's
    name read from the database when a page asks for it."""

    def city(self, slug: str) -> str:
        if "partner_cities" not in g:  # read once per request
            g.partner_cities = {city.slug: city for city in cities.all_cities(library.instance)}
        city = g.partner_cities.get(slug)
        return city.display_name(self.language) if city else slug


def init_app(app: Flask) -> None:
    """Make labels, and what the signed-in person may see in the page's frame, available to templates;
    secure every response."""
    app.context_processor(lambda: {"labels": Labels(i18n.language()), "unread_count": _unread_count,
                                   "my_packs": _my_packs, "current_pack": _current_pack,
                                   "today": datetime.date.today().isoformat(),
                                   "is_admin": policy.may_administer(viewer())})
    app.after_request(_secure_headers)


def _unread_count() -> int:
    """How many notifications the signed-in person has not read."""
    user_id = viewer().id
    if user_id is None:  # not signed in
        return 0
    return len(notifications.unread(library.instance, user_id))


def _my_packs() -> list[Pack]:
    """The signed-in person's packs, for "add to pack" (none when signed out)."""
    if not viewer().is_authenticated:
        return []
    return packs.mine(library.instance, viewer())


def _current_pack() -> packs.Current | None:
    """The pack the signed-in person is building now and what it holds, for "In this pack" (read once)."""
    if not viewer().is_authenticated:
        return None
    if "current_pack" not in g:
        g.current_pack = packs.current(library.instance, viewer())
    return g.current_pack  # type: ignore[no-any-return]


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", DATA_SECURITY_POLICY if response.is_json
                                else CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:  # over HTTPS (directly, or as a trusted proxy says): browsers keep to HTTPS a year
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    if viewer().is_authenticated or request.path.startswith(("/login", "/account",
                                                                                   "/invitations")):
        # What a signed-in person sees may be restricted: never cached by a proxy or the back button.
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    return response
