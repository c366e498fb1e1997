"""Form bodies: one limit per field, whatever the encoding (threats R-2, R-3)."""

from __future__ import annotations

import io
import urllib.parse

import pytest
from werkzeug.test import encode_multipart

from exchange.accounts import people
from exchange.library.practice import MAX_DOCUMENT_BYTES
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import _token_in
from tests.test_accounts import sign_in

ENCODINGS = ["urlencoded", "urlencoded-chunked", "multipart"]
TOO_LARGE = "a text field may hold at most 512 KB"


@pytest.fixture
def writer(app, instance):  # type: ignore[no-untyped-def]
    """A signed-in contributor's client and the CSRF token of their form."""
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    return client, _token_in(client.get(HTTPS + "/contribute").get_data(as_text=True))


def send(client, encoding: str, fields: dict[str, str] | list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """POST ``fields`` to the live preview as a browser would in ``encoding``.

    "urlencoded-chunked" is a body without Content-Length (Transfer-Encoding: chunked, as the development
    server and some proxies pass it on): a parser cannot refuse it by its announced length.
    """
    headers = {"Referer": HTTPS + "/"}
    items = list(fields.items()) if isinstance(fields, dict) else fields
    if encoding == "multipart":
        boundary, body = encode_multipart(dict(items))
        return client.post(HTTPS + "/contribute/preview", data=body, headers=headers,
                           content_type=f"multipart/form-data; boundary={boundary}")
    body = urllib.parse.urlencode(items).encode("ascii")
    if encoding == "urlencoded-chunked":
        return client.post(HTTPS + "/contribute/preview", input_stream=io.BytesIO(body),
                           content_type="application/x-www-form-urlencoded",
                           headers={**headers, "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    return client.post(HTTPS + "/contribute/preview", data=body, headers=headers,
                       content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_field_larger_than_a_practice_is_refused_with_a_message(writer, encoding):
    client, token = writer
    response = send(client, encoding, {"csrf_token": token, "body": "a" * (MAX_DOCUMENT_BYTES + 1)})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert TOO_LARGE in page and "(the size of a whole practice)" in page


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("letter", ["a", "あ"], ids=["ascii", "japanese"])
def test_a_field_as_large_as_a_practice_is_accepted(writer, encoding, letter):
    """The limit counts the text's own bytes: percent-encoding (three bytes for each of Japanese) is not held
    against it."""
    client, token = writer
    text = letter * (MAX_DOCUMENT_BYTES // len(letter.encode("utf-8")))
    response = send(client, encoding, {"csrf_token": token, "body": text})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == f"<p>{text}</p>\n"


def test_a_urlencoded_form_of_too_many_fields_is_refused(app, writer):
    client, token = writer
    fields = [("csrf_token", token), ("body", "Hello")] + [("x", "1")] * app.config["MAX_FORM_PARTS"]
    response = send(client, "urlencoded", fields)
    assert response.status_code == 413
    assert "at most 1000 fields" in response.get_data(as_text=True)


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(app, writer):
    client, token = writer
    body = b"csrf_token=" + token.encode() + b"&body=" + b"a" * app.config["MAX_CONTENT_LENGTH"]
    stream = io.BytesIO(body)
    response = client.post(HTTPS + "/contribute/preview", input_stream=stream, content_length=len(body),
                           content_type="application/x-www-form-urlencoded", headers={"Referer": HTTPS + "/"})
    assert response.status_code == 413
    assert stream.tell() == 0
    assert TOO_LARGE in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["9" * 30, str(2**63)], ids=["thirty-digits", "two-to-the-63"])
def test_numbers_no_database_row_can_have_are_refused_not_a_server_error(instance, writer, number):
    """Past the largest integer the database holds, a lookup fails rather than finds nothing (threats R-9)."""
    from exchange.packs import packs

    client, token = writer
    pack = packs.create(instance, people.load(instance, "1:1"), "Flood workshop")  # type: ignore[arg-type]
    for path in (f"/packs/{number}", f"/packs/{pack}/exports/{number}", f"/submissions/{number}/edit",
                 f"/notifications/{number}"):
        assert client.get(HTTPS + path).status_code == 404, path
    for path, fields in [(f"/packs/{pack}/notes", {"item": number, "trainer_notes": "x"}),
                         ("/packs/add", {"pack": number, "practice_id": "jakarta/x"}),
                         ("/contribute/submit-drafts", {"submission": number}),
                         (f"/packs/{pack}/notes", {"items[999999999]": "x", "item[0][a][b][c]": "y"})]:
        response = client.post(HTTPS + path, data={**fields, "csrf_token": token}, headers={"Referer": HTTPS + "/"})
        assert response.status_code in (302, 400), (path, fields)
    assert packs.read(instance, people.load(instance, "1:1"), pack)[0].title == "Flood workshop"  # type: ignore[arg-type]
