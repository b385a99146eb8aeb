"""Shared bench helpers: machine description, process memory, percentiles, markdown tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repo root
    sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ("unknown" elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_gib(field: str) -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as uptime prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def revision() -> str:
    """The commit measured, with a note when index/ differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "index"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (index/ has uncommitted changes)" if dirty else "")


def machine() -> dict[str, str]:
    """Date, CPU, cores, RAM, load and Python: the header every result table carries."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "nproc": str(os.cpu_count()),
        "ram": f"{_meminfo_gib('MemTotal'):.1f} GiB",
        "load (1/5/15 min)": load_average(),
        "python": platform.python_version(),
        "commit": revision(),
    }


def status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: now, VmHWM: peak) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def clear_caches(engine: object) -> int:
    """Empty every per-question cache the engine holds (functools caches among its attributes),
    so the next ask costs what a question never seen before costs. Returns how many."""
    cleared = 0
    own = getattr(engine, "clear_caches", None)
    if callable(own):
        own()
        cleared += 1
    for value in vars(engine).values():
        clear = getattr(value, "cache_clear", None)
        if callable(clear):
            clear()
            cleared += 1
    return cleared


# The two corpora a Cyrillic question is timed on, with the eval sets that ask them in
# Russian and Ukrainian: name -> (sources, question files under data/eval).
CYRILLIC_CORPORA = {
    "real corpus": (ROOT / "data" / "sources", ["questions_ru.jsonl", "questions_uk.jsonl"]),
    "eval archive": (
        ROOT / "data" / "eval" / "archive",
        ["archive_ru.jsonl", "archive_uk.jsonl"],
    ),
}


def cyrillic_engines() -> Iterator[tuple[str, Any, list[str]]]:
    """Each of ``CYRILLIC_CORPORA`` opened (its bundle under data/index-grains-*), with its
    Russian and Ukrainian questions: (name, engine, questions)."""
    from index.search import Engine

    for name, (sources, files) in CYRILLIC_CORPORA.items():
        engine = Engine.open(sources, ROOT / "data" / f"index-grains-{sources.name}")
        yield name, engine, eval_questions(files)


def eval_questions(files: Sequence[str]) -> list[str]:
    """The questions of these eval sets (data/eval/*.jsonl), in order."""
    return [
        json.loads(line)["question"]
        for f in files
        for line in (ROOT / "data" / "eval" / f).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def setting(obj: Any, attr: str, value: Any) -> Callable[[], None]:
    """A function that sets ``obj.attr = value``: one setting for ``interleaved``."""
    return lambda: setattr(obj, attr, value)


def interleaved(
    engine: Any, questions: Sequence[str], settings: Mapping[str, Callable[[], None]], reps: int
) -> dict[str, list[float]]:
    """Warm ``engine.ask`` seconds under each setting (a function that applies it), the
    settings interleaved question by question, every per-question cache emptied before each
    ask: a paired comparison on one machine at one moment."""
    times: dict[str, list[float]] = {label: [] for label in settings}
    for _ in range(reps):
        for q in questions:
            for label, apply in settings.items():
                apply()
                clear_caches(engine)
                t = time.perf_counter()
                engine.ask(q)
                times[label].append(time.perf_counter() - t)
    return times


def pct(samples: Sequence[float] | np.ndarray, q: float) -> float:
    """The q-th percentile (0-100) of samples; NaN when there are none."""
    return (
        float(np.percentile(np.asarray(samples, dtype=float), q)) if len(samples) else float("nan")
    )


def ms(seconds: float) -> str:
    """Seconds as milliseconds with two decimals."""
    return f"{seconds * 1000:.2f}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def header_block(title: str, command: str) -> str:
    """Title, machine and command as markdown."""
    m = machine()
    rows = [*m.items(), ("command", f"`{command}`")]
    return f"## {title}\n\n" + table(("", ""), rows)
