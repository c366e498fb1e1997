"""The query language, parsed into a small tree that knows nothing of Whoosh.

Plain words (how many must match is ``interpretation.minimum_to_match``'s), "phrases", OR, NOT / -word,
parentheses, trailing wildcards (flo*, at least three letters first) and the named filters hazard:, city:,
country:, kind:, phase:, language:, year:.
Any other ``field:`` is read as plain words, so nobody can query internal fields. Queries are bounded
in length, terms and depth; anything malformed is read as plain words instead of failing.

Words and phrases that spell Japanese syllables are marked ``romaji`` when the query reads as Japanese
typed in Latin letters (``_mark_romaji``): engines then also look for the Japanese words that read so.
"""

from __future__ import annotations

import difflib
import re
import types
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from exchange.library import vocabularies
from exchange.search.analysis import japanese_chunks
from exchange.search.backend import FACETS
from exchange.search.lexicon import is_word
from exchange.search.romaji import romaji_key

MAX_QUERY_CHARS = 256
MAX_TERMS = 20
MAX_DEPTH = 5
MIN_PREFIX = 3


@dataclass(frozen=True)
class Word:
    text: str
    #: Also Japanese typed in romaji (hinanjo: 避難所); a reading of the query, not part of what was typed.
    romaji: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Phrase:
    text: str
    romaji: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Prefix:
    text: str


@dataclass(frozen=True)
class Filter:
    name: str
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class All:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    nodes: tuple[Node, ...]


Node = Word | Phrase | Prefix | Filter | Not | All | Any


@dataclass
class Parsed:
    """A parsed query, whether it is only plain words (so may fall back to any-word), and notices."""

    tree: Node | None
    plain: bool
    notices: list[str] = field(default_factory=list)

    def words(self) -> list[str]:
        """The plain words and phrase words of the query, in order (for "did you mean")."""
        found: list[str] = []

        def walk(node: Node | None) -> None:
            if isinstance(node, Word | Prefix):
                found.append(node.text)
            elif isinstance(node, Phrase):
                found.extend(node.text.split())
            elif isinstance(node, All | Any):
                for child in node.nodes:
                    walk(child)
        walk(self.tree)
        return found


_TOKEN = re.compile(r'-?"[^"]*"?|-?\(|\)|[^\s()"]+')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Malformed(ValueError):
    pass


def normalise(text: str) -> str:
    """NFKC-normalised, control characters removed, whitespace collapsed."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text))
    return " ".join(text.split())


def parse(text: str) -> Parsed:
    """The query tree for ``text``; never raises."""
    notices: list[str] = []
    text = normalise(text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"Your search was shortened to its first {MAX_QUERY_CHARS} characters.")
    if not text:
        return Parsed(None, True, notices)
    tokens = _TOKEN.findall(text)
    try:
        parser = _Parser(tokens)
        tree = parser.parse()
        plain = parser.plain
    except _Malformed:
        tree, plain = _plain_words(text), True
        notices.append("The search could not be read as a query, so its words were searched for.")
    tree, dropped = _limit_terms(tree)
    if dropped:
        notices.append(f"Only the first {MAX_TERMS} search terms were used.")
    tree = _known_filters(tree, notices)
    return Parsed(_mark_romaji(tree), plain, notices)


def _mark_romaji(tree: Node | None) -> Node | None:
    """``tree`` with its words and phrases that spell Japanese syllables (``romaji.romaji_key``) marked
    ``romaji`` when the query reads as romaji: it is that one word, or one of them is no English or
    Indonesian word (jishu bosai soshiki). In an English or Indonesian query, a word that happens to spell
    syllables (rain: ライン, desa, dan) is only itself, or every such word would find Japanese practices."""
    found: list[str] = []

    def texts(node: Node | None) -> None:
        if isinstance(node, Word | Phrase):
            found.append(node.text)
        elif isinstance(node, Not):
            texts(node.node)
        elif isinstance(node, All | Any):
            for child in node.nodes:
                texts(child)

    texts(tree)
    spelled = [text for text in found if romaji_key("".join(text.split()))]
    if not spelled or (len(found) > 1 and all(is_word(word.lower()) for text in spelled for word in text.split())):
        return tree

    def mark(node: Node) -> Node:
        if isinstance(node, Word | Phrase):
            return type(node)(node.text, romaji=node.text in spelled)
        if isinstance(node, Not):
            return Not(mark(node.node))
        if isinstance(node, All | Any):
            return type(node)(tuple(mark(child) for child in node.nodes))
        return node

    return mark(tree) if tree is not None else None


#: The filters whose values come from a fixed vocabulary (``vocabularies.yaml``).
_VOCABULARIES = {"hazard": vocabularies.hazards, "kind": vocabularies.kinds, "phase": vocabularies.phases,
                 "language": vocabularies.languages}


def _known_filters(tree: Node | None, notices: list[str]) -> Node | None:
    """``tree`` without filters on a value their vocabulary lacks (hazard:flood), each left out with a
    notice naming the values meant most likely, rather than finding nothing without a word."""

    def walk(node: Node) -> Node | None:
        if isinstance(node, All | Any):
            return _combine(type(node), (walk(child) for child in node.nodes))
        if isinstance(node, Not):
            inner = walk(node.node)
            return Not(inner) if inner is not None else None
        if isinstance(node, Filter) and node.name in _VOCABULARIES:
            known = [str(key) for key in _VOCABULARIES[node.name]().keys()]
            value = node.value.lower()
            if value not in known:
                near = [k for k in known if value in k] or difflib.get_close_matches(value, known, n=4, cutoff=0.6)
                meant = f" Did you mean {', '.join(f'{node.name}:{k}' for k in near[:4])}?" if near else ""
                notices.append(f"There is no {node.name} “{node.value}”, so that filter was left out.{meant}")
                return None
        return node

    return walk(tree) if tree is not None else None


def _plain_words(text: str) -> Node | None:
    """The words of a query that cannot be read as one, less its stray operators (unless it is nothing
    else: "OR" alone is searched for as a word, never read as "everything")."""
    words = re.findall(r"\w[\w'-]*", text)
    return _combine(All, [Word(w) for w in [w for w in words if w.upper() not in ("OR", "AND", "NOT")] or words])


def _without_everywhere(options: list[Node | None]) -> Node | None:
    """Alternatives joined by OR, with any -word or NOT among them leaving its match out of all of
    them: "tsunami OR 地震 -sendai" is (tsunami OR 地震) -sendai, as people mean it."""
    if len(options) < 2:
        return _combine(Any, options)
    left_out: list[Node] = []
    kept: list[Node | None] = []
    for option in options:
        parts = option.nodes if isinstance(option, All) else (option,)
        left_out += [part for part in parts if isinstance(part, Not)]
        kept.append(_combine(All, [part for part in parts if not isinstance(part, Not)]))
    either = _combine(Any, kept)
    return _combine(All, [either, *left_out]) if left_out else either


def _combine(kind: type[All] | type[Any], nodes: Iterable[Node | None]) -> Node | None:
    present = [n for n in nodes if n is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else kind(tuple(present))


def _limit_terms(tree: Node | None) -> tuple[Node | None, bool]:
    budget = [MAX_TERMS]
    dropped = [False]

    def walk(node: Node) -> Node | None:
        if isinstance(node, All | Any):
            kept = [k for k in (walk(child) for child in node.nodes) if k is not None]
            return _combine(type(node), kept)
        if isinstance(node, Not):
            inner = walk(node.node)
            return Not(inner) if inner is not None else None
        if budget[0] <= 0:
            dropped[0] = True
            return None
        budget[0] -= 1
        return node

    return (walk(tree) if tree is not None else None), dropped[0]


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.plain = True
        #: Groups that are the words of a Japanese sentence (``japanese_chunks``), by id.
        self.sentences: set[int] = set()

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> Node | None:
        tree = self.any_of(0)
        if self.peek() is not None:
            raise _Malformed("unexpected )")
        return tree

    def any_of(self, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            raise _Malformed("too deep")
        options = [self.all_of(depth)]
        while self.peek() == "OR":
            self.take()
            self.plain = False
            if self.peek() in (None, ")", "OR"):
                raise _Malformed("OR without a right side")
            options.append(self.all_of(depth))
        return _without_everywhere(options)

    def all_of(self, depth: int) -> Node | None:
        parts: list[Node | None] = []
        while self.peek() not in (None, ")", "OR"):
            token = self.peek()
            if token == "AND":
                self.take()
                self.plain = False
                continue
            part = self.unary(depth)
            # the words of a Japanese sentence stand beside the group's other words, as if spaced
            parts.extend(part.nodes if isinstance(part, All) and id(part) in self.sentences else [part])
        if not parts:
            raise _Malformed("empty group")
        return _combine(All, parts)

    def unary(self, depth: int) -> Node | None:
        token = self.peek()
        if token == "NOT" or (token and token.startswith("-") and len(token) > 1 and token != "--"):
            self.plain = False
            if token == "NOT":
                self.take()
                if self.peek() in (None, ")", "OR"):
                    raise _Malformed("NOT without a term")
            else:
                self.tokens[self.position] = token[1:]
            inner = self.atom(depth)
            return Not(inner) if inner is not None else None
        return self.atom(depth)

    def atom(self, depth: int) -> Node | None:
        token = self.take()
        if token == "(":
            self.plain = False
            inner = self.any_of(depth + 1)
            if self.peek() != ")":
                raise _Malformed("unclosed (")
            self.take()
            return inner
        if token.startswith('"'):
            if len(token) < 2 or not token.endswith('"'):
                raise _Malformed("unclosed quote")
            self.plain = False
            text = " ".join(re.findall(r"\w[\w'-]*", token[1:-1]))
            return Phrase(text) if " " in text else (Word(text) if text else None)
        name, colon, value = token.partition(":")
        if colon and name.lower() in FACETS and value:
            self.plain = False
            return Filter(name.lower(), value.strip('"'))
        if token.endswith("*"):
            stem = token.rstrip("*")
            if len(stem) >= MIN_PREFIX and re.fullmatch(r"\w[\w'-]*", stem):
                self.plain = False
                return Prefix(stem)
        words = [Word(chunk) for w in re.findall(r"\w[\w'-]*", token) for chunk in japanese_chunks(w)]
        node = _combine(All, words)
        if isinstance(node, All) and len(words) > len(re.findall(r"\w[\w'-]*", token)):
            self.sentences.add(id(node))
        return node


def to_text(node: Node | None) -> str:
    """``node`` written in the query language: ``parse(to_text(tree)).tree == tree`` (NOT is written -)."""
    if node is None:
        return ""
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'"{node.text}"'
    if isinstance(node, Prefix):
        return f"{node.text}*"
    if isinstance(node, Filter):
        return f"{node.name}:{node.value}"
    if isinstance(node, Not):
        return "-" + _grouped(node.node, All | Any)
    if isinstance(node, All):
        return " ".join(_grouped(child, Any | All) for child in node.nodes)
    return " OR ".join(_grouped(child, Any) for child in node.nodes)


def _grouped(node: Node, kinds: type | types.UnionType) -> str:
    return f"({to_text(node)})" if isinstance(node, kinds) else to_text(node)


def replace_words(node: Node | None, replacement: Callable[[str], str | None]) -> Node | None:
    """``node`` with each of its ``Parsed.words()`` (plain words and words of phrases, never those left out
    with NOT, never prefixes) that ``replacement`` gives another word for replaced by it."""
    if isinstance(node, Word):
        replaced = replacement(node.text)
        return Word(replaced) if replaced and replaced != node.text else node
    if isinstance(node, Phrase):
        text = " ".join(replacement(word) or word for word in node.text.split())
        return Phrase(text) if text != node.text else node
    if isinstance(node, All | Any):
        return type(node)(tuple(replace_words(child, replacement) or child for child in node.nodes))
    return node
