"""What templates may call: human labels for vocabulary keys, and the HTTP headers every page gets."""

from __future__ import annotations

import datetime

from flask import Flask
from flask import Response
from flask import request

from exchange import policy
from exchange.library import vocabularies
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

#: Pages carry no scripts; images in practices may come from any https server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class Labels:
    """Human labels in the interface language (English until the interface is translated)."""

    def __init__(self, language: str = "en") -> None:
        self.language = language

    def hazard(self, key: str) -> str:
        return vocabularies.hazards().label(key, self.language)

    def phase(self, key: str) -> str:
        return vocabularies.phases().label(key, self.language)

    def kind(self, key: str) -> str:
        return vocabularies.kinds().label(key, self.language)

    def language_name(self, code: str) -> str:
        return vocabularies.language_name(code, self.language)

    def native(self, code: str) -> str:
        return vocabularies.native_language_name(code)

    def country(self, code: str) -> str:
        return vocabularies.country_name(code, self.language)

    def sendai(self, number: int) -> str:
        return vocabularies.sendai_priorities().label(number, self.language)

    def visibility(self, key: str) -> str:
        return vocabularies.visibilities().label(key, self.language)

    def hips(self, key: str) -> str | None:
        term = vocabularies.hazards().terms.get(key)
        return term.code if term else None

    def licence(self, spdx: str) -> dict[str, str]:
        return vocabularies.licences().get(spdx, {"name": spdx, "url": ""})

    def city(self, slug: str) -> str:
        from exchange.models import City

        city = library.session.get(City, slug)
        return city.display_name(self.language) if city else slug

    def facet(self, facet: str, key: str) -> str:
        """The label of a value of any facet."""
        return {
            "hazard": self.hazard, "phase": self.phase, "kind": self.kind, "language": self.language_name,
            "country": self.country, "city": self.city,
        }.get(facet, str)(key)


def init_app(app: Flask) -> None:
    """Make labels, and what the signed-in person may see in the page's frame, available to templates;
    secure every response."""
    app.context_processor(lambda: {"labels": Labels(), "unread_count": _unread_count, "my_packs": _my_packs,
                                   "today": datetime.date.today().isoformat(),
                                   "is_admin": policy.may_administer(viewer())})
    app.after_request(_secure_headers)


def _unread_count() -> int:
    """How many notifications the signed-in person has not read."""
    if not viewer().is_authenticated:
        return 0
    from exchange.review import notifications

    return len(notifications.unread(library.instance, viewer().id))


def _my_packs() -> list:
    """The signed-in person's packs, for "add to pack" (none when signed out)."""
    if not viewer().is_authenticated:
        return []
    from exchange.packs import packs

    return packs.mine(library.instance, viewer())


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    if viewer().is_authenticated or request.path.startswith(("/login", "/account",
                                                                                   "/invitations")):
        # What a signed-in person sees may be restricted: never cached by a proxy or the back button.
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    return response
