"""Text analysis for each language the library holds, with no search engine in it.

English is stemmed (Porter), Indonesian is stemmed with Sastrawi (banjir / kebanjiran / membanjiri all
become ``banjir``), Japanese is split into morphemes by MeCab through fugashi with the UniDic-lite
dictionary (避難所運営 → 避難 / 所 / 運営), and any other language gets a neutral analyser. Every engine
indexes and queries with these same terms (``analyse``): the Whoosh engine wraps them in a Whoosh
tokenizer (``exchange/search/whoosh/analysis.py``), a PostgreSQL engine would build tsvectors from them.
The index terms of every indexed practice depend on what this module does, so a change here is a change
of the engine's schema version.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange.search.porter import stem as porter_stem
from exchange.search.romaji import searchable_key

if TYPE_CHECKING:
    from fugashi import Tagger
    from Sastrawi.Stemmer.CachedStemmer import CachedStemmer

#: The languages with an analyser of their own; everything else is analysed as "xx".
LANGUAGES = ("en", "id", "ja", "xx")

#: Common English words left out of English text (the list Whoosh's analysers use).
ENGLISH_STOPWORDS = frozenset("""
a an and are as at be by can for from have if in is it may not of on or tbd that the this to us we when
will with yet you your
""".split())

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

#: English function words a query may contain without requiring them ("shelters after an earthquake").
QUERY_STOPWORDS = ENGLISH_STOPWORDS | frozenset("""
about above after again against all also any because been before being below between both but did do
does doing down during each few further had has how into its just more most much must no nor now off
once only other our out over own same should so some such than their them then there these they those
through too under until up very was were what where which while who whom why would
""".split())

#: Indonesian words that only frame a question (apa yang dilakukan …, bagaimana cara …, contoh …).
INDONESIAN_QUESTION_WORDS = frozenset("""
apa apakah bagaimana gimana cara caranya contoh dilakukan melakukan lakukan tentang mengenai soal siapa
kapan dimana di mana mengapa kenapa hal bisa
""".split())

#: Japanese words that only frame a question typed as a sentence (避難所を開くときの手順を知りたい).
JAPANESE_QUESTION_WORDS = frozenset("""
とき 際 場合 方法 仕方 やり方 知り たい ください 教え 知る 方 どう どの 何 なに
""".split())

_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@dataclass(frozen=True)
class Token:
    """One index term of a text: the term, its word position (for phrases) and where it stands."""

    text: str
    position: int
    start: int
    end: int
    #: How a Japanese morpheme is pronounced, in katakana (indexed Japanese text only; None when unknown).
    reading: str | None = None


_tagger_lock = threading.Lock()


@functools.cache
def _tagger() -> Tagger:
    from fugashi import Tagger  # MeCab and its dictionary load on the first Japanese text

    # UniDic-lite's own output format (``parse``: a morpheme a line, its surface, its pronunciation …):
    # what ``_read_morphemes`` reads; walking the morphemes (``__call__``) does not depend on it
    return Tagger("")


def japanese_words(text: str) -> list[str]:
    """The morphemes of ``text`` (MeCab is not thread-safe: one caller at a time)."""
    with _tagger_lock:
        return [word.surface for word in _tagger()(text)]


_KATAKANA_READING = re.compile(r"[\u30a1-\u30fa\u30fc]+")


def _read_morphemes(text: str) -> list[tuple[str, str | None]]:
    """The morphemes of ``text`` with how each is pronounced, in katakana (None for anything but a kana
    pronunciation: words the dictionary does not know, Latin letters, digits, marks).

    One string from MeCab (surface, pronunciation (ヒナン, ボーサイ) … a line, then EOS) costs twice what
    the words alone do; fugashi's features of every morpheme cost four times."""
    with _tagger_lock:
        lines = _tagger().parse(text).split("\n")
    read: list[tuple[str, str | None]] = []
    for line in lines:
        columns = line.split("\t", 2)
        if len(columns) > 1:  # not EOS
            surface, said = columns[0], columns[1]
            read.append((surface, said if _KATAKANA_READING.fullmatch(said) else None))
    return read


@functools.cache
def _sastrawi() -> CachedStemmer:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer: CachedStemmer = StemmerFactory().create_stemmer()
    return stemmer


@functools.lru_cache(maxsize=200_000)
def stem_indonesian(word: str) -> str:
    """The Sastrawi stem of one lowercase word (cached: the same words recur in every document)."""
    if not word.isalpha() or len(word) < 4:
        return word
    return _sastrawi().stem(word) or word


@functools.lru_cache(maxsize=100_000)
def stem_english(word: str) -> str:
    """The Porter stem of one lowercase word (cached: the same words recur in every document)."""
    return porter_stem(word)


# Each analyser is a splitter (the text into words, with positions and offsets) followed by steps on
# each word: folding, dropping stop words (later words move up into the gap), stemming.

_Split = Callable[[str, str], Iterator[Token]]


def _regex_words(text: str, mode: str) -> Iterator[Token]:
    for position, match in enumerate(_WORD.finditer(text)):
        yield Token(match.group(0), position, match.start(), match.end())


def _morphemes(text: str, mode: str) -> Iterator[Token]:
    text = unicodedata.normalize("NFKC", text) if mode == "query" else text
    # an indexed text's readings are its romaji terms' source (``reading_terms``); a query needs none
    words = _read_morphemes(text) if mode == "index" else [(word, None) for word in japanese_words(text)]
    position, end = 0, 0
    for word, reading in words:
        index = text.find(word, end)
        if index < 0:
            continue
        end = index + len(word)
        if word.strip():
            yield Token(word, position, index, end, reading)
            position += 1


def _whole(text: str, mode: str) -> Iterator[Token]:
    yield Token(text, 0, 0, len(text))


def _fold_width(text: str) -> str:
    """Full-width Latin letters and digits (ＢＯＫＯＭＩ, ３日) in their usual forms."""
    return unicodedata.normalize("NFKC", text)


def _lower(text: str) -> str:
    return text.lower()


@dataclass(frozen=True)
class _Analyser:
    split: _Split
    folds: tuple[Callable[[str], str], ...]
    stopwords: frozenset[str] = frozenset()
    min_length: int = 1
    stem: Callable[[str], str] | None = None

    def __call__(self, text: str, mode: str, split: bool = True) -> Iterator[Token]:
        words: Iterable[Token] = (self.split if split else _whole)(text, mode)
        position: int | None = None
        for token in words:
            word = token.text
            for fold in self.folds:
                word = fold(word)
            if self.stopwords or self.min_length > 1:
                if len(word) < self.min_length or word in self.stopwords:
                    continue
                # The first word kept keeps its position; each later one follows the one before it.
                position = token.position if position is None else position + 1
            else:
                position = token.position
            if self.stem is not None:
                word = self.stem(word)
            yield Token(word, position, token.start, token.end, token.reading)


ANALYSERS = {
    "en": _Analyser(_regex_words, (_lower,), ENGLISH_STOPWORDS, 2, stem_english),
    "id": _Analyser(_regex_words, (_lower,), INDONESIAN_STOPWORDS, 2, stem_indonesian),
    "ja": _Analyser(_morphemes, (_fold_width, _lower), JAPANESE_STOPWORDS, 1),
    "xx": _Analyser(_regex_words, (_fold_width, _lower)),
}


def analysis_language(language: str) -> str:
    """The analyser key a practice written in ``language`` is indexed with."""
    return language if language in ANALYSERS else "xx"


def analyse(text: str, language: str, mode: str = "query", split: bool = True) -> Iterator[Token]:
    """The index terms of ``text`` in ``language`` (unknown languages get the neutral analyser).

    ``mode`` is "index" for a practice's text and "query" for what someone typed (Japanese queries are
    NFKC-normalised first); ``split=False`` treats the whole text as one word.
    """
    return iter(_analysed(text, analysis_language(language), mode, split))


@functools.lru_cache(maxsize=32)
def _analysed(text: str, language: str, mode: str, split: bool) -> tuple[Token, ...]:
    """The last few texts' terms: indexing a practice analyses each of its texts twice (for its concepts,
    ``concepts.py``, then for the engine's own index), and the second time is free."""
    return tuple(ANALYSERS[language](text, mode, split))


def tokens(text: str, language: str, mode: str = "query") -> list[str]:
    """The index terms ``text`` becomes in ``language``."""
    return [token.text for token in analyse(text, language, mode)]


#: A romaji term is the reading of up to this many morphemes written together (避難 + 所: hinanjo).
MAX_READING_MORPHEMES = 3


def reading_terms(text: str, language: str) -> list[str]:
    """The romaji terms of a practice's ``text``: how each Japanese word in it reads, as the key a word
    typed in romaji becomes (``romaji.romaji_key``), once per occurrence; none for other languages.

    A word someone types may be several morphemes (hinanjo is 避難 + 所, ekijouka 液状 + 化): each run
    of up to ``MAX_READING_MORPHEMES`` morphemes written together (no particle or mark between them) is
    a term too. Keys shorter than ``romaji.MIN_MORAE`` are left out: nobody can search for them.
    """
    if analysis_language(language) != "ja" or not text:
        return []
    analysed = _analysed(text, "ja", "index", True)
    terms: list[str] = []
    for first, token in enumerate(analysed):
        reading, end = "", token.start
        for following in analysed[first:first + MAX_READING_MORPHEMES]:
            if following.reading is None or following.start != end:
                break
            reading += following.reading
            end = following.end
            key = searchable_key(reading)
            if key:
                terms.append(key)
    return terms


_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ffー]+")


def is_japanese(text: str) -> bool:
    """Whether ``text`` has kana or kanji in it."""
    return bool(_JAPANESE.search(text))


def is_kana(text: str) -> bool:
    """Whether ``text`` is written in hiragana or katakana only (ひなんじょ, ヒナンジョ)."""
    return bool(_KANA.fullmatch(text))


def japanese_reading(text: str, fold: bool = True) -> str:
    """How ``text`` reads, in katakana without voicing or long-vowel marks, so that a word typed in kana
    meets its kanji: ひなんじょ and 避難所 both read ヒナンショ (the dictionary reads 所 ショ, unvoiced,
    even where the compound voices it). ``fold=False``: the reading as the dictionary gives it.
    """
    with _tagger_lock:
        kana = "".join(word.feature.kana or word.surface for word in _tagger()(text))
    kana = katakana(kana)
    if not fold:
        return kana
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", kana)
                                                 if c not in "\u3099\u309aー"))


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def katakana(text: str) -> str:
    """``text`` with its hiragana written in katakana (じゃかるた: ジャカルタ); everything else as it is."""
    return text.translate(_HIRAGANA_TO_KATAKANA)


def japanese_chunks(text: str) -> list[str]:
    """A run of Japanese written as a sentence, as the words a person would have typed with spaces: split
    where a particle, an auxiliary or a question's framing stands (大雨のときの高齢者の避難 → 大雨, 高齢者,
    避難). Compounds stay whole (高齢者); text without Japanese is returned as it is."""
    if not is_japanese(text):
        return [text]
    chunks, current = [], ""
    for word in japanese_words(text):
        if word in JAPANESE_STOPWORDS or word in JAPANESE_QUESTION_WORDS or not word.strip():
            if current:
                chunks.append(current)
            current = ""
        else:
            current += word
    if current:
        chunks.append(current)
    return chunks or [text]


def is_query_stopword(word: str) -> bool:
    """True for words too common to require (the, yang, の …) in a query of several words."""
    lowered = word.lower()
    return (lowered in QUERY_STOPWORDS or lowered in INDONESIAN_STOPWORDS or lowered in INDONESIAN_QUESTION_WORDS
            or lowered in JAPANESE_STOPWORDS)
