"""GET /api/v1/search: the shape partner scripts depend on (DESIGN.md), and 400 for bad parameters."""

from __future__ import annotations

import pytest

from exchange.library import publishing

TOP_KEYS = {"query", "total", "page", "per_page", "results", "facets", "suggestion"}
#: Keys the API adds beyond DESIGN.md ("extend them freely").
EXTRA_TOP_KEYS = {"notices", "corrected"}
RESULT_KEYS = {"id", "title", "summary", "city", "country", "language", "kind", "hazards", "phases", "published", "url",
               "snippet", "score", "translations"}
#: Keys each result has beyond DESIGN.md: its current version, and when the library received it.
EXTRA_RESULT_KEYS = {"version", "revised"}
FACET_KEYS = {"hazard", "city", "country", "kind", "phase", "language", "year"}


def test_search_answers_in_the_documented_shape(library_client):
    response = library_client.get("/api/v1/search?q=tsunami")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == TOP_KEYS | EXTRA_TOP_KEYS
    assert body["query"] == "tsunami" and body["page"] == 1 and body["per_page"] == 20
    assert body["total"] == len(body["results"]) > 0
    assert set(body["facets"]) == FACET_KEYS
    assert body["suggestion"] is None
    for result in body["results"]:
        assert set(result) == RESULT_KEYS | EXTRA_RESULT_KEYS
        city, slug = result["id"].split("/")
        assert result["city"] == city
        assert result["url"] == f"http://px.test/practices/{city}/{slug}"
        assert isinstance(result["hazards"], list) and isinstance(result["phases"], list)
        assert isinstance(result["score"], float)
        assert len(result["published"]) == 10 and result["published"][4] == "-"
    assert all(isinstance(n, int) for values in body["facets"].values() for n in values.values())
    assert "tsunami" in body["facets"]["hazard"] and "tsunami" in body["results"][0]["title"].lower()


def test_every_result_is_a_readable_practice(library_client):
    body = library_client.get("/api/v1/search?per_page=100").get_json()
    assert body["total"] == len(body["results"]) == 35
    for result in body["results"][:5]:
        practice = library_client.get(f"/api/v1/practices/{result['id']}").get_json()
        assert practice["title"] == result["title"] and practice["summary"] == result["summary"]


def test_empty_query_is_newest_first_without_scores(library_client):
    body = library_client.get("/api/v1/search").get_json()
    assert body["query"] == "" and body["total"] == 35 and len(body["results"]) == 20
    dates = [result["published"] for result in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert all(result["score"] is None for result in body["results"])


def test_filters_sort_and_pages(library_client):
    body = library_client.get("/api/v1/search?hazard=tsunami&hazard=heatwave").get_json()
    assert body["total"] == 7
    assert all({"tsunami", "heatwave"} & set(result["hazards"]) for result in body["results"])
    first = library_client.get("/api/v1/search?language=ja&per_page=4").get_json()
    second = library_client.get("/api/v1/search?language=ja&per_page=4&page=2").get_json()
    assert first["total"] == second["total"] == 11 and first["per_page"] == 4 and second["page"] == 2
    assert len(first["results"]) == len(second["results"]) == 4
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    newest = library_client.get("/api/v1/search?q=flood&sort=newest").get_json()
    dates = [result["published"] for result in newest["results"]]
    assert dates == sorted(dates, reverse=True)
    country = library_client.get("/api/v1/search?country=JP&kind=plan").get_json()
    assert country["total"] > 0
    assert all(r["country"] == "JP" and r["kind"] == "plan" for r in country["results"])


def test_suggestion_is_a_corrected_query(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Cooking water", body="Cooking water is kept aside.\n",
                                            hazards="[drought]"), "cooking", "test")
    for slug in ("cooling-a", "cooling-b"):
        publishing.publish(instance, make_practice(title="Cooling centres", body="Open cooling centres.\n",
                                                hazards="[heatwave]"), slug, "test")
    body = client.get("/api/v1/search?q=cooking").get_json()
    assert body["total"] == 1 and body["suggestion"] is None  # a word practices use is never corrected
    body = client.get("/api/v1/search", query_string={"q": "coolng OR cooking"}).get_json()
    assert body["total"] == 1 and body["suggestion"] == "cooling OR cooking"


@pytest.mark.parametrize("query", [
    "sort=bad", "sort=", "sort=NEWEST", "page=0", "page=abc", "page=-1", "page=1.5", "page=1001", "per_page=1000",
    "per_page=0", "per_page=101", "per_page=x", "hazard=unknown", "hazard=tsunami&hazard=unknown", "kind=bogus",
    "phase=later", "year=abc", "year=20245", "q=" + "x" * 257,
])
def test_bad_parameters_get_400_with_an_error(library_client, query):
    response = library_client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize(("query", "words"), [
    ("sort=bad", ["sort", "relevance", "newest"]),
    ("page=0", ["page", "1", "1000"]),
    ("per_page=1000", ["per_page", "100"]),
    ("hazard=unknown", ["hazard", "'unknown'", "tsunami"]),
    ("q=" + "x" * 257, ["q", "257", "256"]),
])
def test_errors_name_the_parameter_and_what_is_allowed(library_client, query, words):
    error = library_client.get(f"/api/v1/search?{query}").get_json()["error"]
    for word in words:
        assert word in error


@pytest.mark.parametrize("path", ["/api/v1/search?page=%C2%B2", "/api/v1/search?per_page=%C2%B2",
                                  "/practices?page=%C2%B2"])
def test_unusual_digits_are_refused_not_a_server_error(library_client, path):
    response = library_client.get(path)
    assert response.status_code == (400 if path.startswith("/api/") else 200)


def test_longest_allowed_query_and_unknown_city_are_fine(library_client):
    assert library_client.get("/api/v1/search?q=" + "x" * 256).status_code == 200
    body = library_client.get("/api/v1/search?city=atlantis").get_json()
    assert body["total"] == 0 and body["results"] == []


def test_query_syntax_in_the_api(library_client):
    body = library_client.get("/api/v1/search", query_string={"q": "hazard:tsunami language:ja"}).get_json()
    assert body["total"] == 3 and all(r["language"] == "ja" for r in body["results"])
    body = library_client.get("/api/v1/search", query_string={"q": "visibility:partners"}).get_json()
    assert all(r["id"] for r in body["results"])  # plain words, never a field query


def test_restricted_practice_is_not_in_the_api(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Public levee plan", body="The levee.\n"), "public-levee", "test")
    publishing.publish(instance, make_practice(title="Zebraword levee plan", body="The zebraword levee.\n",
                                            visibility="partners"), "secret-levee", "test")
    for q, total in [("zebraword", 0), ("levee", 1), ("", 1), ("visibility:partners", 0), ("*:*", 1),
                     ("zebraword OR levee", 1)]:
        body = client.get("/api/v1/search", query_string={"q": q}).get_json()
        assert [r["id"] for r in body["results"]] == ["jakarta/public-levee"] * total, q
        assert body["total"] == total, q
        assert body["facets"]["city"] == ({"jakarta": 1} if total else {}), q
        assert body["suggestion"] is None, q


def test_hits_name_their_translations(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Heat health plan", body="Open cooling centres.\n",
                                               hazards="[heatwave]"), "heat-plan", "test")
    publishing.publish(instance, make_practice(title="Rencana panas", body="Buka pusat pendinginan.\n", language="id",
                                               hazards="[heatwave]", translation_of="jakarta/heat-plan"),
                       "rencana-panas", "test")
    body = client.get("/api/v1/search?q=heat").get_json()
    [hit] = body["results"]
    [other] = [i for i in ("jakarta/heat-plan", "jakarta/rencana-panas") if i != hit["id"]]
    titles = {"jakarta/heat-plan": "Heat health plan", "jakarta/rencana-panas": "Rencana panas"}
    assert hit["translations"] == [{"id": other, "language": "en" if other.endswith("plan") else "id",
                                    "title": titles[other], "url": f"http://px.test/practices/{other}"}]


def test_restricted_translation_is_not_listed_to_anonymous_visitors(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Heat health plan", body="Open cooling centres.\n",
                                               hazards="[heatwave]"), "heat-plan", "test")
    publishing.publish(instance, make_practice(title="Rencana rahasia", body="Buka pusat pendinginan.\n", language="id",
                                               hazards="[heatwave]", translation_of="jakarta/heat-plan",
                                               visibility="partners"), "rencana-rahasia", "test")
    assert client.get("/api/v1/search?q=pendinginan").get_json()["total"] == 0
    for q in ("heat", "cooling", ""):
        body = client.get("/api/v1/search", query_string={"q": q}).get_json()
        assert [(r["id"], r["translations"]) for r in body["results"]] == [("jakarta/heat-plan", [])], q
        assert "rahasia" not in str(body), q
