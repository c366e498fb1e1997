"""Course pack exports (issue 5): every format, both editions, permissions at export time, no fetches,
limits, the queue run by the job runner with real worker processes, and the Markdown ZIP coming back in."""

from __future__ import annotations

import datetime
import http.server
import io
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import policy
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.background import KINDS
from exchange.background import run_pending
from exchange.jobs.runner import Context
from exchange.jobs.runner import Later
from exchange.library import publishing
from exchange.models import utcnow
from exchange.packs import packs
from exchange.packs.exports import PackTooLarge
from exchange.packs.exports import course as course_module
from exchange.packs.exports import export
from exchange.packs.exports import jobs
from exchange.packs.exports import markdown_zip
from exchange.packs.exports import pdf as pdf_module
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import _token_in
from tests.test_accounts import post
from tests.test_accounts import sign_in
from tests.test_rendering import HOSTILE
from tests.test_rendering import assert_inert

BASE = "http://127.0.0.1:5000"
FORMATS = ("html", "pdf", "epub", "zip")


@pytest.fixture
def trainer(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "trainer@semarang.example", "Dewi", ["reader"], [], "t", PASSWORD)
    people.create_user(instance, "colleague@kobe.example", "Aiko", ["reader"], [], "t", PASSWORD)
    return people.load(instance, "1:1")


def pdf_text(data: bytes, tmp_path, first: int | None = None, last: int | None = None) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_objects(data: bytes) -> bytes:
    """The PDF with its compressed streams (object streams included) inflated, to look for keys in it."""
    inflated = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(inflated)


def epub_pages(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xhtml")}


def linked_pack_with_a_practice_made_partners_only(instance, trainer, make_practice) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A pack shared by read-only link whose "Radio relay plan" became partners-only after it was added."""
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Radio relay plan"), "radio", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_practice(instance, trainer, pack, "jakarta/radio")
    link = packs.share(instance, trainer, pack, "link")
    publishing.publish(instance, make_practice(title="Radio relay plan", visibility="partners"), "radio", "t")
    return pack, link


def every_format(app, instance, viewer, pack_id, edition="trainer", link_digest=None) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {f: export(instance, viewer, pack_id, f, edition, BASE, link_digest=link_digest) for f in FORMATS}


def test_trainer_and_participant_editions_in_every_format(app, instance, trainer, make_practice, tmp_path):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop", "en", "Read this **before** the day.")
    packs.add_section(instance, trainer, pack, "Warning")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    item = packs.read(instance, trainer, pack)[1][1].item
    packs.set_notes(instance, trainer, pack, item.id, "Bring the siren log.", "Who sounds the siren?",
                    "The RT head, after the BPBD call.")
    trainer_files = every_format(app, instance, trainer, pack, "trainer")
    participant_files = every_format(app, instance, trainer, pack, "participant")
    texts = {
        "html": lambda d: d.decode(), "pdf": lambda d: " ".join(pdf_text(d, tmp_path).split()),
        "epub": lambda d: "\n".join(epub_pages(d).values()),
        "zip": lambda d: zipfile.ZipFile(io.BytesIO(d)).read("pack.yaml").decode(),
    }
    for key, text in texts.items():
        trainer_text, participant_text = text(trainer_files[key]), text(participant_files[key])
        assert "Bring the siren log." in trainer_text and "The RT head, after the BPBD call." in trainer_text, key
        assert "Who sounds the siren?" in trainer_text and "Who sounds the siren?" in participant_text, key
        assert "Bring the siren log." not in participant_text, key
        assert "The RT head" not in participant_text, key
    assert "Read this before the day." in texts["pdf"](trainer_files["pdf"])
    # A colleague the pack is shared with gets the participant edition whatever they ask for.
    packs.share(instance, trainer, pack, "colleagues", (2,))
    colleague = people.load(instance, "2:1")
    with app.app_context():
        theirs = export(instance, colleague, pack, "html", "trainer", BASE).decode()
    assert "Who sounds the siren?" in theirs and "Bring the siren log." not in theirs


def test_permissions_are_checked_when_exporting_not_when_adding(app, instance, trainer, make_practice, tmp_path):
    pack, link = linked_pack_with_a_practice_made_partners_only(instance, trainer, make_practice)

    public = every_format(app, instance, policy.ANONYMOUS, pack, "participant", tokens.digest(link))
    assert "Siren test" in public["html"].decode() and "Radio relay plan" not in public["html"].decode()
    assert "Radio relay plan" not in pdf_text(public["pdf"], tmp_path)
    assert "Radio relay plan" not in "".join(epub_pages(public["epub"]).values())
    assert zipfile.ZipFile(io.BytesIO(public["zip"])).namelist() == [
        "pack.yaml", "cities.yaml", "practices/jakarta/sirens.md"]
    owners = every_format(app, instance, trainer, pack)
    assert "Radio relay plan" in owners["html"].decode()  # the owner is partner staff: still theirs
    # A revoked link exports nothing at all.
    packs.share(instance, trainer, pack, "private")
    with app.app_context(), pytest.raises(packs.PackNotFound):
        export(instance, policy.ANONYMOUS, pack, "pdf", "participant", BASE, link_digest=tokens.digest(link))


def test_hostile_markdown_stays_inert_in_every_format(app, instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Siren test", body="\n\n".join(HOSTILE)), "sirens", "t")
    pack = packs.create(instance, trainer, "Hostile <script>alert(1)</script> pack", "en",
                        "\n\n".join(HOSTILE))
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    publishing.publish(instance, make_practice(title="Tokyo drill", city="tokyo", country="JP"), "drill", "t")
    packs.add_practice(instance, trainer, pack, "tokyo/drill")  # a second organisation: a second creator
    item = packs.read(instance, trainer, pack)[1][0].item
    packs.set_notes(instance, trainer, pack, item.id, *(["\n\n".join(HOSTILE)] * 3))
    files = every_format(app, instance, trainer, pack)

    html = files["html"].decode()
    head, body = html.split("</head>", 1)
    assert head.count("<style>") == 1 and "<script" not in html.lower()
    assert "Content-Security-Policy" in head
    assert_inert(body, whole_page=True)

    opf = zipfile.ZipFile(io.BytesIO(files["epub"])).read("EPUB/content.opf").decode()
    ids = re.findall(r'\sid="([^"]+)"', opf)
    assert len(ids) == len(set(ids)), ids  # what epubcheck 4.2.6 checked: no duplicate ids
    for name, page in epub_pages(files["epub"]).items():
        assert "<script" not in page.lower(), name
        assert_inert(page.split("</head>", 1)[-1], whole_page=True)

    objects = pdf_objects(files["pdf"])
    for key in (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/SubmitForm", b"/ImportData"):
        assert key not in objects, key
    for uri in re.findall(rb"/URI \((.*?)\)", objects):
        assert uri.startswith((b"http://", b"https://")), uri

    structure = zipfile.ZipFile(io.BytesIO(files["zip"])).read("pack.yaml").decode()
    assert "<script>alert(1)</script>" in structure  # kept as the text it is, for the importer to sanitise


class CountingServer(http.server.ThreadingHTTPServer):
    """A real server on a local port that counts every request made to it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def counting_server():  # type: ignore[no-untyped-def]
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_links_to_files_and_internal_addresses_fetch_nothing(app, instance, trainer, make_practice, counting_server,
                                                             tmp_path):
    internal = f"http://127.0.0.1:{counting_server.server_address[1]}"
    body = (f"![gauge]({internal}/gauge.png)\n\n[report]({internal}/report)\n\n![passwd](file:///etc/passwd)\n\n"
            "[passwd](file:///etc/passwd)\n\n![metadata](http://169.254.169.254/latest/meta-data/)\n\n"
            f"![relative](/static/../../../../etc/passwd)\n\n![svg]({internal}/x.svg#frag)\n")
    publishing.publish(instance, make_practice(title="Gauge relay", body=body), "gauges", "t")
    pack = packs.create(instance, trainer, "Gauges")
    packs.add_practice(instance, trainer, pack, "jakarta/gauges")
    files = every_format(app, instance, trainer, pack)
    assert counting_server.requests == []
    passwd = Path("/etc/passwd").read_bytes()[:40]
    for key, data in files.items():
        assert passwd not in data and b"root:x:0:0" not in data, key
    objects = pdf_objects(files["pdf"])
    assert b"root:x:0:0" not in objects and b"/EmbeddedFile" not in objects
    assert not [n for n in zipfile.ZipFile(io.BytesIO(files["epub"])).namelist() if "passwd" in n or n.endswith(".png")]

    fetcher = pdf_module.AppAssetsOnly(BASE)
    for url in ("file:///etc/passwd", f"{internal}/gauge.png", "http://169.254.169.254/", f"{BASE}/static/../x",
                "ftp://example.org/x", f"{BASE}/static/../../../../../etc/passwd"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
    assert counting_server.requests == []
    assert b"@page" in fetcher.fetch(f"{BASE}/static/pack_print.css").read()  # the app's own assets are allowed


def test_a_pdf_in_three_languages_has_cover_contents_with_page_numbers_headers_and_cjk_fonts(
        app, instance, trainer, make_practice, tmp_path):
    long_body = "\n\n".join(f"## Step {n}\n\n" + "Warn the neighbourhood and check the gauge. " * 40
                            for n in range(1, 6))
    publishing.publish(instance, make_practice(title="Siren test", body=long_body), "sirens", "t")
    publishing.publish(instance, make_practice(title="Peringatan dini banjir", language="id",
                                            body="## Langkah\n\nPantau tinggi muka air di pintu air Manggarai.\n"),
                    "peringatan-dini", "t")
    tsunami = make_practice(title="津波避難ビルの指定", city="tokyo", country="JP", language="ja",
                            body="## 手順\n\n避難ビルを指定し、住民に周知する。\n")
    publishing.publish(instance, tsunami, "tsunami-building", "t")
    pack = packs.create(instance, trainer, "Flood workshop Semarang", "en")
    packs.add_section(instance, trainer, pack, "Warning")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_practice(instance, trainer, pack, "jakarta/peringatan-dini")
    packs.add_section(instance, trainer, pack, "Evacuation")
    packs.add_practice(instance, trainer, pack, "tokyo/tsunami-building")
    with app.app_context():
        data = export(instance, trainer, pack, "pdf", "participant", BASE)
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert "Title:           Flood workshop Semarang" in info
    assert re.search(r"Tagged:\s+yes", info)  # structure for screen readers
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-JP" in fonts  # pdftotext would find the text even in empty boxes: check the font

    cover = pdf_text(data, tmp_path, 1, 1)
    assert "Flood workshop Semarang" in cover and "Participant edition" in cover and "2 / " not in cover
    contents = pdf_text(data, tmp_path, 2, 2)
    listed = {title: int(number) for title, number in
              re.findall(r"\d\. (Siren test|Peringatan dini banjir|津波避難ビルの指定)[ .]*?(\d+)\s*$", contents, re.M)}
    assert set(listed) == {"Siren test", "Peringatan dini banjir", "津波避難ビルの指定"}, contents
    for title, number in listed.items():
        page = pdf_text(data, tmp_path, number, number)
        assert title in page, (title, number)
        assert re.search(rf"^\s*{number}\s*/\s*{pages}\s*$", page, re.M)  # the page number in the footer
        assert "Flood workshop Semarang" in page.splitlines()[0]  # running header: the pack ...
    japanese = listed["津波避難ビルの指定"]
    assert "Evacuation" in pdf_text(data, tmp_path, japanese, japanese).splitlines()[0]  # ... and the section
    assert listed["Siren test"] < listed["Peringatan dini banjir"] < listed["津波避難ビルの指定"]
    appendix = pdf_text(data, tmp_path, pages, pages)
    assert "Sources and licences" in appendix and f"{BASE}/practices/tokyo/tsunami-building/versions/1" in appendix
    assert "Creative Commons Attribution 4.0 International" in appendix


def test_limits_give_a_clear_message(app, instance, trainer, make_practice, monkeypatch):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Radio plan"), "radio", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_practice(instance, trainer, pack, "jakarta/radio")
    monkeypatch.setattr(course_module, "MAX_PRACTICES", 1)
    with app.app_context(), pytest.raises(PackTooLarge, match="2 practices; an export holds at most 1"):
        export(instance, trainer, pack, "epub", "trainer", BASE)
    monkeypatch.setattr(course_module, "MAX_PRACTICES", 200)
    monkeypatch.setattr(pdf_module, "MAX_PAGES", 2)
    with app.app_context(), pytest.raises(PackTooLarge, match=r"would print as \d+ pages; a PDF holds at most 2"):
        export(instance, trainer, pack, "pdf", "trainer", BASE)


def test_inline_nesting_too_deep_to_lay_out_is_printed_as_plain_text(app, instance, trainer, make_practice, tmp_path):
    # markdown-it bounds block nesting, not emphasis: this nests 4,000 elements; WeasyPrint would hit a
    # RecursionError after half a minute at 40,000 (threats R-1 payload, R-7).
    body = "*a **a " * 2000 + "b" + " a** a*" * 2000
    publishing.publish(instance, make_practice(title="Nested", body=body), "nested", "t")
    publishing.publish(instance, make_practice(title="Normal", body="Some *emphasis* **here**."), "normal", "t")
    pack = packs.create(instance, trainer, "Nesting")
    packs.add_practice(instance, trainer, pack, "jakarta/nested")
    packs.add_practice(instance, trainer, pack, "jakarta/normal")
    with app.app_context():
        data = export(instance, trainer, pack, "pdf", "trainer", BASE)
        html = export(instance, trainer, pack, "html", "trainer", BASE).decode()
    assert "nests too deeply to lay out" in " ".join(pdf_text(data, tmp_path).split())
    assert html.count("nests too deeply") == 1 and "<em>emphasis</em>" in html


def test_the_queue_runs_two_exports_at_a_time_and_keeps_the_rest_waiting(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    colleague = people.load(instance, "2:1")
    packs.share(instance, trainer, pack, "colleagues", (2,))
    submitted = [jobs.submit(instance, person, pack, "pdf", "participant")[0]
                 for person in (trainer, trainer, trainer, colleague, colleague)]
    claimed = [jobs.claim(instance) for _ in range(3)]
    assert claimed == [submitted[0], submitted[1], None]
    with instance.db.session() as session:
        from exchange.models import ExportJob

        assert sorted(j.status for j in session.query(ExportJob)) == ["queued"] * 3 + ["running"] * 2
    jobs.fail(instance, submitted[0], "test")
    assert jobs.claim(instance) == submitted[2]
    with pytest.raises(ValueError, match="Only the pack's owner"):
        jobs.submit(instance, colleague, pack, "pdf", "trainer")
    for _ in range(2):
        jobs.submit(instance, trainer, pack, "zip", "participant")
    with pytest.raises(ValueError, match="already have 4 exports waiting or running"):
        jobs.submit(instance, trainer, pack, "zip", "participant")
    with pytest.raises(packs.PackNotFound):
        jobs.submit(instance, policy.ANONYMOUS, pack, "pdf", "participant")


def export_job_states(instance) -> dict[int, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """The runner's job for each export: its state and the attempts it has used."""
    from exchange.models import Job

    with instance.db.session() as session:
        return {job.payload["export"]: (job.state, job.attempts)
                for job in session.scalars(sa.select(Job).where(Job.kind == jobs.KIND))}


def export_status(instance, job_id: int) -> str:  # type: ignore[no-untyped-def]
    from exchange.models import ExportJob

    with instance.db.session() as session:
        return session.get(ExportJob, job_id).status


def test_the_runner_waits_for_a_free_worker_and_the_sweep_fails_an_orphan(instance, trainer, make_practice):
    from exchange.models import ExportJob

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    first, second, third = (jobs.submit(instance, trainer, pack, "zip", "participant")[0] for _ in range(3))
    # Two exports running whose runner died with their workers: the third waits, using up no attempt.
    assert jobs.claim(instance, first) == first and jobs.claim(instance, second) == second
    assert run_pending(instance, kinds={jobs.KIND: KINDS[jobs.KIND]}) == 3
    assert export_job_states(instance)[third] == ("queued", 0)
    assert {export_status(instance, n) for n in (first, second, third)} == {"running", "queued"}
    # The sweep fails them once they have been running past the time limit; the third then runs.
    with instance.db.writing() as session:
        for job_id in (first, second):
            session.get(ExportJob, job_id).started_at -= datetime.timedelta(seconds=jobs.TIME_LIMIT_SECONDS + 61)
    later = datetime.timedelta(seconds=jobs.LOOK_AGAIN_SECONDS + 1)
    run_pending(instance, now=utcnow() + later)
    assert [export_status(instance, n) for n in (first, second, third)] == ["failed", "failed", "queued"]
    run_pending(instance, now=utcnow() + 2 * later)
    assert [export_status(instance, n) for n in (first, second, third)] == ["failed", "failed", "done"]
    assert export_job_states(instance) == {first: ("done", 1), second: ("done", 1), third: ("done", 1)}
    with instance.db.session() as session:
        assert session.get(ExportJob, first).message == "The export worker stopped without finishing. Try again."


def test_a_stopping_runner_stops_the_worker_and_queues_the_export_again(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    job_id, key = jobs.submit(instance, trainer, pack, "pdf", "participant")
    stopping = threading.Event()
    stopping.set()  # the runner is asked to stop as soon as the worker has started
    with pytest.raises(Later, match="starts again"):
        jobs.run(Context(instance, stopping), {"export": job_id})
    job = jobs.get(instance, job_id, key)
    assert (job.status, job.progress, job.started_at) == ("queued", 0, None)
    assert not jobs.file_path(instance, job).exists()
    run_pending(instance)  # the next runner renders it
    assert jobs.get(instance, job_id, key).status == "done"


def wait_for(client, url: str, seconds: float = 90) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = client.get(url).get_data(as_text=True)
        if "Download" in page or "Not exported" in page:
            return page
        time.sleep(0.3)
    raise AssertionError(f"export not finished after {seconds} s: {page}")


def test_exporting_from_the_pack_page_runs_a_worker_and_offers_the_file(app, instance, trainer, make_practice):
    pack, link = linked_pack_with_a_practice_made_partners_only(instance, trainer, make_practice)

    visitor = app.test_client()  # anybody with the read-only link, not signed in
    page = visitor.get(f"{HTTPS}/packs/{pack}?token={link}").get_data(as_text=True)
    assert 'value="trainer"' not in page and 'name="format" value="pdf"' in page
    queued = post(visitor, f"/packs/{pack}/export", {"format": "pdf", "edition": "participant", "token": link,
                                                     "csrf_token": _token_in(page)})
    status_url = HTTPS + queued.headers["Location"]
    assert "key=" in status_url
    assert "Waiting for a free export worker" in visitor.get(status_url).get_data(as_text=True)  # only queued
    assert run_pending(instance) >= 1  # what the job runner does: a worker process renders it
    done = wait_for(visitor, status_url)
    assert "Ready:" in done, done
    download = re.search(r'href="([^"]+/download\?key=[^"]+)"', done).group(1).replace("&amp;", "&")
    response = visitor.get(HTTPS + download)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment; filename=\"pack-" in response.headers["Content-Disposition"]
    data = response.data
    response.close()
    assert data.startswith(b"%PDF") and b"Radio relay plan" not in pdf_objects(data)
    # Without the job's secret (another browser, a guessed number) there is nothing to see.
    assert app.test_client().get(status_url.split("?")[0] + "?key=guess").status_code == 404
    assert app.test_client().get(HTTPS + download.split("?")[0]).status_code == 404
    # The visitor's own exports are listed on the pack page.
    assert "/download" not in page and f"/packs/{pack}/exports/" in visitor.get(
        f"{HTTPS}/packs/{pack}?token={link}").get_data(as_text=True)
    # Revoking the link ends the downloads made through it.
    packs.share(instance, trainer, pack, "private")
    assert visitor.get(HTTPS + download).status_code == 404


def test_deleting_a_pack_deletes_its_exports_but_not_the_practices(app, instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    page = client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    queued = post(client, f"/packs/{pack}/export", {"format": "zip", "edition": "trainer",
                                                    "csrf_token": _token_in(page)})
    run_pending(instance)
    assert "Ready:" in wait_for(client, HTTPS + queued.headers["Location"])
    assert len(list(jobs.folder(instance).iterdir())) == 1
    with pytest.raises(packs.PackNotFound):
        jobs.delete_pack(instance, people.load(instance, "2:1"), pack)  # only the owner
    deleted = post(client, f"/packs/{pack}/delete", {"csrf_token": _token_in(page)})
    assert deleted.headers["Location"] == "/packs"
    assert client.get(f"{HTTPS}/packs/{pack}").status_code == 404 and list(jobs.folder(instance).iterdir()) == []
    assert client.get(f"{HTTPS}/practices/jakarta/sirens").status_code == 200


def test_a_pack_deleted_while_its_export_runs_leaves_no_file(instance, trainer, monkeypatch):
    from exchange.packs import exports
    from exchange.packs.exports import worker

    pack = packs.create(instance, trainer, "Flood workshop")
    job_id, _key = jobs.submit(instance, trainer, pack, "zip", "participant")
    assert jobs.claim(instance, job_id) == job_id

    def deleted_meanwhile(*_args: object) -> bytes:
        jobs.delete_pack(instance, trainer, pack)
        return b"PK"

    monkeypatch.setattr(exports, "export", deleted_meanwhile)
    assert worker._run(instance, "https://exchange.example", job_id) == 0
    assert list(jobs.folder(instance).iterdir()) == []


def test_files_are_deleted_after_a_week(instance, trainer, make_practice):
    from exchange.models import ExportJob

    pack = packs.create(instance, trainer, "Flood workshop")
    job_id, key = jobs.submit(instance, trainer, pack, "zip", "participant")
    jobs.claim(instance)
    job = jobs.get(instance, job_id, key)
    jobs.file_path(instance, job).parent.mkdir(parents=True, exist_ok=True)
    jobs.file_path(instance, job).write_bytes(b"PK")
    jobs.finish(instance, job_id, 2)
    jobs.sweep(instance)
    assert jobs.get(instance, job_id, key).status == "done"
    with instance.db.writing() as session:
        session.get(ExportJob, job_id).finished_at -= datetime.timedelta(days=8)
    jobs.sweep(instance)
    assert jobs.get(instance, job_id, key).status == "expired" and not jobs.file_path(instance, job).exists()


@pytest.mark.parametrize(("limit", "message"), [({"EXCHANGE_EXPORT_SECONDS": "1"}, "took longer than"),
                                               ({"EXCHANGE_EXPORT_MEMORY_MB": "200"}, "needed more than")])
def test_a_worker_over_its_time_or_memory_reports_it(app, instance, trainer, make_practice, limit, message,
                                                     monkeypatch):
    long_body = "\n\n".join(["Warn the neighbourhood and check the gauge before the water rises. " * 20] * 150)
    publishing.publish(instance, make_practice(title="Siren test", body=long_body), "sirens", "t")  # ~100 pages
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    job_id, key = jobs.submit(instance, trainer, pack, "pdf", "trainer")
    for name, value in limit.items():  # the worker process the runner starts reads its limits from these
        monkeypatch.setenv(name, value)
    run_pending(instance)
    job = jobs.get(instance, job_id, key)
    assert job.status == "failed" and message in job.message and "split it" in job.message, job.message


def test_a_worker_imports_no_web_code_and_writes_what_an_export_in_this_process_writes(app, instance, trainer,
                                                                                      make_practice):
    publishing.publish(instance, make_practice(title="Siren <test>", organisation="BPBD & co"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood <workshop>", "ja", "Read this **before** the day.")
    packs.add_section(instance, trainer, pack, "Warning & alarm")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    item = packs.read(instance, trainer, pack)[1][1].item
    packs.set_notes(instance, trainer, pack, item.id, "Bring the *siren* log.", "Who sounds it?", "The RT head.")
    job_id, key = jobs.submit(instance, trainer, pack, "html", "trainer")
    assert jobs.claim(instance) == job_id
    code = ("import sys; from exchange.packs.exports import worker; status = worker.main(int(sys.argv[1])); "
            "print(sorted(m for m in sys.modules if m.startswith(('flask', 'werkzeug', 'exchange.web')))); "
            "sys.exit(status)")
    worker = subprocess.run([sys.executable, "-c", code, str(job_id)], capture_output=True, text=True, timeout=300,
                            env=jobs.worker_environment(app.instance_path, app.config["DATABASE_URL"], BASE))
    assert worker.returncode == 0 and worker.stdout.strip() == "[]", worker.stdout + worker.stderr
    job = jobs.get(instance, job_id, key)
    assert job.status == "done", job.message
    written = jobs.file_path(instance, job).read_bytes()
    assert written == export(instance, trainer, pack, "html", "trainer", BASE)  # no app context needed either
    assert "ジャカルタ" in written.decode() and "Siren &lt;test&gt;" in written.decode()


def test_a_markdown_zip_goes_back_in_with_exchange_import_and_the_pack_importer(app, instance, trainer,
                                                                                make_practice, tmp_path, runner,
                                                                                new_database):
    from exchange.app import create_app
    from exchange.initialise import initialise

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    publishing.publish(instance, make_practice(title="津波避難ビル", city="tokyo", country="JP", language="ja"),
                    "tsunami", "t")
    pack = packs.create(instance, trainer, "Flood workshop", "en", "Welcome.")
    packs.add_section(instance, trainer, pack, "Warning")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_practice(instance, trainer, pack, "tokyo/tsunami")
    item = packs.read(instance, trainer, pack)[1][1].item
    packs.set_notes(instance, trainer, pack, item.id, "Notes.", "Exercise.", "Answer.")
    publishing.publish(instance, make_practice(title="Siren test, revised"), "sirens", "t")  # the pack keeps v1
    out = tmp_path / "pack.zip"
    assert runner.invoke(args=["packs", "export", str(pack), "--format", "zip", "--edition", "trainer",
                               "-o", str(out)]).exit_code == 0

    # Into another, empty library: exchange import takes the practices, the pack importer the structure.
    other = create_app({"INSTANCE": tmp_path / "other", "TESTING": True, "SERVER_NAME": "px.test",
                        "DATABASE_URL": new_database()})
    other_instance = other.extensions["exchange"]
    initialise(other_instance, "test", seed=False)
    people.create_user(other_instance, "kobe@kobe.example", "Aiko", ["reader"], [], "t", PASSWORD)
    result = other.test_cli_runner().invoke(args=["import", str(out)])
    assert result.exit_code == 0 and "2 created" in result.output, result.output
    result = other.test_cli_runner().invoke(args=["packs", "import", str(out), "--owner", "kobe@kobe.example"])
    assert result.exit_code == 0 and "Imported pack 1" in result.output, result.output
    owner = people.load(other_instance, "1:1")
    copy, entries = packs.read(other_instance, owner, 1)
    assert (copy.title, copy.language, copy.introduction) == ("Flood workshop", "en", "Welcome.")
    assert [e.item.heading or e.practice.title for e in entries] == ["Warning", "Siren test", "津波避難ビル"]
    assert (entries[1].item.trainer_notes, entries[1].item.exercises, entries[1].item.answers) == (
        "Notes.", "Exercise.", "Answer.")
    other_instance.search.close()
    other_instance.db.dispose()

    # Back into this library: the pinned version is found by its text, not the newest one taken.
    imported = markdown_zip.import_pack(instance, trainer, out)
    _pack, entries = packs.read(instance, trainer, imported.pack_id)
    assert entries[1].item.version == 1 and entries[1].outdated and imported.notes == []


def test_importing_a_pack_from_the_packs_page(app, instance, trainer, make_practice, tmp_path):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    with app.app_context():
        data = export(instance, trainer, pack, "zip", "participant", BASE)
    client = app.test_client()
    sign_in(client, "colleague@kobe.example")
    token = _token_in(client.get(HTTPS + "/packs").get_data(as_text=True))
    imported = post(client, "/packs/import", {"file": (io.BytesIO(data), "../../pack.zip"), "csrf_token": token},
                    content_type="multipart/form-data")
    page = client.get(HTTPS + imported.headers["Location"]).get_data(as_text=True)
    assert "Pack imported." in page and "Siren test" in page and "<h1>Flood workshop</h1>" in page
    refused = post(client, "/packs/import", {"file": (io.BytesIO(b"not a zip"), "x.zip"), "csrf_token": token},
                   content_type="multipart/form-data")
    assert "Not imported: pack.zip: not a readable zip file" in client.get(
        HTTPS + refused.headers["Location"]).get_data(as_text=True)
    assert len(packs.mine(instance, people.load(instance, "2:1"))) == 1


def test_a_broken_pack_file_is_refused_by_name_and_creates_nothing(instance, trainer, tmp_path):
    def pack_zip(structure: str, extra: dict[str, bytes] | None = None):  # type: ignore[no-untyped-def]
        path = tmp_path / "bad.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("pack.yaml", structure)
            for name, data in (extra or {}).items():
                archive.writestr(name, data)
        return path

    cases = {
        "format: other\n": "not a pack structure",
        "format: practice-exchange-pack/1\ntitle: T\nentries: {a: 1}\n": "entries must be a list",
        "format: practice-exchange-pack/1\ntitle: T\nentries: [{section: A, practice: b}]\n": "entry 1 must have",
        "format: practice-exchange-pack/1\ntitle: T\nentries: [{practice: [1]}]\n": "entry 1: practice must be text",
        "format: practice-exchange-pack/1\ntitle: T\nentries: [{section: A, evil: 1}]\n": "unknown key 'evil'",
        "format: practice-exchange-pack/1\ntitle: !!python/object:os.system x\n": "unsupported YAML tag",
        "format: practice-exchange-pack/1\ntitle: T\nlanguage: xx\nentries: []\n": "language must be one of",
        "a: &a [x]\nb: *a\n": "anchors",
    }
    for structure, message in cases.items():
        with pytest.raises(ValueError, match=message):
            markdown_zip.import_pack(instance, trainer, pack_zip(structure))
    with pytest.raises(ValueError, match="would be written outside"):
        markdown_zip.import_pack(instance, trainer, pack_zip("format: x\n", {"../evil.md": b"x"}))
    assert packs.mine(instance, trainer) == []
    missing = markdown_zip.import_pack(instance, trainer, pack_zip(
        "format: practice-exchange-pack/1\ntitle: T\nentries: [{practice: jakarta/nowhere}]\n"))
    assert missing.notes == ["jakarta/nowhere: not in this library (import its file with exchange import first); "
                             "left out"]


def test_a_checklist_item_keeps_its_box_on_the_line_of_its_text_in_every_format(app, instance, trainer,
                                                                                 make_practice, tmp_path):
    body = "Before the rain:\n\n- [ ] Check the radio batteries\n- [x] Open the shelter door\n"
    publishing.publish(instance, make_practice(title="Siren test", body=body), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.set_notes(instance, trainer, pack, packs.read(instance, trainer, pack)[1][0].item.id, "",
                    "- [ ] Find the siren switch")
    files = every_format(app, instance, trainer, pack, "participant")
    lines = [line.strip() for line in pdf_text(files["pdf"], tmp_path).splitlines()]
    assert "☐ Check the radio batteries" in lines and "☑ Open the shelter door" in lines
    assert "☐ Find the siren switch" in lines
    for html in (files["html"].decode(), "".join(epub_pages(files["epub"]).values())):
        assert '<li class="task-list-item"><span class="task-box">☐</span> Check the radio batteries</li>' in html
        assert '<span class="task-box">☑</span> Open the shelter door' in html
        assert "<input" not in html  # no form control for a reader to lay out as a block


def saved_name(disposition: str) -> tuple[str, str]:
    """The (UTF-8, ASCII) names a browser saves a download under, read as RFC 6266 and 5987 say."""
    match = re.fullmatch(r"""attachment; filename="([!#-\[\]-~ ]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)""",
                         disposition)
    assert match, disposition
    return urllib.parse.unquote(match.group(2), errors="strict"), match.group(1)


@pytest.mark.parametrize(("title", "language", "utf8", "ascii_name"), [
    ("避難所運営研修", "ja", "避難所運営研修（講師用）.pdf", "pack-7-trainer.pdf"),
    ("Pelatihan Banjir Semarang", "id", "Pelatihan Banjir Semarang (Edisi pelatih).pdf",
     "pack-7-pelatihan-banjir-semarang-trainer.pdf"),
    ("Flood workshop (2026)", "en", "Flood workshop (2026) (Trainer edition).pdf",
     "pack-7-flood-workshop-2026-trainer.pdf"),
    ("x\r\nSet-Cookie: a=b", "en", "x-Set-Cookie-a=b (Trainer edition).pdf", "pack-7-x-set-cookie-a-b-trainer.pdf"),
    ("../../etc/passwd", "en", "etc-passwd (Trainer edition).pdf", "pack-7-etc-passwd-trainer.pdf"),
    ('C:\\temp\\"a";b', "en", "C-temp-a-;b (Trainer edition).pdf", "pack-7-c-temp-a-b-trainer.pdf"),
])
def test_a_download_is_named_by_the_pack_title_in_any_language(title, language, utf8, ascii_name):
    from exchange.packs.exports import content_disposition

    header = content_disposition(title, 7, "trainer", "pdf", language)
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert saved_name(header) == (utf8, ascii_name)


def test_a_japanese_pack_downloads_under_its_title(app, instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "避難所運営研修", "ja")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    owner = app.test_client()
    sign_in(owner, "trainer@semarang.example")
    page = owner.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    queued = post(owner, f"/packs/{pack}/export", {"format": "html", "edition": "trainer",
                                                   "csrf_token": _token_in(page)})
    assert run_pending(instance) >= 1
    done = wait_for(owner, HTTPS + queued.headers["Location"])
    download = re.search(r'href="([^"]+/download\?key=[^"]+)"', done).group(1).replace("&amp;", "&")
    response = owner.get(HTTPS + download)
    assert response.status_code == 200
    assert saved_name(response.headers["Content-Disposition"]) == ("避難所運営研修（講師用）.html",
                                                                    f"pack-{pack}-trainer.html")
    response.close()
