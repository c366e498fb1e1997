"""Spelling, whatever the engine: which of a query's words are misspelt, and what each is mended into.

An engine answers a few questions about the practices one viewer may read (``Vocabulary``): whether a
word finds any, how many a word finds, which words their texts use near a word and how often. From those
answers alone, ``correction`` mends a query the same way in every engine: a word is misspelt when it is
no word of the glossary and no practice the viewer may read uses it, in any of our languages; it becomes
the nearest word those practices use (two neighbouring letters swapped first, then one edit, two, three,
the most used at each distance), or a glossary term near it that finds their practices, or for an
affixed Indonesian word its corrected root; a Japanese word becomes the glossary term that reads the
same. Only those words change, in the parsed tree, so phrases, OR, NOT and filters stay as they were.

The vocabulary is only ever that of practices the viewer may read: a word that only a restricted
practice uses is never offered to someone who may not read it (threats: leaking restricted text).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection
from collections.abc import Mapping
from typing import Protocol

from exchange.search import glossary
from exchange.search import query as ql
from exchange.search.analysis import is_japanese
from exchange.search.analysis import is_kana
from exchange.search.expansion import japanese_terms_reading_as
from exchange.search.interpretation import ALL_CONCEPTS_UP_TO
from exchange.search.lexicon import is_word

#: A search finding fewer practices than this also looks for a better spelling of its words.
SUGGEST_BELOW = 3
#: Indonesian prefixes and suffixes, longest first: a slip in an affixed word is looked for in its root.
INDONESIAN_PREFIXES = ("memper", "menge", "meng", "meny", "mem", "men", "me", "penge", "peng", "peny", "pem", "pen",
                       "pe", "ber", "ter", "di", "ke", "se", "")
INDONESIAN_SUFFIXES = ("kannya", "annya", "kan", "nya", "an", "i", "")


#: What spelling counts as a word of a practice's texts: three letters or more (no digits).
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def text_words(text: str) -> list[str]:
    """The words of ``text`` spelling may mend others into, as written, in small letters."""
    return [word.lower() for word in _WORD.findall(text)]


def word_uses(texts: Collection[str]) -> Counter[str]:
    """How often ``texts`` use each of their words (``text_words``)."""
    return Counter(word for text in texts for word in text_words(text))


class OutOfTime(Exception):
    """The engine ran out of the search's time while spelling asked it something: no correction then."""


class Vocabulary(Protocol):
    """What spelling asks an engine about the practices one viewer may read (and, for ``complete`` and
    ``matches``, the request's filters). Any answer may raise OutOfTime."""

    def known(self, word: str) -> bool:
        """Whether a search for ``word`` finds a practice the viewer may read; a Japanese word only as it
        is written (no glossary concept among its parts)."""
        ...

    def finding(self, word: str) -> int:
        """How many practices (each translation counting) a search for ``word`` finds among those the viewer
        may read."""
        ...

    def uses(self, words: Collection[str]) -> Mapping[str, float]:
        """How often the texts of practices the viewer may read use each of ``words`` (as written, in small
        letters); a word they never use may be left out."""
        ...

    def near(self, word: str, edits: int) -> Mapping[str, float]:
        """The words (as written, in small letters) the texts of practices the viewer may read use that
        begin with ``word``'s letter and are at most ``edits`` edits from it (``distance``), with how
        often those practices use each (0 or left out: none of them does)."""
        ...

    def near_root(self, root: str, edits: int) -> Mapping[str, float]:
        """As ``near``, among the Indonesian root words (Sastrawi's stems) of the bodies of Indonesian
        practices the viewer may read."""
        ...

    def complete(self, tree: ql.Node) -> int:
        """How many practices (translations counting once) that the viewer may read and the filters select
        have every word of ``tree``."""
        ...

    def matches(self, tree: ql.Node, any_word: bool) -> bool:
        """Whether ``tree`` (each of a plain query's words alone, when ``any_word``) finds a practice the
        viewer may read that the filters select."""
        ...


def correction(parsed: ql.Parsed, vocabulary: Vocabulary, total: int) -> str | None:
    """``parsed`` with its misspelt words corrected, written back as a query, when more practices have all
    its words than ``total`` did; None when there is none, or the engine ran out of time.

    A real word is never swapped for a commoner one (banjir *bandang* is not banjir *badan*), nor a word
    that no practice uses but a dictionary knows (soal is not soil), except into a term with its
    neighbour (kabut asp: kabut asap).
    """
    try:
        return _correction(parsed, vocabulary, total)
    except OutOfTime:
        return None


def _correction(parsed: ql.Parsed, vocabulary: Vocabulary, total: int) -> str | None:
    typed = [w.lower() for w in parsed.words()]
    # three letters are too few to mend alone, but enough beside a word they make a term with (kabut asp)
    words = [word for word in dict.fromkeys(typed) if correctable(word) or is_japanese(word)
             or (len(word) == 3 and word.isalpha() and word.isascii())]
    corrections: dict[str, str] = {}
    for word in words:
        if word in _glossary_vocabulary() or vocabulary.known(word):
            continue
        if is_japanese(word):
            nearest = _finding_most(vocabulary, japanese_terms_reading_as(word))
        else:  # a real word nothing uses is mended only into a term with its neighbour (kabut asp: asap)
            nearest = _completing(word, _neighbours(typed, word)) or (
                _nearest(vocabulary, word) if correctable(word) and not is_word(word) else None)
        if nearest:
            corrections[word] = nearest
    candidate = ql.replace_words(parsed.tree, lambda word: corrections.get(word.lower()))
    if not corrections or candidate is None or candidate == parsed.tree:
        return None
    if vocabulary.complete(candidate) > total:
        return ql.to_text(candidate)
    # A correction of words nothing matched can only add to what is found: a question (which needs only
    # some of its words) takes it when it finds anything at all, and so does a plain query that only its
    # words one by one would answer.
    if len(parsed.words()) > ALL_CONCEPTS_UP_TO:
        return ql.to_text(candidate) if vocabulary.matches(candidate, any_word=False) else None
    if parsed.plain and isinstance(candidate, ql.All) and not total:
        return ql.to_text(candidate) if vocabulary.matches(candidate, any_word=True) else None
    return None


def corrected_notice(q: str, corrected: str, nothing: bool) -> str:
    """What a page says when it shows the results of ``corrected`` for ``q`` (``nothing``: ``q`` itself
    found nothing at all, rather than nothing with all its words)."""
    return (f"Nothing matched “{q}”; showing results for “{corrected}”." if nothing else
            f"Showing results for “{corrected}” instead of “{q}”.")


def wrong_kanji(parsed: ql.Parsed, vocabulary: Vocabulary) -> bool:
    """Whether a Japanese word with kanji in it is used nowhere as written but reads as a glossary term:
    防災訓連 matches practices through 防災 alone, yet 防災訓練 (drill) was meant. (A word in kana
    already finds the concept of the kanji that read so.)"""
    try:
        return any(is_japanese(word) and not is_kana(word) and japanese_terms_reading_as(word)
                   and word not in _glossary_vocabulary() and not vocabulary.known(word)
                   for word in parsed.words())
    except OutOfTime:
        return False


def correctable(word: str) -> bool:
    """Whether spelling may correct ``word``: four letters or more, of an alphabet (not kana or kanji,
    whose misspellings are not near in letters)."""
    return len(word) > 3 and word.isalpha() and all(letter < "\u3000" for letter in word)


def max_edits(word: str) -> int:
    """How many edits away a correction of ``word`` may be: longer words may be further off."""
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def distance(first: str, second: str, limit: int) -> int:
    """The edits (a letter added, dropped or changed, or two neighbouring letters swapped) that make
    ``first`` into ``second``; ``limit`` + 1 as soon as it is sure to be more than ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(second) + 1))
    for i, letter in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
            if i > 1 and j > 1 and letter == second[j - 2] and first[i - 2] == other and letter != other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _most_used(found: Mapping[str, float]) -> str | None:
    """The word used most in ``found`` (of equally used ones, the later), if any is used at all."""
    best = max(((uses, word) for word, uses in found.items() if uses), default=None)
    return best[1] if best else None


def _swapped(vocabulary: Vocabulary, word: str) -> str | None:
    """The most used word of the viewer's practices that is ``word`` with two neighbouring letters swapped
    (the first letter kept), if any."""
    candidates = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, len(word) - 1)} - {word}
    return _most_used(vocabulary.uses(sorted(candidates)))


def _nearest(vocabulary: Vocabulary, word: str) -> str | None:
    """The correction of ``word`` fewest edits away (up to ``max_edits``, same first letter): a word of
    the viewer's practices (the most used of them), else a glossary term in any of our languages that
    finds practices the viewer may read (the one finding most). None when ``word`` is itself a word of
    those practices (a stop word, say), or nothing is near. Two neighbouring letters swapped, the
    commonest slip, come first (lansai is lansia before it is lantai)."""
    swapped = _swapped(vocabulary, word)
    if swapped:
        return swapped
    for edits in range(1, max_edits(word) + 1):
        spelled = _most_used(vocabulary.near(word, edits))
        if spelled == word:
            return None
        if spelled:
            return spelled
        near = [term for term in _glossary_words()
                if term[0] == word[0] and term != word and distance(term, word, edits) <= edits]
        best = _finding_most(vocabulary, near)
        if best:
            return best
    return _nearest_root(vocabulary, word)


def _nearest_root(vocabulary: Vocabulary, word: str) -> str | None:
    """For an Indonesian word whose affixed form no practice uses (pengevakusian), the root its affixes
    surround, corrected (evakuasi): the nearest Indonesian root word to any affix-free remainder, the
    one the viewer's practices use most. Searching the root finds every affixed form anyway."""
    best: tuple[float, str] | None = None
    for prefix in INDONESIAN_PREFIXES:
        for suffix in INDONESIAN_SUFFIXES:
            if not (prefix or suffix) or not word.startswith(prefix) or not word.endswith(suffix):
                continue
            root = word[len(prefix):len(word) - len(suffix)]
            if len(root) < 4:
                continue
            found = vocabulary.near_root(root, max_edits(root) - 1 or 1)
            nearest = _most_used(found)
            if nearest and nearest != root and (best is None or (found[nearest], nearest) > best):
                best = (found[nearest], nearest)
    return best[1] if best else None


def _finding_most(vocabulary: Vocabulary, terms: list[str]) -> str | None:
    """Of ``terms``, the one that finds most practices the viewer may read (none that finds none)."""
    best: tuple[int, str] | None = None
    for term in terms:
        count = vocabulary.finding(term)
        if count and (best is None or (count, term) > best):
            best = (count, term)
    return best[1] if best else None


def _neighbours(words: list[str], word: str) -> set[str]:
    """The words typed right before and after each place ``word`` stands in ``words``."""
    places = [i for i, w in enumerate(words) if w == word]
    return {words[j] for i in places for j in (i - 1, i + 1) if 0 <= j < len(words)} - {word}


def _completing(word: str, neighbours: set[str]) -> str | None:
    """The word nearest ``word`` (within ``max_edits``, same first letter) that makes a glossary term with
    a word typed beside it: 'gempa bumu' is gempa *bumi* (earthquake), not gempa *buku* (book), though
    practices say buku more often."""
    best: tuple[int, str] | None = None
    for neighbour in neighbours:
        for term in _glossary_terms_by_word().get(neighbour, []):
            for candidate in term:
                if candidate[0] == word[0] and candidate not in (word, neighbour):
                    edits = distance(candidate, word, max_edits(word))
                    if edits <= max_edits(word) and (best is None or (edits, candidate) < best):
                        best = (edits, candidate)
    return best[1] if best else None


@functools.cache
def _glossary_terms_by_word() -> dict[str, list[tuple[str, ...]]]:
    """Each word of a glossary term of several words (small letters) → those terms, as their words."""
    terms: dict[str, list[tuple[str, ...]]] = {}
    for concept in glossary.concepts():
        for language_terms in concept.terms.values():
            for term in language_terms:
                words = tuple(term.lower().split())
                if len(words) > 1:
                    for word in set(words):
                        terms.setdefault(word, []).append(words)
    return terms


@functools.cache
def _glossary_vocabulary() -> frozenset[str]:
    """Every word of every glossary term, in all our languages, in small letters."""
    return frozenset(word.lower() for concept in glossary.concepts() for terms in concept.terms.values()
                     for term in terms for word in term.split())


@functools.cache
def _glossary_words() -> tuple[str, ...]:
    """The one-word glossary terms spelling may correct to, in all our languages."""
    words = {term.lower() for concept in glossary.concepts() for terms in concept.terms.values() for term in terms}
    return tuple(sorted(w for w in words if correctable(w)))


def prepare() -> None:
    """Build the glossary's spelling tables (once per process)."""
    _glossary_vocabulary()
    _glossary_words()
    _glossary_terms_by_word()
