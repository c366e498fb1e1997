"""The Porter stemmer English is indexed with (floods, flooding, flooded → flood).

Whoosh's implementation (``whoosh/lang/porter.py`` of Whoosh 2.7), kept here unchanged in what it
does so our English analysis needs no search engine: the index terms of every indexed practice depend
on it, so a change here is a change of ``SCHEMA_VERSION``.

Copyright 2007 Matt Chaput. All rights reserved.

Redistribution and use in source and binary forms, with or without modification, are permitted
provided that the following conditions are met:

   1. Redistributions of source code must retain the above copyright notice, this list of
      conditions and the following disclaimer.

   2. Redistributions in binary form must reproduce the above copyright notice, this list of
      conditions and the following disclaimer in the documentation and/or other materials provided
      with the distribution.

THIS SOFTWARE IS PROVIDED BY MATT CHAPUT ``AS IS'' AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING,
BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL MATT CHAPUT OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT,
INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED
AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF
SUCH DAMAGE.
"""

from __future__ import annotations

import re

_STEP2 = {
    "ational": "ate", "tional": "tion", "enci": "ence", "anci": "ance", "izer": "ize", "bli": "ble",
    "alli": "al", "entli": "ent", "eli": "e", "ousli": "ous", "ization": "ize", "ation": "ate", "ator": "ate",
    "alism": "al", "iveness": "ive", "fulness": "ful", "ousness": "ous", "aliti": "al", "iviti": "ive",
    "biliti": "ble", "logi": "log",
}
_STEP3 = {"icate": "ic", "ative": "", "alize": "al", "iciti": "ic", "ical": "ic", "ful": "", "ness": ""}

_VOWEL = "[aeiouy]"
_CONSONANTS = "[^aeiouy]+"
_VOWELS = "[aeiou]+"

_MEASURE_ABOVE_0 = re.compile("^(" + _CONSONANTS + ")?" + _VOWELS + _CONSONANTS)
_MEASURE_1 = re.compile("^(" + _CONSONANTS + ")?" + _VOWELS + _CONSONANTS + "(" + _VOWELS + ")?$")
_MEASURE_ABOVE_1 = re.compile("^(" + _CONSONANTS + ")?" + _VOWELS + _CONSONANTS + _VOWELS + _CONSONANTS)
_VOWEL_IN_STEM = re.compile("^(" + _CONSONANTS + ")?" + _VOWEL)
_CVC = re.compile("^" + _CONSONANTS + _VOWEL + "[^aeiouwxy]$")

_ED_ING = re.compile("^(.*)(ed|ing)$")
_AT_BL_IZ = re.compile("(at|bl|iz)$")
_DOUBLE = re.compile("([^aeiouylsz])\\1$")
_STEP2_SUFFIX = re.compile("^(.+?)(" + "|".join(
    ["ational", "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation",
     "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "logi"]) + ")$")
_STEP3_SUFFIX = re.compile("^(.+?)(icate|ative|alize|iciti|ical|ful|ness)$")
_STEP4_SUFFIX = re.compile("^(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)$")
_STEP4_ION = re.compile("^(.+?)(s|t)(ion)$")
_STEP5 = re.compile("^(.+?)e$")


def stem(word: str) -> str:
    """The Porter stem of one lowercase English word (``fundamentally`` → ``fundament``)."""
    w = word
    if len(w) < 3:
        return w
    first_is_y = w[0] == "y"
    if first_is_y:
        w = "Y" + w[1:]

    # Step 1a
    if w.endswith("s"):
        if w.endswith("sses") or w.endswith("ies"):
            w = w[:-2]
        elif w[-2] != "s":
            w = w[:-1]

    # Step 1b
    if w.endswith("eed"):
        if _MEASURE_ABOVE_0.match(w[:-3]):
            w = w[:-1]
    else:
        m = _ED_ING.match(w)
        if m and _VOWEL_IN_STEM.match(m.group(1)):
            w = m.group(1)
            if _AT_BL_IZ.match(w):
                w += "e"
            elif _DOUBLE.match(w):
                w = w[:-1]
            elif _CVC.match(w):
                w += "e"

    # Step 1c
    if w.endswith("y") and _VOWEL_IN_STEM.match(w[:-1]):
        w = w[:-1] + "i"

    # Step 2
    m = _STEP2_SUFFIX.match(w)
    if m and _MEASURE_ABOVE_0.match(m.group(1)):
        w = m.group(1) + _STEP2[m.group(2)]

    # Step 3
    m = _STEP3_SUFFIX.match(w)
    if m and _MEASURE_ABOVE_0.match(m.group(1)):
        w = m.group(1) + _STEP3[m.group(2)]

    # Step 4
    m = _STEP4_SUFFIX.match(w)
    if m:
        if _MEASURE_ABOVE_1.match(m.group(1)):
            w = m.group(1)
    else:
        m = _STEP4_ION.match(w)
        if m and _MEASURE_ABOVE_1.match(m.group(1) + m.group(2)):
            w = m.group(1) + m.group(2)

    # Step 5
    m = _STEP5.match(w)
    if m:
        rest = m.group(1)
        if _MEASURE_ABOVE_1.match(rest) or (_MEASURE_1.match(rest) and not _CVC.match(rest)):
            w = rest
    if w.endswith("ll") and _MEASURE_ABOVE_1.match(w):
        w = w[:-1]

    if first_is_y:
        w = "y" + w[1:]
    return w
