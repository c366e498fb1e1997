"""The few words an exported pack prints around the practices, in the pack's language.

They are messages of the interface's catalogs (``exchange.catalogs``), so an export says "Hazards" as
the site does in that language.
"""

from __future__ import annotations

from exchange.catalogs import N_
from exchange.catalogs import gettext

WORDS = {
    "contents": N_("Contents"), "introduction": N_("Introduction"), "trainer": N_("Trainer edition"),
    "participant": N_("Participant edition"), "notes": N_("Trainer notes"),
    "exercises": N_("Exercises and discussion"), "answers": N_("Answers"), "sources": N_("Sources and licences"),
    "city": N_("City"), "organisation": N_("Organisation"), "kind": N_("Kind"), "hazards": N_("Hazards"),
    "phases": N_("Phases"), "version": N_("Version"), "published": N_("Published"), "licence": N_("Licence"),
    "language": N_("Language"), "address": N_("Stable address"), "page": N_("Page"),
    "untranslated": N_("Not available in this pack's language: the original is shown."),
    "made": N_("Made with Practice Exchange"), "authors": N_("Authors"), "updated": N_("Updated"),
    # Translators: follows a number on a pack's cover ("12 practices").
    "practices": N_("practices"),
}


def words(language: str) -> dict[str, str]:
    """The export's words in ``language`` (English for a language without its own)."""
    return {key: gettext(language, message) for key, message in WORDS.items()}
