"""Spelling's own measures, whatever the engine (what it mends is checked through each engine in
test_search.py)."""

from __future__ import annotations

import pytest

from exchange.search.spelling import distance
from exchange.search.spelling import text_words


@pytest.mark.parametrize(("first", "second", "edits"), [
    ("banjr", "banjir", 1), ("lansai", "lansia", 1),  # two neighbouring letters swapped are one edit
    ("evacuaton", "evacuation", 1), ("volontiirs", "volunteers", 3), ("heet", "heat", 1), ("flood", "flood", 0),
])
def test_distance_counts_a_swap_as_one_edit(first, second, edits):
    assert distance(first, second, 3) == edits == distance(second, first, 3)


def test_distance_stops_past_its_limit():
    assert distance("evacuation", "earthquake", 2) == 3
    assert distance("flood", "floodplains", 2) == 3


def test_words_are_three_letters_or_more_in_small_letters():
    assert text_words("Banjir 2024: Evakuasi di RW-05, 避難所!") == ["banjir", "evakuasi", "避難所"]
