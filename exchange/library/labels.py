"""Human labels for vocabulary keys and partner cities, in one language: plain data for any template.

The vocabularies give every label but a city's name; a city's names come in as a table, so that what
prints labels (the site, a pack export in a worker process) decides where they are read from.
"""

from __future__ import annotations

from collections.abc import Mapping

from exchange.library import vocabularies


class Labels:
    """Labels in ``language`` (English where a vocabulary has no label in it); cities named from ``city_names``."""

    def __init__(self, language: str = "en", city_names: Mapping[str, str] | None = None) -> None:
        self.language = language
        self.city_names = city_names or {}

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
        """The city's name in this language; its slug when the table has no name for it."""
        return self.city_names.get(slug, slug)

    def filter_value(self, facet: str, key: str) -> str:
        """A value as the search filters name it (and the chips of active filters, so the two agree): a
        language in its own name, so a reader finds theirs whatever the interface language."""
        return self.native(key) if facet == "language" else self.facet(facet, key)

    def facet(self, facet: str, key: str) -> str:
        """The label of a value of any facet."""
        return {
            "hazard": self.hazard, "phase": self.phase, "kind": self.kind, "language": self.language_name,
            "country": self.country, "city": self.city,
        }.get(facet, str)(key)
