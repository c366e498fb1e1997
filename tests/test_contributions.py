"""Contributing: write, submit, review, publish — and the ways it must refuse (threats A-5, A-8, K-1)."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from exchange.accounts import people
from exchange.library import publishing
from exchange.library.rendering import render
from exchange.models import AuditEntry
from exchange.models import Submission
from exchange.review import submissions
from exchange.search.backend import SearchRequest
from tests import changes_html
from tests.conftest import SEARCH_SECONDS
from tests.conftest import practice_text
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import _token_in
from tests.test_accounts import post
from tests.test_accounts import sign_in

FORM = {
    "city": "jakarta", "slug": "posko-banjir-rw", "title": "Posko banjir tingkat RW",
    "summary": "Cara RW membuka posko saat banjir.", "language": "id", "kind": "procedure",
    "hazards": ["urban-flood"], "phases": ["response"], "published": "2026-11-01", "license": "CC-BY-4.0",
    "visibility": "public", "body": "## Langkah\n\n1. Buka posko.\n2. Catat pengungsi kebanjiran.\n",
}


def add_people(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "kenji@tokyo.example", "Kenji", ["contributor"], ["tokyo"], "t", PASSWORD)
    people.create_user(instance, "rev@network.example", "Rina", ["reviewer", "contributor"], ["jakarta"], "t",
                         PASSWORD)


def submit_form(client, path: str, **changes):  # type: ignore[no-untyped-def]
    token = _token_in(client.get(HTTPS + path).get_data(as_text=True))
    return post(client, path, {**FORM, **changes, "csrf_token": token, "action": changes.pop("action", "submit")})


def latest(instance) -> Submission:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return session.scalars(sa.select(Submission).order_by(Submission.id.desc())).first()


def test_write_submit_request_changes_revise_approve_publish(app, instance):
    add_people(instance)
    contributor, reviewer = app.test_client(), app.test_client()
    sign_in(contributor, "siti@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    response = submit_form(contributor, "/contribute")
    assert response.status_code == 302
    submission = latest(instance)
    assert submission.status == "submitted" and submission.practice_id == "jakarta/posko-banjir-rw"
    not_yet = instance.search.search(SearchRequest(q="posko"), frozenset({"public"}), seconds=SEARCH_SECONDS)
    assert not_yet.total == 0  # not yet public
    assert "Posko banjir tingkat RW" in reviewer.get(HTTPS + "/dashboard").get_data(as_text=True)
    page = reviewer.get(f"{HTTPS}/submissions/{submission.id}").get_data(as_text=True)
    token = _token_in(page)
    post(reviewer, f"/submissions/{submission.id}/request_changes", {"comment": "Tambahkan peran RT.",
                                                                      "csrf_token": token})
    assert latest(instance).status == "changes_requested"
    edit = f"/submissions/{submission.id}/edit"
    assert submit_form(contributor, edit, body=FORM["body"] + "\n## Peran\n\nKetua RT mengabari warga.\n")\
        .status_code == 302
    assert latest(instance).status == "submitted"
    post(reviewer, f"/submissions/{submission.id}/approve", {"comment": "Bagus.", "csrf_token": token})
    assert latest(instance).status == "approved" and latest(instance).published_version == 1
    hits = instance.search.search(SearchRequest(q="kebanjiran"), frozenset({"public"}), seconds=SEARCH_SECONDS).hits
    assert [h.id for h in hits] == ["jakarta/posko-banjir-rw"]
    events = [e.action for e in submissions.events(instance, submission.id)]
    assert events == ["save", "submit", "request_changes", "save", "submit", "approve"]


def test_a_contributor_cannot_write_for_another_city_by_any_route(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(city="tokyo", country="JP", title="Tokyo plan"), "plan", "t")
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    crafted = submit_form(client, "/contribute", city="tokyo")
    assert crafted.status_code == 400 and "Not a valid choice" in crafted.get_data(as_text=True)
    assert client.get(HTTPS + "/practices/tokyo/plan/edit").status_code == 404
    form = client.get(HTTPS + "/contribute").get_data(as_text=True)
    assert '<option value="jakarta">Jakarta</option>' in form  # the city by its name, never its slug alone
    token = _token_in(form)
    assert post(client, "/practices/tokyo/plan/edit", {**FORM, "city": "tokyo", "slug": "plan",
                                                       "csrf_token": token}).status_code == 404
    try:
        submissions.save(instance, people.load(instance, "1:1"), "tokyo", "plan", "x", 1)
        raise AssertionError("save should refuse")
    except submissions.NotAllowed:
        pass
    with instance.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "permission.refused")) >= 1
    assert instance.store.versions("tokyo/plan") == [1]


def test_front_matter_cannot_move_a_practice_to_another_city(instance):
    add_people(instance)
    siti = people.load(instance, "1:1")
    text = "---\ntitle: T\nsummary: S\ncity: tokyo\ncountry: JP\nlanguage: en\nkind: plan\nhazards: [earthquake]\n" \
           "phases: [response]\npublished: 2026-01-01\n---\nBody\n"
    try:
        submissions.save(instance, siti, "jakarta", "moved", text, None)
        raise AssertionError("should refuse")
    except Exception as error:  # InvalidPractice naming the city
        assert "city" in str(error)


def test_a_reviewer_cannot_approve_their_own_submission(app, instance):
    add_people(instance)
    client = app.test_client()
    sign_in(client, "rev@network.example")
    submit_form(client, "/contribute")
    submission = latest(instance)
    page = client.get(f"{HTTPS}/submissions/{submission.id}").get_data(as_text=True)
    assert "Approve and publish" not in page
    assert post(client, f"/submissions/{submission.id}/approve", {"csrf_token": _token_in(page)}).status_code == 403
    assert latest(instance).status == "submitted" and not list(instance.store.practice_ids())


def test_contributors_cannot_review(app, instance):
    add_people(instance)
    author, other = app.test_client(), app.test_client()
    sign_in(author, "siti@jakarta.example")
    submit_form(author, "/contribute")
    sign_in(other, "kenji@tokyo.example")
    submission = latest(instance)
    assert other.get(f"{HTTPS}/submissions/{submission.id}").status_code == 404
    token = _token_in(other.get(HTTPS + "/dashboard").get_data(as_text=True))
    assert post(other, f"/submissions/{submission.id}/approve", {"csrf_token": token}).status_code == 403


def test_two_contributors_edit_at_once_one_wins_the_other_keeps_a_draft(app, instance, make_practice):
    add_people(instance)
    people.create_user(instance, "ayu@jakarta.example", "Ayu", ["contributor"], ["jakarta"], "t", PASSWORD)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    first, second, reviewer = app.test_client(), app.test_client(), app.test_client()
    sign_in(first, "siti@jakarta.example")
    sign_in(second, "ayu@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    path = "/practices/jakarta/flood-warning/edit"
    first_form = _token_in(first.get(HTTPS + path).get_data(as_text=True))
    second_form = _token_in(second.get(HTTPS + path).get_data(as_text=True))
    fields = {**FORM, "slug": "flood-warning", "language": "en", "title": "Community flood early warning",
              "summary": "Updated.", "base_version": "1"}
    assert post(first, path, {**fields, "body": "## First\n\nFirst text.\n", "csrf_token": first_form,
                              "action": "submit"}).status_code == 302
    first_submission = latest(instance)
    token = _token_in(reviewer.get(f"{HTTPS}/submissions/{first_submission.id}").get_data(as_text=True))
    post(reviewer, f"/submissions/{first_submission.id}/approve", {"csrf_token": token})
    assert instance.store.versions("jakarta/flood-warning") == [1, 2]
    late = post(second, path, {**fields, "body": "## Second\n\nSecond text.\n", "csrf_token": second_form,
                               "action": "submit"})
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "Someone published version 2" in page
    assert ("", "First text.") in changes_html.sides(page)
    kept = latest(instance)
    assert kept.status == "draft" and "Second text." in kept.text and kept.base_version == 1
    assert b"First text." in instance.store.read_current("jakarta/flood-warning")


def test_any_two_versions_compare_and_a_reviewer_restores_an_earlier_one(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(summary="First summary."), "flood-warning", "t")
    publishing.publish(instance, make_practice(summary="Second summary."), "flood-warning", "t")
    publishing.publish(instance, make_practice(summary="Third summary."), "flood-warning", "t")
    client = app.test_client()
    page = client.get(HTTPS + "/practices/jakarta/flood-warning/compare?from=1&to=3").get_data(as_text=True)
    assert changes_html.fields(page) == {"Summary": ("First summary.", "Third summary.")}
    assert "The text itself is unchanged." in page
    assert client.get(HTTPS + "/practices/jakarta/flood-warning/compare?from=1&to=9").status_code == 404
    assert client.get(HTTPS + "/practices/jakarta/flood-warning/compare?from=x&to=2").status_code == 404
    sign_in(client, "siti@jakarta.example")
    token = _token_in(client.get(HTTPS + "/practices/jakarta/flood-warning").get_data(as_text=True))
    assert post(client, "/practices/jakarta/flood-warning/versions/1/restore", {"csrf_token": token}).status_code == 403
    assert client.get(HTTPS + "/practices/jakarta/flood-warning/versions/1/restore").status_code == 403
    reviewer = app.test_client()
    sign_in(reviewer, "rev@network.example")
    page = reviewer.get(HTTPS + "/practices/jakarta/flood-warning").get_data(as_text=True)
    assert 'href="/practices/jakarta/flood-warning/versions/1/restore"' in page  # a link to the question, no button
    unconfirmed = post(reviewer, "/practices/jakarta/flood-warning/versions/1/restore", {"csrf_token": _token_in(page)})
    assert unconfirmed.status_code == 302 and unconfirmed.location.endswith("/versions/1/restore")
    assert instance.store.versions("jakarta/flood-warning") == [1, 2, 3]  # nothing restored without confirming
    question = reviewer.get(HTTPS + "/practices/jakarta/flood-warning/versions/1/restore").get_data(as_text=True)
    assert "Restore version 1?" in question and "as version 4" in question
    assert changes_html.fields(question) == {"Summary": ("Third summary.", "First summary.")}
    assert post(reviewer, "/practices/jakarta/flood-warning/versions/1/restore",
                {"csrf_token": _token_in(question), "confirm": "yes"}).status_code == 302
    assert instance.store.versions("jakarta/flood-warning") == [1, 2, 3, 4]
    store = instance.store
    assert store.read_version("jakarta/flood-warning", 4) == store.read_version("jakarta/flood-warning", 1)
    assert "restored version 1" in reviewer.get(HTTPS + "/practices/jakarta/flood-warning").get_data(as_text=True)


def test_restricted_versions_cannot_be_compared_anonymously(client, instance, make_practice):
    publishing.publish(instance, make_practice(visibility="partners"), "radio", "t")
    publishing.publish(instance, make_practice(visibility="partners", summary="Changed."), "radio", "t")
    assert client.get(HTTPS + "/practices/jakarta/radio/compare?from=1&to=2").status_code == 404


def test_overdue_practices_are_marked_and_listed_for_their_city(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(review_by="2020-01-31", title="Old siren plan"), "sirens", "t")
    publishing.publish(instance, make_practice(review_by="2099-01-31", title="Fresh plan"), "fresh", "t")
    client = app.test_client()
    results = client.get(HTTPS + "/practices?q=plan").get_data(as_text=True)
    assert results.count("Review overdue") == 1
    overdue = client.get(HTTPS + "/practices/jakarta/sirens").get_data(as_text=True)
    assert "was due for review on Jan 31, 2020" in overdue  # the date as the interface language writes it
    assert "was due for review" not in client.get(HTTPS + "/practices/jakarta/fresh").get_data(as_text=True)
    sign_in(client, "siti@jakarta.example")
    dashboard = client.get(HTTPS + "/dashboard").get_data(as_text=True)
    assert "Due for review in your cities" in dashboard and "Old siren plan" in dashboard
    assert "Fresh plan" not in dashboard
    other = app.test_client()
    sign_in(other, "kenji@tokyo.example")
    assert "Old siren plan" not in other.get(HTTPS + "/dashboard").get_data(as_text=True)


def test_a_translation_is_flagged_when_its_original_changes(client, instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    publishing.publish(instance, make_practice(language="id", title="Peringatan banjir",
                                            translation_of="jakarta/flood-warning"), "peringatan-banjir", "t")
    page = client.get(HTTPS + "/practices/jakarta/peringatan-banjir").get_data(as_text=True)
    assert "Original updated" not in page
    publishing.publish(instance, make_practice(summary="New thresholds."), "flood-warning", "t")
    page = client.get(HTTPS + "/practices/jakarta/peringatan-banjir").get_data(as_text=True)
    assert "Original updated" in page and "/practices/jakarta/flood-warning/compare?from=1&amp;to=2" in page


def test_starting_a_translation_prefills_the_form(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(hazards="[tsunami]", kind="plan"), "flood-warning", "t")
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    page = client.get(HTTPS + "/contribute?translation_of=jakarta/flood-warning").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="translation_of"[^>]*value="jakarta/flood-warning"', page)
    assert re.search(r'<input checked[^>]*value="tsunami"', page)
    assert re.search(r'<option selected value="plan">', page)


def upload(client, files):  # type: ignore[no-untyped-def]
    import io

    token = _token_in(client.get(HTTPS + "/contribute/upload").get_data(as_text=True))
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files]}
    return post(client, "/contribute/upload", data, content_type="multipart/form-data")


def zipped(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_upload_reports_each_file_and_keeps_valid_ones_as_drafts(app, instance, make_practice):
    add_people(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    response = upload(client, [
        ("posko.md", make_practice(title="Posko")),
        ("tokyo.md", make_practice(city="tokyo", country="JP")),
        ("broken.md", b"<html><script>alert(1)</script></html>"),
        ("notes.txt", b"hello"),
        ("bundle.zip", zipped({"jakarta/a.md": make_practice(title="A"), "jakarta/b.md": make_practice(kind="memo")})),
        ("evil.zip", zipped({"../../app.md": make_practice()})),
    ])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "valid — saved as a draft of" in page and page.count('name="submission"') == 2
    assert "city: you do not write for &#39;tokyo&#39;" in page
    assert "no front matter" in page and "only Markdown (.md) files" in page
    assert "kind: &#39;memo&#39; is not a known kind" in page
    assert "would be written outside the library" in page
    assert "&lt;script&gt;" not in page or "<script>alert" not in page
    with instance.db.session() as session:
        drafts = list(session.scalars(sa.select(Submission)))
    assert sorted(d.practice_id for d in drafts) == ["jakarta/a", "jakarta/posko"]
    assert all(d.status == "draft" for d in drafts) and not list(instance.store.practice_ids())
    token = _token_in(page)
    post(client, "/contribute/submit-drafts", {"csrf_token": token, "submission": [str(d.id) for d in drafts]})
    with instance.db.session() as session:
        assert {s.status for s in session.scalars(sa.select(Submission))} == {"submitted"}


def test_an_edit_without_its_base_version_is_refused(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    path = "/practices/jakarta/flood-warning/edit"
    token = _token_in(client.get(HTTPS + path).get_data(as_text=True))
    fields = {**FORM, "slug": "flood-warning", "csrf_token": token, "action": "submit"}
    assert post(client, path, fields).status_code == 428
    assert instance.store.versions("jakarta/flood-warning") == [1]


def test_version_history_says_who_published_each_version(client, instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "rev@network.example", note="first", credit="Rina")
    page = client.get(HTTPS + "/practices/jakarta/flood-warning").get_data(as_text=True)
    assert "by Rina" in page and "first" in page and "rev@network.example" not in page


def test_a_reviewer_can_comment_without_deciding(app, instance):
    add_people(instance)
    author, reviewer = app.test_client(), app.test_client()
    sign_in(author, "siti@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    submit_form(author, "/contribute")
    submission = latest(instance)
    token = _token_in(reviewer.get(f"{HTTPS}/submissions/{submission.id}").get_data(as_text=True))
    post(reviewer, f"/submissions/{submission.id}/comment", {"comment": "Looks good so far.", "csrf_token": token})
    assert latest(instance).status == "submitted"
    assert "Looks good so far." in author.get(f"{HTTPS}/submissions/{submission.id}").get_data(as_text=True)


def test_a_new_practice_cannot_take_an_existing_address(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(), "posko-banjir-rw", "t")
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    response = submit_form(client, "/contribute")
    assert response.status_code == 400 and "is already the address of a practice" in response.get_data(as_text=True)
    assert instance.store.versions("jakarta/posko-banjir-rw") == [1]


class _FormReader(HTMLParser):
    """The fields a browser would submit from the first <form method="post"> with a given field."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "input" and a.get("name") and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            if a.get("type") not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._first = a.get("name"), None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value") or ""
            if "selected" in a:
                self.fields.append((self._select, a.get("value") or ""))
                self._first = ""
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "select":
            if self._first:  # nothing selected: a browser sends the first option
                self.fields.append((self._select, self._first))
            self._select = None
        elif tag == "textarea" and self._textarea:
            # Browsers drop one newline right after <textarea> and send line ends as CRLF.
            self.fields.append((self._textarea, self._text.removeprefix("\n").replace("\n", "\r\n")))
            self._textarea = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._textarea:
            self._text += data


def browser_fields(page: str) -> MultiDict:
    reader = _FormReader()
    reader.feed(page[page.index('<form method="post" class="practice-form">'):])
    return MultiDict(reader.fields)


RICH = """---
title: "Community flood early warning"
summary: >-
  How a city relays upstream gauge alerts
  to riverside neighbourhoods.
city: jakarta
country: ID
language: en
kind: procedure
hazards:
- riverine-flood
- extreme-rainfall
phases: [preparedness, response]   # in this order on purpose
published: 2023-12-05
updated: 2024-02-01
organisation: 'BPBD DKI Jakarta'
authors: [Dinas Sumber Daya Air, "Siti, BPBD"]
sendai_priorities: [2, 3]
tags: [early warning]
---

## Steps

1. Watch the gauge.
2. Warn the neighbourhood.
"""


def test_a_web_edit_changes_only_what_the_person_changed(app, instance):
    add_people(instance)
    publishing.publish(instance, RICH.encode(), "flood-warning", "t")
    client, reviewer = app.test_client(), app.test_client()
    sign_in(client, "siti@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    path = "/practices/jakarta/flood-warning/edit"
    fields = browser_fields(client.get(HTTPS + path).get_data(as_text=True))
    assert fields.getlist("sendai_priorities") == ["2", "3"] and fields["updated"] == "2024-02-01"
    fields["body"] = fields["body"].replace("Watch the gauge", "Watch the Katulampa gauge")
    fields["action"] = "submit"
    before = datetime.date.today()
    response = post(client, path, fields)
    after = datetime.date.today()  # the day the save read: 'before', or 'after' if midnight came in between
    assert response.status_code == 302, re.findall(r"<li>(.*?)</li>", response.get_data(as_text=True))
    submission = latest(instance)
    expected = {RICH.replace("Watch the gauge", "Watch the Katulampa gauge").replace(
        "updated: 2024-02-01", f"updated: {day.isoformat()}") for day in (before, after)}
    assert submission.text in expected  # every untouched line exactly as it was
    page = reviewer.get(f"{HTTPS}/submissions/{submission.id}").get_data(as_text=True)
    assert list(changes_html.fields(page)) == ["Updated"]  # only 'updated' among the fields
    assert changes_html.fields(page)["Updated"][0] == "Feb 1, 2024"
    assert changes_html.marked(page, "ins") == ["Katulampa"] and changes_html.marked(page, "del") == []
    assert ("1. Watch the gauge.", "1. Watch the Katulampa gauge.") in changes_html.sides(page)
    assert page.index("Changes against the published version") < page.index("Approve and publish") < page.index(
        "Preview")  # the reviewer reads the changes, then decides
    assert "by Siti · Jakarta · English · Update of version 1" in page
    post(reviewer, f"/submissions/{submission.id}/approve", {"csrf_token": _token_in(page)})
    assert instance.store.read_current("jakarta/flood-warning").decode() == submission.text


def test_every_front_matter_field_is_editable_and_only_changed_lines_are_rewritten(app, instance):
    add_people(instance)
    publishing.publish(instance, RICH.encode(), "flood-warning", "t")
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    path = "/practices/jakarta/flood-warning/edit"
    fields = browser_fields(client.get(HTTPS + path).get_data(as_text=True))
    fields.setlist("sendai_priorities", ["1", "2", "3"])
    fields.setlist("hazards", fields.getlist("hazards") + ["coastal-flood"])
    fields["updated"] = "2025-01-15"
    fields["review_by"] = "2027-06-30"
    fields["action"] = "save"
    assert post(client, path, fields).status_code == 302
    expected = RICH.replace("hazards:\n- riverine-flood\n- extreme-rainfall\n",  # the order it was written in
                            "hazards: [riverine-flood, extreme-rainfall, coastal-flood]\n").replace(
        "sendai_priorities: [2, 3]", "sendai_priorities: [1, 2, 3]").replace(
        "updated: 2024-02-01", "updated: 2025-01-15").replace(
        "updated: 2025-01-15\n", "updated: 2025-01-15\nreview_by: 2027-06-30\n")
    assert latest(instance).text == expected
    # Nothing changed at all: the same text, and 'updated' stays.
    fields = browser_fields(client.get(HTTPS + path).get_data(as_text=True))
    fields["action"] = "save"
    post(client, path, fields)
    assert latest(instance).text == RICH


# Previews within a budget (threats; invariant 7) ----------------------------------------

def preview(client, body: str):  # type: ignore[no-untyped-def]
    """The live preview's request, as preview.js sends it."""
    token = _token_in(client.get(HTTPS + "/contribute").get_data(as_text=True))
    return post(client, "/contribute/preview", {"body": body, "csrf_token": token})


def test_the_live_preview_is_the_published_rendering(app, instance):
    add_people(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    body = FORM["body"] + "\n[x](javascript:alert(1)) <script>alert(2)</script>\n"
    response = preview(client, body)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == str(render(body).html)


def test_a_text_past_the_preview_budget_is_answered_with_a_message(app, instance):
    """Past the budget: 422 and why, from the live preview, the editor (keeping the text) and the submission page
    (still there for the reviewer)."""
    add_people(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    submit_form(client, "/contribute", action="save")
    app.config["PREVIEW_SECONDS"] = 0
    message = "This text is too complex to render in 0 seconds"

    response = preview(client, "*a **a " * 1000)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)

    response = submit_form(client, "/contribute", action="preview", body="*a **a b** a*")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and "*a **a b** a*</textarea>" in page

    response = client.get(f"{HTTPS}/submissions/{latest(instance).id}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_previews_past_a_persons_allowance_are_refused_for_a_while(app, instance):
    add_people(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    app.config["PREVIEW_ALLOWANCE_SECONDS"] = 0
    response = preview(client, "Hello")
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    assert "more than 0 seconds to render in the last 60 seconds" in response.get_data(as_text=True)


def test_a_text_refused_at_approval_goes_back_to_its_author_who_brings_it_forward(app, instance):
    add_people(instance)
    people.create_user(instance, "ayu@jakarta.example", "Ayu", ["contributor"], ["jakarta"], "t", PASSWORD)
    publishing.publish(instance, RICH.encode(), "flood-warning", "t")
    siti, ayu, reviewer = app.test_client(), app.test_client(), app.test_client()
    sign_in(siti, "siti@jakarta.example")
    sign_in(ayu, "ayu@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    path = "/practices/jakarta/flood-warning/edit"
    first, second = (browser_fields(c.get(HTTPS + path).get_data(as_text=True)) for c in (siti, ayu))
    first["body"] = first["body"].replace("Watch the gauge", "Watch the upstream gauge")
    second["body"] = second["body"].replace("Warn the neighbourhood", "Warn the whole neighbourhood")
    for client, fields in ((siti, first), (ayu, second)):
        fields["action"] = "submit"
        post(client, path, fields)
    with instance.db.session() as session:
        ids = list(session.scalars(sa.select(Submission.id).order_by(Submission.id)))
    page = reviewer.get(f"{HTTPS}/submissions/{ids[0]}").get_data(as_text=True)
    post(reviewer, f"/submissions/{ids[0]}/approve", {"csrf_token": _token_in(page)})
    refused = post(reviewer, f"/submissions/{ids[1]}/approve", {"csrf_token": _token_in(page)}, follow_redirects=True)
    assert "version 2 was published since this text was started" in refused.get_data(as_text=True)
    with instance.db.session() as session:
        assert session.get(Submission, ids[1]).status == "changes_requested"
    # Ayu sees why, with what was published meanwhile, and her text kept.
    mine = ayu.get(f"{HTTPS}/submissions/{ids[1]}").get_data(as_text=True)
    assert "Version 2 was published after this text was started" in mine
    assert ("1. Watch the gauge.", "1. Watch the upstream gauge.") in changes_html.sides(mine)
    assert "rev@network.example" not in mine and "by Rina" in mine  # people by name, not address
    editor = ayu.get(f"{HTTPS}/submissions/{ids[1]}/edit").get_data(as_text=True)
    assert "Published since this text was started: version 2" in editor
    fields = browser_fields(editor)
    assert fields["base_version"] == "2"  # saving brings the draft forward to version 2
    fields["body"] = fields["body"].replace("Watch the gauge", "Watch the upstream gauge")  # she brings it in
    fields["action"] = "submit"
    assert post(ayu, f"/submissions/{ids[1]}/edit", fields).status_code == 302
    page = reviewer.get(f"{HTTPS}/submissions/{ids[1]}").get_data(as_text=True)
    post(reviewer, f"/submissions/{ids[1]}/approve", {"csrf_token": _token_in(page)})
    text = instance.store.read_current("jakarta/flood-warning").decode()
    assert "Watch the upstream gauge" in text and "Warn the whole neighbourhood" in text
    assert instance.store.versions("jakarta/flood-warning") == [1, 2, 3]


def queue_rows(page: str) -> list[list[str]]:
    """The review queue's rows as read on screen: one list of cell texts per submission."""
    table = page.split('<table class="list queue">', 1)[1].split("</table>", 1)[0]
    return [[" ".join(changes_html.plain(cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)]


def test_the_review_queue_says_what_who_which_language_new_or_update_where_and_how_long(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(city="tokyo", country="JP", language="ja", title="避難所の開設"),
                       "hinanjo", "t")
    kenji, siti = people.load(instance, "2:1"), people.load(instance, "1:1")
    update = submissions.save(instance, kenji, "tokyo", "hinanjo", make_practice(
        city="tokyo", country="JP", language="ja", title="避難所の開設と運営").decode(), 1)
    submissions.submit(instance, kenji, update.id)
    new = submissions.save(instance, siti, "jakarta", "posko", make_practice(language="id", title="Posko RW").decode(),
                           None)
    submissions.submit(instance, siti, new.id)
    with instance.db.writing() as session:  # Kenji's update has waited three days, Siti's text five hours
        session.get(Submission, update.id).updated_at -= datetime.timedelta(days=3, hours=1)
        session.get(Submission, new.id).updated_at -= datetime.timedelta(hours=5)
    reviewer = app.test_client()
    sign_in(reviewer, "rev@network.example")
    assert queue_rows(reviewer.get(HTTPS + "/dashboard?lang=en").get_data(as_text=True)) == [  # longest waiting first
        ["避難所の開設と運営", "Kenji", "Japanese", "Update of version 1", "Tokyo", "3 days"],
        ["Posko RW", "Siti", "Indonesian", "New practice", "Jakarta", "5 hours"]]
    indonesian = queue_rows(reviewer.get(HTTPS + "/dashboard?lang=id").get_data(as_text=True))
    assert [row[5] for row in indonesian] == ["3 hari", "5 jam"]
    japanese = queue_rows(reviewer.get(HTTPS + "/dashboard?lang=ja").get_data(as_text=True))
    assert [row[5] for row in japanese] == ["3日", "5時間"] and japanese[0][2] == "日本語"
    author = app.test_client()
    sign_in(author, "siti@jakarta.example")
    own = author.get(HTTPS + "/dashboard").get_data(as_text=True)  # her own list names her text by its title too
    assert "Posko RW" in own and "jakarta/posko" not in own


def test_comparing_and_reading_an_earlier_version_name_the_practice_by_its_title(client, instance, make_practice):
    publishing.publish(instance, make_practice(title="Peringatan dini banjir", language="id",
                                               body="## Langkah\n\n1. Pantau pos pengamatan Katulampa.\n"),
                       "flood-warning", "t")
    publishing.publish(instance, make_practice(title="Peringatan dini banjir", language="id",
                                               body="## Langkah\n\n1. Pantau pos pengamatan Depok.\n"),
                       "flood-warning", "t")
    for path in ("/practices/jakarta/flood-warning/compare?from=1&to=2&lang=ja",
                 "/practices/jakarta/flood-warning/versions/1?lang=ja"):
        page = client.get(HTTPS + path).get_data(as_text=True)
        crumbs = changes_html.plain(page.split('<nav class="breadcrumb"', 1)[1].split("</nav>", 1)[0])
        assert "Peringatan dini banjir" in crumbs and "flood-warning" not in crumbs, crumbs
    page = client.get(HTTPS + "/practices/jakarta/flood-warning/compare?from=1&to=2&lang=ja").get_data(as_text=True)
    assert "@@" not in page and changes_html.fields(page) == {}
    assert changes_html.marked(page, "del") == ["Katulampa"] and changes_html.marked(page, "ins") == ["Depok"]
    assert "第1版から第2版への変更点" in page and 'lang="id"' in page.split('<div class="diff-inline"', 1)[1][:80]


def test_a_practice_in_review_is_shown_only_to_its_author_and_reviewers(app, instance, make_practice):
    """Threats A-9: not in search, suggestions, listings, related practices, the API or a pack until published."""
    from exchange.errors import PracticeNotFound
    from exchange.packs import packs

    add_people(instance)
    publishing.publish(instance, make_practice(title="Posko banjir kota", body="Posko banjir RW kebanjiran.\n",
                                               language="id", hazards="[urban-flood]"), "posko-kota", "t")
    author, reviewer, other, visitor = (app.test_client() for _ in range(4))
    sign_in(author, "siti@jakarta.example")
    sign_in(reviewer, "rev@network.example")
    sign_in(other, "kenji@tokyo.example")
    submit_form(author, "/contribute", title="Posko zebrawarga RW", body="## Langkah\n\nPosko banjir zebrawarga.\n")
    assert latest(instance).status == "submitted"
    for client in (visitor, other, reviewer):
        for path in ("/", "/practices", "/practices?q=zebrawarga", "/practices?q=zebrawarg", "/cities/jakarta",
                     "/practices/jakarta/posko-kota"):
            page = client.get(HTTPS + path).get_data(as_text=True)
            assert "Posko zebrawarga RW" not in page and "posko-banjir-rw" not in page, path
            assert path.endswith("zebrawarga") or "zebrawarga" not in page, path  # nor offered as a correction
        for path in ("/practices/jakarta/posko-banjir-rw", "/api/v1/practices/jakarta/posko-banjir-rw"):
            assert client.get(HTTPS + path).status_code == 404
        for q in ("zebrawarga", "zebrawarg"):
            answer = client.get(HTTPS + f"/api/v1/search?q={q}").get_json()
            assert answer["total"] == 0 and answer["suggestion"] is None
    kenji = people.load(instance, "2:1")
    pack = packs.create(instance, kenji, "Flood workshop")  # type: ignore[arg-type]
    try:
        packs.add_practice(instance, kenji, pack, "jakarta/posko-banjir-rw")  # type: ignore[arg-type]
        raise AssertionError("a practice in review was added to a pack")
    except PracticeNotFound:
        pass
    assert other.get(f"{HTTPS}/submissions/{latest(instance).id}").status_code == 404
    for client in (author, reviewer):
        assert "Posko zebrawarga RW" in client.get(HTTPS + "/dashboard").get_data(as_text=True)


def test_submitting_several_drafts_submits_none_of_another_persons(app, instance):
    """Threats A-7: a draft of someone else's slipped into the bulk submit is refused and left as it was."""
    add_people(instance)
    kenji = people.load(instance, "2:1")
    text = practice_text(city="tokyo", country="JP").decode()
    theirs = submissions.save(instance, kenji, "tokyo", "drill", text, None)  # type: ignore[arg-type]
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    submit_form(client, "/contribute", action="save")
    own = latest(instance)
    assert own.status == "draft" and own.id != theirs.id
    token = _token_in(client.get(HTTPS + "/dashboard").get_data(as_text=True))
    answer = post(client, "/contribute/submit-drafts", {"csrf_token": token,
                                                        "submission": [str(theirs.id), str(own.id)]})
    page = client.get(HTTPS + answer.headers["Location"]).get_data(as_text=True)
    assert f"Submission {theirs.id} not submitted" in page
    with instance.db.session() as session:
        assert session.get(Submission, theirs.id).status == "draft"
        assert session.get(Submission, own.id).status == "submitted"
        events = session.scalars(sa.text("SELECT action FROM submission_events WHERE submission_id = :s"),
                                 {"s": theirs.id}).all()
    assert events == ["save"]
