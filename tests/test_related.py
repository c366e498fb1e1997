"""Related practices kept per version (exchange/related.py): found once, and never shown once they no longer
hold for the reader (a related practice restricted or republished since)."""

from __future__ import annotations

from exchange import related
from exchange.accounts import people
from exchange.library import publishing
from tests.test_accounts import PASSWORD

SIRENS = "## Sirens\n\nRiver gauge sirens warn riverside neighbourhoods before the flood.\n"


def ids(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.id for hit in hits]


def test_a_kept_list_is_checked_against_what_the_reader_may_read_now(instance, make_practice):
    people.create_user(instance, "siti@bpbd.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    staff = people.load(instance, "1:1")
    publishing.publish(instance, make_practice(title="River sirens", body=SIRENS), "sirens", "t")
    publishing.publish(instance, make_practice(title="Gauge sirens", body=SIRENS), "gauges", "t")
    assert ids(related.related(instance, "jakarta/sirens", 1, None)) == ["jakarta/gauges"]
    assert ids(related.related(instance, "jakarta/sirens", 1, None)) == ["jakarta/gauges"]  # kept

    publishing.publish(instance, make_practice(title="Gauge sirens (staff)", body=SIRENS, visibility="partners"),
                       "gauges", "t")
    assert ids(related.related(instance, "jakarta/sirens", 1, None)) == []
    staff_sees = related.related(instance, "jakarta/sirens", 1, staff)
    assert ids(staff_sees) == ["jakarta/gauges"] and staff_sees[0].card["title"] == "Gauge sirens (staff)"

    publishing.publish(instance, make_practice(title="Gauge sirens again", body=SIRENS), "gauges", "t")
    public = related.related(instance, "jakarta/sirens", 1, None)
    assert ids(public) == ["jakarta/gauges"] and public[0].card["title"] == "Gauge sirens again"
    # what the reader is shown on the page
    assert related.related(instance, "jakarta/sirens", 1, staff)[0].card["title"] == "Gauge sirens again"
