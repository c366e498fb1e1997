"""One counting rule everywhere (a practice and its translations count once, and pages say so), and active
search filters as removable chips named as the filter list names them."""

from __future__ import annotations

import html
import re

import pytest

from exchange.library import publishing
from exchange.web import pages


def lead_count(page: str) -> int:
    return int(re.search(r'<p class="lead">\s*(\d+) practices from', page).group(1))


def city_cards(page: str) -> dict[str, int]:
    """City slug → the count its card on the home page shows."""
    card = r'<a href="/cities/([\w-]+)">\s*<strong>[^<]*</strong>\s*<span class="muted">[^<]*· (\d+) practices?</span>'
    return {slug: int(n) for slug, n in re.findall(card, page)}


def city_page_count(page: str) -> int:
    return int(re.search(r"· (\d+) practices?\n", page).group(1))


def test_home_city_cards_city_pages_and_search_count_practices_the_same_way(library_client):
    home = library_client.get("/").get_data(as_text=True)
    assert lead_count(home) == 35
    assert "See all 35 practices" in home
    assert "A practice and its translations count as one: 44 documents in all." in home
    cards = city_cards(home)
    assert len(cards) == 11 and sum(cards.values()) == 35
    for slug, shown in cards.items():
        city = library_client.get(f"/cities/{slug}").get_data(as_text=True)
        assert city_page_count(city) == shown, slug
        assert city.count('class="card practice-card"') == shown, slug  # one card per practice
        searched = library_client.get(f"/practices?city={slug}").get_data(as_text=True)
        assert f"<strong>{shown}</strong> practice" in searched, slug
    kobe = library_client.get("/cities/kobe").get_data(as_text=True)
    assert city_page_count(kobe) == 3 and "(4 documents with translations)" in kobe
    padang = library_client.get("/cities/padang").get_data(as_text=True)
    assert "documents with translations" in padang  # its tsunami plan is in two languages
    manila = library_client.get("/cities/manila").get_data(as_text=True)
    assert "documents with translations" not in manila  # nothing grouped: nothing to explain


def test_grouped_counts_are_said_in_indonesian_and_japanese(library_client):
    indonesian = library_client.get("/?lang=id").get_data(as_text=True)
    assert "Satu praktik beserta terjemahannya dihitung satu: seluruhnya 44 dokumen." in indonesian
    japanese = library_client.get("/cities/kobe?lang=ja").get_data(as_text=True)
    assert "（翻訳を含めて 4 件の文書）" in japanese


def test_search_facets_count_practices_not_documents(library_client):
    data = library_client.get("/api/v1/search?per_page=1").get_json()
    assert data["total"] == 35 and sum(data["facets"]["city"].values()) == 35
    assert sum(data["facets"]["kind"].values()) == 35


def test_a_library_without_translations_says_nothing_about_grouping(client, instance, make_practice):
    publishing.publish(instance, make_practice(), "siren", "t")
    publishing.publish(instance, make_practice(title="Second"), "second", "t")
    home = client.get("/").get_data(as_text=True)
    assert lead_count(home) == 2 and "documents in all" not in home
    publishing.publish(instance, make_practice(title="Kedua", language="id", translation_of="jakarta/second"),
                       "kedua", "t")
    home = client.get("/").get_data(as_text=True)
    assert lead_count(home) == 2 and "count as one: 3 documents in all." in home
    assert city_cards(home)["jakarta"] == 2
    assert city_page_count(client.get("/cities/jakarta").get_data(as_text=True)) == 2


def chips(page: str) -> list[tuple[str, str, str]]:
    """Each active filter chip: its link, its accessible label and its visible text."""
    found = re.findall(r'<li><a href="([^"]+)" aria-label="([^"]+)">(.*?)</a></li>',
                       page.split('class="active-filters"')[1].split("</ul>")[0], re.S)
    return [(html.unescape(href), html.unescape(label), " ".join(re.sub(r"<[^>]+>", " ", text).split()))
            for href, label, text in found]


def test_each_active_filter_is_a_chip_linking_to_the_same_search_without_it(library_client):
    page = library_client.get("/practices?q=banjir&hazard=riverine-flood&language=id&language=en&sort=newest&page=1"
                              ).get_data(as_text=True)
    found = chips(page)
    assert [label for _href, label, _text in found] == [
        "Remove filter: Hazard: Riverine flood", "Remove filter: Language: Bahasa Indonesia",
        "Remove filter: Language: English"]
    assert [text for _href, _label, text in found] == ["Riverine flood ×", "Bahasa Indonesia ×", "English ×"]
    hrefs = [href for href, _label, _text in found]
    assert hrefs[0] == "/practices?q=banjir&language=id&language=en&sort=newest"
    assert hrefs[1] == "/practices?q=banjir&hazard=riverine-flood&language=en&sort=newest"
    assert hrefs[2] == "/practices?q=banjir&hazard=riverine-flood&language=id&sort=newest"
    # following a chip's link removes exactly that filter
    after = library_client.get(hrefs[1]).get_data(as_text=True)
    assert [label for _href, label, _text in chips(after)] == [
        "Remove filter: Hazard: Riverine flood", "Remove filter: Language: English"]
    assert 'class="active-filters"' not in library_client.get("/practices?q=banjir").get_data(as_text=True)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Remove filter: Language: 日本語"), ("id", "Hapus filter: Bahasa: 日本語"),
    ("ja", "絞り込みを解除: 言語: 日本語"),
])
def test_a_chip_names_a_language_as_the_filter_list_does(library_client, language, expected):
    page = library_client.get(f"/practices?language=ja&lang={language}").get_data(as_text=True)
    (_href, label, text), = chips(page)
    assert label == expected and text == "日本語 ×"
    filter_list = page.split('<details class="filters">')[1].split("</details>")[0]
    assert re.search(r'value="ja" checked>\s*<span lang="ja">日本語</span>', filter_list)


def checkboxes(page: str, facet: str) -> list[tuple[str, bool, int]]:
    """(value, checked, count) of each of a filter's checkboxes on a page, in page order."""
    box = (rf'<input type="checkbox" name="{facet}" value="([^"]+)" (checked)?>\s*'
           r'<span[^>]*>[^<]*</span> <span class="count">(\d+)</span>')
    return [(value, bool(checked), int(count)) for value, checked, count in re.findall(box, page)]


def test_the_filter_panel_names_the_most_frequent_values_and_links_to_a_page_of_all(library_client):
    counts = library_client.get("/api/v1/search?per_page=1").get_json()["facets"]["city"]
    assert len(counts) > pages.FILTER_VALUES_SHOWN  # else there is nothing to fold
    page = library_client.get("/practices?sort=newest").get_data(as_text=True)
    shown = checkboxes(page, "city")
    assert len(shown) == pages.FILTER_VALUES_SHOWN
    assert [count for _, _, count in shown] == sorted(counts.values(), reverse=True)[:pages.FILTER_VALUES_SHOWN]
    link = re.search(r'<a class="more-values" href="([^"]+)">All cities \((\d+)\)</a>', page)
    assert link and int(link.group(2)) == len(counts)

    every = library_client.get(html.unescape(link.group(1))).get_data(as_text=True)
    listed = checkboxes(every, "city")
    assert {value: count for value, _, count in listed} == counts
    names = re.findall(r'name="city" value="[^"]+" >\s*<span >([^<]*)</span>', every)
    assert names == sorted(names, key=str.casefold) and len(names) == len(counts)  # by name, to be scanned
    every_year = library_client.get("/practices/filter/year").get_data(as_text=True)
    years = re.findall(r'name="year" value="(\d+)"', every_year)
    assert len(years) > 1 and years == sorted(years, reverse=True)  # years newest first
    assert '<input type="hidden" name="sort" value="newest">' in every  # applying keeps the search
    assert "Filter by city" in every


def test_a_chosen_value_outside_the_most_frequent_stays_in_the_panel_ticked(library_client):
    counts = library_client.get("/api/v1/search?per_page=1").get_json()["facets"]["city"]
    rare = list(counts)[-1]  # the least frequent city
    page = library_client.get(f"/practices?city={rare}").get_data(as_text=True)
    shown = checkboxes(page, "city")
    assert (rare, True, counts[rare]) in shown and len(shown) == pages.FILTER_VALUES_SHOWN + 1
    every = library_client.get(f"/practices/filter/city?city={rare}").get_data(as_text=True)
    assert (rare, True, counts[rare]) in checkboxes(every, "city")
    assert f'name="city" value="{rare}"' not in every.split("<fieldset>")[0]  # not also a hidden input


def test_the_page_of_all_values_counts_only_what_the_reader_may_read(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Sirens", city="tokyo", country="JP"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Radio", visibility="partners"),
                       "radio", "t")
    every = client.get("/practices/filter/city").get_data(as_text=True)
    assert [value for value, _, _ in checkboxes(every, "city")] == ["tokyo"]
    assert client.get("/practices/filter/nothing").status_code == 404
