"""What verifying a bundle costs: hash throughput, and load_bundle with and without checks.

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_integrity.py [--n 100000] [--hash-mb 400]

It measures, in temporary folders (data/index is left alone):

* streaming SHA-256 and BLAKE2b over one ``--hash-mb`` file (1 MiB reads, page cache warm),
  the choice behind the manifest's hashes;
* ``load_bundle(verify=True)`` against ``load_bundle(verify=False)`` (sizes only) on the real
  corpus's bundle (built by ``Engine.open``) and on a generated ``--n``-statement bundle
  (bench/synth.py, 384-d) saved twice: as the default index (IVF,SQ8 past 50,000 vectors)
  and as an exact one (Flat, every vector checked).

Files are read from the page cache (they were just written): a first load from disk pays
the disk for both variants alike.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import ROOT, header_block, table

SOURCES = ROOT / "data" / "sources"
HASHES = ("sha256", "blake2b")
HASH_CHUNK = 1 << 20  # what index/store.py reads at a time


def hash_throughput(mb: int, folder: Path, reps: int) -> list[tuple[str, str, str]]:
    """(algorithm, best seconds, MB/s) over one ``mb`` MB file, best of ``reps``."""
    path = folder / "hash.bin"
    with open(path, "wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1_000_000))
    rows = []
    for name in HASHES:
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            digest = hashlib.new(name)
            with open(path, "rb") as fh:
                while block := fh.read(HASH_CHUNK):
                    digest.update(block)
            best = min(best, time.perf_counter() - t0)
        rows.append((name, f"{best:.3f}", f"{mb / best:,.0f}"))
    path.unlink()
    return rows


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` takes; freeing what it returns happens after the clock stops."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    del result
    return seconds


def compare_loads(path: Path, reps: int) -> dict[str, Any]:
    """Median load_bundle time with and without verification, runs interleaved and the order
    alternated (the first load after another one's objects were freed runs differently)."""
    from index import store

    plain: list[float] = []
    checked: list[float] = []
    for rep in range(reps):
        runs = [(plain, False), (checked, True)]
        for times, verify in runs if rep % 2 else runs[::-1]:
            times.append(timed(functools.partial(store.load_bundle, path, verify=verify)))
    bundle = store.load_bundle(path, verify=False)
    # The two parts of verification, apart (the vector check is private: a bench may look in).
    hashing = min(
        timed(lambda: [store.sha256_file(path / n) for n in store.DATA_FILES]) for _ in range(3)
    )
    vectors = min(timed(lambda: store._check_vectors(path, bundle.index)) for _ in range(3))
    size = sum((path / name).stat().st_size for name in store.DATA_FILES)
    return {
        "index": bundle.manifest["index_type"],
        "count": bundle.index.ntotal,
        "MB": size / 1e6,
        "plain": statistics.median(plain),
        "checked": statistics.median(checked),
        "hashing": hashing,
        "vectors": vectors,
    }


def real_bundle(folder: Path) -> Path:
    """The bundle Engine.open builds from data/sources/, built in a child process: torch and
    the model in this one would slow and scatter every later load (the collector walks
    their objects too)."""
    path = folder / "real"
    build = "import sys; from pathlib import Path; from index.search import Engine; "
    build += "Engine.open(Path(sys.argv[1]), Path(sys.argv[2]))"
    subprocess.run([sys.executable, "-c", build, str(SOURCES), str(path)], cwd=ROOT, check=True)
    return path


def synthetic_bundles(folder: Path, n: int) -> list[Path]:
    """The default (IVF past the threshold) and an exact bundle of ``n`` generated statements."""
    from synth import make_corpus

    from index import store

    corpus = make_corpus(n, speakers=max(1, n // 10))  # bench_scale's default speakers
    paths = []
    for label, threshold in (("default", None), ("flat", n + 1)):
        path = folder / f"synth-{label}"
        store.save_bundle(
            path,
            index=store.make_faiss_index(corpus.vectors, exact_threshold=threshold),
            statements=corpus.statements,
            documents=corpus.documents,
            manifest={"model": "synthetic", "sources": {}},
        )
        paths.append(path)
    return paths


def report(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-integrity-") as tmp:
        folder = Path(tmp)
        hashes = hash_throughput(args.hash_mb, folder, args.hash_reps)
        runs = [("real corpus", compare_loads(real_bundle(folder), args.reps_real))]
        for path in synthetic_bundles(folder, args.n):
            runs.append((f"generated {args.n:,}", compare_loads(path, args.reps)))
    command = " ".join(
        ["HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_integrity.py", *sys.argv[1:]]
    )
    rows = [
        (
            what,
            r["index"],
            f"{r['count']:,}",
            f"{r['MB']:.1f}",
            f"{r['plain'] * 1000:.1f}",
            f"{r['checked'] * 1000:.1f}",
            f"{r['checked'] / r['plain']:.2f}",
            f"{r['hashing'] * 1000:.1f}",
            f"{r['vectors'] * 1000:.1f}",
        )
        for what, r in runs
    ]
    return "\n\n".join(
        [
            header_block("Bundle integrity: hashing and verified loads", command),
            f"Streaming hash of one {args.hash_mb} MB file, 1 MiB reads, best of "
            f"{args.hash_reps}:\n\n" + table(("hash", "seconds", "MB/s"), hashes),
            f"load_bundle, median of {args.reps_real} (real) / {args.reps} (generated) "
            "interleaved runs; sizes-only vs verified (sha256 of every file + vector check). "
            "The last two columns time the two parts of verification alone (best of 3):\n\n"
            + table(
                (
                    "bundle",
                    "index",
                    "vectors",
                    "MB on disk",
                    "sizes only ms",
                    "verified ms",
                    "ratio",
                    "sha256 ms",
                    "vector check ms",
                ),
                rows,
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="generated statements")
    p.add_argument("--hash-mb", type=int, default=400, help="size of the hashed file")
    p.add_argument("--hash-reps", type=int, default=3)
    p.add_argument("--reps", type=int, default=9, help="loads of each generated bundle")
    p.add_argument("--reps-real", type=int, default=30, help="loads of the real bundle")
    args = p.parse_args(argv)
    os.chdir(ROOT)
    print(report(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
