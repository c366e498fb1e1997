"""The practice document model: what is accepted and how every problem is named."""

from __future__ import annotations

import datetime

import pytest

from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from tests.conftest import practice_text


def problems_of(data: bytes, slug: str = "flood-warning") -> list[str]:
    with pytest.raises(InvalidPractice) as caught:
        parse(data, slug)
    return [str(p) for p in caught.value.problems]


def test_valid_practice_has_typed_values():
    practice = parse(practice_text(tags="[example, community]", review_by="2027-01-31"), "flood-warning")
    assert practice.id == "jakarta/flood-warning"
    assert practice.hazards == ["riverine-flood", "extreme-rainfall"]
    assert practice.published == datetime.date(2023, 12, 5)
    assert practice.review_by == datetime.date(2027, 1, 31)
    assert practice.licence == "CC-BY-4.0" and practice.visibility == "public"
    assert practice.body.startswith("## Steps")


def test_exact_bytes_are_kept_including_a_byte_order_mark():
    raw = b"\xef\xbb\xbf" + practice_text()
    assert parse(raw, "x").text == raw


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": None}, "title: is required"),
        ({"hazards": "[flod]"}, "hazards: ['flod'] contains unknown hazard 'flod'; allowed: riverine-flood"),
        ({"kind": "memo"}, "kind: 'memo' is not a known kind; allowed: policy"),
        ({"phases": "preparedness"}, "phases: 'preparedness' must be a list"),
        ({"city": "[a, b]"}, "city: ['a', 'b'] is not a city slug"),
        ({"published": "no"}, "published: 'no' must be a date written YYYY-MM-DD"),
        ({"published": "2024-13-45"}, "published: '2024-13-45' is not a real calendar date"),
        ({"country": "Indonesia"}, "country: 'Indonesia' is not an ISO 3166-1 alpha-2 country code"),
        ({"language": "English"}, "language: 'English' is not a BCP 47 primary language tag"),
        ({"summary": "x" * 401}, "summary: 'xxxxxxxx"),
        ({"visibility": "secret"}, "visibility: 'secret' is not a known visibility; allowed: public, partners"),
        ({"license": "GPL"}, "license: 'GPL' is not an accepted SPDX licence id"),
        ({"sendai_priorities": "[0, 5]"}, "sendai_priorities: [0, 5] must be a list of Sendai Framework priorities"),
        ({"translation_of": "../../etc"}, "translation_of: '../../etc' must be a practice id"),
        ({"status": "published"}, "status: unknown key; allowed keys are title"),
        ({"slug": "../../x"}, "slug: unknown key"),
        ({"updated": "2020-01-01"}, "updated: 2020-01-01 is earlier than published (2023-12-05)"),
    ],
)
def test_bad_front_matter_names_key_value_and_what_is_allowed(fields, expected):
    problems = problems_of(practice_text(**fields))
    assert any(p.startswith(expected) for p in problems), problems


def test_several_problems_are_reported_together():
    problems = problems_of(practice_text(title=None, hazards="[flod]", kind="memo", extra="1"))
    assert len(problems) == 4
    assert [p.split(":")[0] for p in problems] == ["extra", "title", "kind", "hazards"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"---\ntitle: [unclosed\n---\nbody\n", "front matter: line 2: invalid YAML"),
        (b"---\nt: !!python/object/apply:os.system [\"id\"]\n---\nx\n",
         "front matter: line 2: unsupported YAML tag !!python/object/apply:os.system"),
        (b"---\na: &a [1, 2]\nb: [*a, *a]\n---\nx\n", "front matter: line 2: YAML anchors (&name) are not allowed"),
        (b"---\n- a\n- b\n---\nx\n", "front matter must be a mapping"),
        (b"no front matter here\n", "no front matter"),
        (b"---\ntitle: caf\xe9\n---\n", "not valid UTF-8: byte 0xe9 at offset 14"),
        (b"---\ntitle: a\x00b\n---\n", "contains a NUL character"),
        (b"---\ntitle: \xed\xa0\x80\n---\n", "not valid UTF-8"),
        (b"x" * (MAX_DOCUMENT_BYTES + 1), "file is 512 KB; the limit is 512 KB"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(data, expected):
    assert any(p.startswith(expected) for p in problems_of(data)), problems_of(data)


def test_billion_laughs_is_refused_quickly():
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    data = ("---\n" + "\n".join(levels) + "\n---\nbody\n").encode()
    assert problems_of(data) == ["front matter: line 2: YAML anchors (&name) are not allowed"]


@pytest.mark.parametrize(
    "slug",
    ["../../instance/app", "..%2f..%2fetc%2fpasswd", "..\\..\\x", "CON", "nul", "Flood", "flood.", "flood ",
     "．．／x", "ｆｌｏｏｄ", "-flood", "a" * 81, ""],
)
def test_unsafe_slugs_from_file_names_are_refused(slug):
    assert any(p.startswith("slug:") for p in problems_of(practice_text(), slug=slug))


def test_empty_body_is_refused():
    assert "body: the practice has no text after the front matter" in problems_of(practice_text(body="\n"))
