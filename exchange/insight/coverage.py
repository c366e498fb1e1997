"""The coverage matrix: how many public practices each partner city has for each hazard (in one phase, or
all), so the network sees which partners could fill which gaps.

A practice and its translations are one practice here (counted once per city, under the city of each
public member of the family); only public practices count, whoever asks, since the matrix is for the
whole network to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.library import cities as city_service
from exchange.library import vocabularies
from exchange.models import PracticeRecord

if TYPE_CHECKING:
    from exchange.instance import Instance


#: the phase selector's choices: prevention and mitigation are read together, as the DRM cycle names them
PHASE_GROUPS: dict[str, tuple[str, ...]] = {
    "prevention-mitigation": ("prevention", "mitigation"),
    "preparedness": ("preparedness",),
    "response": ("response",),
    "recovery": ("recovery",),
}


@dataclass(frozen=True)
class Matrix:
    """Counts by (city slug, hazard key), with the cities and hazards in the order they are shown."""

    #: the chosen entry of ``PHASE_GROUPS`` (None: every phase)
    phase: str | None
    cities: tuple[str, ...]
    hazards: tuple[str, ...]
    counts: dict[tuple[str, str], int]

    def count(self, city: str, hazard: str) -> int:
        return self.counts.get((city, hazard), 0)

    def city_total(self, city: str) -> int:
        return sum(self.count(city, hazard) for hazard in self.hazards)

    def hazard_total(self, hazard: str) -> int:
        return sum(self.count(city, hazard) for city in self.cities)


def matrix(instance: Instance, phase: str | None = None) -> Matrix:
    """The public practices of each city for each hazard; with ``phase`` (a key of ``PHASE_GROUPS``; an
    unknown one is refused with ``ValueError``), only those of its phases."""
    if phase is not None and phase not in PHASE_GROUPS:
        raise ValueError(f"phase {phase!r} is unknown; allowed: {', '.join(PHASE_GROUPS)}")
    wanted = set(PHASE_GROUPS[phase]) if phase is not None else None
    with instance.db.session() as session:
        records = session.execute(sa.select(PracticeRecord.id, PracticeRecord.city, PracticeRecord.hazards,
                                            PracticeRecord.phases, PracticeRecord.translation_of,
                                            PracticeRecord.visibility)).all()
    families: dict[tuple[str, str], set[str]] = {}
    for practice_id, city, hazards, phases, original, visibility in records:
        if not policy.may_read_visibility(policy.ANONYMOUS, visibility):
            continue
        if wanted is not None and not wanted.intersection(phases):
            continue
        for hazard in hazards:
            families.setdefault((city, hazard), set()).add(original or practice_id)
    partner_cities = tuple(c.slug for c in city_service.all_cities(instance))
    shown_cities = partner_cities + tuple(sorted({city for city, _ in families} - set(partner_cities)))
    return Matrix(phase=phase, cities=shown_cities, hazards=tuple(vocabularies.hazards().keys()),
                  counts={key: len(found) for key, found in families.items()})
