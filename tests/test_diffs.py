"""Readable changes (issue 13): the changed word marked in English, Indonesian and Japanese; fields as fields.

Plain functions of exchange.diffs, without an app.
"""

from __future__ import annotations

import pytest

from exchange import diffs
from exchange.diffs import Segment
from tests.conftest import practice_text


def changed(old: str, new: str) -> tuple[list[str], list[str]]:
    """What a change of ``old`` into ``new`` marks as removed and as added."""
    runs = diffs.segments(old, new)
    return [r.text for r in runs if r.kind == "del"], [r.text for r in runs if r.kind == "ins"]


@pytest.mark.parametrize(("old", "new", "removed", "added"), [
    ("Open the shelter at 6 pm.", "Open the shelter at 7 pm.", ["6"], ["7"]),
    ("Warn the neighbourhood by radio.", "Warn the whole neighbourhood by radio.", [], [" whole"]),
    ("Buka posko banjir di balai RW.", "Buka posko pengungsian di balai RW.", ["banjir"], ["pengungsian"]),
    ("Catat pengungsi kebanjiran.", "Catat pengungsi.", [" kebanjiran"], []),
    # Japanese writes no spaces: the changed word, not the sentence or the paragraph
    ("避難所を開設し、受付を行う。", "避難所を設置し、受付を行う。", ["開設"], ["設置"]),
    ("住民に防災無線で避難を呼びかける。", "住民に防災無線とメールで避難を呼びかける。", [], ["とメール"]),
], ids=["en-number", "en-word-added", "id-word", "id-word-removed", "ja-word", "ja-words-added"])
def test_a_changed_word_is_marked_not_its_line(old: str, new: str, removed: list[str], added: list[str]) -> None:
    assert changed(old, new) == (removed, added)
    runs = diffs.segments(old, new)
    assert "".join(r.text for r in runs if r.kind != "ins") == old  # each side reads as it was written
    assert "".join(r.text for r in runs if r.kind != "del") == new


def test_words_keep_every_character_and_cut_japanese_into_morphemes() -> None:
    assert diffs.words("Buka posko, segera!") == ["Buka", " ", "posko", ",", " ", "segera", "!"]
    japanese = diffs.words("避難所を開設する")
    assert "".join(japanese) == "避難所を開設する" and "開設" in japanese and len(japanese) > 2


def test_a_replaced_phrase_is_one_removal_then_one_addition() -> None:
    assert diffs.segments("Call the village head now.", "Send the RT leader a message now.") == (
        Segment("del", "Call"), Segment("ins", "Send"), Segment("same", " the "),
        Segment("del", "village head"), Segment("ins", "RT leader a message"), Segment("same", " now."))


def test_the_body_keeps_markdown_blocks_and_folds_unchanged_stretches() -> None:
    old = ("## Steps\n\n1. Watch the gauge.\n2. Warn the neighbourhood.\n\n"
           + "".join(f"Line {n}.\n\n" for n in range(9)))
    new = old.replace("Watch the gauge", "Watch the upstream gauge").replace("Line 8.", "Line eight.")
    lines = diffs.body(old, new)
    assert [(line.kind, line.block) for line in lines] == [
        ("same", "h2"), ("changed", "numbered"), ("same", "numbered"), ("gap", "text"), ("same", "text"),
        ("changed", "text")]
    assert lines[0].segments == (Segment("same", "Steps"),)  # the heading's text without its marker
    assert lines[1].after == (Segment("same", "1. Watch the "), Segment("ins", "upstream "), Segment("same", "gauge."))
    assert lines[1].before == (Segment("same", "1. Watch the "), Segment("same", "gauge."))
    assert lines[3].skipped == 7


def test_unrelated_lines_are_a_removal_and_an_addition_not_a_word_soup() -> None:
    lines = diffs.body("- Siren at the river.\n", "- Evacuation buses leave from the school.\n")
    assert [(line.kind, line.block, line.segments) for line in lines] == [
        ("removed", "item", (Segment("del", "Siren at the river."),)),
        ("added", "item", (Segment("ins", "Evacuation buses leave from the school."),))]


def test_the_same_body_has_no_changes() -> None:
    assert diffs.body("## A\n\nText.\n", "## A\n\nText.\n") == ()


def test_changed_fields_only_labelled_with_lists_as_added_and_removed_items() -> None:
    old = practice_text(hazards="[riverine-flood, extreme-rainfall]", tags="[sirens, radio]").decode()
    new = practice_text(hazards="[riverine-flood, tsunami]", tags="[sirens, radio]",
                        summary="A new summary.", organisation="BPBD DKI Jakarta").decode()
    changes = diffs.practice(old, new)
    assert [field.key for field in changes.fields] == ["summary", "hazards", "organisation"]  # schema order
    summary, hazards, organisation = changes.fields
    assert summary.label == "Summary" and summary.after == ("A new summary.",) and not summary.is_list
    assert hazards.is_list and hazards.added == ("tsunami",) and hazards.removed == ("extreme-rainfall",)
    assert organisation.before == () and organisation.after == ("BPBD DKI Jakarta",)
    assert changes.body == () and changes  # the fields alone are a change


def test_a_body_change_in_japanese_marks_the_word_in_its_line() -> None:
    old = practice_text(language="ja", body="## 手順\n\n1. 避難所を開設する。\n2. 名簿を作る。\n").decode()
    new = practice_text(language="ja", body="## 手順\n\n1. 避難所を設置する。\n2. 名簿を作る。\n").decode()
    changes = diffs.practice(old, new)
    assert changes.fields == ()
    [line] = [line for line in changes.body if line.kind == "changed"]
    assert [s.text for s in line.segments if s.kind != "same"] == ["開設", "設置"]
