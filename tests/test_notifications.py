"""Notifications in the app, and by e-mail through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import datetime
import socket

import pytest
import sqlalchemy as sa

from exchange.accounts import people
from exchange.app import create_app
from exchange.background import run_pending
from exchange.initialise import initialise
from exchange.models import Job
from exchange.models import utcnow
from exchange.review import notifications
from exchange.review import submissions
from tests.conftest import practice_text
from tests.test_accounts import PASSWORD


@pytest.fixture
def smtp_inbox(mail_server):  # type: ignore[no-untyped-def]
    """A plain SMTP server without TLS or sign-in, like a relay on the same machine."""
    return mail_server()


@pytest.fixture
def mailing_instance(tmp_path, smtp_inbox, database_url):  # type: ignore[no-untyped-def]
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SMTP_HOST": "127.0.0.1",
                      "SMTP_PORT": smtp_inbox.port, "SMTP_TLS": "off", "MAIL_FROM": "exchange@px.test",
                      "EXCHANGE_BASE_URL": "https://exchange.example.org", "DATABASE_URL": database_url})
    instance = app.extensions["exchange"]
    initialise(instance, "test", seed=False)
    yield instance
    instance.search.close()
    instance.db.dispose()


def test_submission_and_decisions_notify_in_the_app_and_by_mail(mailing_instance, smtp_inbox):
    instance = mailing_instance
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    siti, rina = people.load(instance, "1:1"), people.load(instance, "2:1")
    draft = submissions.save(instance, siti, "jakarta", "posko", practice_text(title="Posko RW").decode(), None)
    submissions.submit(instance, siti, draft.id)
    assert [n.kind for n in notifications.unread(instance, rina.id)] == ["submitted"]
    submissions.review(instance, rina, draft.id, "request_changes", "Tambahkan peran RT — 役割も")
    assert [n.kind for n in notifications.unread(instance, siti.id)] == ["changes_requested"]
    submissions.submit(instance, siti, draft.id)
    submissions.review(instance, rina, draft.id, "approve")
    assert [n.kind for n in notifications.unread(instance, siti.id)] == ["approved", "changes_requested"]
    assert smtp_inbox.messages == []  # the job runner sends them, not the requests
    assert run_pending(instance) >= 4
    subjects = [(m["To"], m["Subject"]) for m in smtp_inbox.messages]
    assert subjects == [
        ("rina@network.example", "A practice is waiting for your review"),
        ("siti@jakarta.example", "Changes were requested on your submission"),
        ("rina@network.example", "A practice is waiting for your review"),
        ("siti@jakarta.example", "Your submission was approved and published"),
    ]
    assert smtp_inbox.messages[1].get_content().splitlines() == [
        "Rina asked for changes to “Posko RW”.", "", "Tambahkan peran RT — 役割も", "",
        f"https://exchange.example.org/submissions/{draft.id}"]
    assert [n.link for n in notifications.recent(instance, siti.id)] == [f"/submissions/{draft.id}"] * 2
    notifications.mark_read(instance, siti.id)
    assert notifications.unread(instance, siti.id) == []


def test_an_unreachable_mail_server_does_not_undo_the_event(tmp_path, database_url):
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9,
                      "DATABASE_URL": database_url})
    instance = app.extensions["exchange"]
    initialise(instance, "test", seed=False)
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    siti = people.load(instance, "1:1")
    draft = submissions.save(instance, siti, "jakarta", "posko", practice_text(title="Posko RW").decode(), None)
    submissions.submit(instance, siti, draft.id)
    assert [n.kind for n in notifications.unread(instance, 2)] == ["submitted"]
    instance.search.close()
    instance.db.dispose()


def test_contributors_are_told_once_a_day_when_their_practices_are_due(mailing_instance, smtp_inbox):
    from exchange.library import publishing

    instance = mailing_instance
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "kenji@tokyo.example", "Kenji", ["contributor"], ["tokyo"], "t", PASSWORD)
    publishing.publish(instance, practice_text(review_by="2020-01-31", title="Old siren plan"), "sirens", "t")
    publishing.publish(instance, practice_text(review_by="2099-01-31", title="Fresh plan"), "fresh", "t")
    assert notifications.review_due(instance) == 1
    assert notifications.review_due(instance) == 0  # not again the same day
    [note] = notifications.unread(instance, 1)
    assert note.kind == "review_due" and "Old siren plan" in note.message and note.link == "/practices/jakarta/sirens"
    assert notifications.unread(instance, 2) == []
    run_pending(instance)
    [letter] = smtp_inbox.messages
    assert letter["Subject"] == "A practice of your city is due for review"
    assert letter.get_content().splitlines()[-1] == "https://exchange.example.org/practices/jakarta/sirens"


def mail_jobs(instance) -> list[Job]:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return list(session.scalars(sa.select(Job).where(Job.kind == notifications.MAIL).order_by(Job.id)))


def test_a_notifications_mail_is_not_sent_if_its_transaction_rolls_back(mailing_instance, smtp_inbox):
    instance = mailing_instance
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    with pytest.raises(RuntimeError), instance.db.writing() as session:
        notifications.add(session, [1], "approved", "Published.", "/submissions/1")
        raise RuntimeError("the approval fails after the notification was added")
    assert notifications.unread(instance, 1) == [] and mail_jobs(instance) == []
    run_pending(instance)
    assert smtp_inbox.messages == []
    with instance.db.writing() as session:  # the same, committed: notified, and mailed by the runner
        notifications.add(session, [1], "approved", "Published.", "/submissions/1")
    run_pending(instance)
    assert [m["Subject"] for m in smtp_inbox.messages] == ["Your submission was approved and published"]


def test_a_failing_mail_job_is_retried_with_backoff_and_then_marked_failed_with_its_error(tmp_path, database_url):
    from exchange.background import KINDS

    with socket.socket() as probe:  # a port nobody listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                      "SMTP_TLS": "off", "DATABASE_URL": database_url})
    instance = app.extensions["exchange"]
    initialise(instance, "test", seed=False)
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    with instance.db.writing() as session:
        notifications.add(session, [1], "approved", "Published.", "/submissions/1")
    mail = KINDS[notifications.MAIL]
    now = utcnow()
    waits = []
    for attempt in range(1, mail.max_attempts):
        run_pending(instance, now=now)
        [job] = mail_jobs(instance)
        assert (job.state, job.attempts) == ("queued", attempt)
        assert job.last_error.startswith(f"connecting to 127.0.0.1:{port} (tls off) failed: ConnectionRefusedError")
        waits.append((job.run_after - now).total_seconds())
        run_pending(instance, now=job.run_after - datetime.timedelta(seconds=1))
        assert mail_jobs(instance)[0].attempts == attempt  # not tried again before its time
        now = job.run_after
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]  # doubling, at most an hour apart
    run_pending(instance, now=now)
    [job] = mail_jobs(instance)
    assert (job.state, job.attempts) == ("failed", mail.max_attempts) and "ConnectionRefusedError" in job.last_error
    assert job.payload["to"] == "siti@jakarta.example"
    assert [n.kind for n in notifications.unread(instance, 1)] == ["approved"]  # the event stands
    instance.search.close()
    instance.db.dispose()


def decided_submission(instance) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Siti's "Posko RW", sent back by Rina with a comment, then approved: (submission id, Siti's user id)."""
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    siti, rina = people.load(instance, "1:1"), people.load(instance, "2:1")
    draft = submissions.save(instance, siti, "jakarta", "posko", practice_text(title="Posko RW").decode(), None)
    submissions.submit(instance, siti, draft.id)
    submissions.review(instance, rina, draft.id, "request_changes", "Tambahkan peran RT")
    submissions.submit(instance, siti, draft.id)
    submissions.review(instance, rina, draft.id, "approve")
    return draft.id, siti.id


def items(page: str) -> list[str]:
    """The notifications listed on the page, as read on screen (one line each)."""
    import re

    from tests.changes_html import plain

    listed = page.split('<ul class="notifications">', 1)[1].split("</ul>", 1)[0]
    return [" ".join(plain(item).split()) for item in re.findall(r"<li[^>]*>(.*?)</li>", listed, re.S)]


def test_the_notifications_page_names_titles_once_and_marks_them_read_when_seen(app, instance):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import sign_in

    decided_submission(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    home = client.get(HTTPS + "/").get_data(as_text=True)
    assert '<span class="count unread">2</span>' in home  # the header counts what is unread
    first = client.get(HTTPS + "/notifications").get_data(as_text=True)
    approved, sent_back = items(first)
    assert approved.startswith("New Rina approved “Posko RW”; it is published.")
    assert sent_back.startswith("New Rina asked for changes to “Posko RW”. Tambahkan peran RT")
    assert "jakarta/posko" not in first  # titles, never addresses
    for item in (approved, sent_back):  # no word said twice ("approved — Rina: approved — …")
        words = [w.strip(".,;“”") for w in item.split()[:8]]
        assert len(words) == len(set(words)), item
    assert notifications.unread(instance, 1) == []  # seen: read from now on
    again = client.get(HTTPS + "/notifications").get_data(as_text=True)
    assert not any(item.startswith("New") for item in items(again))
    assert 'class="count unread"' not in again


def test_following_a_notification_marks_it_read_and_leads_to_its_page(app, instance):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import sign_in

    submission_id, siti = decided_submission(instance)
    [newest, older] = notifications.unread(instance, siti)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    response = client.get(f"{HTTPS}/notifications/{newest.id}")
    assert response.status_code == 302 and response.location.endswith(f"/submissions/{submission_id}")
    assert [n.id for n in notifications.unread(instance, siti)] == [older.id]
    reviewer = app.test_client()
    sign_in(reviewer, "rina@network.example")
    assert reviewer.get(f"{HTTPS}/notifications/{older.id}").status_code == 404  # not hers
    assert [n.id for n in notifications.unread(instance, siti)] == [older.id]


def test_a_notification_stored_in_the_earlier_wording_is_said_in_todays_in_the_readers_language(app, instance):
    from exchange.models import Notification
    from tests.test_accounts import HTTPS
    from tests.test_accounts import sign_in

    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    with instance.db.writing() as session:  # as 0012 stored it: "approved — Rina: approved — jakarta/posko"
        session.add(Notification(user_id=1, kind="approved", message="Rina: approved — jakarta/posko.",
                                 template="%(name)s: approved — %(practice)s.",
                                 arguments={"name": "Rina", "practice": "jakarta/posko", "postscript": ""},
                                 link="/submissions/1"))
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    [said] = items(client.get(HTTPS + "/notifications?lang=id").get_data(as_text=True))
    assert said.startswith("Baru Rina menyetujui “jakarta/posko”; kini sudah terbit.")


def test_mail_is_written_in_the_language_the_browser_read_the_site_in(tmp_path, smtp_inbox, database_url):
    from tests.test_accounts import csrf_token
    from tests.test_accounts import post

    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SMTP_HOST": "127.0.0.1",
                      "SMTP_PORT": smtp_inbox.port, "SMTP_TLS": "off", "MAIL_FROM": "exchange@px.test",
                      "EXCHANGE_BASE_URL": "https://exchange.example.org", "DATABASE_URL": database_url})
    instance = app.extensions["exchange"]
    initialise(instance, "test", seed=False)
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "kenji@tokyo.example", "Kenji", ["contributor"], ["tokyo"], "t", PASSWORD)
    people.set_language(instance, 2, "ja")  # Kenji chose Japanese with the switcher
    for email in ("siti@jakarta.example", "kenji@tokyo.example"):
        client = app.test_client()  # a browser set to Indonesian that never touched the switcher
        form = {"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
        assert post(client, "/login", form, headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}).status_code == 302
    with instance.db.writing() as session:
        notifications.add(session, [1, 2], "approved", "Published.", "/submissions/1")
    run_pending(instance)
    assert sorted((m["To"], m["Subject"]) for m in smtp_inbox.messages) == [
        ("kenji@tokyo.example", "投稿が承認され、公開されました"),  # a chosen language is never overridden
        ("siti@jakarta.example", "Usulan Anda disetujui dan diterbitkan")]
    instance.search.close()
    instance.db.dispose()
