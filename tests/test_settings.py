"""Settings: defaults, then the instance's config.py, then EXCHANGE_* variables; one secret key per instance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchange import settings
from exchange.app import create_app
from exchange.errors import SettingError

ROOT = Path(__file__).resolve().parent.parent


def test_the_instance_config_file_sets_and_the_environment_overrides(tmp_path, monkeypatch):
    for name in settings.SETTINGS:
        monkeypatch.delenv(settings.environment_name(name), raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('EXCHANGE_BASE_URL = "https://practices.example.org"\n'
                                        'SMTP_HOST = "mail.example.org"\nSEARCH_SECONDS = 5.0\nlower = "ignored"\n')
    loaded = settings.load(instance, {"EXCHANGE_SMTP_HOST": "relay.example.org"})
    assert loaded["EXCHANGE_BASE_URL"] == "https://practices.example.org"
    assert loaded["SMTP_HOST"] == "relay.example.org" and loaded["SEARCH_SECONDS"] == 5.0
    assert "lower" not in loaded and loaded["PREVIEW_SECONDS"] == settings.SETTINGS["PREVIEW_SECONDS"][0]
    monkeypatch.setenv("EXCHANGE_SEARCH_SECONDS", "7")
    app = create_app({"INSTANCE": instance})
    assert app.config["SEARCH_SECONDS"] == 7.0 and app.config["SMTP_HOST"] == "mail.example.org"
    assert app.extensions["exchange"].mail.host == "mail.example.org"
    app.extensions["exchange"].db.dispose()


def test_a_setting_the_environment_cannot_give_is_named(tmp_path):
    with pytest.raises(ValueError, match="EXCHANGE_SEARCH_SECONDS is 'soon'"):
        settings.load(tmp_path, {"EXCHANGE_SEARCH_SECONDS": "soon"})


def test_the_secret_key_is_made_once_and_shared_by_every_process(tmp_path):
    instance = tmp_path / "instance"
    code = ("import sys; from pathlib import Path; from exchange import settings; "
            "print(settings.secret_key(Path(sys.argv[1])))")
    keys = {subprocess.run([sys.executable, "-c", code, str(instance)], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout.strip()
            for _ in range(3)}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert oct((instance / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert not [p for p in instance.iterdir() if p.name.startswith(".tmp-")]


def test_init_writes_a_commented_config_file_once(runner, instance):
    config = instance.path / "config.py"
    config.unlink(missing_ok=True)
    assert runner.invoke(args=["init", "--empty"]).exit_code == 0
    assert "EXCHANGE_<NAME>" in config.read_text()
    config.write_text("SMTP_HOST = 'mine'\n")
    assert runner.invoke(args=["init", "--empty"]).exit_code == 0
    assert config.read_text() == "SMTP_HOST = 'mine'\n"


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("EXCHANGE_NODE", "node a", "NODE is 'node a'"),
    ("EXCHANGE_NODE", "n" * 41, "a node's name is 1 to 40"),
    ("EXCHANGE_LIBRARY_STORE", "shared/library", "LIBRARY_STORE is 'shared/library', which is not an absolute"),
    ("EXCHANGE_SEARCH_ENGINE", "solr", "SEARCH_ENGINE is 'solr'; it must be one of whoosh, postgres"),
    ("EXCHANGE_SEARCH_ENGINE", "postgres", "needs a PostgreSQL DATABASE_URL"),
    ("EXCHANGE_SMTP_PORT", "abc", "SMTP_PORT is 'abc'; it must be a port number"),
    ("EXCHANGE_SMTP_TLS", "bogus", "SMTP_TLS is 'bogus'; it must be one of starttls, ssl, off"),
])
def test_a_setting_that_cannot_be_used_is_named_and_nothing_is_written(tmp_path, variable, value, named):
    with pytest.raises(SettingError, match=named):
        settings.load(tmp_path / "instance", {variable: value})
    assert not (tmp_path / "instance").exists()  # not even its secret key


@pytest.mark.parametrize(("language", "error"), [("en_US.UTF-8", "Error: "), ("ja_JP.UTF-8", "エラー: "),
                                                 ("id_ID.UTF-8", "Kesalahan: ")])
def test_the_command_says_a_bad_setting_in_one_line_of_the_environments_language(tmp_path, language, error):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "EXCHANGE_INSTANCE": str(tmp_path / "instance"),
                   "EXCHANGE_LIBRARY_STORE": "relative/store", "LANG": language, "LC_ALL": ""}
    done = subprocess.run([sys.executable, "-m", "exchange", "init", "--empty"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith(error), said
    assert "LIBRARY_STORE" in said[0] and "'relative/store'" in said[0]
    if language.startswith("en"):
        assert said[0] == "Error: LIBRARY_STORE is 'relative/store', which is not an absolute path"
    else:  # the sentence too, not only click's "Error:"
        assert "which is not an absolute path" not in said[0]
    assert not (tmp_path / "instance").exists()


def test_each_instance_folder_is_a_node_of_its_own_with_a_name_kept_once(tmp_path):
    first = settings.node_name(tmp_path / "a")
    assert settings.NODE_PATTERN.match(first) and settings.node_name(tmp_path / "a") == first
    assert settings.node_name(tmp_path / "b") != first
