"""Exporting a course pack. This part: a single HTML file that opens offline, in two editions.

The export reads the pack as the exporting person may read it now (threats A-6): practices that became
restricted are left out. The file carries a Content-Security-Policy that allows no scripts, no network
and images only as data: URLs (threats X-12). PDF, EPUB and Markdown ZIP exports are still to come.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from flask import render_template

from exchange import packs
from exchange import rendering
from exchange import vocabularies
from exchange.instance import Instance

EDITIONS = ("trainer", "participant")
EXPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_CSS = Path(__file__).parent / "static" / "pack.css"


def html(instance: Instance, account, pack_id: int, edition: str = "participant", base_url: str = "") -> str:  # type: ignore[no-untyped-def]
    """The pack as one self-contained HTML document (needs an app context for the template)."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}")
    pack, entries = packs.read(instance, account, pack_id)
    chapters = [(entry, rendering.render(entry.practice.body) if entry.practice else None) for entry in entries]
    return render_template(
        "pack_export.html", pack=pack, chapters=chapters, trainer=edition == "trainer", csp=EXPORT_CSP,
        css=_CSS.read_text("utf-8"), base_url=base_url.rstrip("/"), made=datetime.date.today().isoformat(),
        licences=vocabularies.licences())
