"""Synthetic practices of realistic length and metadata, made from the bundled practices' own text."""

from __future__ import annotations

import datetime
import random
import re
from pathlib import Path

from exchange.library import vocabularies
from exchange.library.practice import parse

BUNDLED = Path(__file__).resolve().parent.parent / "practices"
LANGUAGE_MIX = (("en", 0.5), ("id", 0.25), ("ja", 0.25))
COUNTRIES = ("ID", "JP", "AU", "PH", "TH", "VN", "MY")


def _paragraphs() -> dict[str, list[str]]:
    """Paragraphs and headings of the bundled practices, by language."""
    found: dict[str, list[str]] = {"en": [], "id": [], "ja": []}
    for path in sorted(BUNDLED.glob("*/*.md")):
        practice = parse(path.read_bytes(), path.stem)
        blocks = [b.strip() for b in re.split(r"\n\s*\n", practice.body) if len(b.strip()) > 40]
        found[practice.language].extend(blocks)
    return found


class Corpus:
    """Deterministic generator: ``practice(i)`` is always the same text for the same seed and i."""

    def __init__(self, seed: int = 7, cities: int = 120) -> None:
        self.seed = seed
        self.paragraphs = _paragraphs()
        self.cities = [(f"city-{n:03d}", COUNTRIES[n % len(COUNTRIES)]) for n in range(cities)]
        self.hazards = vocabularies.hazards().keys()
        self.kinds = vocabularies.kinds().keys()
        self.phases = vocabularies.phases().keys()

    def language(self, rng: random.Random) -> str:
        pick, total = rng.random(), 0.0
        for language, share in LANGUAGE_MIX:
            total += share
            if pick < total:
                return language
        return "en"

    def practice(self, i: int, marker: str = "") -> tuple[str, str, bytes]:
        """(city, slug, file bytes) of synthetic practice ``i``; ``marker`` adds a unique word."""
        rng = random.Random(self.seed * 1_000_003 + i)
        city, country = self.cities[i % len(self.cities)]
        language = self.language(rng)
        pool = self.paragraphs[language]
        body_blocks = rng.sample(pool, k=min(len(pool), rng.randint(6, 12)))
        headings = ["## " + rng.choice(pool).split("\n")[0].lstrip("#-*0123456789. ")[:60] for _ in range(4)]
        body = "\n\n".join(b if n % 3 else f"{headings[n // 3 % 4]}\n\n{b}" for n, b in enumerate(body_blocks))
        if marker:
            body += f"\n\n{marker}\n"
        title_words = re.findall(r"\w+", body_blocks[0])[:rng.randint(5, 9)]
        title = (" ".join(title_words) if language != "ja" else body_blocks[0][:24]).replace(":", " ")
        summary = re.sub(r"\s+", " ", body_blocks[1])[:300].replace('"', "'")
        published = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randint(0, 4300))
        front = {
            "title": f'"{title}"', "summary": f'"{summary}"', "city": city, "country": country,
            "language": language, "kind": rng.choice(self.kinds),
            "hazards": "[" + ", ".join(rng.sample(self.hazards, k=rng.randint(1, 3))) + "]",
            "phases": "[" + ", ".join(rng.sample(self.phases, k=rng.randint(1, 3))) + "]",
            "published": published.isoformat(), "tags": "[example, synthetic]",
            "visibility": "partners" if rng.random() < 0.1 else "public",
        }
        text = "---\n" + "".join(f"{k}: {v}\n" for k, v in front.items()) + "---\n" + body + "\n"
        return city, f"practice-{i:06d}", text.encode("utf-8")
