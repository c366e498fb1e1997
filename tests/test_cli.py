"""The exchange command: init, import, export and cities, as an administrator uses them."""

from __future__ import annotations

import os
import re
import select
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DATA
from tests.conftest import exchange_environment

BROKEN = DATA / "broken"
VALID = DATA / "valid"


def test_init_seeds_the_bundled_library_once(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    first = subprocess.run(["exchange", "init"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "11 partner cities added" in first.stdout and "Seeded 44 bundled practices" in first.stdout
    assert (tmp_path / "inst/library/jakarta/peringatan-dini-banjir-ciliwung.md").is_file()
    assert stat.S_IMODE((tmp_path / "inst/secret_key").stat().st_mode) == 0o600
    again = subprocess.run(["exchange", "init"], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "0 partner cities added" in again.stdout and "Seeded" not in again.stdout


def test_init_writes_no_secret_key_file_when_the_environment_gives_the_key(tmp_path, database_url):
    env = {**exchange_environment(tmp_path / "inst", database_url), "EXCHANGE_SECRET_KEY": "a node's own 7c2a"}
    init = subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "inst").is_dir() and not (tmp_path / "inst/secret_key").exists()


def test_init_says_what_the_database_refused_without_a_traceback(tmp_path, postgresql_server):
    url = postgresql_server.create_database().replace("@127.0.0.1", "x@127.0.0.1")  # a role nobody made
    init = subprocess.run(["exchange", "init", "--empty"], env=exchange_environment(tmp_path / "inst", url),
                          capture_output=True, text=True)
    assert init.returncode == 1 and "Traceback" not in init.stderr, init.stderr
    assert init.stderr.startswith("Error: the database could not be used:") and "does not exist" in init.stderr


def test_init_empty_creates_no_practices(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    assert subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True).returncode == 0
    assert not (tmp_path / "inst/library").exists()


def test_import_rejects_each_broken_file_by_name_and_imports_the_good(runner, instance):
    result = runner.invoke(args=["import", str(BROKEN), str(VALID)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = {
        "bad-yaml.md": "front matter: line 3: invalid YAML",
        "unknown-hazard.md": "hazards: ['meteor-shower'] contains unknown hazard 'meteor-shower'",
        "missing-title.md": "title: is required",
        "not-utf8.md": "not valid UTF-8: byte 0xe0",
        "alias-bomb.md": "YAML anchors (&name) are not allowed",
        "python-tag.md": "unsupported YAML tag !!python/object/apply:os.system",
    }
    for name, problem in expected.items():
        [line] = [line for line in lines if name in line]
        assert line.startswith("FAILED") and problem in line, line
    assert sum(line.startswith("created") for line in lines) == 3
    assert "3 created, 0 updated, 0 unchanged, 6 failed" in lines[-1]
    assert sorted(instance.store.practice_ids()) == [
        "jakarta/flood-warning-drill", "jakarta/latihan-peringatan-banjir", "tokyo/hinanjo-kunren"]
    assert sorted(p.name for p in (instance.path / "history" / "jakarta").iterdir()) == [
        "flood-warning-drill", "latihan-peringatan-banjir"]
    assert not Path("/tmp/pwned-by-practice").exists()


def test_import_of_identical_text_changes_nothing_and_of_new_text_adds_a_version(runner, instance, tmp_path,
                                                                                 make_practice):
    source = tmp_path / "jakarta" / "flood.md"
    source.parent.mkdir()
    source.write_bytes(make_practice())
    assert runner.invoke(args=["import", str(source)]).exit_code == 0
    result = runner.invoke(args=["import", str(source)])
    assert result.exit_code == 0 and result.output.startswith("unchanged") and "v1" in result.output
    source.write_bytes(make_practice(summary="Revised."))
    result = runner.invoke(args=["import", str(source)])
    assert result.output.startswith("updated") and "v2" in result.output
    assert instance.store.versions("jakarta/flood") == [1, 2]


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_export_then_import_into_an_empty_instance_is_byte_for_byte(library_app, tmp_path, suffix, new_database):
    from exchange.app import create_app
    from exchange.initialise import initialise

    dest = tmp_path / f"export{suffix}"
    result = library_app.test_cli_runner().invoke(args=["export", str(dest)])
    assert result.exit_code == 0 and "Exported 44 practices" in result.output
    empty = create_app({"INSTANCE": tmp_path / "empty", "TESTING": True, "DATABASE_URL": new_database()})
    initialise(empty.extensions["exchange"], "test", seed=False)
    imported = empty.test_cli_runner().invoke(args=["import", str(dest)])
    assert imported.exit_code == 0, imported.output
    source, copy = library_app.extensions["exchange"], empty.extensions["exchange"]
    assert list(copy.store.practice_ids()) == list(source.store.practice_ids())
    for practice_id in source.store.practice_ids():
        assert copy.store.read_current(practice_id) == source.store.read_current(practice_id)
    from exchange.models import PracticeRecord

    with source.db.session() as a, copy.db.session() as b:
        for record in a.query(PracticeRecord):
            assert b.get(PracticeRecord, record.id).meta == record.meta
    empty.extensions["exchange"].db.dispose()


def test_export_carries_cities_so_a_new_instance_can_take_them(runner, instance, tmp_path, make_practice):
    assert runner.invoke(args=["cities", "add", "surabaya", "--country", "ID", "--name", "Surabaya"]).exit_code == 0
    from exchange.library import publishing

    publishing.publish(instance, make_practice(city="surabaya"), "flood", "test")
    assert runner.invoke(args=["export", str(tmp_path / "out")]).exit_code == 0
    assert "surabaya" in (tmp_path / "out" / "cities.yaml").read_text()


def test_a_city_added_is_in_every_list_of_cities_at_once(runner, instance):
    from exchange.library import cities

    before = [city.slug for city in cities.all_cities(instance)]
    assert before == [city.slug for city in cities.all_cities(instance)]  # (the list kept)
    assert runner.invoke(args=["cities", "add", "surabaya", "--country", "ID", "--name", "Surabaya"]).exit_code == 0
    assert sorted([city.slug for city in cities.all_cities(instance)]) == sorted([*before, "surabaya"])


def test_cities_add_validates_and_does_not_duplicate(runner):
    assert runner.invoke(args=["cities", "add", "Bad Slug", "--country", "ID", "--name", "X"]).exit_code == 1
    bad_country = runner.invoke(args=["cities", "add", "surabaya", "--country", "XX", "--name", "Surabaya"])
    assert bad_country.exit_code == 1 and "country: 'XX' is not an ISO 3166-1 alpha-2 code" in bad_country.output
    ok = runner.invoke(args=["cities", "add", "surabaya", "--country", "id", "--name", "Surabaya",
                             "--name-ja", "スラバヤ"])
    assert ok.exit_code == 0 and "Added city surabaya" in ok.output
    assert "already exists" in runner.invoke(args=["cities", "add", "surabaya", "--country", "ID",
                                                   "--name", "S"]).output
    assert "スラバヤ" in runner.invoke(args=["cities", "list"]).output


def _zip(path: Path, entries: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("entries", "symlink", "problem"),
    [
        ({"../../app.md": b"x"}, None, "would be written outside the library"),
        ({"/etc/passwd.md": b"x"}, None, "would be written outside the library"),
        ({"jakarta/a.md": b"x"}, "jakarta/link.md", "is a symbolic link"),
        ({"jakarta/inner.zip": b"PK"}, None, "is not a Markdown (.md) file"),
        ({"jakarta/bomb.md": b"0" * (600 * 1024)}, None, "is larger than 512 KB"),
        ({f"jakarta/e{n}.md": b"" for n in range(5001)}, None, "5002 entries; at most 5000 are allowed"),
    ],
)
def test_unsafe_zip_bundles_are_refused_whole(runner, instance, tmp_path, make_practice, entries, symlink, problem):
    entries = {"jakarta/good.md": make_practice(), **entries}
    bundle = _zip(tmp_path / "bundle.zip", entries, symlink)
    result = runner.invoke(args=["import", str(bundle)])
    assert result.exit_code == 1 and problem in result.output
    assert not list(instance.store.practice_ids())


def test_import_reports_missing_and_non_markdown_paths(runner, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    result = runner.invoke(args=["import", str(tmp_path / "missing.md"), str(tmp_path / "notes.txt")])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output and "is not a Markdown (.md) file" in result.output


def test_console_script_shows_commands():
    result = subprocess.run([sys.executable, "-m", "exchange", "--help"], capture_output=True, text=True)
    for command in ("init", "import", "export", "cities", "run", "serve", "worker"):
        assert command in result.stdout


def test_serve_answers_over_real_http(tmp_path, database_url):
    import urllib.request

    env = exchange_environment(tmp_path / "inst", database_url)
    assert subprocess.run(["exchange", "init"], env=env, capture_output=True).returncode == 0
    server = subprocess.Popen(["exchange", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    try:
        said = server.stdout.readline()  # once the socket listens, however long starting took
        address = re.search(r" on (http://127\.0\.0\.1:\d+/)$", said.strip())
        assert address, f"exchange serve said {said!r}"
        with urllib.request.urlopen(address.group(1) + "practices/tokyo/kitaku-konnansha-taisaku") as response:
            assert response.status == 200 and "帰宅困難者" in response.read().decode()
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_serve_starts_a_job_runner_that_sends_the_mail_and_stops_with_the_server(tmp_path, database_url,
                                                                                 mail_server):
    from exchange.accounts import people
    from exchange.app import create_app
    from exchange.review import notifications
    from tests.test_accounts import PASSWORD

    inbox = mail_server()
    env = exchange_environment(tmp_path / "inst", database_url) | {
        "EXCHANGE_SMTP_HOST": "127.0.0.1", "EXCHANGE_SMTP_PORT": str(inbox.port), "EXCHANGE_SMTP_TLS": "off"}
    assert subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True).returncode == 0
    # A notification committed while no runner runs: its letter waits in the outbox.
    app = create_app({"INSTANCE": tmp_path / "inst", "DATABASE_URL": database_url, "TESTING": True})
    instance = app.extensions["exchange"]
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    with instance.db.writing() as session:
        notifications.add(session, [1], "approved", "Published.", "/submissions/1")
    instance.search.close()
    instance.db.dispose()
    server = subprocess.Popen(["exchange", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    try:
        assert " on http://127.0.0.1:" in server.stdout.readline()
        said = server.stdout.readline()
        runner = re.search(r"^Job runner started \(pid (\d+)\)", said)
        assert runner, f"exchange serve said {said!r}"
        assert inbox.received.wait(120), "the runner beside the server sent nothing"
        assert [(m["To"], m["Subject"]) for m in inbox.messages] == [
            ("siti@jakarta.example", "Your submission was approved and published")]
    finally:
        server.terminate()
        code = server.wait(60)
        server.stdout.close()
    assert code == 0 and gone(int(runner.group(1)))


def stop_once_listening(server: subprocess.Popen) -> tuple[list[str], int]:
    """Read ``exchange run``'s log until its development server says it listens, then stop it: the lines
    read, and how it exited."""
    assert server.stdout is not None and server.stderr is not None
    said = []
    try:
        for line in server.stderr:
            said.append(line)
            if "Running on http://127.0.0.1:" in line:
                break
    finally:
        server.terminate()
        code = server.wait(60)
        server.stdout.close()
        server.stderr.close()
    return said, code


def test_run_starts_a_job_runner_unless_told_not_to_and_stops_it_with_the_server(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    assert subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True).returncode == 0
    for options, runs in (([], True), (["--no-worker"], False)):
        server = subprocess.Popen(["exchange", "run", "--port", "0", *options], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stderr is not None
        said = server.stdout.readline()
        runner = re.search(r"^Job runner started \(pid (\d+)\)", said)
        _logged, code = stop_once_listening(server)
        assert bool(runner) == runs and (runs or "No job runner (--no-worker)" in said), said
        assert code == 0
        assert runner is None or gone(int(runner.group(1)))


def test_run_builds_an_unusable_search_index_before_it_listens_and_says_so(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    if database_url:  # the PostgreSQL engine, whose index is a table: an instance switched to it starts empty
        env["EXCHANGE_SEARCH_ENGINE"] = "postgres"
    assert subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True).returncode == 0
    if database_url:
        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM search_engine_state"))
        engine.dispose()
    else:
        shutil.rmtree(tmp_path / "inst" / "index")
    server = subprocess.Popen(["exchange", "run", "--port", "0", "--no-worker"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    said, code = stop_once_listening(server)
    assert code == 0
    building = [n for n, line in enumerate(said) if "building it before the server starts" in line]
    built = [n for n, line in enumerate(said) if line.strip() == "Search index built: 0 practices."]
    assert building and built and building[0] < built[0] < len(said) - 1, said
    assert subprocess.run(["exchange", "check"], env=env, capture_output=True).returncode == 0


def test_a_file_filed_under_another_citys_folder_is_refused(runner, instance, tmp_path, make_practice):
    (tmp_path / "bundle/jakarta").mkdir(parents=True)
    (tmp_path / "bundle/notes").mkdir(parents=True)
    (tmp_path / "bundle/jakarta/heat-plan.md").write_bytes(make_practice(city="tokyo", country="JP"))
    (tmp_path / "bundle/notes/siren.md").write_bytes(make_practice())  # not a city's folder: no check
    result = runner.invoke(args=["import", str(tmp_path / "bundle")])
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if "heat-plan" in line]
    assert line.startswith("FAILED") and "'tokyo' is not 'jakarta', the city folder the file is filed under" in line
    assert sorted(instance.store.practice_ids()) == ["jakarta/siren"]
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("jakarta/heat-plan.md", make_practice(city="tokyo", country="JP"))
    result = runner.invoke(args=["import", str(archive)])
    assert result.exit_code == 1 and "the city folder the file is filed under" in result.output
    assert sorted(instance.store.practice_ids()) == ["jakarta/siren"]


def damaged_zips(tmp_path: Path, practice: bytes) -> dict[str, Path]:
    """Zips whose entries cannot be read back: a wrong CRC, and sizes that lie about the data."""
    made = {}
    for kind in ("bad-crc", "lying-sizes", "overstated-size", "corrupt-stream"):
        path = tmp_path / f"{kind}.zip"
        method = zipfile.ZIP_STORED if kind == "lying-sizes" else zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(path, "w", compression=method) as bundle:
            bundle.writestr("jakarta/good.md", practice)
            bundle.writestr("jakarta/broken.md", practice)
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as bundle:
            info = bundle.getinfo("jakarta/broken.md")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        if kind == "bad-crc":  # in the local header and the central directory alike
            for at in (info.header_offset + 14, data.rindex(b"PK\x01\x02") + 16):
                data[at:at + 4] = b"\xde\xad\xbe\xef"
        elif kind == "lying-sizes":  # both headers say the entry is half as long as it is
            half = (info.file_size // 2).to_bytes(4, "little")
            central = data.rindex(b"PK\x01\x02")
            for at in (info.header_offset + 18, info.header_offset + 22, central + 20, central + 24):
                data[at:at + 4] = half
        elif kind == "overstated-size":  # the central directory says the entry is larger than it is
            central = data.rindex(b"PK\x01\x02")
            data[central + 24:central + 28] = (info.file_size + 100).to_bytes(4, "little")
        else:
            data[start:start + 8] = b"\xff" * 8
        path.write_bytes(bytes(data))
        made[kind] = path
    return made


@pytest.mark.parametrize("kind", ["bad-crc", "lying-sizes", "overstated-size", "corrupt-stream"])
def test_a_damaged_zip_is_refused_file_by_file_without_a_traceback(runner, instance, tmp_path, make_practice, kind):
    path = damaged_zips(tmp_path, make_practice())[kind]
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    [broken] = [line for line in lines if "broken.md" in line]
    [good] = [line for line in lines if "good.md" in line]
    assert broken.startswith("FAILED") and "damaged in the zip" in broken
    assert good.startswith("FAILED") and "other files of this zip are damaged" in good
    assert list(instance.store.practice_ids()) == []


@pytest.mark.parametrize("kind", ["bad-crc", "lying-sizes", "overstated-size", "corrupt-stream"])
def test_a_damaged_zip_upload_gets_a_report_not_an_error_page(app, instance, tmp_path, make_practice, kind):
    from tests.test_accounts import sign_in
    from tests.test_contributions import add_people
    from tests.test_contributions import upload

    add_people(instance)
    client = app.test_client()
    sign_in(client, "siti@jakarta.example")
    response = upload(client, [("bundle.zip", damaged_zips(tmp_path, make_practice())[kind].read_bytes())])
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "damaged in the zip" in page and "broken.md" in page


def test_import_prints_each_file_as_it_is_done(tmp_path, make_practice, database_url):
    """A real 'exchange import' reports the first file while it is still waiting to read the second."""
    env = exchange_environment(tmp_path / "inst", database_url)
    assert subprocess.run(["exchange", "init", "--empty"], env=env, capture_output=True).returncode == 0
    folder = tmp_path / "many/jakarta"
    folder.mkdir(parents=True)
    (folder / "practice-0.md").write_bytes(make_practice(title="Practice 0"))
    os.mkfifo(folder / "practice-1.md")  # the import blocks here until the test writes into it
    (folder / "practice-2.md").write_bytes(b"---\nnot: a practice\n---\nx\n")
    with subprocess.Popen(["exchange", "import", str(tmp_path / "many")], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        # Wait for the first line (a run that reports only at its end would never send one: give up after 60 s).
        ready, _, _ = select.select([process.stdout], [], [], 60)
        first = process.stdout.readline() if ready else ""
        running = process.poll() is None  # it cannot pass practice-1.md before the test writes into it
        (folder / "practice-1.md").write_bytes(make_practice(title="Practice 1"))
        rest = process.stdout.read()
    assert first.startswith("created") and "practice-0.md" in first and running
    assert process.returncode == 1
    assert "practice-1.md" in rest and "practice-2.md" in rest
    assert "2 created, 0 updated, 0 unchanged, 1 failed" in rest
