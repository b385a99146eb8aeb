"""A living archive: what adding one compilation to an archive of 100 costs, against a full
build, and what watching the sources folder costs a running bot.

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_archive.py [--compilations 100]

It writes the archive into a temporary folder: each compilation is one of the four in
data/eval/archive/ under another title and date (so its text, ids and vectors are its own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from measure import ROOT, header_block, ms, table

ARCHIVE = ROOT / "data" / "eval" / "archive"
MONTHS = "January February March April May June July August September October November December"


def write_compilation(template: Path, k: int, folder: Path) -> Path:
    """The template under a title and a date of its own (edition k)."""
    text = template.read_text(encoding="utf-8")
    lines = text.splitlines()
    # The date line and the title are the first lines that look like them (see index/parse.py).
    month = MONTHS.split()[k % 12]
    for i, line in enumerate(lines):
        if line.strip() and line.split()[0] in MONTHS.split() and line.strip()[-4:].isdigit():
            lines[i] = f"{month} {1 + k % 28:02d}, {2040 + k // 12}"
            break
    for i, line in enumerate(lines):
        if line.startswith("Post-Soviet Reaction"):
            lines[i] = line.replace(
                "Post-Soviet Reaction", f"Post-Soviet Reaction (edition {k})", 1
            )
            break
    path = folder / f"{2040 + k // 12}-{1 + k % 12:02d}-{1 + k % 28:02d}-edition-{k}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed_open(src: Path, idx: Path, *, rebuild: bool = False) -> tuple[float, int]:
    from index.search import Engine

    t0 = time.perf_counter()
    engine = Engine.open(src, idx, rebuild=rebuild)
    return time.perf_counter() - t0, len(engine.statements)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--compilations", type=int, default=100)
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    templates = sorted(ARCHIVE.glob("*.txt"))
    base = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    src, idx = base / "sources", base / "index"
    src.mkdir()
    os.environ["REACTIONS_CACHE_DIR"] = str(base / "cache")
    try:
        for k in range(args.compilations):
            write_compilation(templates[k % len(templates)], k, src)
        full, n = timed_open(src, idx)
        again, _ = timed_open(src, idx)  # nothing changed: the bundle loads
        extra = write_compilation(templates[0], args.compilations, src)
        added, n2 = timed_open(src, idx)
        extra.unlink()
        removed, _ = timed_open(src, idx)
        from index.live import folder_signature

        reps = 200
        t0 = time.perf_counter()
        for _ in range(reps):
            folder_signature(src)
        poll = (time.perf_counter() - t0) / reps
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(
        header_block(
            f"Living archive: {args.compilations} compilations",
            " ".join(
                [
                    "HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_archive.py",
                    f"--compilations {args.compilations}",
                ]
            ),
        )
    )
    rows = [
        (
            "full build (parse, embed every statement, FAISS, save)",
            f"{full:.1f} s",
            f"{n:,} statements",
        ),
        ("open again, nothing changed (load the bundle)", f"{again:.2f} s", ""),
        (
            "add one compilation (embed only its statements)",
            f"{added:.1f} s",
            f"{n2 - n} new statements; {added / full:.2f} of a full build",
        ),
        (
            "remove it again (no embedding)",
            f"{removed:.1f} s",
            f"{removed / full:.2f} of a full build",
        ),
        (
            "look for changes: stat the sources folder once",
            ms(poll) + " ms",
            f"{args.compilations + 1} files",
        ),
    ]
    print(table(["step", "time", "note"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
