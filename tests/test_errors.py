"""Domain errors: four kinds, no web code below the web layer, and one mapping to HTTP."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exchange import errors
from exchange.accounts.people import AccountError
from exchange.library.practice import InvalidPractice
from exchange.library.publishing import VersionConflict
from exchange.packs.exports.jobs import JobNotFound
from exchange.review.submissions import NotAllowed
from exchange.review.submissions import StaleEdit
from exchange.review.submissions import WrongState
from tests.test_accounts import HTTPS


@pytest.mark.parametrize(("error", "kind", "builtin"), [
    (errors.PracticeNotFound, errors.NotFound, LookupError),
    (errors.CityNotFound, errors.NotFound, LookupError),
    (errors.PackNotFound, errors.NotFound, LookupError),
    (JobNotFound, errors.NotFound, LookupError),
    (NotAllowed, errors.Forbidden, PermissionError),
    (StaleEdit, errors.Conflict, Exception),
    (VersionConflict, errors.Conflict, Exception),
    (WrongState, errors.Conflict, ValueError),
    (InvalidPractice, errors.Invalid, ValueError),
    (errors.InvalidCity, errors.Invalid, ValueError),
    (AccountError, errors.Invalid, ValueError),
])
def test_each_domain_error_is_one_of_four_kinds_and_keeps_its_builtin_base(error, kind, builtin):
    assert issubclass(error, kind) and issubclass(error, builtin)
    assert sum(issubclass(error, k) for k in (errors.NotFound, errors.Forbidden, errors.Conflict, errors.Invalid)) == 1


def test_the_domain_errors_and_the_services_import_no_web_code():
    code = ("import sys; import exchange.errors, exchange.policy, exchange.packs.packs, exchange.review.submissions, "
            "exchange.library.publishing, exchange.accounts.people, exchange.packs.exports.jobs, "
            "exchange.packs.exports.markdown_zip; "
            "print(sorted(m for m in sys.modules"
            " if m == 'exchange.web' or m.startswith(('flask', 'werkzeug', 'exchange.web.'))))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "[]"


@pytest.fixture
def raising_client(app):  # type: ignore[no-untyped-def]
    """A client of an app with a page and an API address that raise the error named in the query."""
    kinds = {"unknown": errors.PracticeNotFound("jakarta/x"), "forbidden": NotAllowed("not yours"),
             "conflict": WrongState("a submitted submission cannot be edited"),
             "invalid": errors.InvalidCity("country: 'XX' is not a country")}

    def fail(kind: str):  # type: ignore[no-untyped-def]
        raise kinds[kind]

    app.add_url_rule("/raise/<kind>", view_func=fail)
    app.add_url_rule("/api/v1/raise/<kind>", endpoint="api_fail", view_func=fail)
    return app.test_client()


def test_unknown_and_forbidden_answer_alike(raising_client):
    for prefix in ("", "/api/v1"):
        unknown, forbidden = (raising_client.get(f"{HTTPS}{prefix}/raise/{kind}") for kind in ("unknown", "forbidden"))
        assert unknown.status_code == forbidden.status_code == 404
        assert unknown.get_data().replace(b"unknown", b"forbidden") == forbidden.get_data()
    assert raising_client.get(f"{HTTPS}/api/v1/raise/forbidden").get_json() == {"error": "Not found"}


@pytest.mark.parametrize(("kind", "status", "message"), [
    ("conflict", 409, "a submitted submission cannot be edited"),
    ("invalid", 400, "country: 'XX' is not a country"),
])
def test_conflicts_and_invalid_input_say_what_is_wrong(raising_client, kind, status, message):
    page = raising_client.get(f"{HTTPS}/raise/{kind}")
    assert page.status_code == status and message.replace("'", "&#39;") in page.get_data(as_text=True)
    answer = raising_client.get(f"{HTTPS}/api/v1/raise/{kind}")
    assert answer.status_code == status and answer.get_json() == {"error": message}
