"""Save as PDF: one practice printed as its reader may read it, with the interface's words, and kept."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from exchange import policy
from exchange.accounts import people
from exchange.errors import PracticeNotFound
from exchange.library import publishing
from exchange.packs.exports import pdf as pdf_module
from exchange.practice_pdf import folder
from exchange.practice_pdf import practice_pdf
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import sign_in
from tests.test_pack_exports import counting_server  # noqa: F401 - a fixture used below
from tests.test_pack_exports import pdf_objects
from tests.test_pack_exports import pdf_text
from tests.test_pack_exports import saved_name

TITLE = "津波避難ビルの指定"
PATH = "/practices/tokyo/tsunami-building"
SECRET = "Sandiwara"  # a word only the partners-only practice contains
FONT_CACHES = Path("/var/cache/fontconfig")


@pytest.fixture
def tsunami(instance, make_practice) -> str:  # type: ignore[no-untyped-def]
    text = make_practice(title=TITLE, summary="沿岸の地区で津波避難ビルを指定し、住民に知らせる。", city="tokyo",
                         country="JP", language="ja", authors="[港区防災課]",
                         body="## 手順\n\n- [ ] 避難ビルを指定する\n- [x] 住民に周知する\n\n"
                              "| 地区 | ビル |\n|---|---|\n| 芝浦 | 区民センター |\n")
    publishing.publish(instance, text, "tsunami-building", "t")
    return "tokyo/tsunami-building"


def read(printed) -> bytes:  # type: ignore[no-untyped-def]
    return printed.path.read_bytes()


def get(client, path: str):  # type: ignore[no-untyped-def]
    """The response to ``path``, its body read and the file it was sent from closed."""
    response = client.get(HTTPS + path)
    response.get_data()
    response.close()
    return response


def test_a_japanese_practice_prints_its_text_checklist_and_metadata_with_the_interface_words(
        app, instance, tsunami, tmp_path):
    for language, labels in (("ja", ["都市", "災害種別", "版", "公開日", "言語", "恒久的な URL"]),
                             ("id", ["Kota", "Ancaman bencana", "Versi", "Terbit", "Bahasa", "Alamat tetap"]),
                             ("en", ["City", "Hazards", "Version", "Published", "Language", "Stable address"])):
        data = read(practice_pdf(instance, policy.ANONYMOUS, tsunami, None, language))
        assert data.startswith(b"%PDF-")
        text = pdf_text(data, tmp_path)
        assert TITLE in text and "沿岸の地区で津波避難ビルを指定し" in text and "区民センター" in text
        assert "港区防災課" in text and "2023-12-05" in text and "日本語" in text
        assert "☐ 避難ビルを指定する" in text and "☑ 住民に周知する" in text  # each box on its item's line
        for label in labels:
            assert label in text, (language, label)
        assert "http://127.0.0.1:5000/practices/tokyo/tsunami-building/versions/1" in text  # footer and citation
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-JP" in fonts  # the Japanese is set in a Japanese font, not in empty boxes


def test_saving_a_practice_as_pdf_downloads_it_under_its_title(client, tsunami, tmp_path):
    response = get(client, PATH + ".pdf?lang=ja")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and TITLE in pdf_text(response.data, tmp_path)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert saved_name(disposition) == (f"{TITLE}-v1.pdf", "tokyo-tsunami-building-v1.pdf")
    assert f"filename*=UTF-8''{quote(TITLE, safe='')}-v1.pdf" in disposition
    assert "private" in response.headers["Cache-Control"]
    earlier = get(client, PATH + "/versions/1.pdf")
    assert earlier.status_code == 200 and earlier.mimetype == "application/pdf"
    for missing in (PATH + "/versions/2.pdf", PATH + "/versions/0.pdf", "/practices/tokyo/nope.pdf"):
        assert get(client, missing).status_code == 404, missing


@pytest.mark.parametrize("language, label", [("en", "Save as PDF"), ("id", "Simpan sebagai PDF"), ("ja", "PDFで保存")])
def test_the_practice_page_and_its_versions_link_to_their_pdf(client, instance, make_practice, tsunami,
                                                               language, label):
    page = client.get(f"{HTTPS}{PATH}?lang={language}").get_data(as_text=True)
    assert f'href="{PATH}.pdf" download type="application/pdf">{label}</a>' in page
    publishing.publish(instance, make_practice(title=TITLE, city="tokyo", country="JP", language="ja"),
                       "tsunami-building", "t")
    earlier = client.get(f"{HTTPS}{PATH}/versions/1?lang={language}").get_data(as_text=True)
    assert f'href="{PATH}/versions/1.pdf" download type="application/pdf">{label}</a>' in earlier


def test_a_partners_only_practice_is_not_found_by_the_public_and_printed_for_partners(
        app, client, instance, make_practice, tmp_path):
    publishing.publish(instance, make_practice(title="Radio relay plan", visibility="partners",
                                               body=f"Radio code word: {SECRET}.\n"), "radio", "t")
    for path in ("/practices/jakarta/radio.pdf", "/practices/jakarta/radio/versions/1.pdf"):
        response = get(client, path)
        assert response.status_code == 404, path
        assert "Radio relay plan" not in response.get_data(as_text=True)
        assert "Content-Disposition" not in response.headers
    with pytest.raises(PracticeNotFound):
        practice_pdf(instance, policy.ANONYMOUS, "jakarta/radio", None, "en")
    assert not folder(instance).exists() or not list(folder(instance).glob("*.pdf"))  # nothing printed for them
    people.create_user(instance, "staff@kobe.example", "Aiko", ["reader"], [], "t", PASSWORD)
    staff = app.test_client()
    sign_in(staff, "staff@kobe.example")
    response = get(staff, "/practices/jakarta/radio.pdf")
    assert response.status_code == 200 and SECRET in pdf_text(response.data, tmp_path)
    # Made public later, its first version stays for partners only (DESIGN invariant 5), kept file or not.
    publishing.publish(instance, make_practice(title="Radio relay plan", body="Given by phone.\n"), "radio", "t")
    assert get(client, "/practices/jakarta/radio/versions/1.pdf").status_code == 404
    assert get(client, "/practices/jakarta/radio.pdf").status_code == 200


def test_a_printed_practice_is_kept_and_given_again_without_printing(app, instance, make_practice, tsunami,
                                                                      monkeypatch):
    first = get(app.test_client(), PATH + ".pdf?lang=ja")
    kept = list(folder(instance).glob("*.pdf"))
    assert len(kept) == 1 and kept[0].read_bytes() == first.data
    written = kept[0].stat().st_mtime_ns

    def no_printing(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("printed again")

    monkeypatch.setattr(pdf_module, "write_bounded", no_printing)
    second = get(app.test_client(), PATH + ".pdf?lang=ja")  # another reader
    assert second.status_code == 200 and second.data == first.data
    assert kept[0].stat().st_mtime_ns == written
    assert practice_pdf(instance, policy.ANONYMOUS, tsunami, None, "ja").printed is False
    monkeypatch.undo()
    # Another interface language, or a new version, is printed (and kept) once more.
    assert practice_pdf(instance, policy.ANONYMOUS, tsunami, None, "id").printed is True
    publishing.publish(instance, make_practice(title=TITLE, city="tokyo", country="JP", language="ja"),
                       "tsunami-building", "t")
    again = practice_pdf(instance, policy.ANONYMOUS, tsunami, None, "ja")
    assert again.printed is True and again.version == 2 and again.path != kept[0]
    assert len(list(folder(instance).glob("*.pdf"))) == 3
    assert not [p for p in folder(instance).iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_hostile_practice_fetches_nothing_and_cannot_run_away(instance, make_practice, counting_server,  # noqa: F811
                                                                tmp_path):
    internal = f"http://127.0.0.1:{counting_server.server_address[1]}"
    body = (f"![gauge]({internal}/gauge.png)\n\n[report]({internal}/report)\n\n![passwd](file:///etc/passwd)\n\n"
            "[passwd](file:///etc/passwd)\n\n![metadata](http://169.254.169.254/latest/meta-data/)\n\n"
            "![relative](/static/../../../../etc/passwd)\n\n"
            + "| " + " | ".join(f"c{n}" for n in range(40)) + " |\n|" + "---|" * 40 + "\n"
            + ("| " + " | ".join("wide cell" for _ in range(40)) + " |\n") * 120
            # markdown-it bounds block nesting, not emphasis: 4,000 nested elements (pack exports flatten them)
            + "\n\n" + "*a **a " * 2000 + "b" + " a** a*" * 2000 + "\n")
    publishing.publish(instance, make_practice(title="Gauge relay", body=body), "gauges", "t")
    data = read(practice_pdf(instance, policy.ANONYMOUS, "jakarta/gauges", None, "en"))
    assert counting_server.requests == []
    assert b"root:x:0:0" not in pdf_objects(data) and b"/EmbeddedFile" not in pdf_objects(data)
    text = pdf_text(data, tmp_path)
    assert "Gauge relay" in text and "wide cell" in text
    assert "nests too deeply to lay out" in " ".join(text.split())  # printed as plain text, not laid out


@pytest.mark.parametrize("limit", [{"PRINT_SECONDS": 0.01}, {"PRINT_MEMORY_BYTES": 50 * 2**20}],
                         ids=["time", "memory"])
def test_a_print_over_its_time_or_memory_is_stopped_with_a_clear_message(client, instance, tsunami, monkeypatch,
                                                                          limit):
    for name, value in limit.items():
        monkeypatch.setattr(pdf_module, name, value)
    font_caches = {path: path.stat().st_mtime_ns for path in FONT_CACHES.glob("*")}
    response = get(client, PATH + ".pdf")
    # Fonts are loaded before the cap: fontconfig under it once wrote empty caches for the whole machine.
    assert {path: path.stat().st_mtime_ns for path in FONT_CACHES.glob("*")} == font_caches
    assert response.status_code == 400 and "too large to save as a PDF" in response.get_data(as_text=True)
    assert "Content-Disposition" not in response.headers
    assert not list(folder(instance).glob("*.pdf"))  # nothing half-printed is kept
    japanese = get(client, PATH + ".pdf?lang=ja").get_data(as_text=True)
    assert "PDF" in japanese and "too large" not in japanese
