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


FROM_ANOTHER_PROCESS = """
import json, os, pathlib
from exchange import related
from exchange.instance import Instance
instance = Instance.open(pathlib.Path(os.environ["EXCHANGE_INSTANCE"]), os.environ.get("EXCHANGE_DATABASE_URL"),
                         search_seconds=float(os.environ["EXCHANGE_SEARCH_SECONDS"]))  # the suite's lifted budget
print(json.dumps(sorted(hit.card["title"] for hit in related.related(instance, "jakarta/sirens", 1, None))))
"""


def titles_in_another_process(instance, database_url) -> list[str]:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    from tests.conftest import exchange_environment

    done = subprocess.run([sys.executable, "-c", FROM_ANOTHER_PROCESS], capture_output=True, text=True,
                          env=exchange_environment(instance.path, database_url), check=True)
    return json.loads(done.stdout)


def test_a_list_found_by_one_process_is_used_by_the_next_and_still_checked(instance, make_practice, database_url):
    import json

    publishing.publish(instance, make_practice(title="River sirens", body=SIRENS), "sirens", "t")
    publishing.publish(instance, make_practice(title="Gauge sirens", body=SIRENS), "gauges", "t")
    publishing.publish(instance, make_practice(title="Levee sirens", body=SIRENS), "levees", "t")
    assert sorted(ids(related.related(instance, "jakarta/sirens", 1, None))) == ["jakarta/gauges", "jakarta/levees"]
    [kept] = list(instance.path.joinpath(*related.FOLDER).glob("*.json"))
    data = json.loads(kept.read_text())
    for hit in data["hits"]:  # what another process shows is what was kept, not found again
        hit["card"]["title"] = "Kept " + hit["card"]["title"]
    kept.write_text(json.dumps(data))
    assert titles_in_another_process(instance, database_url) == ["Kept Gauge sirens", "Kept Levee sirens"]

    publishing.publish(instance, make_practice(title="Levee sirens", body=SIRENS, visibility="partners"), "levees",
                       "t")
    assert titles_in_another_process(instance, database_url) == ["Gauge sirens"]  # checked, and found again
    kept.write_text("{torn")  # as a crash mid-write might leave it (it cannot: files are renamed into place)
    assert titles_in_another_process(instance, database_url) == ["Gauge sirens"]


def test_the_job_runner_finds_the_public_s_lists_ahead_of_the_first_reader(instance, make_practice, monkeypatch):
    from exchange import background
    from exchange.search import discovery

    for slug, title in (("sirens", "River sirens"), ("gauges", "Gauge sirens"), ("horns", "Horn sirens")):
        publishing.publish(instance, make_practice(title=title, body=SIRENS), slug, "t")
    publishing.publish(instance, make_practice(title="Staff radio", body=SIRENS, visibility="partners"), "radio", "t")
    related._kept.clear()  # as a web worker that has found none yet
    assert not list(instance.path.joinpath(*related.FOLDER).glob("*.json"))

    background.run_pending(instance)  # the runner's recurring job, as `exchange serve` runs it
    kept = sorted(instance.path.joinpath(*related.FOLDER).glob("*.json"))
    assert len(kept) == 3  # one per public practice; the partners-only one is found for its readers alone

    related._kept.clear()
    found = []
    monkeypatch.setattr(discovery, "related", lambda *arguments: found.append(arguments) or [])
    assert ids(related.related(instance, "jakarta/sirens", 1, None)) == ["jakarta/gauges", "jakarta/horns"]
    assert not found  # read from what the runner kept, nothing searched
    assert "jakarta/radio" not in str([path.read_text() for path in kept])


def test_the_job_runner_finds_a_list_again_before_it_expires_and_stops_in_time(instance, make_practice):
    import os
    import time

    publishing.publish(instance, make_practice(title="River sirens", body=SIRENS), "sirens", "t")
    publishing.publish(instance, make_practice(title="Gauge sirens", body=SIRENS), "gauges", "t")
    assert related.fill(instance) == 2
    assert related.fill(instance) == 0  # all fresh
    path = next(instance.path.joinpath(*related.FOLDER).glob("*.json"))
    old = time.time() - related.REFRESH_AFTER_SECONDS - 1
    os.utime(path, (old, old))
    assert related.fill(instance) == 1 and path.stat().st_mtime > old
    os.utime(path, (old, old))
    assert related.fill(instance, seconds=0) == 0  # its time is up before it starts


def test_the_job_runner_keeps_no_list_while_the_index_is_unusable(instance, make_practice):
    # an empty list found then would have been kept, and shown, until the next publish
    publishing.publish(instance, make_practice(title="River sirens", body=SIRENS), "sirens", "t")
    publishing.publish(instance, make_practice(title="Gauge sirens", body=SIRENS), "gauges", "t")
    folder = instance.search.index.live_folder()
    for entry in folder.iterdir():
        entry.unlink()
    assert related.fill(instance) == 0
    assert not list(instance.path.joinpath(*related.FOLDER).glob("*.json"))
