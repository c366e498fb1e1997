"""The API against its own OpenAPI document: schemathesis calls every operation, anonymously and with a
token, and finds no server error and no answer that breaks the document (tests/test_api.py checks that every
route is in it)."""

from __future__ import annotations

import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from exchange.accounts import people
from exchange.accounts import tokens
from tests.test_accounts import PASSWORD


@pytest.fixture(scope="module")
def api_schema(library_app):  # type: ignore[no-untyped-def]
    """The document as the app serves it, with rate limits out of the way (tests/test_api.py tests them)."""
    library_app.config.update(API_CALLS_PER_MINUTE=10**9, API_ANONYMOUS_CALLS_PER_MINUTE=10**9)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", library_app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
    return schema


@pytest.fixture(scope="module")
def callers(library_app) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Anonymous, and a partner contributor's token with both scopes."""
    instance = library_app.extensions["exchange"]
    people.create_user(instance, "fuzz@jakarta.example", "Fuzz", ["contributor"], ["jakarta"], "t", PASSWORD)
    account = people.ids_for_emails(instance, ["fuzz@jakarta.example"])[0][0]
    secret = tokens.create(instance, account, "fuzz", ["read", "submit"],
                           datetime.date.today() + datetime.timedelta(days=7))[1]
    plain = {"Accept-Encoding": "identity"}  # schemathesis's WSGI client does not decompress
    return {"anonymous": plain, "token": {**plain, "Authorization": f"Bearer {secret}"}}


def test_the_api_keeps_to_its_document(api_schema, callers):  # type: ignore[no-untyped-def]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {"GET /api/v1/practices/{city}/{slug}", "POST /api/v1/submissions"} <= {o.label for o in operations}
    for operation in operations:
        @settings(max_examples=20, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy())
        def keeps_to_it(case):  # type: ignore[no-untyped-def]
            for headers in callers.values():
                # An opaque cursor is a string to the document, and most strings are not one (a 400 that
                # names it): what is checked is no server error and no answer outside the document.
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        keeps_to_it()
