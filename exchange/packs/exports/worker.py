"""One export job, run in its own process: ``python -m exchange.packs.exports.worker JOB_ID``.

The process limits itself: a wall-clock alarm whose default action ends the process, and, once its code
is loaded, its address space (RLIMIT_AS) (threats R-7). The job runner that started it turns the exit
status into a message for the person waiting (``jobs.run``).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange.instance import Instance

#: where the library is served when the environment does not say (as create_app assumes)
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def main(job_id: int) -> int:
    from exchange.packs.exports import jobs

    signal.alarm(jobs.TIME_LIMIT_SECONDS)
    # The code is loaded before the memory cap, so that the cap meets the rendering, not an import
    # that fails in a less telling way ("failed to map segment from shared object"). No web code:
    # the worker opens the instance the web app named in its environment (jobs.worker_environment).
    import sqlalchemy as sa

    from exchange.instance import Instance
    from exchange.packs.exports import epub  # noqa: F401
    from exchange.packs.exports import pdf
    from exchange.settings import instance_path_from_environment

    instance = Instance.open(instance_path_from_environment(), os.environ.get("EXCHANGE_DATABASE_URL"),
                             library_store=os.environ.get("EXCHANGE_LIBRARY_STORE"),
                             node=os.environ.get("EXCHANGE_NODE"))
    # The database connection too: the pool keeps it for the job, so the cap never meets libpq's
    # allocations at connect ("out of memory" while parsing the connection string, on PostgreSQL).
    with instance.db.session() as session:
        session.execute(sa.text("SELECT 1"))
    pdf.load_fonts()  # before the cap: fontconfig under it would write empty font caches for the machine
    resource.setrlimit(resource.RLIMIT_AS, (jobs.MEMORY_LIMIT_BYTES, jobs.MEMORY_LIMIT_BYTES))
    try:
        return _run(instance, os.environ.get("EXCHANGE_BASE_URL", DEFAULT_BASE_URL), job_id)
    except MemoryError:
        return jobs.OUT_OF_MEMORY
    except Exception:
        # Under the cap a failed allocation surfaces in many shapes (SQLite "disk I/O error" when it
        # cannot map its shared memory, an OSError, a library's own error): if the process came close
        # to its cap, that was the cause.
        if _peak_address_space() >= 0.9 * jobs.MEMORY_LIMIT_BYTES:
            return jobs.OUT_OF_MEMORY
        raise


def _peak_address_space() -> int:
    """The most address space this process has held, in bytes (VmPeak; 0 if unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run(instance: Instance, base_url: str, job_id: int) -> int:
    from exchange.library.storage import write_durably
    from exchange.models import ExportJob
    from exchange.packs import packs
    from exchange.packs.exports import PackTooLarge
    from exchange.packs.exports import export
    from exchange.packs.exports import jobs

    with instance.db.session() as session:
        job = session.get(ExportJob, job_id)
    if job is None or job.status != "running":
        return 0
    # Read as whoever asked, now: an account (if still active) or the holder of the read-only link.
    viewer = jobs.asker(instance, job)
    try:
        if viewer is None:
            raise packs.PackNotFound(job.pack_id)
        data = export(instance, viewer, job.pack_id, job.format, job.edition, base_url,
                      lambda fraction, stage: jobs.report(instance, job_id, fraction, stage), job.link_hash)
        write_durably(jobs.file_path(instance, job), data)
    except PackTooLarge as error:
        jobs.fail(instance, job_id, str(error))
    except packs.PackNotFound:
        jobs.fail(instance, job_id, "The pack no longer exists or is no longer shared with you.")
    else:
        if not jobs.finish(instance, job_id, len(data)):  # its pack was deleted meanwhile: keep nothing of it
            jobs.file_path(instance, job).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
