"""Japanese typed in Latin letters (romaji), and how a Japanese word reads, as one comparable key.

Partners abroad and phones without a Japanese keyboard type 避難所 as ``hinanjo``, ``hinanjyo`` or
``hinanzyo``, 防災 as ``bousai``, ``bosai`` or ``bōsai``. Both what they type (``romaji_key``) and how
MeCab says each Japanese word is pronounced (``reading_key``) become the same key: katakana with
voicing folded (the dictionary reads 所 ショ where 避難所 says ジョ), long vowels folded (ボウサイ,
ボーサイ, ボサイ are one, and so are ケイカイ and ケーカイ), ン before a vowel read as the n it is typed as
(unei: 運営, ウンエー), and the spelling systems' variants merged (shi/si, tsu/tu, chi/ti, fu/hu, ji/zi,
jy/zy/j, n'/nn, m before b/p).
A word that is no sequence of Japanese syllables (flood, banjir) has no key at all, so it never
searches Japanese readings.

The key is lenient by design: it only ever decides which Japanese practices a Latin word may also
find (``analysis.reading_terms``), never anything about text in another language.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: A key of fewer morae than this is too short to tell one word (か, ト): neither indexed nor searched.
MIN_MORAE = 2
#: Longest romaji word looked at (a Japanese compound rarely needs more letters).
MAX_ROMAJI_CHARS = 40

_VOWELS = {"a": "ア", "i": "イ", "u": "ウ", "e": "エ", "o": "オ"}
_ROWS = {"k": "カキクケコ", "g": "ガギグゲゴ", "s": "サシスセソ", "z": "ザジズゼゾ", "t": "タチツテト",
         "d": "ダヂヅデド", "n": "ナニヌネノ", "h": "ハヒフヘホ", "b": "バビブベボ", "p": "パピプペポ",
         "m": "マミムメモ", "r": "ラリルレロ"}
_YOON = {"a": "ャ", "u": "ュ", "o": "ョ"}


@functools.cache
def _syllables() -> dict[str, str]:
    """Every spelling of a syllable in Hepburn, Kunrei-shiki, Nihon-shiki and common typing → its katakana."""
    table: dict[str, str] = dict(_VOWELS)
    for consonant, row in _ROWS.items():
        for vowel, kana in zip("aiueo", row, strict=True):
            table[consonant + vowel] = kana
        i_kana = row[1]
        for vowel, small in _YOON.items():
            table[consonant + "y" + vowel] = i_kana + small
    # only the syllables of Japanese's own words: the loanwords' fa, fi, she, je, we … are written in
    # English anyway, and would make far more English words (fire, before) spell syllables
    table.update({"ya": "ヤ", "yu": "ユ", "yo": "ヨ", "wa": "ワ", "wo": "ヲ", "shi": "シ", "chi": "チ",
                  "tsu": "ツ", "fu": "フ", "ji": "ジ"})
    for vowel, small in _YOON.items():  # sha/sya, cha/tya/cya, ja/jya/zya
        for spelling in ("sh", "ch", "cy", "j", "jy", "zy"):
            table[spelling + vowel] = {"s": "シ", "c": "チ", "j": "ジ", "z": "ジ"}[spelling[0]] + small
    return table


_LONG_MARKS = str.maketrans({"ā": "aa", "ī": "ii", "ū": "uu", "ē": "ee", "ō": "ou",
                             "â": "aa", "î": "ii", "û": "uu", "ê": "ee", "ô": "ou"})
_ROMAJI = re.compile(r"[a-zāīūēōâîûêô'-]+")


def romaji_kana(word: str) -> str | None:
    """``word`` read as Japanese syllables, in katakana (hinanjyo: ヒナンジョ), or None when it is no
    sequence of them (flood, banjir, evakuasi)."""
    word = word.lower()
    if len(word) > MAX_ROMAJI_CHARS or not _ROMAJI.fullmatch(word):
        return None
    text = word.translate(_LONG_MARKS).replace("-", "")
    table = _syllables()
    kana: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        rest = text[i + 1:i + 2]
        if c == "'":
            return None  # only after n (handled there)
        if c == "n" and rest not in tuple("aiueoy"):
            kana.append("ン")
            # n' before a vowel, and nn before anything but a vowel, are one ン (hinan'i, hinann)
            after = text[i + 2:i + 3]
            i += 2 if rest == "'" or (rest == "n" and after not in tuple("aiueoy")) else 1
            continue
        if c == "m" and rest in ("b", "p", "m"):  # Hepburn's shimbun
            kana.append("ン")
            i += 1
            continue
        if c == "h" and kana and kana[-1][-1] in "オコゴソゾトドノホボポモヨョロヲ" and rest not in tuple("aiueoy"):
            i += 1  # Hepburn's long o written oh (Ohno, Itoh)
            continue
        if c not in _VOWELS and (rest == c or (c == "t" and rest == "c")) and c not in "'":
            kana.append("ッ")  # a doubled consonant (gakkou), tch (matcha)
            i += 1
            continue
        for size in (3, 2, 1):
            syllable = table.get(text[i:i + size])
            if syllable:
                kana.append(syllable)
                i += size
                break
        else:
            return None
    return "".join(kana) or None


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}
#: The vowel each kana ends in (small ャュョ and ァィゥェォ too); ン and ッ end in none.
_VOWEL_OF = {kana: vowel for vowel, row in {
    "a": "アカガサザタダナハバパマヤラワャァ", "i": "イキギシジチヂニヒビピミリィヰ",
    "u": "ウクグスズツヅヌフブプムユルュゥヴ", "e": "エケゲセゼテデネヘベペメレェヱ",
    "o": "オコゴソゾトドノホボポモヨロヲョォ"}.items() for kana in row}
_VOWEL_KANA = {"a": "ア", "i": "イ", "u": "ウ", "e": "エ", "o": "オ"}
_SMALL = frozenset("ャュョァィゥェォ")


def reading_key(kana: str) -> str:
    """A reading in kana (ヒナンショ, ボウサイ, ボーサイ, ひなんじょ) as the key ``romaji_key`` gives its
    romaji: katakana without voicing marks or long vowels (ei too: ケイカイ, ケーカイ), ヂ/ヅ as ジ/ズ
    sound, ヲヰヱ as オイエ."""
    text = kana.translate(_HIRAGANA_TO_KATAKANA).translate(_OLD_KANA)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if c not in "\u3099\u309aー")
    text = unicodedata.normalize("NFC", text)
    folded: list[str] = []
    vowel = ""
    for c in text:
        # a vowel lengthening the one before (オオ, オウ, ウウ, アア, イイ, エエ, エイ) is not written again
        if c in "アイウエオ" and vowel and (c == _VOWEL_KANA[vowel] or (vowel, c) in (("o", "ウ"), ("e", "イ"))):
            continue
        folded.append(c)
        vowel = _VOWEL_OF.get(c, "")
    # ン before a vowel is typed as n (un'ei as unei): ウンエイ and ウネイ are one
    return _SYLLABIC_N.sub(lambda match: _N_ROW[match.group(1)], "".join(folded))


_N_ROW = {"ア": "ナ", "イ": "ニ", "ウ": "ヌ", "エ": "ネ", "オ": "ノ", "ヤ": "ニャ", "ユ": "ニュ", "ヨ": "ニョ"}
_SYLLABIC_N = re.compile("ン([アイウエオヤユヨ])")


_OLD_KANA = str.maketrans({"ヂ": "ジ", "ヅ": "ズ", "ヲ": "オ", "ヰ": "イ", "ヱ": "エ"})


def morae(key: str) -> int:
    """How many morae a key is (small kana join the one before)."""
    return sum(1 for c in key if c not in _SMALL)


@functools.lru_cache(maxsize=100_000)
def searchable_key(kana: str) -> str | None:
    """``reading_key(kana)`` when it is long enough to search for (``MIN_MORAE``), else None."""
    key = reading_key(kana)
    return key if morae(key) >= MIN_MORAE else None


def romaji_key(word: str) -> str | None:
    """The reading key of a word typed in romaji (hinanjo, hinanjyo, hinanzyo: ヒナンショ), or None when
    it is no Japanese syllables or too short to tell a word (``MIN_MORAE``)."""
    kana = romaji_kana(word)
    return searchable_key(kana) if kana is not None else None
