"""What verifying a bundle costs: hash throughput, and load_bundle with and without checks.

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_integrity.py [--n 100000] [--hash-mb 1024]
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_integrity.py --hash-only   # the hashes alone

It measures, in temporary folders (data/index is left alone):

* streaming SHA-256, XXH3-128 (what bundles list now), BLAKE2b and, where the ``blake3``
  package is installed, BLAKE3, over one ``--hash-mb`` file read as ``index/store.py`` reads
  it (1 MiB ``preadv`` into one buffer, page cache warm), and the reads alone: the choice
  behind the manifest's hashes;
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
HASH_CHUNK = 1 << 20  # what index/store.py reads at a time


class _NoHash:
    """The reads alone: the floor under every hash."""

    def update(self, data: object) -> None:
        pass


def hash_makers() -> dict[str, Callable[[], Any] | None]:
    """Each candidate's constructor (None: its package is not installed here)."""
    import xxhash

    makers: dict[str, Callable[[], Any] | None] = {
        "read only": _NoHash,
        "sha256": hashlib.sha256,
        "xxh3_128": xxhash.xxh3_128,
        "blake2b": hashlib.blake2b,
    }
    try:
        import blake3  # not a dependency: measured where someone installed it

        makers["blake3"] = blake3.blake3
    except ImportError:
        makers["blake3"] = None
    return makers


def stream(make: Callable[[], Any], path: Path) -> None:
    """Hash ``path`` the way index/store.py does: positional reads into one reused buffer."""
    digest = make()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    fd = os.open(path, os.O_RDONLY)
    try:
        at = 0
        while read := os.preadv(fd, [buffer], at):
            digest.update(view[:read])
            at += read
    finally:
        os.close(fd)


def hash_throughput(mb: int, folder: Path, reps: int) -> list[tuple[str, str, str]]:
    """(algorithm, best seconds, MB/s) over one ``mb`` MB file, best of ``reps``, the
    candidates interleaved in each round (the machine's load drifts between rounds)."""
    path = folder / "hash.bin"
    with open(path, "wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1_000_000))
    makers = hash_makers()
    best = {name: float("inf") for name, make in makers.items() if make is not None}
    for _ in range(reps):
        for name in best:
            make = makers[name]
            assert make is not None
            t0 = time.perf_counter()
            stream(make, path)
            best[name] = min(best[name], time.perf_counter() - t0)
    path.unlink()
    return [
        (name, f"{best[name]:.3f}", f"{mb / best[name]:,.0f}")
        if name in best
        else (name, "not installed", "")
        for name in makers
    ]


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
        timed(lambda: [store.file_digest(path / n) for n in store.DATA_FILES]) for _ in range(3)
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
    command = " ".join(
        ["HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_integrity.py", *sys.argv[1:]]
    )
    with tempfile.TemporaryDirectory(prefix="bench-integrity-") as tmp:
        folder = Path(tmp)
        hashes = hash_throughput(args.hash_mb, folder, args.hash_reps)
        hashed = (
            f"Streaming hash of one {args.hash_mb} MB file, 1 MiB preadv reads, page cache warm,"
            f" best of {args.hash_reps} (interleaved):\n\n"
            + table(("hash", "seconds", "MB/s"), hashes)
        )
        if args.hash_only:
            return "\n\n".join([header_block("Bundle integrity: hash throughput", command), hashed])
        runs = [("real corpus", compare_loads(real_bundle(folder), args.reps_real))]
        for path in synthetic_bundles(folder, args.n):
            runs.append((f"generated {args.n:,}", compare_loads(path, args.reps)))
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
            hashed,
            f"load_bundle, median of {args.reps_real} (real) / {args.reps} (generated) "
            "interleaved runs; sizes-only vs verified (XXH3-128 of every file + vector check). "
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
                    "hash ms",
                    "vector check ms",
                ),
                rows,
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="generated statements")
    p.add_argument("--hash-mb", type=int, default=1024, help="size of the hashed file")
    p.add_argument("--hash-reps", type=int, default=3)
    p.add_argument("--hash-only", action="store_true", help="only the hash throughput")
    p.add_argument("--reps", type=int, default=9, help="loads of each generated bundle")
    p.add_argument("--reps-real", type=int, default=30, help="loads of the real bundle")
    args = p.parse_args(argv)
    os.chdir(ROOT)
    print(report(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
