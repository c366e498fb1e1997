"""The Whoosh schema: text analysed per language, metadata as filterable fields."""

from __future__ import annotations

from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID
from whoosh.fields import KEYWORD
from whoosh.fields import NUMERIC
from whoosh.fields import STORED
from whoosh.fields import TEXT
from whoosh.fields import Schema

from exchange.search.analysis import LANGUAGES
from exchange.search.backend import FACETS
from exchange.search.backend import MULTI_VALUED_FACETS
from exchange.search.backend import TEXT_FIELDS
from exchange.search.whoosh.analysis import LanguageAnalyzer

#: How much a word counts in each of the texts (``TEXT_FIELDS``), each indexed once per analysis language
#: as ``<name>_<language>``.
TEXT_BOOSTS = {"title": 3.0, "summary": 2.0, "tags": 2.0, "body": 1.0}
#: How much a glossary concept counts where a practice names it (``concepts.py``): in its title, summary
#: or tags ("head"), or in its body.
CONCEPT_BOOSTS = {"head": 2.0, "body": 1.0}
#: How much a romaji term (``analysis.reading_terms``: how a Japanese practice's words read) counts in its
#: title, summary or tags ("head"), or in its body: less than the words themselves, so an English or
#: Indonesian word that happens to spell Japanese syllables (dan, kami) still finds its own language first.
READING_BOOSTS = {"head": 1.0, "body": 0.5}
#: Bumped whenever analysis or fields change: an index of another version is rebuilt.
SCHEMA_VERSION = 9


def build_schema() -> Schema:
    """A fresh schema object (Whoosh keeps a copy inside each index)."""
    fields: dict = {
        "id": ID(stored=True, unique=True),
        "group": ID(stored=True),
        "sha": STORED(),
        "visibility": ID(stored=True),
        "published": NUMERIC(stored=True, sortable=True, bits=32),
        # When the library received the current version, in microseconds since 1970 (UTC): "recently updated".
        "revised": STORED(),
        "facets": STORED(),
        "card": STORED(),
        "content": STORED(),
        "organisation": TEXT(analyzer=RegexTokenizer() | LowercaseFilter(), field_boost=1.5),
        # The practice's city and country names in English, Indonesian and Japanese.
        "place": TEXT(analyzer=LanguageAnalyzer("xx"), field_boost=1.0),
        # Words of public practices only: the "did you mean" vocabulary can never reveal a restricted word.
        "spell_public": TEXT(analyzer=RegexTokenizer() | LowercaseFilter(), phrase=False),
    }
    for where, boost in CONCEPT_BOOSTS.items():
        # The language-neutral concept keys the practice's text names, once per occurrence.
        fields[f"concepts_{where}"] = TEXT(analyzer=RegexTokenizer(r"\S+"), field_boost=boost, phrase=False)
    for where, boost in READING_BOOSTS.items():
        # The readings of a Japanese practice's words, as romaji typed for them is searched (``romaji.py``).
        fields[f"reading_{where}"] = TEXT(analyzer=RegexTokenizer(r"\S+"), field_boost=boost, phrase=False)
    for name in FACETS:
        fields[name] = KEYWORD(commas=True) if name in MULTI_VALUED_FACETS else ID()
    for language in LANGUAGES:
        for name in TEXT_FIELDS:
            # Character offsets in the body let snippets be highlighted without re-analysing the text.
            fields[f"{name}_{language}"] = TEXT(analyzer=LanguageAnalyzer(language), field_boost=TEXT_BOOSTS[name],
                                                phrase=name != "tags", chars=name == "body")
    return Schema(**fields)
