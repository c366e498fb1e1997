"""Readable differences between two texts of a practice: changed metadata as fields, the body word by word.

The body is compared line by line (a Markdown block is a line: a heading, a list item, a paragraph),
and each changed line word by word against the line it replaced, so a reader sees the one word that
changed rather than a whole paragraph removed and added again. Words are what a reader of the text's
language calls words: runs of letters and digits in English and Indonesian, MeCab's morphemes in
Japanese (which writes no spaces), single characters for punctuation. Long runs of unchanged lines are
folded to a count, with one line of context kept either side of a change.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from exchange import policy
from exchange.catalogs import N_
from exchange.errors import PracticeNotFound
from exchange.library import reading
from exchange.library import yamlfile
from exchange.library.practice import FRONT_MATTER
from exchange.library.practice import OPTIONAL
from exchange.library.practice import REQUIRED
from exchange.models import PracticeRecord
from exchange.search.analysis import is_japanese
from exchange.search.analysis import japanese_words

if TYPE_CHECKING:
    from exchange.instance import Instance

#: each front-matter key as the interface names it (translated where the page is written)
FIELD_LABELS = {
    "title": N_("Title"), "summary": N_("Summary"), "city": N_("City"), "country": N_("Country"),
    "language": N_("Language"), "kind": N_("Kind"), "hazards": N_("Hazards"), "phases": N_("Phases"),
    "published": N_("Published"), "updated": N_("Updated"), "review_by": N_("Review by"),
    "organisation": N_("Organisation"), "authors": N_("Authors"),
    "sendai_priorities": N_("Sendai Framework priorities"), "tags": N_("Tags"), "license": N_("Licence"),
    "visibility": N_("Visibility"), "translation_of": N_("Translation of"), "source": N_("Source"),
}
#: lines of unchanged text kept either side of a change
CONTEXT = 1
#: how much of two lines must be the same for the second to be shown as an edit of the first
SIMILAR = 0.4
#: a line longer than this is compared as a whole (word diffs of huge lines would cost too much)
MAX_WORDS_LINE = 20_000

_WORD = re.compile(r"\s+|[^\W_]+|.", re.S)
_BLOCK = re.compile(r"^(?P<marker>#{1,6}\s+|\s*(?:[-*+]|\d{1,9}[.)])\s+|>\s?|```|~~~|\|)?")


@dataclass(frozen=True)
class FieldChange:
    """One front-matter key whose value differs; a list's items also as what was added and removed."""

    key: str
    #: the key's label, a message of the catalogs
    label: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    is_list: bool = False

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(item for item in self.after if item not in self.before)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(item for item in self.before if item not in self.after)


@dataclass(frozen=True)
class Segment:
    """A run of text that is the same on both sides (same), only in the old text (del) or only in the new (ins)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Line:
    """One line (Markdown block) of the body as compared.

    ``kind`` is same, changed, added, removed, or gap (``skipped`` unchanged lines folded away);
    ``block`` names the Markdown block the line is (h1…h6, item, numbered, quote, code, table, text, blank), so a
    page can show it as one; ``segments`` hold the line's words with the block's marker taken off.
    """

    kind: str
    block: str = "text"
    segments: tuple[Segment, ...] = ()
    skipped: int = 0

    @property
    def before(self) -> tuple[Segment, ...]:
        """The old side: what stayed and what was deleted."""
        return tuple(s for s in self.segments if s.kind != "ins")

    @property
    def after(self) -> tuple[Segment, ...]:
        """The new side: what stayed and what was inserted."""
        return tuple(s for s in self.segments if s.kind != "del")


@dataclass(frozen=True)
class Changes:
    """What differs between two texts of a practice."""

    fields: tuple[FieldChange, ...]
    body: tuple[Line, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.fields or self.body)


def words(text: str) -> list[str]:
    """``text`` cut into the pieces a difference is told in; joined again they are ``text``.

    Japanese is cut into morphemes, other scripts into runs of letters and digits, spaces, and single
    other characters.
    """
    pieces: list[str] = []
    for match in _WORD.finditer(text):
        piece = match.group(0)
        if len(piece) > 1 and is_japanese(piece):
            pieces += _japanese(piece)
        else:
            pieces.append(piece)
    return pieces


def _japanese(text: str) -> list[str]:
    morphemes = japanese_words(text)
    if "".join(morphemes) == text:
        return morphemes
    return list(text)  # MeCab dropped or changed something (spaces): one character at a time is still exact


def segments(old: str, new: str) -> tuple[Segment, ...]:
    """``old`` and ``new`` as one sequence of same, del and ins runs, word by word."""
    if len(old) + len(new) > MAX_WORDS_LINE:
        return _joined([Segment("del", old), Segment("ins", new)])
    a, b = words(old), words(new)
    out: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(Segment("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Segment("del", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(Segment("ins", "".join(b[j1:j2])))
    return _joined(_absorb_spaces(out))


def _absorb_spaces(runs: list[Segment]) -> list[Segment]:
    """A space alone between two changes joins them: "-old words- +new words+", not word by word."""
    out: list[Segment] = []
    for index, run in enumerate(runs):
        between = 0 < index < len(runs) - 1 and run.kind == "same" and not run.text.strip()
        if between and runs[index - 1].kind != "same" and runs[index + 1].kind != "same":
            out += [Segment("del", run.text), Segment("ins", run.text)]
        else:
            out.append(run)
    # gather the deletions before the insertions within each changed stretch
    gathered: list[Segment] = []
    stretch: list[Segment] = []
    for run in [*out, Segment("same", "")]:
        if run.kind == "same":
            gathered += [s for s in stretch if s.kind == "del"] + [s for s in stretch if s.kind == "ins"]
            stretch = []
            gathered.append(run)
        else:
            stretch.append(run)
    return gathered[:-1]


def _joined(runs: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for run in runs:
        if not run.text:
            continue
        if out and out[-1].kind == run.kind:
            out[-1] = Segment(run.kind, out[-1].text + run.text)
        else:
            out.append(run)
    return tuple(out)


def block(line: str) -> tuple[str, str]:
    """The kind of Markdown block ``line`` is, and its text without the block's marker."""
    if not line.strip():
        return "blank", ""
    marker = _BLOCK.match(line).group("marker") or ""  # type: ignore[union-attr]  # the pattern matches any line
    text = line[len(marker):]
    stripped = marker.strip()
    if stripped.startswith("#"):
        return f"h{len(stripped)}", text
    if stripped in ("```", "~~~"):
        return "code", line
    if stripped == "|":
        return "table", line
    if stripped.startswith(">"):
        return "quote", text
    if marker:
        return ("numbered", line.strip()) if stripped[0].isdigit() else ("item", text)
    return "text", line


def body(old: str, new: str) -> tuple[Line, ...]:
    """The body's lines as compared, unchanged stretches folded; empty when the bodies are the same."""
    a, b = old.splitlines(), new.splitlines()
    compared: list[Line] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            compared += [_line("same", a[i], a[i]) for i in range(i1, i2)]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            before = olds[k] if k < len(olds) else None
            after = news[k] if k < len(news) else None
            if before is not None and after is not None and _alike(before, after):
                compared.append(_line("changed", before, after))
                continue
            if before is not None:
                compared.append(_line("removed", before, ""))
            if after is not None:
                compared.append(_line("added", "", after))
    if all(line.kind == "same" for line in compared):
        return ()
    return tuple(_folded([line for line in compared if line.block != "blank" or line.kind != "same"]))


def _alike(old: str, new: str) -> bool:
    """Whether ``new`` reads as an edit of ``old`` (else it is shown as one line removed and another added)."""
    old_text, new_text = block(old)[1], block(new)[1]
    if not old_text.strip() or not new_text.strip() or len(old_text) + len(new_text) > MAX_WORDS_LINE:
        return False
    a, b = ([w for w in words(text) if not w.isspace()] for text in (old_text, new_text))  # spaces match anything
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= SIMILAR


def _line(kind: str, old: str, new: str) -> Line:
    kind_of, old_text = block(old)
    new_kind, new_text = block(new)
    shown = new_kind if new_kind != "blank" else kind_of
    if kind == "same":
        return Line("same", shown, (Segment("same", new_text),))
    if kind == "added":
        return Line("added", shown, (Segment("ins", new_text),) if new_text else ())
    if kind == "removed":
        return Line("removed", shown, (Segment("del", old_text),) if old_text else ())
    if kind_of != new_kind:  # a paragraph became a heading: compare the lines as written, markers and all
        return Line("changed", shown, segments(old, new))
    return Line("changed", shown, segments(old_text, new_text))


def _folded(lines: list[Line]) -> list[Line]:
    near: set[int] = set()
    for index, line in enumerate(lines):
        if line.kind != "same":
            near.update(range(index - CONTEXT, index + CONTEXT + 1))
    out: list[Line] = []
    for index, line in enumerate(lines):
        if line.kind != "same" or index in near:
            out.append(line)
        elif out and out[-1].kind == "gap":
            out[-1] = Line("gap", skipped=out[-1].skipped + 1)
        else:
            out.append(Line("gap", skipped=1))
    return out


def practice(old: str, new: str) -> Changes:
    """The changed front-matter fields (in schema order) and the body's changes, from ``old`` to ``new``."""
    old_meta, old_body = _split(old)
    new_meta, new_body = _split(new)
    keys = [k for k in REQUIRED + OPTIONAL if k in old_meta or k in new_meta]
    keys += sorted(k for k in {*old_meta, *new_meta} if k not in keys)
    fields = tuple(_field(k, old_meta.get(k), new_meta.get(k)) for k in keys
                   if _values(old_meta.get(k)) != _values(new_meta.get(k)))
    return Changes(fields, body(old_body, new_body))


def _field(key: str, before: object, after: object) -> FieldChange:
    return FieldChange(key, FIELD_LABELS.get(key, key), _values(before), _values(after),
                       isinstance(before, list) or isinstance(after, list))


def _split(text: str) -> tuple[dict, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yamlfile.load_untrusted(match.group(1))
    except yamlfile.YamlProblem:
        meta = None
    return (meta if isinstance(meta, dict) else {"front matter": match.group(1)}), text[match.end():]


def _values(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


@dataclass(frozen=True)
class Comparison:
    """Two published versions of a practice compared: its title and language (as the newer one has them)
    and what changed."""

    practice_id: str
    title: str
    language: str
    changes: Changes


def compare(instance: Instance, practice_id: str, viewer: policy.Viewer | None, old: int, new: int) -> Comparison:
    """The differences between two published versions, when the viewer may read both."""
    with instance.db.session() as session:
        record = session.get(PracticeRecord, practice_id)
    texts = [reading.readable_version(instance, record, n, viewer) if record is not None else None for n in (old, new)]
    if texts[0] is None or texts[1] is None:
        raise PracticeNotFound(f"{practice_id} v{old}..v{new}")
    newer = texts[1] if new >= old else texts[0]
    return Comparison(practice_id, newer.title, newer.language,
                      practice(texts[0].text.decode("utf-8"), texts[1].text.decode("utf-8")))
