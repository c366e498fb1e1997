"""Text analysis for each language the library holds.

English is stemmed (Porter), Indonesian is stemmed with Sastrawi (banjir / kebanjiran / membanjiri all
become ``banjir``), Japanese is split into morphemes by MeCab through fugashi with the UniDic-lite
dictionary (避難所運営 → 避難 / 所 / 運営), and any other language gets a neutral analyser. Whoosh pickles
analysers into the index schema, so these classes hold no state of their own: the tagger and the
stemmer live in module-level caches, and the classes must stay importable under this module path.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

from whoosh.analysis import Analyzer
from whoosh.analysis import Filter
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.analysis import StemmingAnalyzer
from whoosh.analysis import StopFilter
from whoosh.analysis import Token
from whoosh.analysis import Tokenizer

#: The languages with an analyser of their own; everything else is analysed as "xx".
LANGUAGES = ("en", "id", "ja", "xx")

INDONESIAN_STOPWORDS = frozenset("""
ada adalah agar akan aku anda antara apa apabila atas atau bagi bahwa baik banyak beberapa belum
bila bisa dalam dan dapat dari demikian dengan di dia harus hingga ia ialah ini itu jika juga kami
kamu karena ke kepada ketika lagi lain maka masih mereka namun oleh pada para per perlu saat saja
sama sampai sangat satu saya sebagai sebelum secara sedang sehingga sejak selama semua sendiri
serta setelah seperti sudah tanpa telah tentang terhadap tersebut tetapi tidak untuk usai yaitu
yakni yang
""".split())

# Particles and auxiliaries that carry no meaning on their own in a search.
JAPANESE_STOPWORDS = frozenset("""
の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など なっ ない
この ため その あっ よう また もの という あり まで られ なる へ か だ これ によって により おり
より による ず なり られる において ば なかっ なく しかし について せ だっ その後 できる それ う
ので なお のみ でき き つ における および いう さらに でも ら たり その他 に関する たち ます ん
です ましょ ませ ・ 、 。 「 」 （ ） ( )
""".split())

_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)


_tagger_lock = threading.Lock()


@functools.cache
def _tagger():  # type: ignore[no-untyped-def]
    from fugashi import Tagger

    return Tagger("-Owakati")


def japanese_words(text: str) -> list[str]:
    """The morphemes of ``text`` (MeCab is not thread-safe: one caller at a time)."""
    with _tagger_lock:
        return [word.surface for word in _tagger()(text)]


@functools.cache
def _sastrawi():  # type: ignore[no-untyped-def]
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@functools.lru_cache(maxsize=200_000)
def stem_indonesian(word: str) -> str:
    """The Sastrawi stem of one lowercase word (cached: the same words recur in every document)."""
    if not word.isalpha() or len(word) < 4:
        return word
    return _sastrawi().stem(word) or word


class MorphemeTokenizer(Tokenizer):
    """Japanese morphemes, with positions and character offsets for phrases and highlights."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,  # type: ignore[no-untyped-def]
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        value = unicodedata.normalize("NFKC", value) if mode == "query" else value
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos, end = start_pos, 0
        for word in japanese_words(value):
            index = value.find(word, end)
            if index < 0:
                continue
            end = index + len(word)
            if not word.strip():
                continue
            token.text = word
            if keeporiginal:
                token.original = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar, token.endchar = start_char + index, start_char + end
            yield token


class SastrawiFilter(Filter):
    """Replaces each Indonesian token by its stem."""

    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        for token in tokens:
            token.text = stem_indonesian(token.text)
            yield token


class WidthFilter(Filter):
    """Folds full-width Latin letters and digits (ＢＯＫＯＭＩ, ３日) to their usual forms."""

    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        for token in tokens:
            token.text = unicodedata.normalize("NFKC", token.text)
            yield token


def english() -> Analyzer:
    return StemmingAnalyzer(expression=_WORD, cachesize=100_000)


def indonesian() -> Analyzer:
    return (RegexTokenizer(_WORD) | LowercaseFilter() | StopFilter(stoplist=INDONESIAN_STOPWORDS, minsize=2)
            | SastrawiFilter())


def japanese() -> Analyzer:
    return MorphemeTokenizer() | WidthFilter() | LowercaseFilter() | StopFilter(stoplist=JAPANESE_STOPWORDS, minsize=1)


def neutral() -> Analyzer:
    return RegexTokenizer(_WORD) | WidthFilter() | LowercaseFilter()


ANALYSERS = {"en": english, "id": indonesian, "ja": japanese, "xx": neutral}


@functools.cache
def analyser(language: str) -> Analyzer:
    """The (shared) analyser for ``language``; unknown languages get the neutral one."""
    return ANALYSERS.get(language, neutral)()


def analysis_language(language: str) -> str:
    """The analyser key a practice written in ``language`` is indexed with."""
    return language if language in ANALYSERS else "xx"


def tokens(text: str, language: str, mode: str = "query") -> list[str]:
    """The index terms ``text`` becomes in ``language``."""
    return [t.text for t in analyser(language)(text, mode=mode)]
