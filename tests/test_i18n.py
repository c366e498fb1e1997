"""The interface in English, Indonesian and Japanese: complete catalogs, and pages in the language asked for.

A reader who asks for Indonesian or Japanese (``Accept-Language``, ``?lang=``, the switcher's cookie, or
their account's setting) gets every word around the content in that language, ``<html lang>`` saying so,
and the content itself marked with its own language. The catalog tests fail on a message that was not
extracted, has no reviewed translation in a language, or was not compiled.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from exchange.accounts import people
from exchange.library import publishing
from exchange.web import i18n
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import sign_in

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "exchange" / "translations"
TRANSLATED = [code for code in i18n.LANGUAGES if code != "en"]


def catalog(language: str) -> Catalog:
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def template() -> Catalog:
    with open(CATALOGS / "messages.pot", "rb") as pot:
        return read_po(pot)


def ids(found: Catalog) -> set:
    return {message.id for message in found if message.id}


# -- the catalogs -------------------------------------------------------------------------------------

def test_the_committed_template_holds_every_message_of_the_code_and_templates(tmp_path):
    extracted = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "--no-location", "-o", str(extracted), str(ROOT)])
    with open(extracted, "rb") as pot:
        fresh = ids(read_po(pot))
    assert fresh, "nothing was extracted"
    committed = ids(template())
    assert not fresh - committed, f"not in messages.pot (run scripts/catalogs): {sorted(fresh - committed)}"
    assert not committed - fresh, f"in messages.pot but no longer used (run scripts/catalogs): {committed - fresh}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_reviewed_translation(language):
    found = catalog(language)
    assert ids(found) == ids(template()), "the catalog is behind messages.pot: run scripts/catalogs"
    untranslated = [m.id for m in found if m.id and (not m.string or not all(m.string if isinstance(m.string, tuple)
                                                                           else [m.string]))]
    assert not untranslated, f"{language}: no translation for {untranslated}"
    fuzzy = [m.id for m in found if m.id and m.fuzzy]
    assert not fuzzy, f"{language}: fuzzy (unreviewed) translations of {fuzzy}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in found.check()]
    assert not problems, f"{language}: placeholders that do not match: {problems}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_markup_of_its_message(language):
    for message in catalog(language):
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            assert sorted(re.findall(r"</?\w+", text)) == sorted(re.findall(r"</?\w+", source)), (language, source)


def test_a_course_pack_has_one_name_in_japanese():
    """研修パック, as the menu says it, never 教材パック (a restore's refusal said the other)."""
    found = catalog("ja")
    assert found["Packs"].string == "研修パック"
    assert not [message.id for message in found if "教材パック" in str(message.string)]


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogs_are_the_reviewed_ones(language):
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))
    compiled.seek(0)
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        committed = read_mo(mo)
    assert messages(committed) == messages(read_mo(compiled)), "messages.mo is older than its .po: run scripts/catalogs"


def messages(found: Catalog) -> dict:
    """Each message's translation, by message (a plural's forms as tuples)."""
    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in found if m.id}



#: the placeholders that hold a name in Japanese text: a person, a city, an organisation, a hazard, a language
SPACED_NAME = re.compile(r"%\((?:who|hazard|language)\)s (?=[\u3040-\u30ff\u4e00-\u9fff])|%\(name\)s (?=さん)"
                         r"|%\(city\)s (?=の)")


def test_japanese_runs_a_name_into_the_particle_after_it():
    """Japanese puts no space between a name and its particle: 神戸市の名称, not 神戸市 の名称."""
    spaced = [(m.id, m.string) for m in catalog("ja") if m.id and isinstance(m.string, str)
              and SPACED_NAME.search(m.string)]
    assert not spaced, spaced


# -- pages in the language asked for ------------------------------------------------------------------

ADMIN = "admin@network.example"
AUTHOR = "siti@bpbd.example"
#: English dates as Babel writes them ("Dec 5, 2023"): never in an Indonesian or Japanese page
ENGLISH_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
#: each interface language's word for "Browse" in the header, and for "Search"
CHROME = {"en": ("Browse", "Search"), "id": ("Jelajahi", "Cari"), "ja": ("事例一覧", "検索")}


class InterfaceText(HTMLParser):
    """The words a page shows in its interface language: text, titles, placeholders and labels outside
    the elements that carry another ``lang`` (a practice, a title, a language's own name) and outside
    a practice's own words (``translate="no"``: an Indonesian title on an Indonesian page)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    READ = ("title", "placeholder", "aria-label", "alt")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.page_language: str | None = None
        self.open: list[tuple[str, str | None]] = []
        self.words: list[str] = []
        self.feed(html)

    def _language(self) -> str | None:
        return self.open[-1][1] if self.open else self.page_language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.page_language = attributes.get("lang")
        language = attributes.get("lang") or self._language()
        if attributes.get("translate") == "no":  # a practice's own words, whatever their language
            language = "content"
        if language == self.page_language:
            self.words += [attributes[name] or "" for name in self.READ if attributes.get(name)]
        if tag not in self.VOID:
            self.open.append((tag, language))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if self._language() == self.page_language and (not self.open or self.open[-1][0] not in ("script", "style")):
            self.words.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.words)).replace("Practice Exchange", "")


def english_chrome(language: str) -> set[str]:
    """Pieces of the interface's English messages that never occur in ``language``'s translations."""
    translated = " ".join(s for m in catalog(language) if m.id
                          for s in (m.string if isinstance(m.string, tuple) else (m.string,)))
    pieces = set()
    for message in template():
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in re.split(r"%\(\w+\)s|<[^>]+>|[“”\"():;…→←↑↓—–·]", text):
                piece = piece.strip(" .,?!'")
                if re.search(r"[A-Za-z]{4}", piece) and piece not in translated:
                    pieces.add(piece)
    return pieces


def english_in(page: str, language: str) -> list[str]:
    """The English interface words a page in ``language`` shows, and English-style dates."""
    text = InterfaceText(page).text
    found = [piece for piece in english_chrome(language) if re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", text)]
    return found + ENGLISH_DATE.findall(text)


@pytest.fixture(scope="module")
def site(library_app):  # type: ignore[no-untyped-def]
    """The seeded library with a reviewer-administrator, a submission waiting for them, a pack and two
    versions of a practice: every kind of page has something to show."""
    from exchange.alerts import saved
    from exchange.packs import packs
    from exchange.review import submissions
    from tests.conftest import practice_text

    instance = library_app.extensions["exchange"]
    people.create_user(instance, ADMIN, "Dewi Admin", ["admin", "reviewer", "contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    accounts = {user.email: people.by_id(instance, user.id) for user, _cities in people.everyone(instance)}
    draft = submissions.save(instance, accounts[AUTHOR], "jakarta", "posko-rw",
                             practice_text("## Langkah\n\n1. Pantau papan duga.\n", language="id",
                                           title="Posko banjir tingkat RW").decode(), None)
    submissions.submit(instance, accounts[AUTHOR], draft.id)
    publishing.publish(instance, practice_text(title="Siren test plan"), "siren-test", "t")
    publishing.publish(instance, practice_text(title="Siren test plan, revised"), "siren-test", "t")
    pack = packs.create(instance, accounts[ADMIN], "Latihan banjir", "id")
    packs.add_practice(instance, accounts[ADMIN], pack, "jakarta/peringatan-dini-banjir-ciliwung")
    saved.create(instance, accounts[ADMIN], "Banjir Jakarta", "banjir", {"hazard": ["riverine-flood"]}, "daily")
    from exchange.webhooks import hooks
    webhook, _secret = hooks.create(instance, accounts[ADMIN], "https://93.184.215.14/hooks/px", list(hooks.EVENTS))
    hooks.send_test(instance, accounts[ADMIN], webhook)  # a delivery waiting in its log
    return {"submission": draft.id, "pack": pack, "person": accounts[AUTHOR].id, "webhook": webhook}


PUBLIC_PAGES = ["/", "/practices", "/practices?q=banjir", "/practices?q=qqxqqzz+wwkk", "/practices?page=2",
                "/cities/kobe", "/practices/jakarta/peringatan-dini-banjir-ciliwung",
                "/practices/kobe/hinanjo-unei-tejun", "/practices/jakarta/siren-test/versions/1",
                "/practices/jakarta/siren-test/compare?from=1&to=2", "/login", "/no/such/page",
                "/compare?p=kobe/shelter-operation-procedure&p=kobe/hinanjo-unei-tejun"
                "&p=jakarta/daftar-periksa-posko-pengungsian-banjir", "/compare?p=kobe/hinanjo-unei-tejun",
                "/compare?p=kobe/hinanjo-unei-tejun&p=kobe/no-such-practice",
                "/practices?compare=kobe/hinanjo-unei-tejun&language=ja&hazard=earthquake",
                "/compare?p=kobe/hinanjo-unei-tejun&p=../kobe"]
STAFF_PAGES = ["/dashboard", "/contribute", "/contribute?template=case-study", "/contribute/upload",
               "/submissions/{submission}", "/notifications", "/packs", "/packs/{pack}", "/admin/people",
               "/admin/people/{person}", "/admin/audit", "/admin/harvests", "/account/password", "/account/tokens",
               "/account/saved-searches", "/admin/webhooks", "/admin/webhooks/{webhook}",
               "/practices/jakarta/peringatan-dini-banjir-ciliwung", "/practices?q=banjir",
               "/practices/jakarta/siren-test/versions/1/restore", "/admin/health", "/admin/gaps", "/admin/coverage",
               "/admin/access?person={person}&practice=jakarta/siren-test"]


def asking(client, language: str, way: str):  # type: ignore[no-untyped-def]
    """A function from a path to its page, asked for in ``language`` by ``way``: the browser's
    Accept-Language, ``?lang=`` in the address, or the switcher's cookie."""
    if way == "cookie":
        client.set_cookie(i18n.COOKIE, language, domain="px.test")
    elif way == "accept-language":
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = f"{language},en;q=0.5"

    def get(path: str):  # type: ignore[no-untyped-def]
        if way == "lang":
            path += ("&" if "?" in path else "?") + f"lang={language}"
        return client.get(HTTPS + path)
    return get


WAYS = ["accept-language", "lang", "cookie"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_public_pages_speak_the_language_asked_for(library_app, site, language, way):
    get = asking(library_app.test_client(), language, way)
    for path in PUBLIC_PAGES:
        response = get(path)
        page = response.get_data(as_text=True)
        assert response.status_code in (200, 400, 404), path
        assert f'<html lang="{language}">' in page, path
        assert CHROME[language][0] in page, path
        assert not english_in(page, language), (path, english_in(page, language))


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_staff_pages_speak_the_language_asked_for(library_app, site, language, way):
    client = library_app.test_client()
    sign_in(client, ADMIN)
    get = asking(client, language, way)
    for path in STAFF_PAGES:
        response = get(path.format(**site))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert f'<html lang="{language}">' in page, path
        assert not english_in(page, language), (path, english_in(page, language))


def test_english_stays_the_default(library_client, site):
    page = library_client.get(HTTPS + "/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Browse by hazard" in page
    fallback = library_client.get(HTTPS + "/", headers={"Accept-Language": "fr, de;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in fallback and "Browse by hazard" in fallback


def test_the_address_then_the_cookie_then_the_browser_choose(library_app, site):
    client = library_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    assert '<html lang="id">' in client.get(HTTPS + "/").get_data(as_text=True)
    answer = client.get(HTTPS + "/practices?q=banjir&lang=ja")
    assert '<html lang="ja">' in answer.get_data(as_text=True) and "検索結果" in answer.get_data(as_text=True)
    assert client.get_cookie(i18n.COOKIE, domain="px.test").value == "ja"  # kept for the pages that follow
    assert '<html lang="ja">' in client.get(HTTPS + "/login").get_data(as_text=True)
    assert '<html lang="en">' in client.get(HTTPS + "/login?lang=en").get_data(as_text=True)
    assert "Vary" in answer.headers and "Accept-Language" in answer.headers["Vary"]
    assert answer.headers["Content-Language"] == "ja"


def test_the_language_chosen_is_kept_over_plain_http_too(library_app):
    # (a workshop on a laptop's LAN address: a Secure cookie sent over HTTP is dropped by the browser)
    plain = library_app.test_client().get("http://px.test/practices?q=banjir&lang=ja")
    secure = library_app.test_client().get(HTTPS + "/practices?q=banjir&lang=ja")
    assert "px-lang=ja" in plain.headers["Set-Cookie"] and "Secure" not in plain.headers["Set-Cookie"]
    assert "px-lang=ja" in secure.headers["Set-Cookie"] and "Secure" in secure.headers["Set-Cookie"]


def test_the_switcher_links_to_this_page_in_each_language(library_client, site):
    page = library_client.get(HTTPS + "/practices?q=banjir&hazard=riverine-flood").get_data(as_text=True)
    assert 'href="/practices?q=banjir&amp;hazard=riverine-flood&amp;lang=id" hreflang="id" lang="id"' in page
    assert 'lang="ja" rel="alternate"' in page and ">日本語</a>" in page


def test_a_signed_in_person_keeps_their_language_on_every_device(library_app, site):
    phone = library_app.test_client()
    sign_in(phone, AUTHOR)
    token = re.search(r'name="csrf_token" value="([^"]+)"', phone.get(HTTPS + "/").get_data(as_text=True)).group(1)
    from tests.test_accounts import post
    moved = post(phone, "/account/language", {"language": "ja", "next": "/dashboard?lang=en", "csrf_token": token})
    assert moved.status_code == 302 and moved.headers["Location"] == "/dashboard"  # the page, in the new language
    desk = library_app.test_client()
    desk.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(desk, AUTHOR)
    page = desk.get(HTTPS + "/dashboard").get_data(as_text=True)
    assert '<html lang="ja">' in page and "下書きと投稿" in page
    assert '<html lang="id">' in desk.get(HTTPS + "/dashboard?lang=id").get_data(as_text=True)  # ?lang= wins


def test_a_practice_keeps_its_own_language_inside_another_interface(library_client, site):
    page = library_client.get(HTTPS + "/practices/kobe/hinanjo-unei-tejun?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and '<article class="practice" lang="ja">' in page
    assert '<aside class="practice-aside" lang="en">' in page and "About this practice" in page
    assert re.search(r'<link rel="alternate" hreflang="en" href="/practices/kobe/shelter-operation-procedure">', page)
    assert 'hreflang="en" lang="en">English</a>' in page


def test_dates_and_numbers_are_written_as_each_language_writes_them(library_client, site):
    pages = {language: library_client.get(HTTPS + f"/practices/jakarta/peringatan-dini-banjir-ciliwung?lang={language}")
             .get_data(as_text=True) for language in i18n.LANGUAGES}
    published = re.search(r'<time datetime="(\d{4})-(\d\d)-(\d\d)">([^<]+)</time>', pages["en"])
    assert published is not None
    year, month, day, english = published.groups()
    assert ENGLISH_DATE.fullmatch(english)
    assert f'<time datetime="{year}-{month}-{day}">{int(day)} ' in pages["id"]
    assert f'<time datetime="{year}-{month}-{day}">{year}/{month}/{day}</time>' in pages["ja"]



@pytest.mark.parametrize("language, sentence", [
    ("en", "Attribute 神戸市 and link to this page when you reuse it."),
    ("id", "Saat menggunakan kembali, cantumkan 神戸市 sebagai sumber"),
    ("ja", "再利用する際は、神戸市の名称を表示し、"),
])
def test_the_licence_line_names_who_to_attribute_as_each_language_writes_it(library_client, language, sentence):
    # a Tokyo trainer read "神戸市 の名称を表示": a space Japanese does not write between a name and its particle
    page = library_client.get(HTTPS + f"/practices/kobe/hinanjo-unei-tejun?lang={language}").get_data(as_text=True)
    footer = re.sub(r"\s+", " ", page[page.index('<section class="citation"'):page.index("</section>")])
    assert sentence in footer


# -- words written outside a request --------------------------------------------------------------------

def test_notifications_and_their_mail_reach_each_person_in_their_language(app, instance):
    import sqlalchemy as sa

    from exchange.models import Job
    from exchange.review import notifications
    from exchange.review import submissions
    from tests.conftest import practice_text

    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "kenji@kobe.example", "Kenji", ["reviewer"], [], "t", PASSWORD)
    accounts = {user.email: people.by_id(instance, user.id) for user, _cities in people.everyone(instance)}
    author, reviewer = accounts[AUTHOR], accounts["kenji@kobe.example"]
    people.set_language(instance, author.id, "id")
    people.set_language(instance, reviewer.id, "ja")
    draft = submissions.save(instance, author, "jakarta", "posko-rw", practice_text(language="id").decode(), None)
    submissions.submit(instance, author, draft.id)
    submissions.review(instance, reviewer, draft.id, "request_changes", "Tambahkan peran RT — 役割も")
    [to_reviewer] = notifications.recent(instance, reviewer.id)
    assert to_reviewer.message == "Siti Rahmaさんが「Community flood early warning」の審査を依頼しました。"
    [to_author] = notifications.recent(instance, author.id)
    assert to_author.message == ("Kenji meminta perbaikan pada “Community flood early warning”."
                                 "\n\nTambahkan peran RT — 役割も")
    with instance.db.session() as session:
        letters = [job.payload for job in session.scalars(sa.select(Job).where(Job.kind == "mail").order_by(Job.id))]
    assert [(letter["to"], letter["subject"]) for letter in letters] == [
        ("kenji@kobe.example", "審査待ちの事例があります"), (AUTHOR, "Usulan Anda perlu diperbaiki")]
    # The app says it again in whatever language its reader reads the site in; the comment stays as written.
    client = app.test_client()
    sign_in(client, AUTHOR)
    page = client.get(HTTPS + "/notifications?lang=en").get_data(as_text=True)
    assert "Kenji asked for changes to “Community flood early warning”." in page
    assert "Tambahkan peran RT — 役割も" in page


def test_pack_exports_print_the_catalogs_words_in_the_packs_language():
    from exchange.packs.exports.words import words

    assert words("ja")["hazards"] == "災害種別" and words("ja")["contents"] == "目次"
    assert words("id")["city"] == "Kota" and words("id")["participant"] == "Edisi peserta"
    assert words("en")["trainer"] == "Trainer edition" and words("fr")["trainer"] == "Trainer edition"


def test_a_practice_s_problems_are_told_in_the_writer_s_language(app, instance, make_practice):
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_contributions import FORM

    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    client = app.test_client()
    sign_in(client, AUTHOR)
    token = _token_in(client.get(HTTPS + "/contribute?lang=ja").get_data(as_text=True))
    page = post(client, "/contribute", {**FORM, "translation_of": "ciliwung", "csrf_token": token,
                                        "action": "save"}).get_data(as_text=True)
    assert "translation_of: &#39;ciliwung&#39;: &lt;city&gt;/&lt;slug&gt; 形式の事例 ID で指定してください" in page
    assert not english_in(page, "ja")
    broken = make_practice(hazards="[banjir]", published="2024-13-01")
    upload = client.post(HTTPS + "/contribute/upload?lang=id", headers={"Referer": HTTPS + "/"}, data={
        "csrf_token": token, "files": [(io.BytesIO(broken), "rusak.md")]}).get_data(as_text=True)
    assert "hazards: [&#39;banjir&#39;] memuat hazard yang tidak dikenal &#39;banjir&#39;" in upload
    assert "published: &#39;2024-13-01&#39; bukan tanggal yang ada di kalender (TTTT-BB-HH)" in upload
    assert not english_in(upload, "id")


def test_sign_in_and_password_refusals_are_told_in_the_reader_s_language(app, instance):
    from tests.test_accounts import _token_in
    from tests.test_accounts import post

    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    refused = sign_in(client, AUTHOR, "not the password at all")
    assert refused.status_code == 401 and "E-mail atau kata sandi tidak benar." in refused.get_data(as_text=True)
    sign_in(client, AUTHOR)
    token = _token_in(client.get(HTTPS + "/account/password").get_data(as_text=True))
    weak = post(client, "/account/password?lang=ja", {"csrf_token": token, "current": PASSWORD,
                                                      "password": "siti rahma 2024"})
    assert weak.status_code == 400
    assert "パスワードに氏名やメールアドレスを含めることはできません。" in weak.get_data(as_text=True)
    wrong = post(client, "/account/password", {"csrf_token": token, "current": "not it at all", "password": "x" * 12})
    assert "現在のパスワードが正しくありません。" in wrong.get_data(as_text=True)  # ?lang= above left its cookie


def test_a_refused_preview_says_why_in_the_writer_s_language(app, instance):
    from tests.test_contributions import submit_form

    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    sign_in(client, AUTHOR)
    app.config["PREVIEW_SECONDS"] = 0
    page = submit_form(client, "/contribute", action="preview", body="*a **a b** a*").get_data(as_text=True)
    assert "Teks ini terlalu rumit untuk ditampilkan dalam 0 detik: tanda formatnya" in page
    assert not english_in(page, "id")


def test_the_command_speaks_the_language_of_its_environment(runner):
    assert runner.invoke(args=["check"], env={"LANG": "C.UTF-8"}).output == \
        "Library, database and search index agree.\n"
    assert runner.invoke(args=["check"], env={"LANG": "ja_JP.UTF-8"}).output == \
        "事例集、データベース、検索索引は一致しています。\n"
    refused = runner.invoke(args=["users", "create", "not-an-address", "--name", "Siti", "--role", "reader"],
                            env={"LANG": "en_US.UTF-8", "LANGUAGE": "id:en"})
    assert refused.exit_code == 1 and "'not-an-address' bukan alamat e-mail" in refused.output


def test_the_worker_and_account_commands_speak_indonesian_and_japanese(runner, instance):
    ran = runner.invoke(args=["worker", "--until-idle"], env={"LANG": "id_ID.UTF-8"})
    assert ran.exit_code == 0 and re.fullmatch(r"\d+ tugas dijalankan\.\n", ran.output), ran.output
    ran = runner.invoke(args=["worker", "--until-idle"], env={"LANG": "ja_JP.UTF-8"})
    assert ran.exit_code == 0 and re.fullmatch(r"\d+ 件のジョブを実行しました。\n", ran.output), ran.output
    people.create_user(instance, ADMIN, "Dewi Admin", ["admin"], [], "t", PASSWORD)
    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    last = runner.invoke(args=["users", "disable", ADMIN], env={"LANG": "id_ID.UTF-8"})
    assert last.exit_code == 1 and f"{ADMIN} adalah satu-satunya administrator yang masih aktif" in last.output
    assert runner.invoke(args=["users", "disable", AUTHOR], env={"LANG": "ja_JP.UTF-8"}).exit_code == 0
    enabled = runner.invoke(args=["users", "enable", AUTHOR], env={"LANG": "ja_JP.UTF-8"})
    assert enabled.exit_code == 0 and enabled.output == f"{AUTHOR} は再びログインできます。\n"
    again = runner.invoke(args=["users", "enable", AUTHOR], env={"LANG": "id_ID.UTF-8"})
    assert again.output == f"{AUTHOR} tidak sedang dinonaktifkan; tidak ada yang diubah.\n"


#: the locale a person working in each interface language has
LOCALES = {"en": "C.UTF-8", "id": "id_ID.UTF-8", "ja": "ja_JP.UTF-8"}
#: every command people ask ``--help`` of, as ``exchange`` is called (Flask's run, shell and routes among them)
COMMANDS = [[], ["init"], ["import"], ["export"], ["cities"], ["cities", "add"], ["cities", "list"], ["reindex"],
            ["check"], ["users"], ["users", "create"], ["users", "disable"], ["users", "enable"], ["notify-due"],
            ["packs"], ["packs", "export"], ["packs", "import"], ["worker"], ["serve"], ["run"], ["routes"], ["shell"]]
#: click's own words around every help
CLICK_WORDS = {"en": ("Usage:", "Options:", "Show this message and exit."),
               "id": ("Penggunaan:", "Opsi:", "Menampilkan pesan ini lalu keluar."),
               "ja": ("使い方:", "オプション:", "このヘルプを表示して終了します。")}


def command_help(args: list[str], language: str, instance: Path) -> str:
    """What ``exchange ARGS --help`` prints in an environment whose locale is ``language``'s."""
    from click.testing import CliRunner

    from exchange.app import main

    environment = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": LOCALES[language],
                   "EXCHANGE_INSTANCE": str(instance)}
    result = CliRunner().invoke(main, [*args, "--help"], env=environment)
    assert result.exit_code == 0, result.output
    return result.output


def english_sentences(help_text: str) -> list[str]:
    """The sentences of an English help: each column of a line that starts with a word and holds three or more
    (not option names, choices, or click's "[default: …]")."""
    pieces = (piece.removesuffix("...") for line in help_text.splitlines()
              for piece in re.split(r"\s{2,}", line.strip()))
    return [piece for piece in pieces if re.match(r"[A-Za-z]", piece) and len(re.findall(r"[A-Za-z]+", piece)) >= 3]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_command_s_help_reads_in_the_language_of_its_environment(tmp_path, language):
    for args in COMMANDS:
        english = command_help(args, "en", tmp_path)
        said = command_help(args, language, tmp_path)  # the same command objects: help is read when shown
        assert all(word in english for word in CLICK_WORDS["en"]), english
        assert all(word in said for word in CLICK_WORDS[language]), (args, said)
        sentences = english_sentences(english)
        assert sentences, args
        assert not [sentence for sentence in sentences if sentence in said], (args, said)
        if not args:
            assert {"id": "Perintah:", "ja": "コマンド:"}[language] in said


def test_the_main_commands_say_what_they_do_in_indonesian_and_japanese(tmp_path):
    indonesian = command_help([], "id", tmp_path)
    assert re.search(r"cities +Kota mitra\.\n", indonesian) and re.search(r"packs +Paket pelatihan\.\n", indonesian)
    japanese = command_help([], "ja", tmp_path)
    # Japanese has no spaces to shorten at: a command's first sentence is its line
    assert re.search(r"users +アカウントの管理。\n", japanese)
    assert re.search(r"init +インスタンスを作成または更新します。\n", japanese)
    options = command_help(["packs", "export"], "ja", tmp_path)
    assert "書き出すファイル。  [必須]" in options and "[既定値: pdf]" in options
    options = command_help(["users", "create"], "id", tmp_path)
    assert "Peran orang tersebut; dapat diulang." in options and "[wajib]" in options


def test_click_s_own_refusals_read_in_the_language_of_the_environment(tmp_path):
    from click.testing import CliRunner

    from exchange.app import main

    environment = {"LANGUAGE": None, "LC_ALL": None, "LANG": "id_ID.UTF-8", "EXCHANGE_INSTANCE": str(tmp_path)}
    refused = CliRunner().invoke(main, ["users", "create"], env=environment)
    assert refused.exit_code == 2
    assert "Kesalahan: Argumen belum diberikan 'EMAIL'." in refused.output
    assert "Coba 'exchange users create --help' untuk bantuan." in refused.output


def test_the_console_script_s_help_reads_in_japanese_under_a_japanese_locale(tmp_path):
    environment = {name: value for name, value in os.environ.items() if name not in ("LANGUAGE", "LC_ALL")}
    environment.update(LANG="ja_JP.UTF-8", EXCHANGE_INSTANCE=str(tmp_path))
    shown = subprocess.run([sys.executable, "-m", "exchange", "--help"], env=environment, capture_output=True,
                           text=True, check=True).stdout
    assert "使い方:" in shown and "コマンド:" in shown and "packs       研修パック。" in shown
    assert "Course packs" not in shown and "Show this message" not in shown


@pytest.mark.parametrize("language", ["id", "ja"])
def test_the_server_says_it_runs_no_job_runner_in_the_environment_s_language(app, capsys, monkeypatch, language):
    import contextlib

    from exchange import cli

    monkeypatch.setenv("LANGUAGE", language)
    with contextlib.ExitStack() as stack:
        assert cli._start_runner(stack, app, no_worker=True) is None
    said = capsys.readouterr().out
    expected = {"id": "Tanpa pelaksana tugas (--no-worker)", "ja": "ジョブ実行プロセスなし(--no-worker)"}
    assert said.startswith(expected[language]) and "'exchange worker'" in said


@pytest.mark.parametrize(("environ", "language"), [
    ({}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "id_ID.UTF-8"}, "id"), ({"LC_ALL": "ja_JP.UTF-8"}, "ja"),
    ({"LANGUAGE": "fr:ja", "LANG": "en_GB.UTF-8"}, "ja"), ({"LC_ALL": "de_DE.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
])
def test_a_command_s_language_is_read_as_gettext_reads_it(environ, language):
    from exchange.catalogs import environment_language

    assert environment_language(environ) == language


def test_a_refused_step_of_review_is_told_in_the_reader_s_language(app, instance):
    from exchange.review import submissions
    from tests.conftest import practice_text
    from tests.test_accounts import _token_in
    from tests.test_accounts import post

    people.create_user(instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    author = people.by_id(instance, people.everyone(instance)[0][0].id)
    draft = submissions.save(instance, author, "jakarta", "posko-rw", practice_text().decode(), None)
    client = app.test_client()
    sign_in(client, AUTHOR)
    token = _token_in(client.get(HTTPS + f"/submissions/{draft.id}?lang=ja").get_data(as_text=True))
    for _twice in range(2):
        answer = post(client, f"/submissions/{draft.id}/withdraw", {"csrf_token": token})
    page = client.get(HTTPS + answer.headers["Location"]).get_data(as_text=True)
    assert "実行できませんでした: 取り下げできるのは処理中の投稿のみです。" in page
    assert not english_in(page, "ja")


@pytest.mark.parametrize("language, publisher, harvested", [
    ("id", "panen yang dimulai administrator", "Dipanen dari BPBD Jakarta"),
    ("ja", "管理者が開始した取り込み", "BPBD Jakartaから取り込み"),
])
def test_harvests_and_the_command_line_are_named_in_words_in_histories(app, language, publisher, harvested):
    from exchange.review import submissions
    from tests.conftest import practice_text

    instance = app.extensions["exchange"]
    people.create_user(instance, ADMIN, "Dewi Admin", ["admin", "reviewer"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "harvester@px.example", "Harvester", ["reader"], [], "t", PASSWORD)
    publishing.publish(instance, practice_text(), "gauge-relay", "harvest:admin",
                       note="harvested from BPBD Jakarta (version 2)")
    publishing.publish(instance, practice_text(title="Gauge relay, checked"), "gauge-relay", "cli:root")
    with instance.db.writing() as session:  # as a harvest sends a text that met a local edit to review
        submission, _changed = submissions.propose_harvested(
            session, 2, "jakarta/gauge-relay", practice_text(title="Gauge relay v3").decode(), 2,
            "Harvest conflict", "BPBD Jakarta")
    client = app.test_client()
    sign_in(client, ADMIN)
    versions = client.get(HTTPS + f"/practices/jakarta/gauge-relay?lang={language}").get_data(as_text=True)
    assert "harvest:admin" not in versions and "cli:root" not in versions and publisher in versions
    history = client.get(HTTPS + f"/submissions/{submission}?lang={language}").get_data(as_text=True)
    events = history[history.index('<ol class="events">'):]
    assert harvested in events and "harvest" not in events and "the library" not in events


# -- page titles ----------------------------------------------------------------------------------------

def title_of(page: str) -> str:
    found = re.search(r"<title>([^<]*)</title>", page)
    assert found is not None
    from html import unescape
    return unescape(found.group(1))


@pytest.mark.parametrize("language, words", [("en", "Search results"), ("id", "Hasil pencarian"), ("ja", "検索結果")])
def test_a_search_s_title_names_the_query_then_the_page_then_the_site(library_client, language, words):
    # it read "避難所 – search · Practice Exchange": another separator, and a word in lower case
    page = library_client.get(HTTPS + f"/practices?q=避難所&lang={language}").get_data(as_text=True)
    assert title_of(page) == f"避難所 · {words} · Practice Exchange"


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_page_s_title_reads_from_the_particular_to_the_site_each_part_capitalised(library_app, site, language):
    client = library_app.test_client()
    sign_in(client, ADMIN)
    for path in [*PUBLIC_PAGES, *STAFF_PAGES]:
        response = client.get(HTTPS + path.format(**site) + ("&" if "?" in path else "?") + f"lang={language}")
        title = title_of(response.get_data(as_text=True))
        parts = title.split(" · ")
        assert parts[-1] == "Practice Exchange" and len(parts) >= 2, (path, title)
        assert not re.search(r" [–—] ", title), (path, title)  # one separator: the middle dot
        typed = "?q=" in path or "{webhook}" in path  # the first part as someone typed it: a query, an address
        assert not [part for part in parts[typed:] if part[:1].islower()], (path, title)
