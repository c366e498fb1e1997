"""Partner cities: adding them, listing them, seeding the bundled ones."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import audit
from exchange.errors import CityNotFound
from exchange.errors import InvalidCity
from exchange.library import vocabularies
from exchange.library import yamlfile
from exchange.library.practice import check_slug
from exchange.models import City

if TYPE_CHECKING:
    from exchange.instance import Instance


@dataclass(frozen=True)
class CitySpec:
    """What a new city needs: its slug, country and names."""

    slug: str
    country: str
    name: str
    name_en: str | None = None
    name_id: str | None = None
    name_ja: str | None = None


def bundled() -> list[CitySpec]:
    """The partner cities a new instance starts with."""
    text = importlib.resources.files("exchange").joinpath("data/partner_cities.yaml").read_text("utf-8")
    return [_spec(entry) for entry in yamlfile.load_trusted(text)]


def _spec(entry: dict) -> CitySpec:
    return CitySpec(slug=entry["slug"], country=entry["country"], name=entry["name"],
                    name_en=entry.get("en"), name_id=entry.get("id"), name_ja=entry.get("ja"))


def parse_list(text: str) -> list[CitySpec]:
    """City specs from a ``cities.yaml`` of an export (untrusted: checked like any input)."""
    entries = yamlfile.load_untrusted(text)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidCity("cities.yaml must be a list of cities")
    try:
        return [_spec(entry) for entry in entries]
    except KeyError as error:
        raise InvalidCity(f"cities.yaml: a city lacks {error}") from None


def check(spec: CitySpec) -> None:
    """Raise InvalidCity naming what is wrong with ``spec``."""
    problem = check_slug(spec.slug)
    if problem:
        raise InvalidCity(f"slug: {problem}")
    if spec.country not in vocabularies.country_codes():
        raise InvalidCity(f"country: {spec.country!r} is not an ISO 3166-1 alpha-2 code (e.g. ID, JP, AU)")
    for name in (spec.name, spec.name_en, spec.name_id, spec.name_ja):
        if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
            raise InvalidCity(f"name: {name!r} must be text of 1 to 200 characters")


def add(instance: Instance, spec: CitySpec, actor: str) -> bool:
    """Add a partner city; False when a city with that slug already exists (nothing changes)."""
    check(spec)
    with instance.db.writing() as session:
        if session.get(City, spec.slug):
            return False
        session.add(City(slug=spec.slug, country=spec.country, name=spec.name.strip(),
                         name_en=spec.name_en, name_id=spec.name_id, name_ja=spec.name_ja))
        audit.record(session, actor, "city.add", spec.slug, country=spec.country, name=spec.name)
    return True


def all_cities(instance: Instance) -> list[City]:
    """Every partner city, by name.

    Cities are only ever added, so how many there are and when the latest came say whether the list
    has changed: one small query, and the rows are loaded again only when it has (every search page and
    practice page names cities; loading each as an object cost ~2 ms a page at 130 cities). The cities
    given are shared: read them, never change them.
    """
    with instance.db.session() as session:
        mark = tuple(session.execute(sa.select(sa.func.count(), sa.func.max(City.created_at))).one())
        kept = _kept.get(instance.db.url)
        if kept is not None and kept[0] == mark:
            return list(kept[1])
        found = list(session.scalars(sa.select(City).order_by(City.name_en, City.name)))
    _kept[instance.db.url] = (mark, found)
    return list(found)


#: each database's cities as last loaded, with what said they were current (``all_cities``)
_kept: dict[str, tuple[tuple, list[City]]] = {}


def get(instance: Instance, slug: str) -> City:
    """One city (CityNotFound when there is none)."""
    with instance.db.session() as session:
        city = session.get(City, slug)
    if city is None:
        raise CityNotFound(slug)
    return city


def as_yaml(cities: list[City]) -> str:
    """A ``cities.yaml`` for an export, readable back by ``parse_list``."""
    return yamlfile.dump([
        {"slug": c.slug, "country": c.country, "name": c.name,
         "en": c.name_en, "id": c.name_id, "ja": c.name_ja}
        for c in cities
    ])
