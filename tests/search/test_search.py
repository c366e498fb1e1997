"""Searching as visitors and partner staff meet it: matching, filters, facets, permissions, limits, escaping."""

from __future__ import annotations

import math
import random
import re
import string
import time
from pathlib import Path

import pytest

from exchange import policy
from exchange.app import create_app
from exchange.initialise import initialise
from exchange.library import publishing
from exchange.search import discovery
from exchange.search import query as ql
from exchange.search.backend import CROSS_LANGUAGE
from exchange.search.backend import FULL_TEXT
from exchange.search.backend import QUERY_LANGUAGE
from exchange.search.backend import RANKING
from exchange.search.backend import RELATED
from exchange.search.backend import ROMAJI
from exchange.search.backend import SNIPPETS
from exchange.search.backend import SUGGESTIONS
from exchange.search.backend import TRANSLATIONS_AS_ONE
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.whoosh.evaluation import MAX_PREFIX_TERMS
from exchange.search.whoosh.queries import to_whoosh
from tests.conftest import SEARCH_SECONDS
from tests.conftest import practice_text
from tests.search.conftest import searching_with

PUBLIC = frozenset({"public"})
ALL_WORDS_NOTICE = "No practice has all of these words; showing practices with any of them."
DEGRADED = "only titles and summaries are searched"


class PartnerStaff:
    """A signed-in member of a partner city's staff, as the policy sees them."""

    is_authenticated = True
    is_partner_staff = True


STAFF = policy.readable_visibilities(PartnerStaff())

EN_JAKARTA = {"city": "jakarta", "country": "ID", "language": "en"}
ID_JAKARTA = {"city": "jakarta", "country": "ID", "language": "id"}
MELBOURNE = {"city": "melbourne", "country": "AU"}
JA = {"language": "ja", "country": "JP"}

#: A small library: slug → front matter (YAML text) and body. Nine documents, eight practices (one translation).
CORPUS: dict[str, dict[str, str]] = {
    "river-early-warning": dict(
        EN_JAKARTA, title="River flood early warning", kind="procedure",
        summary="How the city relays upstream gauge alerts to riverside neighbourhoods.",
        hazards="[riverine-flood, extreme-rainfall]", phases="[preparedness, response]", published="2023-05-01",
        body="When the upstream gauge rises, the early warning team sounds the sirens. "
             "Floods reach the riverside within six hours.\n"),
    "posko-banjir": dict(
        ID_JAKARTA, title="Daftar periksa posko pengungsian", kind="checklist",
        summary="Apa yang disiapkan di posko ketika kampung kebanjiran.",
        hazards="[riverine-flood]", phases="[response]", published="2022-11-20",
        body="Ketika sungai membanjiri kampung, relawan membuka posko dan mengevakuasi lansia.\n"),
    "heat-health-plan": dict(
        MELBOURNE, language="en", title="Heat health plan", kind="plan",
        summary="Cooling centres and check-ins for older residents during a heatwave.",
        hazards="[heatwave]", phases="[preparedness, response]", published="2024-02-10",
        body="Open cooling centres in libraries. Volunteers phone older residents twice a day.\n"),
    "rencana-kesehatan-panas": dict(
        MELBOURNE, language="id", title="Rencana kesehatan gelombang panas", kind="plan",
        summary="Pusat pendinginan dan pemeriksaan warga lanjut usia saat gelombang panas.",
        hazards="[heatwave]", phases="[preparedness, response]", published="2024-03-01",
        translation_of="melbourne/heat-health-plan",
        body="Buka pusat pendinginan di perpustakaan. Relawan menelepon warga lanjut usia.\n"),
    "hinanjo-unei": dict(
        JA, city="kobe", title="避難所運営の手順", kind="procedure", summary="大地震の後に開く施設の手順。",
        hazards="[earthquake]", phases="[response]", published="2021-09-01",
        body="避難所運営委員会を設置し、名簿を作る。\n"),
    "tsunami-hinan-biru": dict(
        JA, city="sendai", title="津波避難ビルの指定", kind="plan", summary="沿岸部の建物を指定する計画。",
        hazards="[tsunami]", phases="[preparedness]", published="2020-03-11",
        body="津波避難ビルを指定し、表示板を設置する。\n"),
    "tsunami-drill": dict(
        city="padang", country="ID", language="en", title="Tsunami evacuation drill", kind="training-material",
        summary="A yearly drill that walks schools to vertical evacuation buildings.",
        hazards="[tsunami, earthquake]", phases="[preparedness]", published="2022-06-15",
        body="An early start: the warning siren sounds at seven and pupils walk to the mosque roof. "
             "Teachers record the time of the drill.\n"),
    "drought-water-checklist": dict(
        city="bangkok", country="TH", language="en", title="Drought water checklist", kind="checklist",
        summary="Water rationing steps for dry seasons.", hazards="[drought]", phases="[preparedness]",
        published="2019-04-01", body="Cooking water is kept aside before rationing starts.\n"),
    "heatstroke-alert": dict(
        city="tokyo", country="JP", language="en", title="Heatstroke alert procedure", kind="procedure",
        summary="What staff do when the heat alert is issued.", hazards="[heatwave]", phases="[response]",
        published="2023-07-20", body="Staff open cooling shelters and check on people living alone.\n"),
}
CITY = {"river-early-warning": "jakarta", "posko-banjir": "jakarta", "heat-health-plan": "melbourne",
        "rencana-kesehatan-panas": "melbourne", "hinanjo-unei": "kobe", "tsunami-hinan-biru": "sendai",
        "tsunami-drill": "padang", "drought-water-checklist": "bangkok", "heatstroke-alert": "tokyo"}
ID = {slug: f"{city}/{slug}" for slug, city in CITY.items()}
HEAT_GROUP = {ID["heat-health-plan"], ID["rencana-kesehatan-panas"]}

#: Partner-only practices: words of their own, words they share with public ones, and one translation.
RESTRICTED: dict[str, dict[str, str]] = {
    "levee-inspection": dict(
        MELBOURNE, language="en", title="Zebraword levee inspection plan", kind="plan", visibility="partners",
        summary="Quokkaline inspection of flood levees before the wet season.", hazards="[riverine-flood]",
        phases="[preparedness]", published="2024-05-01",
        body="Inspect the zebraword levee and report quokkaline seepage. The flood plan names the gauge.\n"),
    "bichiku-himitsu": dict(
        JA, city="kobe", title="ヤマネコ倉庫の備蓄計画", kind="plan", visibility="partners",
        summary="倉庫の備蓄品の一覧。", hazards="[earthquake]", phases="[preparedness]", published="2024-06-01",
        body="ヤマネコ倉庫に毛布を備蓄し、避難所運営に使う。\n"),
    "rencana-rahasia-panas": dict(
        MELBOURNE, language="id", title="Catatan xenokipas gelombang panas", kind="plan", visibility="partners",
        summary="Catatan mitra tentang xenokipas.", hazards="[heatwave]", phases="[preparedness, response]",
        published="2024-04-01", translation_of="melbourne/heat-health-plan",
        body="Xenokipas dipasang di taman kota.\n"),
}
RESTRICTED_IDS = {"melbourne/levee-inspection", "kobe/bichiku-himitsu", "melbourne/rencana-rahasia-panas"}


def new_app(path: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    """An app on a fresh instance in ``path`` (schema and partner cities, empty library, index built)."""
    app = create_app({"INSTANCE": path, "TESTING": True, "SERVER_NAME": "px.test", "DATABASE_URL": database_url})
    initialise(app.extensions["exchange"], "test", seed=False)
    return app


def publish_all(instance, practices: dict[str, dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    for slug, fields in practices.items():
        fields = dict(fields)
        body = fields.pop("body")
        outcome = publishing.publish(instance, practice_text(body=body, **fields), slug, "test")
        assert not outcome.failed, outcome


def find(instance, q: str = "", visibilities: frozenset[str] = PUBLIC, **options) -> SearchResults:  # type: ignore[no-untyped-def]
    options.setdefault("per_page", 100)
    return instance.search.search(SearchRequest(q=q, **options), visibilities, seconds=SEARCH_SECONDS)


def ids(results: SearchResults) -> list[str]:
    return [hit.id for hit in results.hits]


def snippets(page: str) -> list[str]:
    return re.findall(r'<p class="snippet" translate="no">(.*?)</p>', page, re.S)


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory, database, engine):  # type: ignore[no-untyped-def]
    with database.fresh() as url:
        app = new_app(tmp_path_factory.mktemp("corpus"), url)
        publish_all(app.extensions["exchange"], CORPUS)
        with searching_with(app, engine):
            yield app
        app.extensions["exchange"].db.dispose()


@pytest.fixture
def corpus(corpus_app):  # type: ignore[no-untyped-def]
    return corpus_app.extensions["exchange"]


@pytest.fixture
def corpus_client(corpus_app):  # type: ignore[no-untyped-def]
    return corpus_app.test_client()


# Matching ---------------------------------------------------------------------------------------

@pytest.mark.needs(FULL_TEXT)
def test_all_words_must_match(corpus):
    results = find(corpus, "river gauge")
    assert ids(results) == [ID["river-early-warning"]]
    assert results.notices == []


@pytest.mark.needs(RANKING)
def test_without_a_practice_having_every_word_any_word_is_enough(corpus):
    results = find(corpus, "cooling tsunami")
    assert results.notices == [ALL_WORDS_NOTICE]
    assert {ID["heatstroke-alert"], ID["tsunami-drill"], ID["tsunami-hinan-biru"]} <= set(ids(results))
    assert len(HEAT_GROUP & set(ids(results))) == 1
    assert ID["river-early-warning"] not in ids(results)


@pytest.mark.needs(RANKING)
def test_any_word_notice_shows_on_the_page(corpus_client):
    page = corpus_client.get("/practices?q=cooling+tsunami").get_data(as_text=True)
    assert ALL_WORDS_NOTICE in page and "Tsunami evacuation drill" in page and "Heatstroke alert procedure" in page


@pytest.mark.needs(QUERY_LANGUAGE)
def test_quotes_find_the_exact_phrase_only(corpus):
    assert set(ids(find(corpus, "early warning"))) == {ID["river-early-warning"], ID["tsunami-drill"]}
    assert ids(find(corpus, '"early warning"')) == [ID["river-early-warning"]]
    assert ids(find(corpus, '"warning early"')) == []


@pytest.mark.needs(QUERY_LANGUAGE)
def test_or_finds_either(corpus):
    found = set(ids(find(corpus, "rationing OR drill")))
    assert found == {ID["drought-water-checklist"], ID["tsunami-drill"]}


@pytest.mark.needs(QUERY_LANGUAGE)
def test_not_and_minus_leave_practices_out(corpus):
    both = set(ids(find(corpus, "tsunami")))
    assert {ID["tsunami-drill"], ID["tsunami-hinan-biru"]} <= both
    for q in ("tsunami -drill", "tsunami NOT drill"):
        found = set(ids(find(corpus, q)))
        assert ID["tsunami-drill"] not in found and ID["tsunami-hinan-biru"] in found, q
    assert ID["tsunami-drill"] not in ids(find(corpus, "-drill"))


@pytest.mark.needs(QUERY_LANGUAGE)
def test_minus_before_a_phrase_leaves_it_out(corpus):
    found = ids(find(corpus, 'warning -"early warning"'))
    assert ID["river-early-warning"] not in found and ID["tsunami-drill"] in found


@pytest.mark.parametrize(("q", "expected"), [
    ("hazard:tsunami", {"tsunami-drill", "tsunami-hinan-biru"}),
    ("city:kobe", {"hinanjo-unei"}),
    ("language:ja", {"hinanjo-unei", "tsunami-hinan-biru"}),
    ("year:2022", {"posko-banjir", "tsunami-drill"}),
    ("country:jp", {"hinanjo-unei", "tsunami-hinan-biru", "heatstroke-alert"}),
    ("kind:checklist", {"posko-banjir", "drought-water-checklist"}),
    ("phase:response hazard:riverine-flood", {"river-early-warning", "posko-banjir"}),
    ("drill hazard:tsunami", {"tsunami-drill"}),
    ("hazard:tsunami OR hazard:drought", {"tsunami-drill", "tsunami-hinan-biru", "drought-water-checklist"}),
])
@pytest.mark.needs(QUERY_LANGUAGE)
def test_filters_in_the_query(corpus, q, expected):
    results = find(corpus, q)
    assert set(ids(results)) == {ID[slug] for slug in expected}
    assert results.total == len(expected)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"hazard": ["tsunami"]}, {"tsunami-drill", "tsunami-hinan-biru"}),
    ({"city": ["kobe", "sendai"]}, {"hinanjo-unei", "tsunami-hinan-biru"}),
    ({"language": ["ja"]}, {"hinanjo-unei", "tsunami-hinan-biru"}),
    ({"year": ["2022"]}, {"posko-banjir", "tsunami-drill"}),
    ({"hazard": ["tsunami"], "language": ["en"]}, {"tsunami-drill"}),
    ({"country": ["jp"], "kind": ["procedure"]}, {"hinanjo-unei", "heatstroke-alert"}),
])
@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_filters_in_the_request(corpus, filters, expected):
    results = find(corpus, filters=filters)
    assert set(ids(results)) == {ID[slug] for slug in expected}
    assert results.total == len(expected)


def test_a_page_past_the_last_one_says_so_and_leads_back(corpus_client):
    page = corpus_client.get("/practices?q=flood&language=en&page=99").get_data(as_text=True)
    last = re.search(r'href="([^"]*page=(\d+)[^"]*)">Go to the last page</a>', page)
    assert "There is no page 99: the results end on page" in page and last and "Nothing found" not in page
    assert "language=en" in last.group(1) and "q=flood" in last.group(1)
    assert "Nothing found" not in corpus_client.get(last.group(1).replace("&amp;", "&")).get_data(as_text=True)


def test_filter_on_the_page_and_words_together(corpus_client):
    page = corpus_client.get("/practices?q=evacuation&hazard=tsunami&language=en").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> practice\s", page) and "Tsunami evacuation drill" in page


# Facets ----------------------------------------------------------------------------------------

@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_empty_query_lists_every_practice_with_facets(corpus):
    results = find(corpus)
    assert results.total == 8 and results.documents == 9  # nine documents, one a translation
    assert len(results.hits) == 8
    nothing = find(corpus, "qqqzzzx")
    assert nothing.total == 0 and not nothing.documents and not nothing.grouped  # no "(1 document)" of nothing
    assert results.facets["language"] == {"en": 5, "id": 2, "ja": 2}
    assert results.facets["city"]["kobe"] == 1 and results.facets["city"]["jakarta"] == 2
    assert results.facets["hazard"]["tsunami"] == 2 and results.facets["year"]["2022"] == 2
    assert set(results.facets["country"]) == {"ID", "AU", "JP", "TH"}
    assert results.facets["country"]["JP"] == 3 and results.facets["country"]["TH"] == 1


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_facet_counts_apply_the_other_facets_filters(corpus):
    results = find(corpus, filters={"language": ["ja"]})
    assert results.facets["hazard"] == {"earthquake": 1, "tsunami": 1}
    assert results.facets["language"] == {"en": 5, "id": 2, "ja": 2}  # other languages can still be added
    results = find(corpus, filters={"language": ["ja"], "hazard": ["tsunami"]})
    assert ids(results) == [ID["tsunami-hinan-biru"]]
    assert results.facets["language"] == {"en": 1, "ja": 1}  # the tsunami practices, by language
    assert results.facets["hazard"] == {"earthquake": 1, "tsunami": 1}  # the Japanese ones, by hazard
    assert results.facets["city"] == {"sendai": 1}


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_values_of_one_facet_combine_as_either(corpus):
    results = find(corpus, filters={"hazard": ["tsunami", "drought"]})
    assert results.total == 3
    assert results.facets["hazard"]["tsunami"] == 2 and results.facets["hazard"]["drought"] == 1
    assert "heatwave" in results.facets["hazard"]  # still offered: counted without the hazard filter


def test_facet_counts_follow_the_query_words(corpus):
    results = find(corpus, "evacuation")
    assert set(results.facets["city"]) <= {"padang", "jakarta", "kobe", "sendai"}
    assert "bangkok" not in results.facets["city"]


def test_a_facet_count_is_the_number_of_practices_its_filter_shows(corpus):
    facets = find(corpus).facets
    for name, values in facets.items():
        for value, count in values.items():
            assert find(corpus, filters={name: [value]}).total == count, (name, value)


def test_facet_counts_on_the_page(corpus_client):
    page = corpus_client.get("/practices?language=ja").get_data(as_text=True)
    assert "<strong>2</strong> practices" in page
    assert re.search(r'name="hazard" value="tsunami"\s*>.*?<span class="count">1</span>', page, re.S)


# Order and pages -------------------------------------------------------------------------------

@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_newest_first(corpus):
    results = find(corpus, "evacuation", sort="newest")
    dates = [hit.card["published"] for hit in results.hits]
    assert len(dates) >= 2 and dates == sorted(dates, reverse=True)
    assert all(hit.score is None for hit in results.hits)
    browse = find(corpus)
    assert browse.hits[0].card["published"] == "2024-03-01"
    assert [h.card["published"] for h in browse.hits] == sorted((h.card["published"] for h in browse.hits),
                                                               reverse=True)


@pytest.fixture
def revisable(tmp_path, database, engine):  # type: ignore[no-untyped-def]
    """A library of its own (the public corpus and the partner-only practices) that a test may publish into;
    each publish reaches the engine through the outbox, as in a running library."""
    with database.fresh() as url:
        app = new_app(tmp_path, url)
        instance = app.extensions["exchange"]
        publish_all(instance, CORPUS)
        publish_all(instance, RESTRICTED)
        with searching_with(app, engine):
            yield instance
        instance.db.dispose()


def revise(instance, slug: str, **changes: str) -> None:  # type: ignore[no-untyped-def]
    """Publish a new version of ``slug`` (from CORPUS or RESTRICTED) with ``changes`` to its fields."""
    fields = {**CORPUS, **RESTRICTED}[slug] | {"body": "A revised route: the evacuation now goes by the school.\n"}
    publish_all(instance, {slug: fields | changes})


def test_a_new_version_of_an_old_practice_comes_first_among_the_recently_updated(revisable):
    old = ID["posko-banjir"]  # first published 2022-11-20, behind four practices published since
    before = find(revisable, sort="updated")
    assert ids(before)[0] != old and all(hit.card["revised"] is None for hit in before.hits)
    revise(revisable, "posko-banjir")
    updated = find(revisable, sort="updated")
    assert ids(updated)[0] == old
    assert updated.hits[0].card["version"] == 2 and updated.hits[0].card["revised"] is not None
    assert [hit.id for hit in updated.hits if hit.card["revised"]] == [old]
    assert ids(updated)[1:] == [i for i in ids(before) if i != old]  # the rest keep their order
    assert ids(find(revisable, sort="newest"))[0] != old  # newest stays by first publication
    if QUERY_LANGUAGE in revisable.search.capabilities:  # and among what words find
        assert ids(find(revisable, "posko OR evacuation OR heatwave", sort="updated"))[0] == old


def test_a_partners_only_revision_moves_nothing_for_the_public(revisable):
    revise(revisable, "tsunami-drill")  # public: first for everyone
    public_before = find(revisable, sort="updated")
    staff_before = find(revisable, sort="updated", visibilities=STAFF)
    assert ids(public_before)[0] == ids(staff_before)[0] == ID["tsunami-drill"]
    # a partners-only translation of a public practice is revised: its group comes first for partners only
    revise(revisable, "rencana-rahasia-panas")
    public = find(revisable, sort="updated")
    assert ids(public) == ids(public_before)
    assert [hit.id for hit in public.hits if hit.card["revised"]] == [ID["tsunami-drill"]]
    staff = find(revisable, sort="updated", visibilities=STAFF)
    assert ids(staff)[0] in {"melbourne/rencana-rahasia-panas", *HEAT_GROUP} and ids(staff)[1] == ID["tsunami-drill"]
    # a public practice whose new version is partners-only leaves the public's list, date and all
    revise(revisable, "posko-banjir", visibility="partners")
    public = find(revisable, sort="updated")
    assert ids(public) == [i for i in ids(public_before) if i != ID["posko-banjir"]]
    assert [hit.id for hit in public.hits if hit.card["revised"]] == [ID["tsunami-drill"]]
    staff = find(revisable, sort="updated", visibilities=STAFF)
    assert ids(staff)[0] == ID["posko-banjir"] and staff.hits[0].card["revised"] is not None


@pytest.mark.needs(RANKING)
def test_relevance_has_scores_best_first(corpus):
    scores = [hit.score for hit in find(corpus, "flood").hits]
    assert scores and all(s is not None for s in scores) and scores == sorted(scores, reverse=True)


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_page_two_has_the_rest(corpus):
    first = find(corpus, per_page=5)
    second = find(corpus, per_page=5, page=2)
    assert first.total == second.total == 8
    assert len(first.hits) == 5 and len(second.hits) == 3
    assert not set(ids(first)) & set(ids(second))
    assert set(ids(first)) | set(ids(second)) == set(ids(find(corpus)))
    assert find(corpus, per_page=5, page=3).hits == []


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_pages_on_the_page(corpus_client, corpus_app):
    corpus_app.config["PER_PAGE"] = 5
    try:
        first = corpus_client.get("/practices").get_data(as_text=True)
        second = corpus_client.get("/practices?page=2").get_data(as_text=True)
    finally:
        corpus_app.config["PER_PAGE"] = 20
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('class="card practice-card"') == 3 and 'rel="prev"' in second


# Questions: three words or more, each optional, ranked by how many a practice covers --------------

#: heat-health-plan (and its translation) has cooling, older, residents and heatwave; heatstroke-alert has
#: cooling and shelters; none has all five.
QUESTION = "cooling shelters for older residents in a heatwave"


@pytest.mark.needs(RANKING)
def test_a_question_finds_practices_with_most_of_its_words_ranked_by_how_many(corpus):
    results = find(corpus, QUESTION)
    found = ids(results)
    assert found[0] in HEAT_GROUP and ID["heatstroke-alert"] in found[1:]
    assert results.notices == [ALL_WORDS_NOTICE]
    assert all(s is not None for s in [hit.score for hit in results.hits])


@pytest.mark.needs(RANKING)
def test_a_question_ranks_the_practice_with_all_its_words_first_and_needs_no_notice(corpus):
    results = find(corpus, "tsunami evacuation drill for schools")
    assert ids(results)[0] == ID["tsunami-drill"]
    assert len(results.hits) > 1 and results.notices == []


@pytest.mark.needs(RANKING)
def test_a_question_ranks_the_practice_covering_more_of_it_first(corpus):
    # Both sound sirens; only tsunami-drill's siren sounds for pupils.
    found = ids(find(corpus, "siren sounds for pupils"))
    assert found[0] == ID["tsunami-drill"] and ID["river-early-warning"] in found


@pytest.mark.needs(QUERY_LANGUAGE)
def test_a_phrase_in_a_question_is_still_required(corpus):
    # tsunami-drill has pupils, mosque and sirens' "warning", but not the phrase "early warning".
    assert ids(find(corpus, '"early warning" sirens pupils mosque')) == [ID["river-early-warning"]]


@pytest.mark.needs(QUERY_LANGUAGE)
def test_a_negated_word_in_a_question_still_excludes(corpus):
    found = ids(find(corpus, "tsunami evacuation drill schools -mosque"))
    assert ID["tsunami-drill"] not in found and ID["tsunami-hinan-biru"] in found


@pytest.mark.needs(RANKING)
def test_filters_narrow_a_question(corpus):
    assert ids(find(corpus, QUESTION, filters={"city": ["tokyo"]})) == [ID["heatstroke-alert"]]


@pytest.mark.needs(RANKING)
def test_a_question_keeps_the_words_practices_use_rather_than_correcting_them(corpus):
    results = find(corpus, "cooking water before rationing in dry seasons")
    assert ids(results)[0] == ID["drought-water-checklist"] and results.notices == []
    assert results.suggestion is None


# Languages -------------------------------------------------------------------------------------

@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_translations_are_one_result_naming_the_other_language(corpus):
    results = find(corpus, "heatwave")
    heat = [hit for hit in results.hits if hit.id in HEAT_GROUP]
    assert len(heat) == 1
    [other] = HEAT_GROUP - {heat[0].id}
    assert heat[0].also_in == [(other, "id" if other.endswith("panas") else "en")]


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_a_practice_shows_in_the_readers_language_when_it_has_a_matching_version(corpus, corpus_client):
    melbourne = {"city": ["melbourne"]}
    for reads, shown in [(("id", "en"), "melbourne/rencana-kesehatan-panas"),
                         (("ja", "en"), "melbourne/heat-health-plan")]:
        heat = [hit for hit in find(corpus, "", filters=melbourne, reads=reads).hits if hit.id in HEAT_GROUP]
        assert [hit.id for hit in heat] == [shown], reads
    page = corpus_client.get("/practices?city=melbourne", headers={"Accept-Language": "id-ID,id;q=0.9"})
    assert "Rencana kesehatan gelombang panas" in page.get_data(as_text=True)
    assert "Heat health plan" not in page.get_data(as_text=True).split("Also in")[0]


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_the_language_a_reader_searched_in_comes_before_their_own(corpus):
    # an Indonesian reader who types English reads English; one who types Indonesian, Indonesian
    def shown(q: str) -> list[str]:
        return [hit.id for hit in find(corpus, q, reads=("id", "en")).hits if hit.id in HEAT_GROUP]
    assert shown("heatwave") == ["melbourne/heat-health-plan"]
    assert shown("gelombang panas") == ["melbourne/rencana-kesehatan-panas"]


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_translation_shows_also_in_on_the_page(corpus_client):
    page = corpus_client.get("/practices?q=heatwave").get_data(as_text=True)
    assert "Also in:" in page
    # each linked once (the result's own link may carry its click-through ``ref``)
    assert len(re.findall(r'href="/practices/melbourne/(heat-health-plan|rencana-kesehatan-panas)(\?ref=[^"]*)?"',
                          page)) == 2


@pytest.mark.needs(RANKING)
def test_english_query_finds_indonesian_practice_but_ranks_english_first(corpus):
    found = ids(find(corpus, "flood"))
    assert ID["posko-banjir"] in found and ID["river-early-warning"] in found
    assert found.index(ID["river-early-warning"]) < found.index(ID["posko-banjir"])


@pytest.mark.needs(CROSS_LANGUAGE)
def test_indonesian_query_finds_english_practice(corpus):
    found = ids(find(corpus, "banjir"))
    assert found[0] == ID["posko-banjir"] and ID["river-early-warning"] in found


@pytest.mark.needs(CROSS_LANGUAGE)
def test_a_concept_meets_a_practice_that_names_it_only_in_another_language(corpus):
    # 避難所 (evacuation shelter) is in the Kobe practice's body only; nothing English is in it
    results = find(corpus, "evacuation shelter committee")
    assert ids(results)[0] == ID["hinanjo-unei"]
    assert ID["hinanjo-unei"] in ids(find(corpus, "evacuation shelter"))
    assert ID["hinanjo-unei"] in ids(find(corpus, "tempat pengungsian"))


@pytest.mark.needs(RANKING)
def test_practices_of_a_place_the_query_names_come_first(corpus):
    # Padang's drill says more of the words, but the question asks for Japan's (Sendai's) practice
    assert ids(find(corpus, "tsunami evacuation buildings"))[0] == ID["tsunami-drill"]
    assert ids(find(corpus, "tsunami evacuation buildings in japan"))[0] == ID["tsunami-hinan-biru"]
    assert ids(find(corpus, "tsunami evacuation buildings di jepang"))[0] == ID["tsunami-hinan-biru"]
    # a prefecture is in its country; and a place is never "corrected" (riau is not ribu)
    assert ids(find(corpus, "tsunami evacuation buildings in miyagi"))[0] == ID["tsunami-hinan-biru"]
    assert find(corpus, "banjir riau").corrected is None
    # a place typed in hiragana is the place's katakana name (ジャカルタ)
    results = find(corpus, "こうずい じゃかるた")
    assert set(ids(results)) == {ID["river-early-warning"], ID["posko-banjir"]} and results.notices == []


@pytest.mark.needs(CROSS_LANGUAGE)
def test_a_practice_is_about_what_its_metadata_says_in_every_language(corpus):
    # Tokyo's procedure says "heat alert" and "heatstroke", never "heatwave"; its hazard is heatwave
    assert ID["heatstroke-alert"] in ids(find(corpus, "gelombang panas"))
    assert ID["heatstroke-alert"] in ids(find(corpus, "熱波"))


@pytest.mark.needs(CROSS_LANGUAGE, SNIPPETS)
def test_the_snippet_marks_the_concept_in_the_practices_own_language(corpus):
    [hit] = [hit for hit in find(corpus, "lansia").hits if hit.id == ID["hinanjo-unei"]] or [None]
    assert hit is None  # the Kobe practice says nothing of the elderly
    [hit] = [hit for hit in find(corpus, "elderly").hits if hit.id == ID["posko-banjir"]]
    assert "<mark>lansia</mark>" in hit.snippet


@pytest.mark.needs(CROSS_LANGUAGE)
def test_a_japanese_question_typed_as_a_sentence_or_in_kana_finds_the_practice(corpus):
    assert ids(find(corpus, "避難所を運営するときの名簿の作り方"))[0] == ID["hinanjo-unei"]
    assert ID["hinanjo-unei"] in ids(find(corpus, "ひなんじょ"))


def test_japanese_query_finds_both_compounds(corpus):
    assert {ID["hinanjo-unei"], ID["tsunami-hinan-biru"]} <= set(ids(find(corpus, "避難")))


# Did you mean ----------------------------------------------------------------------------------

@pytest.mark.needs(SUGGESTIONS)
def test_misspelt_word_with_no_results_is_corrected(corpus):
    results = find(corpus, "evacuaton")
    assert ID["tsunami-drill"] in ids(results)
    assert "Nothing matched “evacuaton”; showing results for “evacuation”." in results.notices


@pytest.mark.needs(SUGGESTIONS)
def test_after_a_correction_the_count_names_the_corrected_query(corpus, corpus_client):
    results = find(corpus, "evacuaton")
    assert results.query == "evacuaton" and results.corrected == "evacuation"
    page = corpus_client.get("/practices?q=evacuaton").get_data(as_text=True)
    count = " ".join(re.search(r'<p class="result-count">(.*?)</p>', page, re.S).group(1).split())
    assert count == f"<strong>{results.total}</strong> practice{'s' * (results.total != 1)} for <q>evacuation</q>"
    api = corpus_client.get("/api/v1/search?q=evacuaton").get_json()
    assert (api["query"], api["corrected"], api["total"]) == ("evacuaton", "evacuation", results.total)
    assert corpus_client.get("/api/v1/search?q=evacuation").get_json()["corrected"] is None
    assert find(corpus, "evacuation").corrected is None


@pytest.mark.needs(SUGGESTIONS)
def test_a_slip_in_an_affixed_indonesian_word_is_corrected_in_its_root(corpus):
    # no practice says "pengevakuasian"; the Jakarta one says "mengevakuasi", root evakuasi
    results = find(corpus, "pengevakusian")
    assert results.corrected == "evakuasi" and ID["posko-banjir"] in ids(results)


@pytest.mark.needs(SUGGESTIONS)
def test_the_wrong_kanji_is_mended_though_part_of_the_compound_matches(library_app):
    # 防災訓連 finds practices through 防災 alone; 防災訓練 (disaster drill) reads the same and was meant
    results = library_app.extensions["exchange"].search.search(SearchRequest(q="防災訓連"), PUBLIC,
                                                               seconds=SEARCH_SECONDS)
    assert results.corrected == "防災訓練"
    assert results.notices == ["Showing results for “防災訓練” instead of “防災訓連”."]


@pytest.mark.needs(SUGGESTIONS)
def test_a_misspelt_word_is_corrected_where_no_practice_has_both_words(corpus):
    # no practice has both "evacuation" and "cooling": each word alone answers, the misspelt one too
    results = find(corpus, "evacuaton cooling")
    assert results.corrected == "evacuation cooling"
    assert {ID["tsunami-drill"], ID["heatstroke-alert"]} <= set(ids(results))


@pytest.mark.needs(SUGGESTIONS)
@pytest.mark.parametrize("q", ["soal", "phrase", "tsunami phrase"])
def test_a_real_word_no_practice_uses_is_never_mended_into_another(library_app, q):
    # "soal" (about) is not "soil", "phrase" is not "phase", though the bundled practices use only the latter
    results = library_app.extensions["exchange"].search.search(SearchRequest(q=q), PUBLIC, seconds=SEARCH_SECONDS)
    assert results.corrected is None and results.suggestion is None


@pytest.mark.needs(SUGGESTIONS)
def test_a_slip_is_mended_into_the_word_that_makes_a_term_with_its_neighbour(library_app):
    # "bumu" is one letter from bumi and from buku (book), which practices use more; gempa bumi is a term
    search = library_app.extensions["exchange"].search
    assert search.search(SearchRequest(q="gempa bumu"), PUBLIC, seconds=SEARCH_SECONDS).corrected == "gempa bumi"
    # three letters, and an English word (an asp is a snake), but beside kabut it is asap: kabut asap, haze
    assert search.search(SearchRequest(q="kabut asp"), PUBLIC, seconds=SEARCH_SECONDS).corrected == "kabut asap"


@pytest.mark.needs(SUGGESTIONS)
def test_the_wrong_kanji_of_the_same_sound_is_corrected(corpus):
    results = find(corpus, "非難所")  # 非難 (blame) for 避難 (evacuation): the commonest Japanese slip
    assert results.corrected == "避難所" and ID["hinanjo-unei"] in ids(results)
    assert find(corpus, "避難じょ").corrected == "避難所"  # kana typed where the kanji belongs


@pytest.mark.needs(SUGGESTIONS)
def test_a_misspelt_word_in_a_question_is_corrected_though_other_words_match(corpus):
    # a question needs only some of its words, so "evacuaton" was silently left out
    # (and no practice has every word even then: nothing says "kitchen" too)
    results = find(corpus, "tsunami evacuaton pupils kitchen")
    assert results.corrected == "tsunami evacuation pupils kitchen" and ids(results)[0] == ID["tsunami-drill"]
    assert results.notices == ["Showing results for “tsunami evacuation pupils kitchen” instead of "
                               "“tsunami evacuaton pupils kitchen”.", ALL_WORDS_NOTICE]


@pytest.mark.needs(SUGGESTIONS)
def test_a_word_practices_use_is_not_corrected_however_rare(corpus, corpus_client):
    results = find(corpus, "cooking")  # "cooling" is more common, but "cooking" is what was meant
    assert ids(results) == [ID["drought-water-checklist"]]
    assert results.suggestion is None
    assert "Did you mean" not in corpus_client.get("/practices?q=cooking").get_data(as_text=True)
    assert find(corpus, "panas kesehatan").suggestion is None  # Indonesian words, known in Indonesian


@pytest.mark.needs(SUGGESTIONS, QUERY_LANGUAGE)
def test_few_results_get_did_you_mean_with_the_querys_operators(corpus, corpus_client):
    results = find(corpus, "drougt OR tsunami")
    assert results.total == 2 and results.suggestion == "drought OR tsunami"
    page = corpus_client.get("/practices", query_string={"q": "drougt OR tsunami"}).get_data(as_text=True)
    assert "Did you mean" in page and "<strong>drought OR tsunami</strong>" in page


@pytest.mark.needs(SUGGESTIONS, QUERY_LANGUAGE)
@pytest.mark.parametrize(("q", "corrected", "found", "left_out"), [
    ("heet -melbourne", "heat -melbourne", "heatstroke-alert", "heat-health-plan"),
    ('"early warnng"', '"early warning"', "river-early-warning", "tsunami-drill"),  # its words, apart
    ("evacuaton hazard:tsunami", "evacuation hazard:tsunami", "tsunami-drill", "posko-banjir"),
    ("NOT heatwave evacuaton", "-heatwave evacuation", "tsunami-drill", "heat-health-plan"),
    ("volontiirs", "volunteers", "heat-health-plan", "tsunami-drill"),  # ten letters, three edits away
])
def test_a_correction_keeps_the_querys_operators(corpus, q, corrected, found, left_out):
    results = find(corpus, q)
    assert results.corrected == corrected
    assert ID[found] in ids(results) and ID[left_out] not in ids(results)
    assert f"Nothing matched “{q}”; showing results for “{corrected}”." in results.notices


@pytest.mark.needs(SUGGESTIONS)
def test_a_known_word_beside_an_operator_is_not_replaced(library_app):
    results = find(library_app.extensions["exchange"], "heat -melbourne")
    assert results.hits and results.suggestion is None and results.corrected is None


@pytest.mark.needs(SUGGESTIONS)
def test_a_word_of_a_glossary_term_is_never_corrected(library_app):
    # "bandang" is in no bundled practice but is a word of the glossary's "banjir bandang" (flash flood);
    # "badan" (body, agency) is one edit away and common.
    for q in ("banjir bandang", "banjir bandang city:jakarta"):
        results = find(library_app.extensions["exchange"], q)
        assert results.corrected is None and "badan" not in (results.suggestion or ""), q


@pytest.mark.needs(SUGGESTIONS)
def test_two_swapped_letters_are_corrected_to_the_word_they_spell(library_app):
    # "lansai" is one letter from "lantai" (floor) and two swapped letters from "lansia" (the elderly).
    results = find(library_app.extensions["exchange"], "evakuasi lansai")
    assert results.corrected == "evakuasi lansia" and results.hits


@pytest.mark.engine("whoosh")
def test_words_left_out_with_not_are_never_highlighted():
    from exchange.search.whoosh.backend import _body_terms

    terms = _body_terms(to_whoosh(ql.parse("banjir -rob -(air pasang)").tree))
    marked = set().union(*terms.values())
    assert "banjir" in marked and not marked & {"rob", "air", "pasang"}


@pytest.mark.needs(SUGGESTIONS)
def test_a_misspelt_glossary_word_is_corrected_in_any_language(library_app):
    results = find(library_app.extensions["exchange"], "liquefction")
    assert results.corrected == "liquefaction" and ids(results) == ["kobe/hanshin-awaji-kyokun"]


def test_no_suggestion_when_the_word_is_fine(corpus):
    assert find(corpus, "cooling").suggestion is None


# Related practices -----------------------------------------------------------------------------

@pytest.mark.needs(RELATED)
def test_related_practices_leave_out_the_practices_own_translations(corpus):
    found = [hit.id for hit in corpus.search.related(ID["heat-health-plan"], PUBLIC, seconds=SEARCH_SECONDS)]
    assert found and ID["heatstroke-alert"] in found
    assert not HEAT_GROUP & set(found)
    from_translation = [hit.id for hit in corpus.search.related(ID["rencana-kesehatan-panas"], PUBLIC,
                                                                seconds=SEARCH_SECONDS)]
    assert not HEAT_GROUP & set(from_translation)


@pytest.mark.needs(RELATED)
def test_related_practices_on_the_page(corpus_client):
    page = corpus_client.get("/practices/melbourne/heat-health-plan").get_data(as_text=True)
    section = page.split('id="related"', 1)[1].split("</section>", 1)[0]
    assert "Heatstroke alert procedure" in section
    # (the practice's own id is in each "Compare" link of the section, never as a related practice's page)
    assert '/practices/melbourne/rencana-kesehatan-panas"' not in section
    assert '/practices/melbourne/heat-health-plan"' not in section


# Permissions (A-1, A-2, A-3, A-9) --------------------------------------------------------------

@pytest.fixture(scope="module")
def twins(tmp_path_factory, database, engine):  # type: ignore[no-untyped-def]
    """Two libraries with the same public practices; one also holds partner-only practices.

    One restricted practice was public first and then restricted, as happens when an owner changes their mind.
    """
    with database.fresh() as with_url, database.fresh() as without_url:
        with_restricted = new_app(tmp_path_factory.mktemp("with-restricted"), with_url)
        without = new_app(tmp_path_factory.mktemp("without-restricted"), without_url)
        publish_all(without.extensions["exchange"], CORPUS)
        publish_all(with_restricted.extensions["exchange"], CORPUS)
        first = dict(RESTRICTED["levee-inspection"])
        del first["visibility"]
        publish_all(with_restricted.extensions["exchange"], {"levee-inspection": first})
        publish_all(with_restricted.extensions["exchange"], RESTRICTED)
        with searching_with(with_restricted, engine), searching_with(without, engine):
            yield with_restricted, without
        for app in (with_restricted, without):
            app.extensions["exchange"].db.dispose()


ABUSE = ["visibility:partners", "status:draft", "*", "*:*", "title:[a TO z]", "city:Other", "city:melbourne",
         "visibility:partners zebraword", "partners", "zebra*", "xenokip*", "hazard:riverine-flood", "year:2024",
         "NOT flood", "-zebraword", "zebraword OR plan"]
RESTRICTED_ONLY = ["zebraword", "quokkaline", "levee", "ヤマネコ", "xenokipas", "zebraword levee", "yamaneko"]
MISSPELT = ["zebrawrd", "quokaline", "xenokipa", "zebraword flod"]
SHARED = ["", "flood", "plan", "gauge", "heatwave", "避難所運営", "hinanjo", "hinanjo unei", "inspection", "panas",
          "inspecting flood levees and the gauge before the wet season"]
#: Misspellings as near to words of the restricted practice's earlier, public version ("report", "season", and
#: "flood" twice more) as to public words ("record", "seasons", "floods").
NEAR_RESTRICTED = ["repord", "seasns", "flods"]


FILTER_SETS = [{}, {"city": ["melbourne"], "visibility": ["partners"]},
               {"language": ["id", "ja"], "hazard": ["riverine-flood", "heatwave", "earthquake"]}]


def shown(results: SearchResults) -> list[tuple[str, float | None, str, list[tuple[str, str]]]]:
    """Each hit as a visitor meets it: id, score, snippet and other languages, in rank order."""
    return [(hit.id, hit.score, str(hit.snippet), hit.also_in) for hit in results.hits]


@pytest.mark.parametrize("q", SHARED + RESTRICTED_ONLY + MISSPELT + NEAR_RESTRICTED + ABUSE)
def test_anonymous_search_is_as_if_restricted_practices_did_not_exist(twins, q):
    for filters in FILTER_SETS:
        seen, baseline = (find(app.extensions["exchange"], q, filters=filters) for app in twins)
        assert not RESTRICTED_IDS & set(ids(seen)), filters
        assert not any(other in RESTRICTED_IDS for hit in seen.hits for other, _ in hit.also_in), filters
        assert seen.total == baseline.total, (filters, seen.notices, baseline.notices)
        assert seen.facets == baseline.facets, filters
        assert seen.suggestion == baseline.suggestion, filters
        assert seen.notices == baseline.notices, filters
        assert shown(seen) == shown(baseline), filters


@pytest.mark.needs(RANKING)
@pytest.mark.parametrize("q", ["flood", "plan", "gauge", "flood plan", "flood inspection", "避難所運営",
                               "gelombang panas", "heat OR levee", "hinanjo"])
def test_anonymous_scores_do_not_depend_on_restricted_practices_with_the_same_words(twins, q):
    with_restricted, without = (app.extensions["exchange"] for app in twins)
    staff = find(with_restricted, q, visibilities=STAFF)
    assert RESTRICTED_IDS & {other for hit in staff.hits for other in [hit.id, *dict(hit.also_in)]}  # q is in them
    seen, baseline = find(with_restricted, q), find(without, q)
    assert seen.hits and all(hit.score for hit in seen.hits)
    assert shown(seen) == shown(baseline)


# Whoosh's scores use statistics of the documents a viewer may read (BM25F); the postgres engine's
# ts_rank_cd scores each practice on its own, so no other practice, restricted or not, moves its score.
@pytest.mark.engine("whoosh")
@pytest.mark.needs(RANKING)
def test_partner_scores_count_the_restricted_practices_they_read(twins):
    with_restricted, without = (app.extensions["exchange"] for app in twins)
    river = ID["river-early-warning"]

    def score(instance, visibilities: frozenset[str]) -> float | None:  # type: ignore[no-untyped-def]
        return next(hit.score for hit in find(instance, "flood", visibilities=visibilities).hits if hit.id == river)

    assert score(with_restricted, PUBLIC) == score(without, PUBLIC)
    assert score(with_restricted, STAFF) != score(with_restricted, PUBLIC)
    assert score(with_restricted, STAFF) != score(without, STAFF)


@pytest.mark.engine("whoosh")
@pytest.mark.parametrize("q", ["gauge", "flood", "plan", "flood plan", "避難所運営"])
def test_staff_scores_are_bm25f_over_the_whole_index_as_before(twins, q):
    instance = twins[0].extensions["exchange"]  # restricted practices, and a deleted earlier version
    with instance.search.index.searching() as searcher:
        whoosh = {searcher.stored_fields(hit.docnum)["id"]: round(hit.score, 4)
                  for hit in searcher.search(to_whoosh(ql.parse(q).tree), limit=None)}
    hits = find(instance, q, visibilities=STAFF).hits
    assert hits and {hit.id: hit.score for hit in hits} == {hit.id: whoosh[hit.id] for hit in hits}


@pytest.mark.needs(RANKING)
def test_scores_are_numbers_in_a_library_indexed_at_once(library_app):
    for visibilities in (PUBLIC, STAFF):
        hits = find(library_app.extensions["exchange"], "flood warning", visibilities=visibilities).hits
        assert hits and all(math.isfinite(hit.score) for hit in hits)


@pytest.mark.needs(SUGGESTIONS)
@pytest.mark.parametrize(("q", "corrected"), list(zip(NEAR_RESTRICTED, ["record", "seasons", "floods"], strict=True)))
def test_misspellings_are_corrected_by_what_public_practices_say(twins, q, corrected):
    seen = find(twins[0].extensions["exchange"], q)
    assert f"Nothing matched “{q}”; showing results for “{corrected}”." in seen.notices
    assert seen.hits


@pytest.mark.needs(SUGGESTIONS)
def test_a_word_only_a_restricted_practice_bears_is_never_offered_to_visitors(instance, make_practice):
    restricted = dict(title="液状化の調査", summary="埋立地の液状化。", body="埋立地の液状化を調べる。\n",
                      language="ja", country="JP", city="kobe", hazards="[liquefaction]")
    publishing.publish(instance, make_practice(visibility="partners", **restricted), "ekijoka", "test")
    publishing.publish(instance, make_practice(title="Liquid fuel store", body="The liquid fuel store.\n"),
                       "fuel", "test")
    for q in ("liquefction", "liquefction OR tsunami"):
        seen = find(instance, q)
        assert seen.total == 0 and seen.suggestion is None and seen.corrected is None, q
    staff = find(instance, "liquefction", visibilities=STAFF)
    assert staff.corrected == "liquefaction" and ids(staff) == ["kobe/ekijoka"]


@pytest.mark.parametrize("q", RESTRICTED_ONLY + MISSPELT)
def test_restricted_words_find_nothing_and_suggest_nothing(twins, q):
    seen = find(twins[0].extensions["exchange"], q)
    if q == "zebraword flod":
        # the public word is mended and the restricted one left as typed, exactly as in a library without it
        unseen = find(twins[1].extensions["exchange"], q)
        assert seen.corrected == unseen.corrected and seen.corrected in (None, "zebraword flood")
        assert (seen.notices, ids(seen), seen.suggestion) == (unseen.notices, ids(unseen), unseen.suggestion)
        return
    assert seen.total == 0 and seen.hits == []
    assert seen.suggestion is None
    assert not [n for n in seen.notices if "showing results for" in n]


@pytest.mark.parametrize("q", ["", "zebraword", "zebrawrd", "ヤマネコ", "visibility:partners", "*:*", "city:melbourne",
                               "status:draft", "flood", "flood plan", "flods"])
def test_anonymous_pages_and_api_are_identical_with_and_without_restricted_practices(twins, q):
    clients = [app.test_client() for app in twins]
    pages = [c.get("/practices", query_string={"q": q}) for c in clients]
    assert [p.status_code for p in pages] == [200, 200]
    assert pages[0].get_data(as_text=True) == pages[1].get_data(as_text=True)
    answers = [c.get("/api/v1/search", query_string={"q": q}).get_json() for c in clients]
    assert answers[0] == answers[1]


def test_restricted_words_are_not_on_the_anonymous_page(twins):
    client = twins[0].test_client()
    for q in ("zebraword", "zebrawrd", "levee"):
        page = client.get("/practices", query_string={"q": q}).get_data(as_text=True)
        assert "Nothing found" in page and "Zebraword levee" not in page
        assert "Did you mean" not in page and "showing results for" not in page
    assert client.get("/practices/melbourne/levee-inspection").status_code == 404
    assert client.get("/api/v1/practices/kobe/bichiku-himitsu").status_code == 404


@pytest.mark.parametrize(("q", "expected"), [
    ("zebraword", "melbourne/levee-inspection"),
    ("quokkaline", "melbourne/levee-inspection"),
    ("ヤマネコ", "kobe/bichiku-himitsu"),
    ("xenokipas", "melbourne/rencana-rahasia-panas"),
    ("visibility:partners zebraword", "melbourne/levee-inspection"),
])
@pytest.mark.needs(QUERY_LANGUAGE)
def test_partner_staff_find_restricted_practices(twins, q, expected):
    instance = twins[0].extensions["exchange"]
    results = discovery.find(instance, SearchRequest(q=q), PartnerStaff())
    assert ids(results) == [expected]
    assert results.total == 1


@pytest.mark.needs(ROMAJI)
def test_romaji_finds_and_counts_a_restricted_practice_for_partner_staff_only(twins):
    instance = twins[0].extensions["exchange"]
    for q, filters in [("yamaneko", {}), ("hinanjo", {}), ("hinanjo", {"city": ["kobe"], "kind": ["plan"]}),
                       ("hinanjo kind:plan", {"hazard": ["earthquake"]})]:
        staff, anonymous = find(instance, q, STAFF, filters=filters), find(instance, q, filters=filters)
        assert "kobe/bichiku-himitsu" in ids(staff), (q, filters)  # ヤマネコ倉庫 … 避難所運営に使う
        assert "kobe/bichiku-himitsu" not in ids(anonymous), (q, filters)
        assert staff.total == anonymous.total + 1, (q, filters)
        assert staff.facets["kind"].get("plan", 0) == anonymous.facets["kind"].get("plan", 0) + 1, (q, filters)
        assert all(hit.card["kind"] == "plan" for hit in staff.hits if "kind" in filters or "kind:" in q)


@pytest.mark.needs(TRANSLATIONS_AS_ONE)
def test_partner_staff_counts_include_restricted_practices(twins):
    instance = twins[0].extensions["exchange"]
    anonymous = find(instance)
    staff = find(instance, visibilities=STAFF)
    assert staff.total == anonymous.total + 2  # the restricted translation joins its original's group
    assert staff.facets["city"]["melbourne"] > anonymous.facets["city"]["melbourne"]
    assert staff.facets["city"]["kobe"] == anonymous.facets["city"]["kobe"] + 1
    heat = [hit for hit in find(instance, "heat health", visibilities=STAFF).hits if hit.id in HEAT_GROUP]
    assert ("melbourne/rencana-rahasia-panas", "id") in heat[0].also_in


@pytest.mark.needs(RELATED)
def test_related_practices_never_show_restricted_ones_to_anonymous_visitors(twins):
    instance = twins[0].extensions["exchange"]
    for practice_id in ID.values():
        found = {hit.id for hit in instance.search.related(practice_id, PUBLIC, limit=20, seconds=SEARCH_SECONDS)}
        assert not found & RESTRICTED_IDS, practice_id
        with instance.db.session():
            assert not {h.id for h in discovery.related(instance, practice_id, policy.ANONYMOUS, 20)} & RESTRICTED_IDS
    staff = {hit.id for hit in instance.search.related(ID["river-early-warning"], STAFF, limit=20,
                                                       seconds=SEARCH_SECONDS)}
    assert "melbourne/levee-inspection" in staff  # the restricted practice is related, and staff see it


def test_related_on_the_page_never_links_restricted_practices(twins):
    client = twins[0].test_client()
    page = client.get("/practices/jakarta/river-early-warning").get_data(as_text=True)
    assert "levee-inspection" not in page and "Zebraword" not in page


@pytest.mark.needs(RELATED)
def test_related_order_and_scores_for_anonymous_visitors_do_not_depend_on_restricted_practices(twins):
    with_restricted, without = (app.extensions["exchange"].search for app in twins)

    def listed(index, practice_id: str, visibilities: frozenset[str] = PUBLIC) -> list:  # type: ignore[no-untyped-def]
        return [(hit.id, hit.score, hit.also_in)
                for hit in index.related(practice_id, visibilities, limit=20, seconds=SEARCH_SECONDS)]

    for practice_id in ID.values():
        assert listed(with_restricted, practice_id) == listed(without, practice_id), practice_id
    shelters, tsunami_building = ID["hinanjo-unei"], ID["tsunami-hinan-biru"]
    anonymous = {hit_id: score for hit_id, score, _ in listed(with_restricted, shelters)}
    staff = {hit_id: score for hit_id, score, _ in listed(with_restricted, shelters, STAFF)}
    assert "kobe/bichiku-himitsu" in staff and anonymous[tsunami_building]
    assert staff[tsunami_building] != anonymous[tsunami_building]  # staff statistics count what staff read


@pytest.mark.needs(RELATED)
def test_a_restricted_practice_has_no_related_practices_for_anonymous_visitors(twins):
    index = twins[0].extensions["exchange"].search
    assert index.related("melbourne/levee-inspection", PUBLIC) == []
    assert index.related("melbourne/levee-inspection", STAFF)


@pytest.mark.engine("whoosh")
def test_prefix_expansion_is_limited_among_words_the_visitor_may_read(instance, make_practice):
    words = " ".join(f"zqxb{n:03d}" for n in range(MAX_PREFIX_TERMS - 1))
    publishing.publish(instance, make_practice(title="Pump list", body=f"{words}\n"), "pumps", "test")
    publishing.publish(instance, make_practice(title="Pump", body="The zqxz pump.\n"), "pump", "test")
    before = shown(find(instance, "zqx*"))
    assert {hit_id for hit_id, *_ in before} == {"jakarta/pumps", "jakarta/pump"}
    # Its word comes first of all: counted against the limit, it would push "zqxz" out.
    publishing.publish(instance, make_practice(title="Secret pump", body="The zqxa pump.\n", visibility="partners"),
                    "secret", "test")
    assert shown(find(instance, "zqx*")) == before


@pytest.mark.engine("whoosh")
def test_word_counts_kept_between_searches_follow_a_practice_made_partners_only(instance, make_practice):
    # Key terms and spelling weigh words by how often the viewer's documents use them, counts kept across
    # searcher generations: a practice made partners-only must leave the visitor's count at once.
    from exchange.search.whoosh.backend import _evaluation

    def visitors_count() -> float:
        index = instance.search.index
        with index.searching() as searcher:
            statistics = index.facet_cache(searcher).statistics(PUBLIC)
            return _evaluation(index, searcher, statistics, time.monotonic() + SEARCH_SECONDS).frequency(
                "body_en", "zqxc")

    publishing.publish(instance, make_practice(title="Pump", body="The zqxc pump.\n"), "pump", "test")
    publishing.publish(instance, make_practice(title="Levee", body="The zqxc levee, zqxc.\n"), "levee", "test")
    assert visitors_count() == 3
    assert visitors_count() == 3  # (kept)
    publishing.publish(instance, make_practice(title="Levee", body="The zqxc levee, zqxc.\n", visibility="partners"),
                       "levee", "test")
    assert visitors_count() == 1
    publishing.publish(instance, make_practice(title="Levee", body="The zqxc levee, zqxc.\n"), "levee", "test")
    assert visitors_count() == 3


@pytest.mark.needs(FULL_TEXT)
def test_practice_made_partners_only_disappears_from_anonymous_search(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Levee plan", body="The zebraword levee.\n"), "levee", "test")
    assert client.get("/api/v1/search?q=zebraword").get_json()["total"] == 1
    publishing.publish(instance, make_practice(title="Levee plan", body="The zebraword levee.\n",
                                            visibility="partners"), "levee", "test")
    answer = client.get("/api/v1/search?q=zebraword").get_json()
    assert answer["total"] == 0 and answer["results"] == [] and answer["facets"]["city"] == {}


# Resource limits (R-5, R-6) --------------------------------------------------------------------

HOSTILE_QUERIES = {
    "star": "*",
    "short prefix": "a*",
    "infix": "*a*",
    "fuzzy": "term~5",
    "200-term OR": " OR ".join(f"word{i}" for i in range(200)),
    "10 KB": "flood warning " * 800,
    "100 nested parentheses": "(" * 100 + "flood" + ")" * 100,
    "unbalanced field": "title:(",
    "backslash": "\\",
    "backslashes": "\\\\",
    "every filter": " ".join(f"{name}:x" for name in ("hazard", "city", "country", "kind", "phase", "language")) * 5,
    "many prefixes": " OR ".join(["the*", "war*", "flo*", "eva*", "tsu*"] * 10),
}


@pytest.mark.parametrize("q", list(HOSTILE_QUERIES.values()), ids=list(HOSTILE_QUERIES))
def test_hostile_queries_are_answered(library_app, library_client, q):
    """How long each takes is bench/hostile_queries.py's to measure; the deadline bounds it (below)."""
    response = library_client.get("/practices", query_string={"q": q})
    assert response.status_code == 200
    assert "Something went wrong" not in response.get_data(as_text=True)
    results = find(library_app.extensions["exchange"], q)
    assert results.total >= 0 and len(results.hits) <= results.total


def test_one_long_word_is_answered(client, instance, make_practice):
    publishing.publish(instance, make_practice(), "flood", "test")
    rng = random.Random(1)
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(256))
    response = client.get("/practices", query_string={"q": word})
    assert response.status_code == 200
    assert find(instance, word).total == 0


@pytest.mark.needs(FULL_TEXT)
@pytest.mark.parametrize("q", ["", "flood", "flod", "flood warning zebraword", "title:flood OR tsunami*"])
def test_a_search_past_its_deadline_stops_and_says_so(library_app, q):
    """A deadline of no time at all has passed before the first term is matched, whatever the machine."""
    instance = library_app.extensions["exchange"]
    stopped = instance.search.search(SearchRequest(q=q), PUBLIC, seconds=0)
    assert stopped.total == 0 and stopped.hits == [] and stopped.suggestion is None
    assert "The search took too long and was stopped; try fewer or more specific words." in stopped.notices
    unhurried = instance.search.search(SearchRequest(q=q), PUBLIC, seconds=3600)
    assert "The search took too long" not in " ".join(unhurried.notices)


@pytest.mark.needs(QUERY_LANGUAGE)
def test_long_queries_are_shortened_with_a_notice(library_client):
    page = library_client.get("/practices", query_string={"q": HOSTILE_QUERIES["10 KB"]}).get_data(as_text=True)
    assert "Your search was shortened to its first 256 characters." in page
    page = library_client.get("/practices", query_string={"q": HOSTILE_QUERIES["200-term OR"]}).get_data(as_text=True)
    assert "Only the first 20 search terms were used." in page


@pytest.mark.needs(QUERY_LANGUAGE)
def test_star_lists_the_library_rather_than_matching_every_term(library_app):
    instance = library_app.extensions["exchange"]
    assert find(instance, "*").total == find(instance, "").total == 35


# Escaping (X-9) --------------------------------------------------------------------------------

MARK = re.compile(r'<mark(?: class="[\w ]*")?>')


def only_marks(html: str) -> bool:
    """True when ``html`` holds no tag other than <mark> (perhaps with a class) and </mark>."""
    return "<" not in MARK.sub("", html).replace("</mark>", "")


@pytest.mark.needs(SNIPPETS)
def test_snippets_and_titles_are_escaped(client, instance, make_practice):
    publishing.publish(instance, make_practice(
        title="My <cool> Page", summary="A <b>bold</b> & plain summary.",
        body="Before <img src=x onerror=alert(1)> after.\n\n<script>alert(2)</script> and more.\n"), "cool", "test")
    for q in ("cool", "onerror", "script", "img"):
        response = client.get("/practices", query_string={"q": q})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "My &lt;cool&gt; Page" in page, q
        assert "<img" not in page and "<script" not in without_own_scripts(page) and "<cool>" not in page
        assert "<b>" not in page
        [snippet] = snippets(page)
        assert only_marks(snippet), snippet
        hit = find(instance, q).hits[0]
        assert only_marks(str(hit.snippet))
        api = client.get("/api/v1/search", query_string={"q": q}).get_json()["results"][0]
        assert api["title"] == "My <cool> Page" and only_marks(api["snippet"])
    onerror = MARK.sub("<mark>", snippets(client.get("/practices?q=onerror").get_data(as_text=True))[0])
    assert "&lt;img src=x <mark>onerror</mark>=alert(1)&gt;" in onerror


def test_summary_used_as_snippet_is_escaped(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Quiet page", summary="Use <b>bold</b> & <i>care</i>.",
                                            body="Nothing here.\n"), "quiet", "test")
    page = client.get("/practices?q=quiet").get_data(as_text=True)
    [snippet] = snippets(page)
    assert snippet == "Use &lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;care&lt;/i&gt;."


def without_own_scripts(page: str) -> str:
    """A page without the scripts it loads from the app's static files (a signed-in reader's pack tools)."""
    return re.sub(r'<script src="/static/[a-z_]+\.js" defer></script>', "", page)


@pytest.mark.parametrize("q", ["<svg onload=alert(1)>", '"><script>alert(1)</script>', "</title><svg/onload=alert(1)>"])
def test_the_query_is_escaped_on_the_results_page(client, instance, make_practice, q):
    publishing.publish(instance, make_practice(title="Script and svg alerts", body="The svg onload script.\n"),
                    "alerts", "test")
    response = client.get("/practices", query_string={"q": q})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" not in page and "<script" not in without_own_scripts(page)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title.startswith("&lt;") or title.startswith("&#34;&gt;")
    assert "&lt;svg" in page or "&lt;script&gt;" in page


@pytest.mark.parametrize("path", ["/", "/practices", "/practices?q=flood", "/api/v1/search", "/cities/jakarta"])
def test_an_empty_library_answers_every_search_page(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.engine("whoosh")
@pytest.mark.parametrize("q", ["banjir evakuasi", "tsunami evacuation drill for schools", "flood OR 地震 -sendai"])
@pytest.mark.parametrize("visibilities", [PUBLIC, STAFF])
def test_an_empty_library_answers_every_search_from_its_own_engine(instance, q, visibilities):
    # an empty index once weighed a concept by log(0), and search fell back to the catalogue
    results = instance.search.search(SearchRequest(q=q), visibilities, seconds=SEARCH_SECONDS)
    assert results.total == 0 and not results.degraded


@pytest.mark.engine("whoosh")
def test_degraded_search_escapes_too(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="My <cool> Page", summary="A <b>bold</b> summary."),
                       "cool", "test")
    for entry in instance.search.index.live_folder().iterdir():
        entry.unlink()
    page = client.get("/practices?q=cool").get_data(as_text=True)
    assert DEGRADED in page and "My &lt;cool&gt; Page" in page and "<b>" not in page
