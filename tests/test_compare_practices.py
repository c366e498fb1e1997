"""Comparing practices across cities (/compare): alignment on the page, permissions, bad input."""

from __future__ import annotations

import re

import pytest

from exchange.library import publishing
from tests.test_accounts import HTTPS
from tests.test_accounts import sign_in
from tests.test_accounts import staff  # noqa: F401  # a fixture

SHELTER_EN = "kobe/shelter-operation-procedure"
SHELTER_JA = "kobe/hinanjo-unei-tejun"
POSKO_ID = "jakarta/daftar-periksa-posko-pengungsian-banjir"


def rows(page: str, kind: str) -> list[tuple[str, list[str]]]:
    """Each row of one part of the page: its label and its cells' text (tags dropped, spaces collapsed)."""
    found = []
    for row in re.findall(rf'<div class="compare-row {kind}-row[^"]*"[^>]*>(.*?)\n    </div>', page, re.S):
        label = re.search(r'<h3 class="compare-label"[^>]*>(.*?)</h3>', row, re.S).group(1)
        cells = re.findall(r'<div class="compare-cell">(.*?)\n      </div>', row, re.S)
        found.append((label, [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]))
    return found


def test_two_practices_side_by_side_with_metadata_rows_and_aligned_sections(library_client):
    response = library_client.get(f"/compare?p={SHELTER_EN}&p={SHELTER_JA}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="compare compare-2"' in page
    assert page.count('class="compare-head"') == 2
    assert "Opening and running evacuation shelters after a major earthquake" in page
    assert "大規模地震時の避難所開設" in page
    fields = dict(rows(page, "field"))
    assert list(fields)[:6] == ["City", "Country", "Hazards", "Phases", "Kind", "Language"]
    assert "English" in fields["Language"][0] and "Japanese" in fields["Language"][1]
    assert fields["City"][0].endswith("Kobe") and fields["City"][1].endswith("Kobe")
    sections = dict(rows(page, "section"))
    purpose = sections["Purpose and scope"]
    assert "Purpose and assumptions" in purpose[0] and "目的と前提" in purpose[1]
    assert "チェックリスト" not in sections["Checklist"][0] and "チェックリスト" in sections["Checklist"][1]
    # every cell names the practice it belongs to (what a phone, with one column, relies on)
    assert all(cells[0].startswith("1 Kobe · English") and cells[1].startswith("2 Kobe · 日本語")
               for cells in sections.values())


def test_three_practices_in_three_languages(library_client):
    page = library_client.get(f"/compare?p={SHELTER_EN}&p={SHELTER_JA}&p={POSKO_ID}").get_data(as_text=True)
    assert 'class="compare compare-3"' in page and page.count('class="compare-head"') == 3
    sections = dict(rows(page, "section"))
    lessons = sections["Lessons and what to adapt"]
    assert "What to adapt for your city" in lessons[0] and "他都市への応用" in lessons[1]
    assert "Pelajaran dan yang perlu disesuaikan" in lessons[2]
    own = [cells for label, cells in sections.items() if label == "Menutup posko"]
    assert own and "No section like this" in own[0][0] and "No section like this" in own[0][1]
    assert "Add another practice" not in page  # three is the most


def test_the_page_speaks_the_interface_language(library_client):
    page = library_client.get(f"/compare?p={SHELTER_EN}&p={POSKO_ID}&lang=ja").get_data(as_text=True)
    assert '<html lang="ja"' in page
    fields = dict(rows(page, "field"))
    assert "都市" in fields and "言語" in fields
    assert "目的と範囲" in dict(rows(page, "section"))


def test_remove_links_keep_the_others_and_one_left_goes_back_to_choosing(library_client):
    page = library_client.get(f"/compare?p={SHELTER_EN}&p={SHELTER_JA}&p={POSKO_ID}").get_data(as_text=True)
    assert f'href="/compare?p={SHELTER_EN.replace("/", "/")}&amp;p={SHELTER_JA.replace("/", "/")}"' in page
    two = library_client.get(f"/compare?p={SHELTER_EN}&p={SHELTER_JA}").get_data(as_text=True)
    assert f'href="/practices?compare={SHELTER_JA.replace("/", "/")}"' in two


def test_one_practice_asks_for_more_and_none_explains_how(library_client):
    one = library_client.get(f"/compare?p={SHELTER_EN}")
    assert one.status_code == 200
    text = one.get_data(as_text=True)
    assert "Choose one or two more practices" in text and "Opening and running evacuation shelters" in text
    assert 'class="compare compare' not in text
    none = library_client.get("/compare").get_data(as_text=True)
    assert "Choose two or three practices" in none


def test_more_than_three_is_refused_with_a_message(library_client):
    four = [SHELTER_EN, SHELTER_JA, POSKO_ID, "tokyo/heatstroke-alert-procedure"]
    response = library_client.get("/compare?" + "&".join(f"p={i}" for i in four))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "At most 3 practices can be compared at once; 4 were chosen." in page
    # what can be compared of it is offered: the first three
    assert f'href="/compare?p={SHELTER_EN}&amp;p={SHELTER_JA}&amp;p={POSKO_ID}"' in page
    # the same one twice is one
    assert library_client.get(f"/compare?p={SHELTER_EN}&p={SHELTER_EN}&p={SHELTER_JA}").status_code == 200


@pytest.mark.parametrize("bad", ["../etc", "kobe", "kobe/a/b", "Kobe/X", "kobe/%C3%BC", "x" * 300 + "/y"])
def test_malformed_ids_get_a_400_naming_the_problem(library_client, bad):
    response = library_client.get(f"/compare?p={SHELTER_EN}&p={bad}&p={SHELTER_JA}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "is not a practice id" in page
    assert f'href="/compare?p={SHELTER_EN}&amp;p={SHELTER_JA}"' in page


def test_an_unknown_id_gets_a_404_naming_it(library_client):
    response = library_client.get(f"/compare?p={SHELTER_EN}&p=kobe/no-such-practice")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "kobe/no-such-practice is not in this library, or you may not read it" in page
    assert "Opening and running evacuation shelters" in page  # the other stays chosen


def test_a_restricted_practice_is_refused_like_an_unknown_one_without_its_title(client, instance, make_practice,
                                                                               staff):  # noqa: F811
    publishing.publish(instance, make_practice(visibility="partners", title="Internal radio channels",
                                               body="## Steps\n\nUse channel 7.\n"), "radio", "t")
    publishing.publish(instance, make_practice(title="Public siren test"), "siren", "t")
    address = "/compare?p=jakarta/siren&p=jakarta/radio"
    refused = client.get(address)
    assert refused.status_code == 404
    page = refused.get_data(as_text=True)
    assert "Internal radio channels" not in page and "channel 7" not in page
    unknown = client.get("/compare?p=jakarta/siren&p=jakarta/ghost").get_data(as_text=True)
    assert page == unknown.replace("jakarta/ghost", "jakarta/radio").replace("jakarta%2Fghost", "jakarta%2Fradio")
    assert "Internal radio channels" not in client.get("/compare?p=jakarta/radio").get_data(as_text=True)
    assert "Internal radio channels" not in client.get("/practices?compare=jakarta/radio").get_data(as_text=True)
    sign_in(client, staff)
    allowed = client.get(HTTPS + address)
    assert allowed.status_code == 200
    assert "Internal radio channels" in allowed.get_data(as_text=True)
    assert "Use channel 7." in allowed.get_data(as_text=True)


def test_search_results_offer_compare_checkboxes_that_carry_the_chosen_list(library_client):
    page = library_client.get(f"/practices?compare={SHELTER_EN}&kind=procedure").get_data(as_text=True)
    assert '<form id="compare-form" class="compare-bar" action="/compare" method="get">' in page
    boxes = re.findall(r'<input type="checkbox" name="p" value="([^"]+)" form="compare-form"( checked)?', page)
    assert (SHELTER_EN, " checked") in boxes or f'<input type="hidden" name="p" value="{SHELTER_EN}">' in page
    assert len(boxes) >= 2
    assert "Opening and running evacuation shelters" in page
    # the list survives a new search, a change of filters and a removed filter
    assert f'<input type="hidden" name="compare" value="{SHELTER_EN}">' in page
    assert f'<li><a href="/practices?compare={SHELTER_EN}" aria-label="Remove filter: Kind: Procedure">' in page


def test_a_practice_page_links_to_choosing_others_to_compare_and_to_comparing_a_related_one(library_client):
    page = library_client.get(f"/practices/{SHELTER_EN}").get_data(as_text=True)
    assert f'href="/practices?compare={SHELTER_EN}&amp;kind=procedure"' in page
    related = re.findall(rf'href="/compare\?p={SHELTER_EN}&amp;p=([\w/-]+)"', page)
    assert related and all(library_client.get(f"/compare?p={SHELTER_EN}&p={other}").status_code == 200
                           for other in related)
