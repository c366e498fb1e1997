"""Practices side by side: each body cut into sections at its level-2 headings, and the sections of two or
three practices aligned in rows by what their headings name.

Two headings share a row when they name the same kind of section (``SECTION_KINDS``: Purpose, Tujuan and
目的 are all "purpose"), else when they name the same glossary concepts (a ``concepts`` function given by the
caller, so this module needs no search engine), else when their normalised text is the same. A section
matching none of the others' has a row of its own. Rows follow the first practice's order, the others'
sections slotted in after the section they follow in their own practice (those before any section it
shares with the others: just before the first it shares). Plain Python: no Flask, no
rendering; the caller renders each section's Markdown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from exchange.catalogs import N_

#: The kinds of section common to practices, each with its row label and the words of its headings in
#: our languages: Latin-script words match at the start of a word of the heading ("step" in "Steps"),
#: Japanese ones anywhere in it. The first kind whose word a heading has is the heading's kind.
SECTION_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("purpose", N_("Purpose and scope"),
     ("purpose", "objective", "aim", "scope", "tujuan", "maksud", "ruang lingkup", "目的", "ねらい")),
    ("background", N_("Background"),
     ("background", "context", "overview", "latar belakang", "gambaran umum", "konteks", "背景", "概要")),
    ("what-happened", N_("What happened"),
     ("what happened", "timeline", "ringkasan kejadian", "kronologi", "kejadian", "被害の概要", "経過")),
    ("roles", N_("Roles"),
     ("role", "responsibilit", "who does what", "peran", "tanggung jawab", "役割", "体制")),
    ("steps", N_("Steps"),
     ("step", "procedure", "how to", "langkah", "prosedur", "tata cara", "手順", "流れ", "進め方")),
    ("checklist", N_("Checklist"),
     ("checklist", "daftar periksa", "daftar cek", "チェックリスト", "点検")),
    ("lessons", N_("Lessons and what to adapt"),
     ("lesson", "what to adapt", "adapt", "other cities", "pelajaran", "disesuaikan", "kota lain",
      "教訓", "他都市", "応用", "示唆")),
    ("resources", N_("Resources"),
     ("resource", "reference", "further reading", "source", "referensi", "sumber", "rujukan", "参考", "出典",
      "資料")),
    ("contacts", N_("Contacts"), ("contact", "kontak", "narahubung", "連絡先", "問い合わせ")),
)
#: The row label of text before a practice's first heading.
INTRODUCTION = N_("Introduction")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}##(?!#)[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$|^ {0,3}##[ \t]*$")
# (after NFKC: full-width digits and stops are ASCII)
_NUMBERING = re.compile(r"^(?:[\d一二三四五六七八九十]+[.)、]|[ivx]+\.|step \d+:?|langkah \d+:?"
                        r"|第[\d一二三四五六七八九十]+[章節]?)\s*")
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class Section:
    """A part of a practice's body: its level-2 heading ("" before the first) and its Markdown."""

    heading: str
    markdown: str


@dataclass(frozen=True)
class Row:
    """One row of a comparison: the sections of each practice (None where it has none) that share it.

    ``kind`` is a key of ``SECTION_KINDS`` (or "introduction") when the row is one of them, else "".
    """

    key: str
    kind: str
    label: str
    cells: tuple[Section | None, ...]


def sections(body: str) -> list[Section]:
    """The sections of a Markdown body, cut at its level-2 headings (``## …``) outside code blocks; the
    text before the first heading is a section with no heading when it has more than white space."""
    found: list[Section] = []
    heading, fence = "", ""
    lines: list[str] = []
    for line in body.splitlines():
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        elif (match := _HEADING.match(line)) is not None:
            if heading or "".join(lines).strip():
                found.append(Section(heading, "\n".join(lines).strip("\n")))
            heading, lines = (match.group(1) or "").strip(), []
            continue
        lines.append(line)
    if heading or "".join(lines).strip():
        found.append(Section(heading, "\n".join(lines).strip("\n")))
    return found


def normalised(heading: str) -> str:
    """A heading as headings are compared: NFKC, case-folded, without numbering, Markdown emphasis or
    punctuation, spaces collapsed."""
    text = unicodedata.normalize("NFKC", heading).casefold().strip()
    text = _NUMBERING.sub("", text)
    text = _PUNCTUATION.sub(" ", text.replace("_", " "))
    return " ".join(text.split())


def section_kind(heading: str) -> str:
    """The key of the first of ``SECTION_KINDS`` the heading names, or "" for none."""
    text = normalised(heading)
    for key, _label, words in SECTION_KINDS:
        for word in words:
            if word.isascii():
                if re.search(rf"(?<!\w){re.escape(word)}", text):
                    return key
            elif word in text:
                return key
    return ""


def kind_label(kind: str) -> str:
    """The English row label of a section kind (a catalog message: translate it where it is shown)."""
    if kind == "introduction":
        return INTRODUCTION
    return next((label for key, label, _words in SECTION_KINDS if key == kind), "")


def align(bodies: Sequence[tuple[str, str]],
          concepts: Callable[[str, str], Sequence[str]] | None = None) -> list[Row]:
    """The rows aligning the sections of ``bodies``, each a (Markdown body, its language) pair.

    ``concepts(text, language)``: the glossary concept keys a heading names (none when not given); a
    heading of no known kind joins the row whose headings share the most concepts with it.
    """
    rows: list[_Building] = []
    for column, (body, language) in enumerate(bodies):
        place = -1  # the row of this practice's latest section, once one has joined the others' rows
        waiting: list[_Building] = []  # its sections before that: they go just before the row it joins
        for section in sections(body):
            kind = section_kind(section.heading) if section.heading else "introduction"
            text = normalised(section.heading)
            named = frozenset(concepts(section.heading, language)) if concepts is not None and not kind else frozenset()
            row = _matching(rows, column, kind, text, named)
            if row is None:
                row = _Building(kind, kind_label(kind) or section.heading, [None] * len(bodies))
                if place < 0 and rows:
                    waiting.append(row)
                else:
                    place += 1
                    rows.insert(place, row)
            else:
                at = rows.index(row)
                rows[at:at], at, waiting = waiting, at + len(waiting), []
                place = max(place, at)
            row.cells[column] = section
            row.texts.add(text)
            row.concepts |= named
        rows.extend(waiting)
    return [Row(f"row-{number}", row.kind, row.label, tuple(row.cells)) for number, row in enumerate(rows, 1)]


@dataclass
class _Building:
    """A row while sections are being placed."""

    kind: str
    label: str
    cells: list[Section | None]
    texts: set[str] = field(default_factory=set)
    concepts: frozenset[str] = frozenset()


def _matching(rows: list[_Building], column: int, kind: str, text: str, named: frozenset[str]) -> _Building | None:
    """The row a section joins: of its kind, else with its heading, else sharing the most concepts with it;
    only a row that has no section of this practice yet."""
    free = [row for row in rows if row.cells[column] is None]
    if kind:
        return next((row for row in free if row.kind == kind), None)
    same = next((row for row in free if not row.kind and text and text in row.texts), None)
    if same is not None or not named:
        return same
    shared = [(len(named & row.concepts), -number) for number, row in enumerate(free) if not row.kind]
    best = max(shared, default=(0, 0))
    return free[-best[1]] if best[0] else None
