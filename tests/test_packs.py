"""Course packs (issue 5, first part): pinned versions, language, sharing and permissions at read time."""

from __future__ import annotations

import pytest

from exchange.accounts import people
from exchange.errors import PracticeNotFound
from exchange.library import publishing
from exchange.packs import packs
from tests import changes_html
from tests.test_accounts import PASSWORD


@pytest.fixture
def trainer(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "trainer@semarang.example", "Dewi", ["reader"], [], "t", PASSWORD)
    people.create_user(instance, "colleague@kobe.example", "Aiko", ["reader"], [], "t", PASSWORD)
    return people.load(instance, "1:1")


def test_a_pack_pins_versions_and_shows_newer_ones(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(summary="First."), "flood-warning", "t")
    pack = packs.create(instance, trainer, "Flood workshop", "en")
    packs.add_section(instance, trainer, pack, "Before the flood")
    packs.add_practice(instance, trainer, pack, "jakarta/flood-warning")
    publishing.publish(instance, make_practice(summary="Second."), "flood-warning", "t")
    _pack, entries = packs.read(instance, trainer, pack)
    assert [e.item.heading for e in entries] == ["Before the flood", None]
    assert entries[1].practice.summary == "First." and entries[1].outdated and entries[1].latest_version == 2
    packs.update_item(instance, trainer, pack, entries[1].item.id)
    _pack, entries = packs.read(instance, trainer, pack)
    assert entries[1].practice.summary == "Second." and not entries[1].outdated


def test_a_practice_is_held_once_whichever_language_is_added_again(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(), "flood-warning", "t")
    publishing.publish(instance, make_practice(language="id", title="Peringatan banjir",
                                               translation_of="jakarta/flood-warning"), "peringatan-banjir", "t")
    pack = packs.create(instance, trainer, "Flood workshop", "en")
    assert packs.add_practice(instance, trainer, pack, "jakarta/flood-warning") is True
    assert packs.add_practice(instance, trainer, pack, "jakarta/flood-warning") is False
    assert packs.add_practice(instance, trainer, pack, "jakarta/peringatan-banjir") is False
    _pack, entries = packs.read(instance, trainer, pack)
    assert [e.item.practice_id for e in entries] == ["jakarta/flood-warning"]
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    token = _token_in(client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True))
    answer = post(client, f"/packs/{pack}/add", {"csrf_token": token, "practice_id": "jakarta/flood-warning"})
    assert "Already in this pack." in client.get(HTTPS + answer.headers["Location"]).get_data(as_text=True)
    assert len(packs.read(instance, trainer, pack)[1]) == 1


def test_the_pack_page_shows_what_changed_and_updates_on_request(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(summary="First."), "flood-warning", "t")
    pack = packs.create(instance, trainer, "Flood workshop", "en")
    packs.add_practice(instance, trainer, pack, "jakarta/flood-warning")
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    assert "What changed" not in client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    publishing.publish(instance, make_practice(summary="Second, with the sirens."), "flood-warning", "t")
    page = client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    assert "What changed from version 1 to 2" in page
    assert changes_html.fields(page) == {"Summary": ("First.", "Second, with the sirens.")}
    item = packs.read(instance, trainer, pack)[1][0].item
    post(client, f"/packs/{pack}/update", {"item": str(item.id), "csrf_token": _token_in(page)})
    page = client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    assert "What changed" not in page and "version 2" in page


def test_reorder_notes_and_duplicate(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="A"), "a", "t")
    publishing.publish(instance, make_practice(title="B"), "b", "t")
    pack = packs.create(instance, trainer, "Course")
    packs.add_practice(instance, trainer, pack, "jakarta/a")
    packs.add_practice(instance, trainer, pack, "jakarta/b")
    _pack, entries = packs.read(instance, trainer, pack)
    packs.move(instance, trainer, pack, entries[1].item.id, -1)
    packs.set_notes(instance, trainer, pack, entries[0].item.id, "Ask about sirens.", "Map the gauges.")
    copy = packs.duplicate(instance, trainer, pack)
    _pack, entries = packs.read(instance, trainer, copy)
    assert [e.practice.title for e in entries] == ["B", "A"] and entries[1].item.trainer_notes == "Ask about sirens."
    # A colleague's copy carries what the participant edition shows, not the trainer's notes.
    packs.share(instance, trainer, pack, "colleagues", (2,))
    colleague = people.load(instance, "2:1")
    _pack, theirs = packs.read(instance, colleague, packs.duplicate(instance, colleague, pack))
    assert (theirs[1].item.trainer_notes, theirs[1].item.exercises) == ("", "Map the gauges.")


def test_the_pack_language_picks_translations_and_marks_originals(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    publishing.publish(instance, make_practice(language="id", title="Peringatan banjir",
                                            translation_of="jakarta/flood-warning"), "peringatan-banjir", "t")
    publishing.publish(instance, make_practice(title="Only English"), "sirens", "t")
    pack = packs.create(instance, trainer, "Kursus banjir", "id")
    packs.add_practice(instance, trainer, pack, "jakarta/flood-warning")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    _pack, entries = packs.read(instance, trainer, pack)
    assert [(e.practice.title, e.untranslated) for e in entries] == [("Peringatan banjir", False),
                                                                      ("Only English", True)]
    # A new version of the translation shown does not change the pack until the trainer updates it.
    publishing.publish(instance, make_practice(language="id", title="Peringatan banjir (revisi)",
                                            translation_of="jakarta/flood-warning"), "peringatan-banjir", "t")
    _pack, entries = packs.read(instance, trainer, pack)
    assert entries[0].practice.title == "Peringatan banjir" and entries[0].outdated and entries[0].version == 1
    # A translation that appears later is offered, and used once the trainer chooses it.
    publishing.publish(instance, make_practice(language="id", title="Sirene", translation_of="jakarta/sirens"),
                    "sirene", "t")
    _pack, entries = packs.read(instance, trainer, pack)
    assert entries[1].practice.title == "Only English" and entries[1].translation == "jakarta/sirene"
    packs.update_item(instance, trainer, pack, entries[1].item.id)
    _pack, entries = packs.read(instance, trainer, pack)
    assert [(e.practice.title, e.untranslated) for e in entries][1] == ("Sirene", False)
    # Changing the pack's language pins each practice again in the new language.
    packs.edit(instance, trainer, pack, "Flood course", "en", "")
    _pack, entries = packs.read(instance, trainer, pack)
    assert [(e.practice.title, e.untranslated, e.version) for e in entries] == [
        ("Community flood early warning", False, 1), ("Only English", False, 1)]


def test_permissions_are_checked_when_reading_not_when_adding(instance, trainer, make_practice):
    publishing.publish(instance, make_practice(title="Open plan"), "plan", "t")
    pack = packs.create(instance, trainer, "Public course")
    packs.add_practice(instance, trainer, pack, "jakarta/plan")
    token = packs.share(instance, trainer, pack, "link")
    publishing.publish(instance, make_practice(title="Open plan", visibility="partners"), "plan", "t")
    _pack, entries = packs.read(instance, None, pack, token)  # an anonymous reader with the link
    assert entries == []
    _pack, entries = packs.read(instance, trainer, pack)  # partner staff still see it
    assert [e.practice.title for e in entries] == ["Open plan"]
    with pytest.raises(packs.PackNotFound):  # only the owner changes a pack
        packs.add_practice(instance, None, pack, "jakarta/plan")
    with pytest.raises(PracticeNotFound):
        packs.add_practice(instance, trainer, pack, "jakarta/nope")


def test_sharing_private_colleagues_and_revocable_links(instance, trainer):
    colleague = people.load(instance, "2:1")
    pack = packs.create(instance, trainer, "Course")
    with pytest.raises(packs.PackNotFound):
        packs.read(instance, colleague, pack)
    packs.share(instance, trainer, pack, "colleagues", (colleague.id,))
    assert packs.read(instance, colleague, pack)[0].title == "Course"
    first = packs.share(instance, trainer, pack, "link")
    assert packs.read(instance, None, pack, first)[0].title == "Course"
    second = packs.share(instance, trainer, pack, "link")  # a new link revokes the old one
    with pytest.raises(packs.PackNotFound):
        packs.read(instance, None, pack, first)
    assert packs.read(instance, None, pack, second)
    packs.share(instance, trainer, pack, "private")
    with pytest.raises(packs.PackNotFound):
        packs.read(instance, colleague, pack)
    with pytest.raises(packs.PackNotFound):
        packs.add_section(instance, colleague, pack, "Not mine")


def test_building_a_pack_through_the_pages(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Gauge relay"), "gauges", "t")
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    packs_page = client.get(HTTPS + "/packs").get_data(as_text=True)
    assert "<title>Course packs · Practice Exchange</title>" in packs_page and packs_page.count("Import a pack") == 1
    token = _token_in(packs_page)
    created = post(client, "/packs", {"title": "Flood workshop", "language": "en", "csrf_token": token})
    pack_path = created.headers["Location"]
    pack_id = int(pack_path.rsplit("/", 1)[1])
    for slug in ("sirens", "gauges"):
        page = client.get(f"{HTTPS}/practices/jakarta/{slug}").get_data(as_text=True)
        assert "Add to “Flood workshop”" in page
        post(client, f"/packs/{pack_id}/add", {"practice_id": f"jakarta/{slug}", "csrf_token": token,
                                               "back": f"/practices/jakarta/{slug}"})
    _pack, entries = packs.read(instance, trainer, pack_id)
    post(client, f"/packs/{pack_id}/up", {"item": str(entries[1].item.id), "csrf_token": token})
    post(client, f"/packs/{pack_id}/notes", {"item": str(entries[1].item.id), "trainer_notes": "Bring a gauge photo.",
                                             "exercises": "Who relays the alert at night?", "csrf_token": token})
    page = client.get(HTTPS + pack_path).get_data(as_text=True)
    assert page.index("Gauge relay") < page.index("Siren test")
    assert "Bring a gauge photo." in page and "Who relays the alert at night?" in page
    post(client, f"/packs/{pack_id}/edit", {"title": "Flood workshop, Semarang", "language": "id",
                                            "introduction": "Selamat **datang**.", "csrf_token": token})
    post(client, f"/packs/{pack_id}/remove", {"item": str(entries[0].item.id), "csrf_token": token})
    refused = post(client, f"/packs/{pack_id}/edit", {"title": "", "language": "xx", "csrf_token": token})
    page = client.get(HTTPS + refused.headers["Location"]).get_data(as_text=True)
    assert "title must be 1 to 300 characters" in page and "Flood workshop, Semarang" in page
    assert "<strong>datang</strong>" in page and "Siren test" not in page and "Gauge relay" in page
    post(client, f"/packs/{pack_id}/section", {"heading": "Sebelum banjir", "csrf_token": token})
    section = packs.read(instance, trainer, pack_id)[1][-1].item
    post(client, f"/packs/{pack_id}/rename", {"item": str(section.id), "heading": "Saat banjir", "csrf_token": token})
    assert [e.item.heading for e in packs.read(instance, trainer, pack_id)[1]] == [None, "Saat banjir"]
    practice_item = packs.read(instance, trainer, pack_id)[1][0].item
    assert post(client, f"/packs/{pack_id}/rename", {"item": str(practice_item.id), "heading": "x",
                                                     "csrf_token": token}).status_code == 404
    assert app.test_client().get(HTTPS + pack_path).status_code == 404  # private
    shared = post(client, f"/packs/{pack_id}/share", {"sharing": "link", "csrf_token": token})
    link = client.get(HTTPS + shared.headers["Location"]).get_data(as_text=True)
    token_link = link.split("token=", 1)[1].split("<", 1)[0].split("&", 1)[0].split('"', 1)[0]
    anonymous = app.test_client().get(f"{HTTPS}{pack_path}?token={token_link}").get_data(as_text=True)
    assert "Who relays the alert at night?" in anonymous and "Bring a gauge photo." not in anonymous


def test_single_file_html_export_editions_permissions_and_inert_content(app, runner, instance, trainer, make_practice,
                                                                        tmp_path):
    from tests.test_rendering import HOSTILE
    from tests.test_rendering import assert_inert

    publishing.publish(instance, make_practice(title="Siren test", body="\n\n".join(HOSTILE)), "sirens", "t")
    publishing.publish(instance, make_practice(title="Radio plan"), "radio", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    packs.add_section(instance, trainer, pack, "Warning")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_practice(instance, trainer, pack, "jakarta/radio")
    _pack, entries = packs.read(instance, trainer, pack)
    packs.set_notes(instance, trainer, pack, entries[1].item.id, "Answer: the RT head.", "Who warns first?")
    publishing.publish(instance, make_practice(title="Radio plan", visibility="partners"), "radio", "t")
    out = tmp_path / "trainer.html"
    result = runner.invoke(args=["packs", "export", str(pack), "--format", "html", "--edition", "trainer",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    trainer_html = out.read_text()
    assert "Answer: the RT head." in trainer_html and "Who warns first?" in trainer_html
    assert "Radio plan" in trainer_html  # the owner is partner staff
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;' in trainer_html
    assert "http://127.0.0.1:5000/practices/jakarta/sirens" in trainer_html
    own_head = trainer_html.split("</head>", 1)[0]
    assert own_head.count("<style>") == 1 and "<script" not in trainer_html.lower()
    assert_inert(trainer_html.split("</head>", 1)[1], whole_page=True)  # everything from the practices
    runner.invoke(args=["packs", "export", str(pack), "--format", "html", "--edition", "participant",
                        "-o", str(tmp_path / "p.html")])
    participant = (tmp_path / "p.html").read_text()
    assert "Answer: the RT head." not in participant and "Who warns first?" in participant


def test_adding_to_a_pack_from_search_results(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    client = app.test_client()
    assert "Add to" not in client.get(HTTPS + "/practices?q=siren").get_data(as_text=True)
    sign_in(client, "trainer@semarang.example")
    page = client.get(HTTPS + "/practices?q=siren").get_data(as_text=True)
    assert 'action="/packs/add"' in page and "Flood workshop" in page
    response = post(client, "/packs/add", {"pack": str(pack), "practice_id": "jakarta/sirens",
                                           "back": "/practices?q=siren&page=1", "csrf_token": _token_in(page)})
    # Back to the same results, at the result just added (not at the top of the page).
    assert response.status_code == 302
    assert response.headers["Location"] == "/practices?q=siren&page=1#practice-jakarta/sirens"
    assert 'id="practice-jakarta/sirens"' in page
    assert [e.practice.title for e in packs.read(instance, trainer, pack)[1]] == ["Siren test"]
    other = post(client, "/packs/add", {"pack": "999", "practice_id": "jakarta/sirens", "csrf_token": _token_in(page)})
    assert other.status_code == 404
    elsewhere = post(client, "/packs/add", {"pack": str(pack), "practice_id": "jakarta/sirens",
                                            "back": "//evil.example/practices", "csrf_token": _token_in(page)})
    assert elsewhere.headers["Location"] == "/packs"


def in_this_pack(page: str, practice_id: str) -> bool:
    """Whether a page marks the practice as held by the current pack ("In this pack" shown, Add hidden)."""
    tool = page.split(f'id="practice-{practice_id}"', 1)[1].split('class="pack-status"', 1)[0]
    undo = tool.split("data-pack-undo", 1)[1].split(">", 1)[0]
    add = tool.split("data-pack-add", 1)[1].split(">", 1)[0]
    return "In this pack" in tool and "hidden" not in undo and "hidden" in add


def test_results_and_practice_pages_mark_what_the_current_pack_holds(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Siren relay"), "relay", "t")
    publishing.publish(instance, make_practice(language="id", title="Uji sirene", translation_of="jakarta/sirens"),
                       "uji-sirene", "t")
    pack = packs.create(instance, trainer, "Kursus sirene", "id")
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    page = client.get(HTTPS + "/practices?q=siren").get_data(as_text=True)
    assert not in_this_pack(page, "jakarta/sirens") and not in_this_pack(page, "jakarta/relay")
    token = _token_in(page)
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")  # pinned as its Indonesian translation
    page = client.get(HTTPS + "/practices?q=siren").get_data(as_text=True)
    assert in_this_pack(page, "jakarta/sirens") and not in_this_pack(page, "jakarta/relay")
    assert in_this_pack(client.get(HTTPS + "/practices/jakarta/sirens").get_data(as_text=True), "jakarta/sirens")
    assert in_this_pack(client.get(HTTPS + "/practices/jakarta/uji-sirene").get_data(as_text=True),
                        "jakarta/uji-sirene")
    assert not in_this_pack(client.get(HTTPS + "/practices/jakarta/relay").get_data(as_text=True), "jakarta/relay")
    # Remove (the undo of Add) takes the entry out, whichever language it was pinned in, and comes back.
    removed = post(client, "/packs/take-out", {"pack": str(pack), "practice_id": "jakarta/sirens",
                                               "back": "/practices/jakarta/sirens", "csrf_token": token})
    assert removed.headers["Location"] == "/practices/jakarta/sirens#practice-jakarta/sirens"
    assert packs.read(instance, trainer, pack)[1] == []
    assert not in_this_pack(client.get(HTTPS + "/practices/jakarta/sirens").get_data(as_text=True), "jakarta/sirens")
    assert post(client, "/packs/take-out", {"pack": str(pack), "practice_id": "jakarta/sirens",
                                            "csrf_token": token}).status_code == 404
    # The current pack is the one changed last: a new pack holds nothing yet.
    packs.add_practice(instance, trainer, pack, "jakarta/relay")
    assert in_this_pack(client.get(HTTPS + "/practices?q=siren").get_data(as_text=True), "jakarta/relay")
    packs.create(instance, trainer, "Another course")
    assert not in_this_pack(client.get(HTTPS + "/practices?q=siren").get_data(as_text=True), "jakarta/relay")


def test_a_script_adds_and_removes_in_the_background(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Flood workshop")
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    token = _token_in(client.get(HTTPS + "/practices?q=siren").get_data(as_text=True))
    json = {"Accept": "application/json"}
    form = {"pack": str(pack), "practice_id": "jakarta/sirens", "back": "/practices?q=siren", "csrf_token": token}
    added = post(client, "/packs/add", form, headers=json)
    assert added.status_code == 200 and added.json == {"message": "Added to the pack."}
    assert [e.item.practice_id for e in packs.read(instance, trainer, pack)[1]] == ["jakarta/sirens"]
    # Said once, to the script: no notice waits for the next page.
    assert "Added to the pack." not in client.get(HTTPS + "/practices?q=siren").get_data(as_text=True)
    removed = post(client, "/packs/take-out", form, headers=json)
    assert removed.status_code == 200 and removed.json == {"message": "Removed from the pack."}
    assert packs.read(instance, trainer, pack)[1] == []
    assert post(client, "/packs/add", {**form, "csrf_token": ""}, headers=json).status_code == 400
    assert packs.read(instance, trainer, pack)[1] == []


def test_reordering_in_one_write_refuses_an_order_that_is_not_the_packs(instance, trainer, make_practice):
    for slug in ("a", "b", "c"):
        publishing.publish(instance, make_practice(title=f"Practice {slug}"), slug, "t")
    pack = packs.create(instance, trainer, "Order")
    for slug in ("a", "b", "c"):
        packs.add_practice(instance, trainer, pack, f"jakarta/{slug}")
    packs.add_section(instance, trainer, pack, "Before")
    a, b, c, section = (e.item.id for e in packs.read(instance, trainer, pack)[1])
    packs.reorder(instance, trainer, pack, [section, c, a, b])
    order = [e.item.id for e in packs.read(instance, trainer, pack)[1]]
    assert order == [section, c, a, b]
    for bad, problem in [([c, a, b], "does not name exactly the pack's entries"),
                         ([section, c, a, b, 999], "does not name exactly the pack's entries"),
                         ([section, c, a, a], "names an entry more than once"),
                         ([], "does not name exactly")]:
        with pytest.raises(packs.Invalid, match=problem):
            packs.reorder(instance, trainer, pack, bad)
        assert [e.item.id for e in packs.read(instance, trainer, pack)[1]] == order
    colleague = people.load(instance, "2:1")
    with pytest.raises(packs.PackNotFound):
        packs.reorder(instance, colleague, pack, [a, b, c, section])
    assert packs.move(instance, trainer, pack, a, -1) == (2, 4)
    assert packs.move(instance, trainer, pack, section, -1) == (1, 4)  # already first: stays


def test_reordering_through_the_page_with_and_without_a_script(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    for slug in ("a", "b", "c"):
        publishing.publish(instance, make_practice(title=f"Practice {slug}"), slug, "t")
    pack = packs.create(instance, trainer, "Order")
    for slug in ("a", "b", "c"):
        packs.add_practice(instance, trainer, pack, f"jakarta/{slug}")
    a, b, c = (e.item.id for e in packs.read(instance, trainer, pack)[1])
    client = app.test_client()
    sign_in(client, "trainer@semarang.example")
    page = client.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True)
    token, json = _token_in(page), {"Accept": "application/json"}
    assert f'id="item-{c}"' in page and f'action="/packs/{pack}/order"' in page
    # Without a script, Up comes back to the entry moved.
    moved = post(client, f"/packs/{pack}/up", {"item": str(c), "csrf_token": token})
    assert moved.status_code == 302 and moved.headers["Location"] == f"/packs/{pack}#item-{c}"
    assert "Moved to position 2 of 3." in client.get(HTTPS + moved.headers["Location"]).get_data(as_text=True)
    answer = post(client, f"/packs/{pack}/down", {"item": str(a), "csrf_token": token}, headers=json)
    assert answer.json == {"message": "Moved to position 2 of 3."}
    assert [e.item.id for e in packs.read(instance, trainer, pack)[1]] == [c, a, b]
    # Dragging sends the whole order in one request.
    saved = post(client, f"/packs/{pack}/order", {"order": f"{b},{a},{c}", "csrf_token": token}, headers=json)
    assert saved.status_code == 200 and saved.json == {"message": "New order saved."}
    assert [e.item.id for e in packs.read(instance, trainer, pack)[1]] == [b, a, c]
    for bad in (f"{b},{a}", f"{b},{a},{c},{c}", f"{b},x,{c}", ""):
        refused = post(client, f"/packs/{pack}/order", {"order": bad, "csrf_token": token}, headers=json)
        assert refused.status_code == 400 and refused.json["error"], bad
        assert [e.item.id for e in packs.read(instance, trainer, pack)[1]] == [b, a, c]
    refused = post(client, f"/packs/{pack}/order", {"order": f"{b},{a}", "csrf_token": token})
    page = client.get(HTTPS + refused.headers["Location"]).get_data(as_text=True)
    assert "the new order does not name exactly the pack&#39;s entries" in page
    assert post(client, f"/packs/{pack}/order", {"order": f"{b},{a},{c}"}).status_code == 400  # no CSRF token


def test_sharing_with_named_colleagues_from_the_page(app, instance, trainer):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    pack = packs.create(instance, trainer, "Shelter course")
    owner, colleague = app.test_client(), app.test_client()
    sign_in(owner, "trainer@semarang.example")
    sign_in(colleague, "colleague@kobe.example")
    assert colleague.get(f"{HTTPS}/packs/{pack}").status_code == 404
    token = _token_in(owner.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True))
    shared = post(owner, f"/packs/{pack}/share", {"sharing": "colleagues", "csrf_token": token,
                                                  "emails": "colleague@kobe.example, nobody@example.org"})
    assert "No account for nobody@example.org" in owner.get(HTTPS + shared.headers["Location"]).get_data(as_text=True)
    assert colleague.get(f"{HTTPS}/packs/{pack}").status_code == 200


#: what only a pack's owner may do to it (anyone who may read it may duplicate it)
CHANGES = ["add", "section", "rename", "up", "down", "order", "notes", "remove", "update", "edit", "share", "delete"]


def test_each_change_to_a_pack_is_for_its_owner_alone(app, instance, trainer, make_practice):
    from tests.test_accounts import HTTPS
    from tests.test_accounts import _token_in
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    publishing.publish(instance, make_practice(title="Siren test"), "sirens", "t")
    pack = packs.create(instance, trainer, "Shelter course")
    packs.add_practice(instance, trainer, pack, "jakarta/sirens")
    packs.add_section(instance, trainer, pack, "Before")
    packs.share(instance, trainer, pack, "colleagues", (2,))  # the colleague may read it, not change it
    item = packs.read(instance, trainer, pack)[1][0].item
    order = ",".join(str(e.item.id) for e in reversed(packs.read(instance, trainer, pack)[1]))
    form = {"item": str(item.id), "practice_id": "jakarta/sirens", "heading": "x", "title": "x", "language": "en",
            "sharing": "private", "order": order}
    colleague = app.test_client()
    sign_in(colleague, "colleague@kobe.example")
    token = _token_in(colleague.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True))
    before = [(e.item.id, e.item.heading, e.item.practice_id) for e in packs.read(instance, trainer, pack)[1]]
    for change in CHANGES:
        assert post(colleague, f"/packs/{pack}/{change}", {**form, "csrf_token": token}).status_code == 404, change
    for change in [*CHANGES, "duplicate"]:
        assert post(colleague, f"/packs/{pack}/{change}", form).status_code == 400, change  # no CSRF token
    assert post(colleague, f"/packs/{pack}/bogus", {**form, "csrf_token": token}).status_code == 404
    assert [(e.item.id, e.item.heading, e.item.practice_id) for e in packs.read(instance, trainer, pack)[1]] == before
    owner = app.test_client()
    sign_in(owner, "trainer@semarang.example")
    token = _token_in(owner.get(f"{HTTPS}/packs/{pack}").get_data(as_text=True))
    post(owner, f"/packs/{pack}/down", {"item": str(item.id), "csrf_token": token})
    assert [e.item.heading for e in packs.read(instance, trainer, pack)[1]] == ["Before", None]
    copy = post(owner, f"/packs/{pack}/duplicate", {"csrf_token": token})
    assert copy.headers["Location"] == f"/packs/{pack + 1}" and len(packs.mine(instance, trainer)) == 2
