"""The OpenAPI 3.1 description of API v1 (``/api/v1/openapi.json``).

Written beside the routes of ``web/api.py`` and kept to them by tests: every ``/api/v1`` rule of the app is
described here with its methods, and schemathesis calls every operation and checks each answer against
these schemas (tests/test_api.py).
"""

from __future__ import annotations

from typing import Any

from exchange.library import vocabularies
from exchange.search.backend import FACETS
from exchange.search.backend import MAX_PER_PAGE
from exchange.search.backend import SORTS
from exchange.search.query import MAX_QUERY_CHARS

VERSION = "1.2.0"

_STRING = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": _STRING}
_ERROR = {"$ref": "#/components/schemas/Error"}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON object with exactly ``properties``, all required but ``optional``."""
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": [name for name in properties if name not in optional]}


_INTEGER = {"type": "integer"}
#: where the caller stands against its calls a minute, on every answer to a call that was counted (as GitHub's)
_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Calls a minute this caller may make (per token, or per address "
                                         "without one; every server of the library counts together)",
                          "schema": _INTEGER},
    "X-RateLimit-Remaining": {"description": "Calls left in this minute", "schema": _INTEGER},
    "X-RateLimit-Used": {"description": "Calls made in this minute, this one included", "schema": _INTEGER},
    "X-RateLimit-Reset": {"description": "When the count starts again: the minute's end, in seconds since "
                                         "1970-01-01 UTC", "schema": _INTEGER},
}


def _answer(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "headers": {**_LIMIT_HEADERS, **(headers or {})},
            "content": {"application/json": {"schema": schema}}}


#: the refusals every operation may answer with
_REFUSALS = {
    "401": _answer("The token does not work (unknown, expired, revoked, or its account disabled), or the "
                   "Authorization header is not 'Bearer <token>'. Nothing was done.", _ERROR),
    "403": _answer("The token lacks the scope this call needs.", _ERROR),
    "429": _answer("Too many calls this minute (per token, or per address without one); the error says how "
                   "calls are counted and which setting sets the limit.", _ERROR,
                   {"Retry-After": {"description": "Seconds until the count starts again", "schema": _INTEGER}}),
}

_FRONT_MATTER: dict[str, Any] = {
    "title": _STRING, "summary": _STRING, "city": _STRING, "country": _STRING, "language": _STRING,
    "kind": {"type": "string", "enum": vocabularies.kinds().keys()},
    "hazards": {"type": "array", "items": {"type": "string", "enum": vocabularies.hazards().keys()}},
    "phases": {"type": "array", "items": {"type": "string", "enum": vocabularies.phases().keys()}},
    "published": {"type": "string", "format": "date"},
    "updated": {"type": ["string", "null"], "format": "date"},
    "review_by": {"type": ["string", "null"], "format": "date"},
    "organisation": _TEXT_OR_NULL, "authors": {"type": ["array", "null"], "items": _STRING},
    "sendai_priorities": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1, "maximum": 4}},
    "tags": {"type": ["array", "null"], "items": _STRING},
    "license": _STRING, "visibility": {"type": "string", "enum": vocabularies.visibilities().keys()},
    "translation_of": _TEXT_OR_NULL, "source": _TEXT_OR_NULL,
}

_TRANSLATION = _object({"id": _STRING, "language": _STRING, "title": _STRING, "url": _STRING})

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string", "description": "What was wrong, naming the parameter"}}),
    "SearchHit": _object({
        "id": _STRING, "title": _STRING, "summary": _STRING, "city": _STRING, "country": _STRING,
        "language": _STRING, "kind": _STRING, "hazards": _STRINGS, "phases": _STRINGS, "published": _STRING,
        "version": {"type": "integer", "description": "The number of the current version"},
        "revised": {"type": ["string", "null"], "format": "date-time",
                    "description": "When the library received the current version (UTC); null for a first version"},
        "url": _STRING, "snippet": {"type": "string", "description": "Safe HTML with the matched words marked"},
        "score": {"type": ["number", "null"]}, "translations": {"type": "array", "items": _TRANSLATION}}),
    "SearchResults": _object({
        "query": _STRING, "corrected": _TEXT_OR_NULL, "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
        "facets": _object({name: {"type": "object", "additionalProperties": {"type": "integer"}} for name in FACETS}),
        "suggestion": _TEXT_OR_NULL, "notices": _STRINGS}),
    "ListedPractice": _object({
        "id": _STRING, "title": _STRING, "summary": _STRING, "city": _STRING, "country": _STRING,
        "language": _STRING, "kind": _STRING, "hazards": _STRINGS, "phases": _STRINGS,
        "published": {"type": "string", "format": "date"}, "updated": {"type": ["string", "null"]},
        "visibility": _STRING, "version": {"type": "integer"}, "translation_of": _TEXT_OR_NULL, "url": _STRING,
        "api_url": _STRING}),
    "PracticePage": _object({
        "practices": {"type": "array", "items": {"$ref": "#/components/schemas/ListedPractice"}},
        "per_page": {"type": "integer"},
        "cursor": {"type": ["string", "null"], "description": "Pass as 'cursor' for the next page; null on the last"},
        "next": {"type": ["string", "null"], "description": "The next page's URL; null on the last"}}),
    "Version": _object({
        "version": {"type": "integer"}, "published_at": {"type": "string", "format": "date-time"},
        "credit": _STRING, "note": _STRING,
        "readable": {"type": "boolean", "description": "Whether the caller may read this version: only then "
                                                      "its credit, note, metadata and text are given"},
        "metadata": _object(_FRONT_MATTER), "markdown": _STRING},
        optional=("credit", "note", "metadata", "markdown")),
    "Practice": _object({
        "id": _STRING, **_FRONT_MATTER, "markdown": _STRING,
        "html": {"type": "string", "description": "The body as rendered on the practice's page (safe HTML)"},
        "version": {"type": "integer"}, "translations": {"type": "array", "items": _TRANSLATION}, "url": _STRING,
        "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"},
                     "description": "Newest first; the text only of versions the caller may read"}}),
    "Cities": _object({"cities": {"type": "array", "items": _object({
        "slug": _STRING, "country": _STRING, "name": _STRING,
        "names": _object({language: _STRING for language in vocabularies.UI_LANGUAGES}), "url": _STRING})}}),
    "Vocabularies": {"type": "object", "additionalProperties": _object({
        "field": _STRING, "terms": {"type": "array", "items": {
            "type": "object", "required": ["key", "labels"],
            "properties": {"key": {"type": ["string", "integer"]},
                           "labels": {"type": "object", "additionalProperties": _STRING},
                           "code": {"type": ["string", "null"], "description": "HIPs 2025 code (hazards)"},
                           "url": _STRING}}}})},
    "SubmissionReport": _object({"files": {"type": "array", "items": _object({
        "file": _STRING, "status": {"type": "string", "enum": ["submitted", "draft", "refused"]},
        "practice": _TEXT_OR_NULL, "submission": {"type": ["integer", "null"]}, "url": _TEXT_OR_NULL,
        "problems": _STRINGS})}}),
}


def _filters() -> list[dict[str, Any]]:
    """The search filters, as the search page has them: any of several values of one, all of several."""
    allowed = {"hazard": vocabularies.hazards().keys(), "kind": vocabularies.kinds().keys(),
               "phase": vocabularies.phases().keys()}
    parameters = []
    for name in FACETS:
        item: dict[str, Any] = {"type": "string", "minLength": 1}
        if name in allowed:
            item = {"type": "string", "enum": allowed[name]}
        elif name == "year":
            item = {"type": "string", "pattern": "^[0-9]{4}$"}
        parameters.append({"name": name, "in": "query", "style": "form", "explode": True,
                           "schema": {"type": "array", "items": item, "maxItems": 20}})
    return parameters


def _q() -> dict[str, Any]:
    return {"name": "q", "in": "query", "description": "Words, \"phrases\", OR, -word, prefix*, hazard:…",
            "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}}


def _per_page() -> dict[str, Any]:
    return {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}


def _get(summary: str, schema: str, parameters: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    responses = {"200": _answer("OK", {"$ref": f"#/components/schemas/{schema}"}), **_REFUSALS}
    for code in extra:
        responses[code] = _answer({"400": "A parameter is not acceptable; the error names it.",
                                   "404": "No such practice, or none the caller may read."}[code], _ERROR)
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses,
                    "security": [{}, {"token": ["read"]}]}}


def document(server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of API v1, served at ``server``."""
    path_parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in ("city", "slug")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Practice Exchange API", "version": VERSION,
                 "description": "Practices of disaster-risk management shared by partner cities. Anonymous "
                                "callers read public practices; a personal API token (made on the account's "
                                "'API tokens' page) acts with its person's permissions within its scopes."},
        "servers": [{"url": server}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "A personal API token, scopes 'read' and/or 'submit'"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {
                "200": _answer("OpenAPI 3.1", {"type": "object"}),
                **_REFUSALS}}},
            "/api/v1/search": _get("Search practices, ranked, with facet counts", "SearchResults", [
                _q(), *_filters(), {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS)},
                                  "description": "newest: by the date a practice was first published; updated: by "
                                                 "when its current version was received"},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                _per_page()], "400"),
            "/api/v1/practices": _get(
                "List practices the caller may read, by id, with every search filter and cursor paging",
                "PracticePage", [_q(), *_filters(), _per_page(), {
                    "name": "cursor", "in": "query", "description": "The 'cursor' of the page before",
                    "schema": {"type": "string"}}], "400"),
            "/api/v1/practices/{city}/{slug}": _get("A practice, with its versions", "Practice", path_parameters,
                                                    "404"),
            "/api/v1/cities": _get("The partner cities", "Cities", []),
            "/api/v1/vocabularies": _get("The controlled vocabularies of front matter, with labels and HIPs codes",
                                         "Vocabularies", []),
            "/api/v1/submissions": {"post": {
                "summary": "Submit Markdown files or ZIP bundles for review, as the web's upload form does",
                "security": [{"token": ["submit"]}],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["files"],
                    "properties": {"files": {"type": "array", "maxItems": 50,
                                             "items": {"type": "string", "contentMediaType":
                                                       "application/octet-stream"}}}}}}},
                "responses": {
                    "200": _answer("A report per file: submitted for review, kept as a draft, or refused and why",
                                   {"$ref": "#/components/schemas/SubmissionReport"}),
                    "400": _answer("No files were attached.", _ERROR),
                    "413": _answer("The request is larger than the library accepts.", _ERROR),
                    **_REFUSALS}}},
        },
    }
