"""Bulk indexing alone: ``indexing.rebuild`` of bench/search.py's synthetic corpus, in a fresh process.

    python bench/rebuild.py 2000 10000                # each size once
    python bench/rebuild.py --repeat 3 --keep /tmp/px-rebuild 10000   # keep the instances for next time

For each N it prints practices per second (wall time), the CPU seconds of the rebuild's processes
together (what the machine's other work cannot change), and the peak of their summed resident memory,
sampled every 0.2 s while it runs (bench/search.py's figure is the largest single process's, which a
rebuild in parts understates). Time two versions back to back, and repeat: other work on the machine
moves the wall time, not the CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Corpus  # noqa: E402
from bench.search import make_instance  # noqa: E402


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and of all its descendants now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


def timed_rebuild(folder: Path) -> dict:
    """A full rebuild of the instance in ``folder`` in a child process: wall seconds, CPU seconds, peak memory."""
    code = ("import json, pathlib, time; from exchange.instance import Instance; from exchange.search import indexing;"
            f"i = Instance.open(pathlib.Path({str(folder)!r})); t = time.perf_counter();"
            "n = indexing.rebuild(i); print(json.dumps({'n': n, 'seconds': time.perf_counter() - t}))")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = process.communicate()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"the rebuild failed (exit status {process.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.strip().splitlines()[-1])
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {**result, "per_second": result["n"] / result["seconds"], "cpu_seconds": cpu, "peak_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 10000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="make (or reuse) the instances in this folder")
    args = parser.parse_args()
    corpus = Corpus()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        for n in args.sizes:
            folder = base / f"rebuild-{n}"
            if not (folder / "library").is_dir():
                make_instance(folder, n, corpus)
            for _ in range(args.repeat):
                r = timed_rebuild(folder)
                print(f"N={n}: bulk index {r['per_second']:.1f} practices/s ({r['seconds']:.1f} s), "
                      f"CPU {r['cpu_seconds']:.1f} s, peak memory {r['peak_mb']:.0f} MB, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
