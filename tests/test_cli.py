"""The exchange command: init, import, export and cities, as an administrator uses them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA

BROKEN = DATA / "broken"
VALID = DATA / "valid"


def test_init_seeds_the_bundled_library_once(tmp_path):
    env = {**os.environ, "EXCHANGE_INSTANCE": str(tmp_path / "inst")}
    first = subprocess.run(["exchange", "init"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "11 partner cities added" in first.stdout and "Seeded 44 bundled practices" in first.stdout
    assert (tmp_path / "inst/library/jakarta/peringatan-dini-banjir-ciliwung.md").is_file()
    assert stat.S_IMODE((tmp_path / "inst/secret_key").stat().st_mode) == 0o600
    again = subprocess.run(["exchange", "init"], env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "0 partner cities added" in again.stdout and "Seeded" not in again.stdout


def test_init_empty_creates_no_practices(tmp_path):
    env = {**os.environ, "EXCHANGE_INSTANCE": str(tmp_path / "inst")}
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
def test_export_then_import_into_an_empty_instance_is_byte_for_byte(library_app, tmp_path, suffix):
    from exchange import create_app
    from exchange.initialise import initialise

    dest = tmp_path / f"export{suffix}"
    result = library_app.test_cli_runner().invoke(args=["export", str(dest)])
    assert result.exit_code == 0 and "Exported 44 practices" in result.output
    empty = create_app({"INSTANCE": tmp_path / "empty", "TESTING": True})
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
    from exchange import library

    library.publish(instance, make_practice(city="surabaya"), "flood", "test")
    assert runner.invoke(args=["export", str(tmp_path / "out")]).exit_code == 0
    assert "surabaya" in (tmp_path / "out" / "cities.yaml").read_text()


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
    result = subprocess.run([sys.executable, "-m", "exchange.cli", "--help"], capture_output=True, text=True)
    for command in ("init", "import", "export", "cities", "run", "serve"):
        assert command in result.stdout


def test_serve_answers_over_real_http(tmp_path):
    import urllib.request

    env = {**os.environ, "EXCHANGE_INSTANCE": str(tmp_path / "inst")}
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
            assert response.headers["Server"] == "practice-exchange"
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()
