"""Rendering in worker processes: the same output, a budget of time, size and turns, nothing inherited."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.library import bounded_rendering
from exchange.library.bounded_rendering import Allowance
from exchange.library.bounded_rendering import RenderersBusy
from exchange.library.bounded_rendering import RenderingAllowanceUsed
from exchange.library.bounded_rendering import RenderPool
from exchange.library.bounded_rendering import TextTooComplex
from exchange.library.bounded_rendering import TextTooLarge
from exchange.library.bounded_rendering import render_bounded
from exchange.library.bounded_rendering import render_preview
from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.library.rendering import render
from tests.test_rendering import HOSTILE
from tests.test_rendering import PATHOLOGICAL

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "practices").rglob("*.md"))
SLOW = PATHOLOGICAL["emphasis"][:MAX_DOCUMENT_BYTES]
#: the budget of renders whose time the test is not about: however loaded the machine, never reached
AMPLE = 600


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    """A pool of its own, its workers ended after the test."""
    pool = RenderPool()
    yield pool
    pool.close()


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("text", [
    BUNDLED[0].read_text("utf-8"),
    BUNDLED[-1].read_text("utf-8"),
    "## 避難所の運営\n\n### Who warns\n\nSee note[^1].\n\n[^1]: BPBD data.\n\n- [x] Sirens\n",
    *HOSTILE,
], ids=["bundled-first", "bundled-last", "toc", *(f"hostile-{n}" for n in range(len(HOSTILE)))])
def test_a_bounded_render_is_the_in_process_render(text):
    assert render_bounded(text, AMPLE) == render(text)


def test_a_text_past_its_budget_is_refused_and_its_worker_replaced(pool):
    pool.render("Starts a worker.", AMPLE)
    [first] = pool.pids()
    with pytest.raises(TextTooComplex, match=r"too complex to render in 0 seconds: .* Simplify the formatting"):
        pool.render(SLOW, seconds=0)
    assert gone(first)
    [replacement] = pool.pids()
    assert replacement != first
    assert pool.render("*Still* here.", AMPLE) == render("*Still* here.")


def test_a_text_larger_than_a_practice_is_refused_before_any_worker_starts(pool):
    with pytest.raises(TextTooLarge, match="This text is 513 KB; a practice may hold at most 512 KB"):
        pool.render("a" * (MAX_DOCUMENT_BYTES + 1))
    assert pool.pids() == []


def test_renders_find_at_most_two_workers_and_are_refused_rather_than_queued_when_both_are_busy():
    pool = RenderPool(wait_seconds=0)
    with pool.turn(), pool.turn():
        with pytest.raises(RenderersBusy, match="try again in a few seconds"):
            pool.render("Waits for nobody.")
    with pool.turn():
        assert pool.render("One turn is free.", AMPLE) == render("One turn is free.")
    assert len(pool.pids()) == 1
    pool.close()


def test_a_worker_inherits_no_environment_no_descriptors_and_no_folder(pool, monkeypatch, tmp_path):
    monkeypatch.setenv("EXCHANGE_SECRET_KEY", "never-in-a-worker")
    monkeypatch.chdir(tmp_path)
    with open(tmp_path / "open.txt", "w") as opened:
        os.set_inheritable(opened.fileno(), True)
        pool.render("Starts a worker.", AMPLE)
    [pid] = pool.pids()
    assert Path(f"/proc/{pid}/environ").read_bytes() == b""
    assert sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"]
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    assert os.getsid(pid) == pid  # its own session: a signal to the server's process group is not for it
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert f"Max address space         {bounded_rendering.MEMORY_LIMIT_BYTES}" in limits


def test_closing_ends_the_workers(pool):
    pool.render("Starts a worker.", AMPLE)
    [pid] = pool.pids()
    pool.close()
    assert gone(pid) and pool.pids() == []
    assert pool.render("Starts another.", AMPLE) == render("Starts another.")


PARENT = ("from exchange.library.bounded_rendering import pool; pool.render('x', 600); "
          "print(pool.pids()[0], flush=True); ")


def worker_of(code: str) -> tuple[subprocess.Popen, int]:
    """A Python process that renders once and then runs ``code``, and the pid of its worker."""
    process = subprocess.Popen([sys.executable, "-c", PARENT + code], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout is not None
    with process.stdout:
        return process, int(process.stdout.readline())


def test_workers_end_when_their_process_exits():
    process, worker = worker_of("")
    assert process.wait(60) == 0
    assert gone(worker)  # ended and reaped by the exiting process, not left behind


def test_a_worker_ends_when_its_process_is_killed():
    process, worker = worker_of("import time; time.sleep(600)")
    waiting = os.pidfd_open(worker)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait()
        poller = select.poll()
        poller.register(waiting, select.POLLIN)
        assert poller.poll(60_000), "the worker outlived its killed process by a minute"
    finally:
        os.close(waiting)


def test_an_allowance_counts_each_persons_time_within_its_period():
    now = 0.0
    allowance = Allowance(period=60, clock=lambda: now)
    allowance.charge("siti", 6)
    allowance.check("siti", 10)
    now = 30.0
    allowance.charge("siti", 4)
    with pytest.raises(RenderingAllowanceUsed, match="more than 10 seconds to render in the last 60 seconds"):
        allowance.check("siti", 10)
    allowance.check("kenji", 10)
    now = 60.5  # the first 6 seconds are older than the period now
    allowance.check("siti", 10)
    assert allowance.used("siti") == 4


def test_a_preview_counts_its_rendering_time_and_is_refused_once_the_allowance_is_used():
    now = 0.0
    allowance = Allowance(period=60, clock=lambda: now)
    assert render_preview("*Hello*", "siti", AMPLE, allowance=allowance) == render("*Hello*")
    assert allowance.used("siti") > 0
    with pytest.raises(TextTooLarge):
        render_preview("a" * (MAX_DOCUMENT_BYTES + 1), "kenji", allowance=allowance)
    assert allowance.used("kenji") == 0  # refused before anything ran
    with pytest.raises(TextTooComplex):
        render_preview(SLOW, "kenji", seconds=0, allowance=allowance)
    assert allowance.used("kenji") > 0
    with pytest.raises(RenderingAllowanceUsed):
        render_preview("*Hello*", "kenji", AMPLE, allowance_seconds=allowance.used("kenji"), allowance=allowance)
