"""The controlled vocabularies of practice front matter, with labels in English, Indonesian and Japanese."""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import TypeVar

from exchange.library import yamlfile

UI_LANGUAGES = ("en", "id", "ja")

#: A vocabulary's key type: text, except for the numbered Sendai priorities.
K = TypeVar("K", str, int)


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: its key and its labels by language."""

    key: str | int
    labels: dict[str, str]
    code: str | None = None

    def label(self, language: str = "en") -> str:
        """The label in ``language``, falling back to English, then the key."""
        return self.labels.get(language) or self.labels.get("en") or str(self.key)


@dataclass(frozen=True)
class Vocabulary(Generic[K]):
    """An ordered set of terms, such as the hazards or the phases."""

    name: str
    terms: dict[K, Term]

    def __contains__(self, key: object) -> bool:
        return key in self.terms

    def keys(self) -> list[K]:
        """The keys in their defined order."""
        return list(self.terms)

    def label(self, key: K, language: str = "en") -> str:
        """A key's label, or the key itself when it is not in the vocabulary."""
        term = self.terms.get(key)
        return term.label(language) if term else str(key)


@functools.cache
def _raw() -> dict[str, Any]:
    text = importlib.resources.files("exchange").joinpath("data/vocabularies.yaml").read_text("utf-8")
    raw: dict[str, Any] = yamlfile.load_trusted(text)
    return raw


def _vocabulary(name: str) -> Vocabulary[Any]:
    terms = {}
    for key, labels in _raw()[name].items():
        labels = dict(labels)
        code = labels.pop("hips", None)
        terms[key] = Term(key=key, labels=labels, code=code)
    return Vocabulary(name=name, terms=terms)


@functools.cache
def get(name: str) -> Vocabulary[Any]:
    """The vocabulary called ``name``: kind, phase, hazard, sendai_priority, visibility, language."""
    return _vocabulary(name)


def kinds() -> Vocabulary[str]:
    """What sort of document a practice is."""
    return get("kind")


def phases() -> Vocabulary[str]:
    """The disaster risk management phases."""
    return get("phase")


def hazards() -> Vocabulary[str]:
    """The hazard keys, with their HIPs 2025 codes where known."""
    return get("hazard")


def sendai_priorities() -> Vocabulary[int]:
    """The four priorities for action of the Sendai Framework."""
    return get("sendai_priority")


def languages() -> Vocabulary[str]:
    """Languages with known names; any BCP 47 primary tag is accepted beyond these."""
    return get("language")


def visibilities() -> Vocabulary[str]:
    """Who may read a practice."""
    return get("visibility")


@functools.cache
def licences() -> dict[str, dict[str, str]]:
    """Accepted SPDX licence ids with their names and URLs."""
    return dict(_raw()["license"])


@functools.cache
def country_codes() -> frozenset[str]:
    """Every officially assigned ISO 3166-1 alpha-2 code."""
    return frozenset(_raw()["country_codes"].split())


def country_name(code: str, language: str = "en") -> str:
    """A country's name in ``language`` where we have it, else its code."""
    names = _raw()["country"].get(code)
    return names.get(language, names["en"]) if names else code


def language_name(code: str, language: str = "en") -> str:
    """A language's name in ``language`` (or its code when unknown)."""
    return languages().label(code, language)


def native_language_name(code: str) -> str:
    """A language's name in that language, for "also in: 日本語" links."""
    term = languages().terms.get(code)
    return term.labels.get("native", term.label()) if term else code


#: the vocabularies of front matter, by the key they fill
FRONT_MATTER_VOCABULARIES = {"kind": "kind", "hazards": "hazard", "phases": "phase",
                             "sendai_priorities": "sendai_priority", "visibility": "visibility",
                             "language": "language"}


def described() -> dict[str, Any]:
    """Every vocabulary as plain data: its terms in order with their labels (and hazards' HIPs codes), and
    the accepted licences."""
    out: dict[str, Any] = {}
    for field, name in FRONT_MATTER_VOCABULARIES.items():
        out[name] = {"field": field, "terms": [
            {"key": term.key, "labels": dict(term.labels), **({"code": term.code} if name == "hazard" else {})}
            for term in get(name).terms.values()]}
    out["license"] = {"field": "license", "terms": [
        {"key": key, "labels": {"en": str(about.get("name", key))}, **({"url": about["url"]} if "url" in about else {})}
        for key, about in licences().items()]}
    return out
