"""Course pack export benchmark: a 20-practice pack in English, Indonesian and Japanese, every format.

    python bench/pack_pdf.py [OUT_FOLDER]      # default: $TMPDIR/px-pack-bench

Builds a fresh instance with the bundled practices, makes a trainer-edition pack of 20 practices (7 English,
7 Indonesian, 6 Japanese, in three sections, with notes on some), and exports it in each format in this
process (so the PDF time includes importing WeasyPrint the first time; it prints a second, warm run too).
Prints pages, bytes and seconds, and writes pack.pdf plus PNGs of the first pages and a Japanese page
(pdftoppm) into OUT_FOLDER to look at.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from exchange.accounts import people  # noqa: E402
from exchange.app import create_app  # noqa: E402
from exchange.initialise import initialise  # noqa: E402
from exchange.models import PracticeRecord  # noqa: E402
from exchange.packs import packs  # noqa: E402
from exchange.packs.exports import export  # noqa: E402

SECTIONS = ("Before the flood", "Warning and evacuation", "Recovery and lessons")


def main(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    app = create_app({"INSTANCE": out / "instance"})
    with app.app_context():
        instance = app.extensions["exchange"]
        initialise(instance, "bench", seed=True)
        people.create_user(instance, "trainer@semarang.example", "Dewi", ["reader"], [], "bench",
                             "rainy season levee walk")
        trainer = people.load(instance, "1:1")
        with instance.db.session() as session:
            records = list(session.scalars(sa.select(PracticeRecord).order_by(PracticeRecord.id)))
        chosen = ([r.id for r in records if r.language == "en"][:7] + [r.id for r in records if r.language == "id"][:7]
                  + [r.id for r in records if r.language == "ja"][:6])
        pack = packs.create(instance, trainer, "Flood preparedness course — Semarang and Kobe",
                            "en", "Read each practice before the session. *Bawa catatan.* 事前に読んでください。")
        for number, practice_id in enumerate(chosen):
            if number % 7 == 0:
                packs.add_section(instance, trainer, pack, SECTIONS[number // 7])
            packs.add_practice(instance, trainer, pack, practice_id)
        for entry in packs.read(instance, trainer, pack)[1][::3]:
            if entry.practice:
                packs.set_notes(instance, trainer, pack, entry.item.id, "Start with the local map.",
                                "1. Who decides?\n2. Who is warned last?", "The district head, after the BPBD call.")
        print(f"pack: {len(chosen)} practices (en 7, id 7, ja 6), trainer edition")
        for format_key in ("pdf", "pdf", "epub", "html", "zip"):
            started = time.perf_counter()
            data = export(instance, trainer, pack, format_key, "trainer", "http://127.0.0.1:5000")
            seconds = time.perf_counter() - started
            (out / f"pack.{format_key}").write_bytes(data)
            extra = ""
            if format_key == "pdf":
                info = subprocess.run(["pdfinfo", str(out / "pack.pdf")], capture_output=True, text=True).stdout
                pages = re.search(r"Pages:\s+(\d+)", info).group(1)
                extra = f", {pages} pages"
            print(f"{format_key:5} {len(data):>9,} bytes in {seconds:5.2f} s{extra}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process: {peak:.0f} MB")
        fonts = subprocess.run(["pdffonts", str(out / "pack.pdf")], capture_output=True, text=True).stdout
        print("fonts:", ", ".join(sorted({line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]})))
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "4", str(out / "pack.pdf"), str(out / "page")],
                   check=True)
    text = subprocess.run(["pdftotext", str(out / "pack.pdf"), "-"], capture_output=True, text=True).stdout
    japanese = next(n for n, page in enumerate(text.split("\f"), 1) if re.search(r"[\u3040-\u30ff]{5}", page)
                    and n > 3)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(japanese), "-l", str(japanese), str(out / "pack.pdf"),
                    str(out / "japanese")], check=True)
    print(f"pages to look at: {out}/page-*.png, {out}/japanese-*.png (page {japanese})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "px-pack-bench")
