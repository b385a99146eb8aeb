"""Engine speed on the real corpus: build, cold start, warm answers, encoders; a markdown report.

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_engine.py [--reps 20] [--cold-runs 5]

It builds its own index in a temporary folder (data/index is left alone), so every figure
comes from a fresh build of data/sources/.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT, clear_caches, header_block, ms, pct, table

PY = sys.executable
QUESTION_SETS = (
    ROOT / "data" / "eval" / "questions.jsonl",
    ROOT / "data" / "eval" / "compound.jsonl",
)

# The child of a cold start: wall-clock stamps after startup, imports, open and the answer.
COLD_CHILD = """
import time, sys
t_start = time.time()
from index.search import Engine
t_import = time.time()
e = Engine.open()
t_open = time.time()
a = e.ask("Peskov")
t_ask = time.time()
print("READY", t_start, t_import, t_open, t_ask, len(a.hits),
      "torch" in sys.modules, "sentence_transformers" in sys.modules, flush=True)
"""

# The child of a build breakdown: the stages `python -m index build` goes through.
BUILD_CHILD = """
import json, sys, time
from pathlib import Path
t = {}
t0 = time.perf_counter()
from index import config, store
from index.embed import OnnxEncoder, TorchEncoder
from index.parse import load_corpus, source_files
from index.search import embed_text
t["imports (index, no torch)"] = time.perf_counter() - t0
t0 = time.perf_counter()
corpus = load_corpus(source_files(config.sources_dir()))
t["parse"] = time.perf_counter() - t0
t0 = time.perf_counter()
OnnxEncoder(cache_dir=config.cache_dir())
t["ONNX query encoder load (cached export)"] = time.perf_counter() - t0
t0 = time.perf_counter()
enc = TorchEncoder()
t["sentence-transformers import + model load"] = time.perf_counter() - t0
t0 = time.perf_counter()
vecs = enc.encode([embed_text(s) for s in corpus.statements])
t["embed statements (sentence-transformers)"] = time.perf_counter() - t0
t0 = time.perf_counter()
index = store.make_faiss_index(vecs)
t["FAISS index"] = time.perf_counter() - t0
t0 = time.perf_counter()
store.save_bundle(Path(sys.argv[1]), index=index, statements=corpus.statements,
                  documents=corpus.documents, manifest={"model": enc.model_id, "sources": {}})
t["save bundle"] = time.perf_counter() - t0
print(json.dumps({"stages": t, "statements": len(corpus.statements)}))
"""


def child_env(index_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"
    env["REACTIONS_INDEX_DIR"] = str(index_dir)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


# ----------------------------------------------------------------------------- questions


def load_questions() -> list[str]:
    """The public and the compound questions: one-slot and compound readings alike."""
    out: list[str] = []
    for path in QUESTION_SETS:
        with open(path, encoding="utf-8") as fh:
            out += [json.loads(line)["question"] for line in fh if line.strip()]
    return out


def typo(q: str, rng: random.Random) -> str:
    """Swap two inner letters of the question's longest word (a realistic slip)."""
    ws = re.findall(r"[^\W\d_]+", q)
    if not ws:
        return q
    w = max(ws, key=len)
    if len(w) < 5:
        return q
    i = rng.randrange(1, len(w) - 2)
    t = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return q.replace(w, t, 1)


def variations(questions: list[str], seed: int = 0) -> list[tuple[str, str]]:
    """Each question as asked, lower-cased, without punctuation, with a prefix and with a typo."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for q in questions:
        forms = {
            "as asked": q,
            "lower": q.lower(),
            "bare": re.sub(r"[?!.,]", "", q).strip(),
            "prefixed": "tell me " + q[0].lower() + q[1:],
            "typo": typo(q, rng),
        }
        out += [(name, text) for name, text in forms.items()]
    return out


# ----------------------------------------------------------------------------- sections


def bench_build(index_dir: Path, runs: int) -> dict[str, Any]:
    """`python -m index build` into a fresh folder, wall clock; plus one staged breakdown."""
    times = []
    for _ in range(runs):
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [PY, "-m", "index", "--index-dir", str(index_dir), "build"],
            cwd=ROOT,
            env=child_env(index_dir),
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t0)
    scratch = index_dir.with_name(index_dir.name + "-staged")
    done = subprocess.run(
        [PY, "-c", BUILD_CHILD, str(scratch)],
        cwd=ROOT,
        env=child_env(scratch),
        check=True,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(scratch, ignore_errors=True)
    staged = json.loads(done.stdout.strip().splitlines()[-1])
    return {"runs": times, **staged}


def bench_cold(index_dir: Path, runs: int) -> dict[str, Any]:
    """Process start to first answer, in fresh interpreters, with the index already built."""
    rows = []
    for _ in range(runs):
        t0 = time.time()
        proc = subprocess.Popen(
            [PY, "-c", COLD_CHILD],
            cwd=ROOT,
            env=child_env(index_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        t_end = time.time()
        proc.wait()
        parts = line.split()
        if not parts or parts[0] != "READY":
            raise RuntimeError(f"cold-start child failed: {line!r}")
        t_start, t_import, t_open, t_ask = map(float, parts[1:5])
        rows.append(
            {
                "total": t_end - t0,
                "interpreter": t_start - t0,
                "import": t_import - t_start,
                "open": t_open - t_import,
                "first ask": t_ask - t_open,
                "torch": parts[6] == "True",
                "sentence_transformers": parts[7] == "True",
            }
        )
    # One run under -X importtime: what the imports cost, biggest first.
    done = subprocess.run(
        [PY, "-X", "importtime", "-c", COLD_CHILD],
        cwd=ROOT,
        env=child_env(index_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    imports = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and not m.group(3):  # top-level imports only: nested ones are inside them
            imports.append((int(m.group(2)) / 1e6, int(m.group(1)) / 1e6, m.group(4)))
    imports.sort(reverse=True)
    return {"runs": rows, "imports": imports}


def bench_warm(index_dir: Path, reps: int) -> dict[str, Any]:
    """engine.ask per question, end to end, in a warm process: many repetitions."""
    from index.search import Engine

    engine = Engine.open(index_dir=index_dir)
    queries = variations(load_questions())
    for _, q in queries:  # warm-up: first-call costs (ONNX arena, caches) are cold start's
        engine.ask(q)
    # Novel: every cache the engine keeps is emptied first (a question never seen before).
    # Repeat: the same question again straight after (what caches give a repeated question).
    per_query: dict[str, list[float]] = defaultdict(list)
    repeat: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, str] = {}
    forms: dict[str, str] = {}
    rng = random.Random(1)
    order = list(queries)
    caches = 0
    for _ in range(reps):
        rng.shuffle(order)
        for form, q in order:
            caches = clear_caches(engine)
            t0 = time.perf_counter()
            a = engine.ask(q)
            per_query[q].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            engine.ask(q)
            repeat[q].append(time.perf_counter() - t0)
            kinds[q] = a.intent.kind
            forms[q] = form
    # The query encoder alone, for the share of a topic answer it takes.
    enc = []
    for _ in range(reps):
        for _, q in queries:
            t0 = time.perf_counter()
            engine._encode([q])
            enc.append(time.perf_counter() - t0)
    gc.collect()
    return {
        "statements": len(engine.statements),
        "per_query": dict(per_query),
        "repeat": dict(repeat),
        "caches": caches,
        "kinds": kinds,
        "forms": forms,
        "encode": enc,
        "torch_imported": "torch" in sys.modules,
        "st_imported": "sentence_transformers" in sys.modules,
    }


def bench_encoders(texts: list[str], queries: list[str], statements: list[str]) -> dict[str, Any]:
    """ONNX vs sentence-transformers: cosine of the vectors, per-query time, throughput."""
    import torch

    from index import config
    from index.embed import OnnxEncoder, TorchEncoder

    cores = os.cpu_count() or 1
    out: dict[str, Any] = {}
    # Throughput: the statements repeated to about 2,000 texts, all cores.
    corpus = (statements * (2000 // max(len(statements), 1) + 1))[:2000]
    torch.set_num_threads(cores)
    st = TorchEncoder(threads=cores)
    onnx_all = OnnxEncoder(cache_dir=config.cache_dir(), threads=cores)
    for name, encoder in (("sentence-transformers", st), ("ONNX", onnx_all)):
        encoder.encode(corpus[:64])
        t0 = time.perf_counter()
        encoder.encode(corpus)
        out[f"throughput {name} ({cores} threads)"] = len(corpus) / (time.perf_counter() - t0)
    # Equivalence on every statement and every question form.
    a = st.encode(texts)
    b = onnx_all.encode(texts)
    cos = np.einsum("ij,ij->i", a, b)
    out["cos"] = cos
    out["n_texts"] = len(texts)
    # One query at a time, one thread each.
    torch.set_num_threads(1)
    st1 = TorchEncoder(threads=1)
    onnx1 = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)

    def per_query(encoder: Any) -> list[float]:
        samples = []
        for _ in range(5):
            for q in queries:
                t0 = time.perf_counter()
                encoder.encode([q])
                samples.append(time.perf_counter() - t0)
        return samples

    for name, encoder in (("sentence-transformers", st1), ("ONNX", onnx1)):
        for q in queries[:20]:
            encoder.encode([q])
        out[f"query {name}"] = per_query(encoder)
    out[f"query ONNX, {cores} threads"] = per_query(onnx_all)
    t0 = time.perf_counter()
    onnx1.encode(corpus)
    out["throughput ONNX (1 thread)"] = len(corpus) / (time.perf_counter() - t0)
    torch.set_num_threads(cores)
    return out


# ----------------------------------------------------------------------------- report


def report(
    build: dict[str, Any] | None,
    cold: dict[str, Any] | None,
    warm: dict[str, Any],
    enc: dict[str, Any] | None,
    command: str,
) -> str:
    parts = [header_block("Engine on the real corpus", command)]
    summary: list[tuple[str, str, str, str]] = []

    allq = [t for ts in warm["per_query"].values() for t in ts]
    medians = {q: statistics.median(ts) for q, ts in warm["per_query"].items()}
    summary.append(
        (
            "warm answer p50, novel question (caches emptied)",
            ms(pct(allq, 50)) + " ms",
            "≤ 4 ms",
            ok(pct(allq, 50) <= 0.004),
        )
    )
    summary.append(("warm answer p95, novel question", ms(pct(allq, 95)) + " ms", "", ""))
    rep = [t for ts in warm["repeat"].values() for t in ts]
    summary.append(
        (
            "warm answer p50 / p95, repeated question",
            f"{ms(pct(rep, 50))} / {ms(pct(rep, 95))} ms",
            "",
            "",
        )
    )
    under = sum(1 for t in medians.values() if t <= 0.004)
    summary.append(("question forms whose median ≤ 4 ms", f"{under} of {len(medians)}", "", ""))
    if cold:
        total = statistics.median(r["total"] for r in cold["runs"])
        summary.append(
            ("cold start → first answer (median)", f"{total:.2f} s", "≤ 0.6 s", ok(total <= 0.6))
        )
        torch_any = any(r["torch"] or r["sentence_transformers"] for r in cold["runs"])
        summary.append(
            ("torch imported at query time", "yes" if torch_any else "no", "no", ok(not torch_any))
        )
    if enc:
        cmin = float(enc["cos"].min())
        summary.append(
            (
                "ONNX vs sentence-transformers cosine (min)",
                f"{cmin:.7f}",
                "≥ 0.999",
                ok(cmin >= 0.999),
            )
        )
    if build:
        summary.append(
            (
                "`python -m index build` (median)",
                f"{statistics.median(build['runs']):.2f} s",
                "",
                "",
            )
        )
    parts.append("### Summary\n\n" + table(("measure", "value", "target", "met"), summary))

    # Warm latency by intent kind and by question form.
    by_kind: dict[str, list[float]] = defaultdict(list)
    rep_kind: dict[str, list[float]] = defaultdict(list)
    by_form: dict[str, list[float]] = defaultdict(list)
    for q, ts in warm["per_query"].items():
        by_kind[warm["kinds"][q]] += ts
        rep_kind[warm["kinds"][q]] += warm["repeat"][q]
        by_form[warm["forms"][q]] += ts
    rows = [
        (
            k,
            len({q for q in medians if warm["kinds"][q] == k}),
            ms(pct(v, 50)),
            ms(pct(v, 95)),
            ms(max(v)),
            ms(pct(rep_kind[k], 50)),
            ms(pct(rep_kind[k], 95)),
        )
        for k, v in sorted(by_kind.items())
    ]
    rows.append(
        (
            "**all**",
            len(medians),
            ms(pct(allq, 50)),
            ms(pct(allq, 95)),
            ms(max(allq)),
            ms(pct(rep, 50)),
            ms(pct(rep, 95)),
        )
    )
    n_reps = len(next(iter(warm["per_query"].values())))
    parts.append(
        f"### Warm `engine.ask` end to end ({len(medians)} question forms × {n_reps} repetitions, "
        f"{warm['statements']} statements)\n\n"
        f"Novel: the engine's {warm['caches']} per-question caches emptied before each ask; "
        "repeat: the same question asked again at once.\n\n"
        + table(
            (
                "intent",
                "questions",
                "novel p50 ms",
                "novel p95 ms",
                "novel max ms",
                "repeat p50 ms",
                "repeat p95 ms",
            ),
            rows,
        )
    )
    parts.append(
        table(
            ("question form", "p50 ms", "p95 ms"),
            [(f, ms(pct(v, 50)), ms(pct(v, 95))) for f, v in sorted(by_form.items())],
        )
    )
    slow = sorted(medians.items(), key=lambda kv: -kv[1])[:8]
    parts.append(
        "Slowest questions (novel, median of repetitions):\n\n"
        + table(
            ("question", "intent", "median ms"), [(q, warm["kinds"][q], ms(t)) for q, t in slow]
        )
    )
    parts.append(
        f"Query encoder alone (`engine._encode([q])`, ONNX, 1 thread): p50 {ms(pct(warm['encode'], 50))} ms, "
        f"p95 {ms(pct(warm['encode'], 95))} ms. torch imported in the warm process: "
        f"{warm['torch_imported']}; sentence_transformers: {warm['st_imported']}."
    )

    if cold:
        runs = cold["runs"]
        keys = ("interpreter", "import", "open", "first ask", "total")
        rows = [
            (k, *(f"{r[k]:.3f}" for r in runs), f"{statistics.median(r[k] for r in runs):.3f}")
            for k in keys
        ]
        parts.append(
            "### Cold start: process start → first answer (s), index already built\n\n"
            + table(("stage", *(f"run {i + 1}" for i in range(len(runs))), "median"), rows)
        )
        parts.append(
            "Top-level imports under `-X importtime` (one run, includes the lazy imports inside "
            "`Engine.open`):\n\n"
            + table(
                ("module", "cumulative ms", "self ms"),
                [(m, f"{c * 1000:.1f}", f"{s * 1000:.1f}") for c, s, m in cold["imports"][:15]],
            )
        )
        parts.append(
            "torch imported: "
            + ", ".join(str(r["torch"]) for r in runs)
            + "; sentence_transformers imported: "
            + ", ".join(str(r["sentence_transformers"]) for r in runs)
        )

    if enc:
        cos = enc["cos"]
        rows = [
            ("texts compared (statements + question forms)", enc["n_texts"]),
            ("cosine min", f"{cos.min():.7f}"),
            ("cosine mean", f"{cos.mean():.7f}"),
            ("texts below 0.999", int((cos < 0.999).sum())),
        ]
        for name in ("sentence-transformers", "ONNX"):
            s = enc[f"query {name}"]
            rows.append(
                (
                    f"one query, {name}, 1 thread: p50 / p95 ms",
                    f"{ms(pct(s, 50))} / {ms(pct(s, 95))}",
                )
            )
        for key, value in enc.items():
            if key.startswith("query ONNX, "):
                rows.append(
                    (
                        f"one query, {key[6:]}: p50 / p95 ms",
                        f"{ms(pct(value, 50))} / {ms(pct(value, 95))}",
                    )
                )
        for key, value in enc.items():
            if key.startswith("throughput"):
                rows.append((f"{key}, statements/s (2,000 texts)", f"{value:.0f}"))
        parts.append("### Encoders\n\n" + table(("measure", "value"), rows))

    if build:
        rows = [(f"run {i + 1}", f"{t:.2f}") for i, t in enumerate(build["runs"])]
        parts.append(
            f"### Build (`python -m index --index-dir TMP build`, fresh folder, {build['statements']} "
            "statements)\n\n" + table(("run", "wall s"), rows)
        )
        parts.append(
            "Stages of one build in a fresh process:\n\n"
            + table(("stage", "s"), [(k, f"{v:.3f}") for k, v in build["stages"].items()])
        )
    return "\n\n".join(parts) + "\n"


def ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=20, help="repetitions of every question form")
    p.add_argument("--cold-runs", type=int, default=5)
    p.add_argument("--build-runs", type=int, default=3)
    p.add_argument("--skip-encoders", action="store_true", help="no torch in this process")
    args = p.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    command = " ".join(["bench/bench_engine.py", *(argv if argv is not None else sys.argv[1:])])

    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    index_dir = work / "index"
    try:
        print("building …", file=sys.stderr, flush=True)
        build = bench_build(index_dir, args.build_runs) if args.build_runs else None
        if build is None:
            subprocess.run(
                [PY, "-m", "index", "--index-dir", str(index_dir), "build"],
                cwd=ROOT,
                env=child_env(index_dir),
                check=True,
                capture_output=True,
            )
        print("cold starts …", file=sys.stderr, flush=True)
        cold = bench_cold(index_dir, args.cold_runs) if args.cold_runs else None
        print("warm answers …", file=sys.stderr, flush=True)
        warm = bench_warm(index_dir, args.reps)
        enc = None
        if not args.skip_encoders:
            print("encoders …", file=sys.stderr, flush=True)
            from index.search import Engine, embed_text

            engine = Engine.open(index_dir=index_dir)
            statements = [embed_text(s) for s in engine.statements]
            forms = [q for _, q in variations(load_questions())]
            enc = bench_encoders(statements + forms, load_questions(), statements)
        print(report(build, cold, warm, enc, "HF_HUB_OFFLINE=1 .venv/bin/python " + command))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
