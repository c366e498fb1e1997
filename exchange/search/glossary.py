"""The disaster-risk glossary: concepts with English, Indonesian and Japanese terms, for query expansion."""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass

from exchange.library import yamlfile

LANGUAGES = ("en", "id", "ja")


@dataclass(frozen=True)
class Concept:
    """One idea with its terms in each language and the sources that vouch for them."""

    key: str
    terms: dict[str, tuple[str, ...]]
    sources: tuple[str, ...]


@functools.cache
def sources() -> dict[str, str]:
    """Source id → description."""
    folder = importlib.resources.files("exchange").joinpath("data/glossary")
    return dict(yamlfile.load_trusted(folder.joinpath("_sources.yaml").read_text("utf-8")))


@functools.cache
def concepts() -> tuple[Concept, ...]:
    """Every concept of every glossary file (files starting with ``_`` hold metadata)."""
    folder = importlib.resources.files("exchange").joinpath("data/glossary")
    found: dict[str, Concept] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name.startswith("_"):
            continue
        for raw in yamlfile.load_trusted(entry.read_text("utf-8"))["concepts"]:
            concept = Concept(key=raw["key"], terms={lang: tuple(raw[lang]) for lang in LANGUAGES},
                              sources=tuple(raw.get("sources", ())))
            if concept.key in found:  # the same idea filed under two topics: keep every term
                earlier = found[concept.key]
                concept = Concept(concept.key, {lang: tuple(dict.fromkeys(earlier.terms[lang] + concept.terms[lang]))
                                                for lang in LANGUAGES}, earlier.sources + concept.sources)
            found[concept.key] = concept
    return tuple(found.values())
