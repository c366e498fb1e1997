"""``exchange serve --workers N``: several processes on the embedded default, one job runner beside them,
searches that see a publish at once in every worker, and a clean stop (the real server on loopback)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from exchange.app import create_app
from exchange.library import publishing
from tests.conftest import close
from tests.conftest import exchange_environment
from tests.conftest import practice_text


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append((int(entry.name), command))
    return found


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """One request on a new connection (so that each may be accepted by another worker)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_workers_share_the_index_see_each_publish_and_one_runner_runs_beside_them(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    assert subprocess.run(["exchange", "init"], env=env, capture_output=True).returncode == 0
    server = subprocess.Popen(["exchange", "serve", "--port", "0", "--workers", "3", "--threads", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    try:
        said = server.stdout.readline()  # once the socket listens: the app is built and warmed by then
        port = int(re.search(r" on http://127\.0\.0\.1:(\d+)/$", said.strip()).group(1))
        runner = int(re.search(r"^Job runner started \(pid (\d+)\)", server.stdout.readline()).group(1))
        assert get(port, "/").status == 200
        processes = children(server.pid)
        deadline = time.monotonic() + 60  # the master forks its workers one after another
        while len([c for c in processes if " serve " in c[1]]) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            processes = children(server.pid)
        runners = [pid for pid, command in processes if " worker " in command]
        workers = [pid for pid, command in processes if " serve " in command]
        assert runners == [runner] and len(workers) == 3
        assert all(not [c for c in children(worker) if " worker " in c[1]] for worker in workers)

        assert json.loads(get(port, "/api/v1/search?q=xylophonic").body)["total"] == 0
        assert "Xylophonic flood sirens" not in get(port, "/practices?q=xylophonic").body.decode()
        etag = get(port, "/").getheader("ETag")
        assert get(port, "/", {"If-None-Match": etag}).status == 304

        # Published by another process (as an import or a reviewer's approval in any worker would)
        app = create_app({"INSTANCE": tmp_path / "inst", "DATABASE_URL": database_url, "TESTING": True})
        publishing.publish(app.extensions["exchange"], practice_text(
            title="Xylophonic flood sirens", body="The xylophonic siren plays before the river rises.\n"),
            "xylophonic-sirens", "test")
        close(app)
        for _ in range(12):  # whichever worker answers, it has the new practice, and no stale page
            found = json.loads(get(port, "/api/v1/search?q=xylophonic").body)
            assert [r["id"] for r in found["results"]] == ["jakarta/xylophonic-sirens"]
            assert "Xylophonic flood sirens" in get(port, "/practices?q=xylophonic").body.decode()
            assert get(port, "/", {"If-None-Match": etag}).status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(60)
        server.stdout.close()
    assert code == 0
    for pid in [runner, *workers]:
        assert not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
