"""A parsed query (``exchange/search/query.py``) as the Whoosh query ``evaluation.py`` scores."""

from __future__ import annotations

from whoosh import query as wq

from exchange.search import query as ql
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import katakana
from exchange.search.analysis import tokens
from exchange.search.backend import TEXT_FIELDS
from exchange.search.backend import normal_value
from exchange.search.expansion import concept_parts
from exchange.search.interpretation import ConceptRun
from exchange.search.interpretation import join_concept_words
from exchange.search.interpretation import minimum_to_match
from exchange.search.interpretation import required
from exchange.search.romaji import romaji_key
from exchange.search.whoosh.evaluation import Coordinated
from exchange.search.whoosh.schema import CONCEPT_BOOSTS
from exchange.search.whoosh.schema import READING_BOOSTS

#: How much naming a glossary concept of a query word counts beside the word itself.
CONCEPT_BOOST = 1.5
#: How much the scores of further concepts of one word add to the best one's.
EQUIVALENTS_TIEBREAK = 0.1


def in_language(text: str, language: str, boost: float = 1.0) -> list[wq.Query]:
    """Queries for ``text`` in one language's text fields: a word, or the words as a phrase (in tags: all of them)."""
    analysed = tokens(text, language)
    if not analysed:
        return []
    queries: list[wq.Query] = []
    for name in TEXT_FIELDS:
        fieldname = f"{name}_{language}"
        if len(analysed) == 1:
            queries.append(wq.Term(fieldname, analysed[0], boost=boost))
        elif name == "tags":
            queries.append(wq.And([wq.Term(fieldname, t) for t in analysed], boost=boost))
        else:
            queries.append(wq.Phrase(fieldname, analysed, boost=boost))
    return queries


def text_query(text: str, romaji: bool = False) -> wq.Query:
    """``text`` in every language, or the glossary concepts it names wherever a practice names them; with
    ``romaji`` (``query.Word.romaji``), text naming none also finds the Japanese words that read so
    (hinanjo: 避難所).

    A concept is one term per place a practice may name it (``concepts.py``), whatever the language and
    however many synonyms: a practice that names it is not scored as if it matched several query words,
    and the work stays bounded. A Japanese compound naming several concepts needs them all.
    """
    direct = [q for language in LANGUAGES for q in in_language(text, language)]
    direct.append(wq.Term("organisation", text.lower()))
    direct += [wq.Term("place", token) for token in place_tokens(text)]
    parts = [wq.DisjunctionMax([concept_query(key) for key in keys], tiebreak=EQUIVALENTS_TIEBREAK)
             for keys in concept_parts(text)]
    if not parts:
        return wq.Or(direct + (reading_queries(text) if romaji else []))
    # a word naming a concept (tsunami: 津波) finds its Japanese practices through it already: how they
    # read would count the same word twice
    return wq.Or(direct + [parts[0] if len(parts) == 1 else wq.And(parts)])


def reading_queries(text: str) -> list[wq.Query]:
    """Japanese practices whose words read as ``text`` does when it is romaji (hinanjo: 避難所), its words
    written together; none for text that is no Japanese syllables (``romaji.romaji_key``)."""
    key = romaji_key("".join(text.split()))
    return [wq.Term(f"reading_{where}", key) for where in READING_BOOSTS] if key else []


def concept_query(key: str) -> wq.Query:
    """Practices naming the glossary concept ``key`` (in their title, summary, tags or body)."""
    return wq.Or([wq.Term(f"concepts_{where}", key, boost=CONCEPT_BOOST) for where in CONCEPT_BOOSTS])


def place_tokens(text: str) -> list[str]:
    """The terms ``text`` would be as a city's or country's name; hiragana is read as the katakana place
    names are written in (じゃかるた: ジャカルタ)."""
    return tokens(katakana(text), "xx")


def filter_query(name: str, value: str) -> wq.Query:
    """Practices with ``value`` for the facet ``name``."""
    return wq.Term(name, normal_value(name, value))


def to_whoosh(node: ql.Node | None) -> wq.Query:
    """The Whoosh query for a parsed query tree (everything, when empty)."""
    if node is None:
        return wq.Every()
    if isinstance(node, ql.Word | ql.Phrase):
        return text_query(node.text, node.romaji)
    if isinstance(node, ql.Prefix):
        return wq.Or([wq.Prefix(f"{name}_{language}", node.text.lower())
                      for language in LANGUAGES for name in TEXT_FIELDS])
    if isinstance(node, ql.Filter):
        return filter_query(node.name, node.value)
    if isinstance(node, ql.Not):
        return wq.And([wq.Every(), wq.Not(to_whoosh(node.node))])
    if isinstance(node, ql.All):
        return all_of(node, any_word=False)
    return wq.Or([to_whoosh(n) for n in node.nodes])


def all_of(node: ql.All, any_word: bool) -> wq.Query:
    """An all-of group: its plain words and glossary concepts coordinated (at least ``minimum_to_match``
    of them, or one when ``any_word``, ranked by how many a practice covers), everything else (phrases,
    prefixes, filters, nested groups) required and its negations excluded, as ever."""
    nodes = required(_words_of(node) if any_word else node.nodes)
    items = nodes if any_word else join_concept_words(nodes)
    # A question is told by its words, not by how many glossary runs they form: in "tsunami evacuation
    # drill for schools" a practice saying "tsunami" and "schools" covers two of its words, though three
    # of them name one concept. So in a question a run counts as itself (its concept in any language)
    # and as each of its words.
    words = sum(len(required(item.words)) if isinstance(item, ConceptRun) else 1
                for item in items if not isinstance(item, ql.Not))
    question = not any_word and minimum_to_match(words) < words
    concepts: list[wq.Query] = []
    positives: list[wq.Query] = []
    for item in items:
        if isinstance(item, ConceptRun):
            concepts.append(wq.Or([text_query(item.text), wq.And([to_whoosh(w) for w in item.words])]))
            if question:
                concepts.extend(to_whoosh(w) for w in required(item.words))
        elif isinstance(item, ql.Word):
            concepts.append(to_whoosh(item))
        elif not isinstance(item, ql.Not):
            positives.append(to_whoosh(item))
    minimum = 1 if any_word or question else len(concepts)
    if minimum < len(concepts):
        positives.insert(0, Coordinated(concepts, minimum=minimum))
    else:
        positives[:0] = concepts
    negatives = [wq.Not(to_whoosh(n.node)) for n in nodes if isinstance(n, ql.Not)]
    return wq.And((positives or [wq.Every()]) + negatives)


def _words_of(node: ql.All) -> tuple[ql.Node, ...]:
    """A plain query's nodes, its groups of words (``flood-prone``, ``a:b``) opened into their words."""
    return tuple(word for child in node.nodes
                 for word in (_words_of(child) if isinstance(child, ql.All) else (child,)))
