"""Aligning practices' sections by heading across English, Indonesian and Japanese (no app needed)."""

from __future__ import annotations

import pytest

from exchange.library import alignment
from exchange.search import concepts

ENGLISH = """Intro text before any heading.

## Purpose and scope

Why this exists.

## Steps

1. Open the shelter.

```markdown
## Not a heading: inside a code block
```

## Toilets and hygiene

Keep them clean.

## Lessons learned

What we learnt.
"""

INDONESIAN = """## Tujuan

Mengapa.

## Langkah-langkah

1. Buka posko.

## Pelajaran

Yang kami pelajari.

## Pendanaan

Dari APBD.
"""

JAPANESE = """## 目的

なぜ。

## 開設の手順

1. 避難所を開く。

## トイレと衛生管理

清潔に。

## 教訓

学んだこと。
"""


def headings(row: alignment.Row) -> list[str | None]:
    return [cell.heading if cell is not None else None for cell in row.cells]


def test_sections_are_cut_at_level_two_headings_outside_code_blocks():
    found = alignment.sections(ENGLISH)
    assert [s.heading for s in found] == ["", "Purpose and scope", "Steps", "Toilets and hygiene", "Lessons learned"]
    assert found[0].markdown == "Intro text before any heading."
    assert "## Not a heading: inside a code block" in found[2].markdown
    assert alignment.sections("") == []
    assert [s.heading for s in alignment.sections("### Small\n\ntext\n## Big ##\n")] == ["", "Big"]


@pytest.mark.parametrize(("heading", "kind"), [
    ("Purpose", "purpose"), ("Tujuan", "purpose"), ("目的と前提", "purpose"),
    ("Steps", "steps"), ("Langkah-langkah", "steps"), ("開設の手順（発災直後〜おおむね3時間）", "steps"),
    ("2. Procedure", "steps"), ("Lessons learned", "lessons"), ("Pelajaran untuk kota lain", "lessons"),
    ("教訓", "lessons"), ("他都市への応用のポイント", "lessons"), ("Checklist", "checklist"),
    ("Daftar periksa", "checklist"), ("チェックリスト", "checklist"), ("Peran", "roles"), ("役割分担", "roles"),
    ("Toilets and hygiene", ""), ("Pendanaan", ""),
])
def test_common_section_names_are_known_in_each_language(heading, kind):
    assert alignment.section_kind(heading) == kind


def test_headings_are_compared_without_case_numbering_or_punctuation():
    assert alignment.normalised("3. Toilets & HYGIENE!") == alignment.normalised("toilets hygiene")
    assert alignment.normalised("２．トイレ・衛生") == alignment.normalised("トイレ 衛生")
    assert alignment.normalised("2011 floods") == "2011 floods"  # a year is not a number of a list


def test_equivalent_sections_of_three_languages_share_rows_and_the_rest_have_their_own():
    rows = alignment.align([(ENGLISH, "en"), (INDONESIAN, "id"), (JAPANESE, "ja")])
    by_kind = {row.kind: headings(row) for row in rows if row.kind}
    assert by_kind["purpose"] == ["Purpose and scope", "Tujuan", "目的"]
    assert by_kind["steps"] == ["Steps", "Langkah-langkah", "開設の手順"]
    assert by_kind["lessons"] == ["Lessons learned", "Pelajaran", "教訓"]
    assert by_kind["introduction"] == ["", None, None]
    unmatched = [headings(row) for row in rows if not row.kind]
    assert ["Toilets and hygiene", None, None] in unmatched and [None, "Pendanaan", None] in unmatched
    assert [None, None, "トイレと衛生管理"] in unmatched  # no concepts given: nothing to pair it with
    # the first practice's order leads; another's own section follows the one it follows at home
    keys = [row.label for row in rows]
    assert keys.index("Purpose and scope") < keys.index("Steps") < keys.index("Lessons and what to adapt")
    assert keys.index("Pendanaan") == keys.index("Lessons and what to adapt") + 1
    assert len({row.key for row in rows}) == len(rows)


def test_sections_before_any_shared_one_come_just_before_it():
    first = "## Purpose\n\na\n\n## Steps\n\nb\n\n## Checklist\n\nc\n"
    second = "## Funding\n\nd\n\n## Staff\n\ne\n\n## Checklist\n\nf\n\n## Annex\n\ng\n"
    rows = alignment.align([(first, "en"), (second, "en")])
    assert [row.label for row in rows] == ["Purpose and scope", "Steps", "Funding", "Staff", "Checklist", "Annex"]
    alone = alignment.align([(first, "en"), ("## Funding\n\nd\n", "en")])
    assert [row.label for row in alone] == ["Purpose and scope", "Steps", "Checklist", "Funding"]


def test_glossary_concepts_pair_headings_of_no_common_kind_across_languages():
    rows = alignment.align([(ENGLISH, "en"), (JAPANESE, "ja"), (INDONESIAN, "id")], concepts.concept_keys)
    hygiene = [headings(row) for row in rows if "Toilets and hygiene" in headings(row)]
    assert hygiene == [["Toilets and hygiene", "トイレと衛生管理", None]]


def test_identical_headings_pair_and_a_practice_never_has_two_cells_in_one_row():
    first = "## Funding\n\na\n\n## Funding\n\nb\n"
    second = "## funding\n\nc\n"
    rows = alignment.align([(first, "en"), (second, "en")])
    assert [headings(row) for row in rows] == [["Funding", "funding"], ["Funding", None]]
    assert [row.cells[0].markdown for row in rows] == ["a", "b"]


def test_section_kinds_have_labels_for_the_catalog():
    assert alignment.kind_label("steps") == "Steps"
    assert alignment.kind_label("introduction") == "Introduction"
    assert alignment.kind_label("nonsense") == ""
