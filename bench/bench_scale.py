"""Engine at scale on a generated corpus: build time, index type, RAM, latency, recall.

Run from the repository root:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --n 100000
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --n 1000000

The corpus comes from bench/synth.py (clustered vectors, Zipfian text, syllable names). The
engine is built from parts through its constructor, with the FAISS index from
``index.store.make_faiss_index``; questions go end to end through ``engine.ask`` and the real
ONNX query encoder (its cost is real; for generated topic questions its output is replaced by
a vector near the story the words came from, so dense search sees a realistic question).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import itertools
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT, clear_caches, header_block, ms, pct, status_mib, table

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(
        f"[{time.perf_counter() - T0:7.1f}s rss {status_mib('VmRSS'):7.0f} MiB] {msg}",
        file=sys.stderr,
        flush=True,
    )


# ----------------------------------------------------------------------------- timing hooks

STAGES: dict[str, float] = defaultdict(float)


def timed(owner: Any, name: str, label: str) -> None:
    """Wrap owner.name so its run time accumulates under STAGES[label] (no engine edits)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            STAGES[label] += time.perf_counter() - t0

    setattr(owner, name, wrapper)


# ----------------------------------------------------------------------------- questions


def swap_typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def make_questions(
    corpus: Any, count: int, qvec: Callable[[np.ndarray], np.ndarray], seed: int = 3
) -> tuple[list[tuple[str, str]], dict[str, np.ndarray]]:
    """(intended kind, question) pairs and the planted vectors of topic questions.

    Mix: 35% people, 25% countries, 10% roles, 30% topics.
    """
    from index.gazetteer import lookup

    rng = random.Random(seed)
    people = [(n, r, c) for n, r, c, k in corpus.speakers if k == "person"]
    vocab = corpus.vocab
    said = {s.speaker for s in corpus.statements[:: max(1, len(corpus.statements) // 200_000)]}
    people = [p for p in people if p[0] in said] or people
    adjectives = []
    for c in corpus.countries:
        t = lookup(c)
        if t is not None and t.adjectives:
            adjectives.append(t.adjectives[0])
    out: list[tuple[str, str]] = []
    planted: dict[str, np.ndarray] = {}
    n_people, n_countries, n_roles = round(count * 0.35), round(count * 0.25), round(count * 0.10)
    for i in range(n_people):
        name, _, _ = rng.choice(people)
        surname = name.split(" ", 1)[1]
        form = i % 4
        if form == 0:
            q = f"What did {surname} say?"
        elif form == 1:
            q = name
        elif form == 2:
            q = swap_typo(surname, rng)
        else:
            st = rng.randrange(len(corpus.story_words))
            q = f"{surname} on {vocab[corpus.story_words[st][0]]}"
            planted[q] = qvec(np.array([st]))[0]
        out.append(("person", q))
    for i in range(n_countries):
        c = rng.choice(corpus.countries)
        q = (f"What did {c} say?", c.lower(), f"How did {c} react?")[i % 3]
        out.append(("country", q))
    for _ in range(n_roles):
        out.append(
            (
                "role",
                f"{rng.choice(adjectives)} {rng.choice(('foreign minister', 'president', 'prime minister', 'economist', 'press secretary'))}",
            )
        )
    for i in range(count - len(out)):
        st = rng.randrange(len(corpus.story_words))
        tp = corpus.topic_of_story[st]
        sw = [vocab[w] for w in corpus.story_words[st]]
        tw = [vocab[w] for w in corpus.topic_words[tp]]
        form = i % 3
        if form == 0:
            q = f"What did people say about {sw[0]} and {rng.choice(tw)}?"
        elif form == 1:
            q = f"Who talked about {sw[1]} {rng.choice(tw)}?"
        else:
            q = f"{rng.choice(tw)} {sw[2]} {rng.choice(tw)}"
        planted[q] = qvec(np.array([st]))[0]
        out.append(("topic", q))
    return out, planted


class PlantedEncoder:
    """The real ONNX encoder (its cost is paid) whose output for generated questions is
    replaced by a vector near their story, so dense search meets a realistic question."""

    def __init__(self, encoder: Any, planted: dict[str, np.ndarray]) -> None:
        self.encoder = encoder
        self.planted = planted

    def __call__(self, texts: list[str]) -> np.ndarray:
        v = self.encoder.encode(texts)
        for i, t in enumerate(texts):
            p = self.planted.get(t)
            if p is not None:
                v[i] = p
        return v


# ----------------------------------------------------------------------------- reference


def reference_vectors() -> dict[str, np.ndarray]:
    """Real MiniLM vectors: the corpus's statements, the eval questions, unrelated sentences."""
    import json

    from synth import stdlib_sentences

    from index import config
    from index.embed import OnnxEncoder
    from index.parse import load_corpus, source_files
    from index.search import embed_text

    enc = OnnxEncoder(cache_dir=config.cache_dir(), threads=os.cpu_count() or 1)
    statements = load_corpus(source_files(config.sources_dir())).statements
    with open(ROOT / "data" / "eval" / "questions.jsonl", encoding="utf-8") as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()]
    return {
        "corpus": enc.encode([embed_text(s) for s in statements]),
        "questions": enc.encode(questions),
        "unrelated": enc.encode(stdlib_sentences()),
    }


# ----------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> str:
    import faiss
    from synth import make_corpus, query_vectors

    from index import config, store
    from index.embed import OnnxEncoder
    from index.gazetteer import CountryMatcher
    from index.lexical import BM25
    from index.names import NameMatcher
    from index.search import Engine

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    res: dict[str, Any] = {"n": args.n}
    rss0 = status_mib("VmRSS")
    res["rss start"] = rss0
    log("reference vectors (real MiniLM)")
    ref = reference_vectors()
    encoder = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)
    encoder.encode(["warm up"])
    rss_base = status_mib("VmRSS")
    res["rss base"] = rss_base

    log(f"generating {args.n:,} statements")
    t0 = time.perf_counter()
    corpus = make_corpus(args.n, speakers=args.speakers, seed=args.seed, progress=log)
    res["generate s"] = time.perf_counter() - t0
    res["speakers"] = len(corpus.speakers)
    res["countries"] = len(corpus.countries)
    res["topics"] = len(corpus.topic_of_story) // 25

    # Ground truth first, while the raw vectors are here: exact top-10 of the recall queries.
    rng = np.random.default_rng(args.seed + 7)
    stories = corpus.story_of[rng.integers(0, args.n, size=args.recall_queries)]
    qv = query_vectors(corpus, stories)
    log(f"exact top-10 of {len(qv)} query vectors (brute force)")
    t0 = time.perf_counter()
    exact_sims, exact_ids = faiss.knn(qv, corpus.vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    res["exact knn s/query (batched)"] = (time.perf_counter() - t0) / len(qv)

    log("FAISS index")
    t0 = time.perf_counter()
    index = store.make_faiss_index(corpus.vectors)
    res["faiss build s"] = time.perf_counter() - t0
    res["index"] = store.describe_index(index)
    res["hwm after faiss"] = status_mib("VmHWM")
    log(f"index {res['index']} in {res['faiss build s']:.1f}s")

    log("geometry")
    from synth import geometry

    res["geometry"] = geometry(
        ref["corpus"], ref["unrelated"], ref["questions"], corpus, exact_sims[:, 0]
    )
    corpus.vectors = np.empty((0, 384), dtype=np.float32)  # serving holds only the index
    gc.collect()
    res["rss corpus + index"] = status_mib("VmRSS")

    log("engine (BM25, speakers, names, countries)")
    timed(BM25, "__init__", "BM25")
    from index.catalog import Catalog
    from index.understand import Reader

    timed(Catalog, "_build_speakers", "speakers (merged spellings) + names")
    timed(Catalog, "_build_roles", "roles per statement")
    timed(Reader, "__init__", "question reader (outlets, regions, events)")
    timed(NameMatcher, "__init__", "NameMatcher (inside speakers)")
    timed(CountryMatcher, "__init__", "CountryMatcher")
    planted: dict[str, np.ndarray] = {}
    encode = PlantedEncoder(encoder, planted)
    t0 = time.perf_counter()
    engine = Engine(corpus.statements, corpus.documents, index, encode)
    res["engine s"] = time.perf_counter() - t0
    res["engine stages"] = dict(STAGES)
    gc.collect()
    t0 = time.perf_counter()
    gc.collect()  # what one full (generation 2) collection pauses a serving process for
    res["full gc s"] = time.perf_counter() - t0
    res["gc objects"] = len(gc.get_objects())
    res["rss after build"] = status_mib("VmRSS")
    res["hwm"] = status_mib("VmHWM")
    log(f"engine in {res['engine s']:.1f}s")

    # Recall of the approximate index against exact search, and its search time.
    _, found = index.search(qv, 10)
    res["recall@10"] = store.recall(found, exact_ids)
    single = []
    for i in range(min(200, len(qv))):
        t0 = time.perf_counter()
        index.search(qv[i : i + 1], 50)
        single.append(time.perf_counter() - t0)
    res["faiss search 1 query k=50"] = single

    seeds = itertools.count(100)
    questions, plant = make_questions(
        corpus, args.queries, lambda s: query_vectors(corpus, s, next(seeds))
    )
    planted.update(plant)

    # A topic answer re-scores lexical-only candidates with index.reconstruct: an IVF index
    # needs a direct map for that (without one, faiss raises "direct map not initialized").
    res["direct map"] = "n/a (exact index)"
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:
        ivf = None
    if ivf is not None:
        if ivf.direct_map.type != faiss.DirectMap.NoMap:
            res["direct map"] = "set by the Engine constructor"
        else:
            ivf.make_direct_map()
            res["direct map"] = "**missing**: the bench added one (topic answers would raise)"

    log(f"{len(questions)} questions × {args.reps}")
    for _, q in questions[:: max(1, len(questions) // 20)]:
        engine.ask(q)
    samples: dict[str, list[float]] = defaultdict(list)
    repeat: dict[str, list[float]] = defaultdict(list)
    understood: dict[str, str] = {}
    answered: dict[str, str] = {}
    hits: dict[str, int] = {}
    order = list(questions)
    shuffle = random.Random(4)
    deadline = time.perf_counter() + args.budget
    for rep in range(args.reps):  # every question once, then more while the budget lasts
        shuffle.shuffle(order)
        for _, q in order:
            if rep and time.perf_counter() > deadline:
                break
            clear_caches(engine)  # a question never seen before
            t0 = time.perf_counter()
            a = engine.ask(q)
            samples[q].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            engine.ask(q)  # the same question again: what the engine's caches give
            repeat[q].append(time.perf_counter() - t0)
            answered[q] = a.intent.kind
            understood[q] = a.intent.value or ""
            hits[q] = len(a.hits)
    log(f"latency loop done: {sum(len(v) for v in samples.values())} answers")
    res["questions"] = questions
    res["samples"] = dict(samples)
    res["repeat"] = dict(repeat)
    res["caches"] = clear_caches(engine)
    res["answered"] = answered
    res["understood"] = understood
    res["hits"] = hits

    log("stages")
    res["stage times"] = stage_times(engine, questions, encoder)
    if args.profile:
        log("profile")
        prof = cProfile.Profile()
        prof.enable()
        for _, q in spread(questions, args.profile_questions):
            clear_caches(engine)
            engine.ask(q)
        prof.disable()
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf)
        st.sort_stats("tottime").print_stats(18)
        st.sort_stats("cumulative").print_stats(22)
        res["profile"] = buf.getvalue()
    if args.reopen:
        log("save and reopen in a fresh process")
        res["reopen"] = reopen(corpus, index, engine)
    return report(res, args)


def spread(items: list[Any], k: int) -> list[Any]:
    """At most k items, evenly spaced."""
    return items if len(items) <= k else [items[i * len(items) // k] for i in range(k)]


def stage_times(
    engine: Any, questions: list[tuple[str, str]], encoder: Any, per_stage: int = 30
) -> list[tuple[str, str, float, float]]:
    """Per-stage time of the pieces engine.ask runs, each on the questions that reach it."""
    from index.understand import clean

    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, q in questions:
        by_kind[kind].append(clean(q))
    every = [q for qs in by_kind.values() for q in qs]
    topic = by_kind["topic"]
    rows = []

    def measure(label: str, qs: list[str], fn: Callable[[str], Any]) -> None:
        ts = []
        qs = spread(qs, per_stage)
        for q in qs:
            clear_caches(engine)
            t0 = time.perf_counter()
            fn(q)
            ts.append(time.perf_counter() - t0)
        rows.append((label, f"{len(qs)}", pct(ts, 50), pct(ts, 95)))

    measure("ONNX encode one question (1 thread)", topic, lambda q: encoder.encode([q]))
    vecs = {q: engine._encode([q]).astype(np.float32) for q in topic}
    measure("faiss search k=50", topic, lambda q: engine.faiss.search(vecs[q], 50))
    measure("BM25 scores (all docs)", topic, engine.bm25.scores)
    lex = {q: engine.bm25.scores(q) for q in topic}
    n = len(engine.statements)
    measure(
        "argpartition of BM25 scores",
        topic,
        lambda q: np.argpartition(-lex[q], min(50, n - 1))[:50],
    )
    measure("names.match (people)", every, lambda q: engine.names.match(q, limit=8))
    cm = engine.catalog.countries_matcher
    measure("countries_matcher.match", every, cm.match)
    measure("understand: reader.read (every slot)", every, engine.reader.read)
    readings = {q: engine.reader.read(q) for q in every}
    measure("rank: scope (filters)", every, lambda q: engine.ranker.scope(readings[q]))
    measure("answer: suggest (did you mean)", topic, engine.answerer.suggest)
    for kind in ("country", "role", "person"):
        measure(
            f"rank: {kind} questions, whole",
            by_kind[kind],
            lambda q: engine.ranker.rank(readings[q]),
        )
    return rows


def reopen(corpus: Any, index: Any, engine: Any) -> dict[str, Any]:
    """Save the bundle, then time a fresh process loading it and building the engine."""
    from index import store

    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    target = folder / "index"
    t0 = time.perf_counter()
    store.save_bundle(
        target,
        index=index,
        statements=corpus.statements,
        documents=corpus.documents,
        manifest={"model": "synthetic", "sources": {}},
    )
    saved = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in target.iterdir())
    child = r"""
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, "bench")
from measure import status_mib
from index import config, store
from index.embed import OnnxEncoder
from index.search import Engine
b = store.load_bundle(sys.argv[1])
t1 = time.perf_counter()
enc = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)
from pathlib import Path
e = Engine(b.statements, b.documents, b.index, enc.encode, manifest=b.manifest,
           lexical_cache=Path(sys.argv[2]))
t2 = time.perf_counter()
e.ask("president")
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, status_mib("VmRSS"), status_mib("VmHWM"))
"""
    lexical = folder / "lexical"
    runs = []
    for _ in range(2):  # the first open keeps the lexical index, the second reads it
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", child, str(target), str(lexical)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        runs.append((done, time.perf_counter() - t0))
    shutil.rmtree(folder, ignore_errors=True)
    bad = [d for d, _ in runs if d.returncode]
    if bad:
        err = bad[0].stderr.strip()
        return {"error": err.splitlines()[-1] if err else "?"}
    out: dict[str, Any] = {"save s": saved, "bundle MiB": size / 2**20}
    for tag, (done, wall) in zip(("", "again "), runs, strict=True):
        load, build, ask, rss, hwm = map(float, done.stdout.split())
        out |= {
            f"{tag}load s": load,
            f"{tag}engine s": build,
            f"{tag}first ask s": ask,
            f"{tag}wall s": wall,
            f"{tag}rss": rss,
            f"{tag}hwm": hwm,
        }
    return out


# ----------------------------------------------------------------------------- report


def report(res: dict[str, Any], args: argparse.Namespace) -> str:
    n = res["n"]
    command = f"HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_scale.py --n {n}"
    extra = [a for a in sys.argv[1:] if a not in ("--n", str(n))]
    if extra:
        command += " " + " ".join(extra)
    parts = [header_block(f"Scale: {n:,} generated statements", command)]
    allq = [t for ts in res["samples"].values() for t in ts]
    reps = max(len(ts) for ts in res["samples"].values())
    rss_engine = res["rss after build"] - res["rss base"]
    rss_total_gb = res["rss after build"] / 1024
    p50 = pct(allq, 50)
    big = n >= 1_000_000
    intended = {q: k for k, q in res["questions"]}
    rep = [t for ts in res["repeat"].values() for t in ts]
    kind_p50 = {
        k: pct([t for q, ts in res["samples"].items() if intended[q] == k for t in ts], 50)
        for k in set(intended.values())
    }
    worst_kind = max(kind_p50, key=lambda k: kind_p50[k])
    worst_p50 = kind_p50[worst_kind]
    summary = [
        (
            "statements / speakers / countries / topics",
            f"{n:,} / {res['speakers']:,} / {res['countries']} / {res['topics']:,}",
            "",
            "",
        ),
        ("index chosen", f"{res['index']['index_type']}, nprobe {res['index']['nprobe']}", "", ""),
        ("FAISS build (train + add + calibrate)", f"{res['faiss build s']:.1f} s", "", ""),
        (
            "engine constructor (BM25, speakers, names, countries)",
            f"{res['engine s']:.1f} s",
            "",
            "",
        ),
        (
            "RSS after build (vectors freed)",
            f"{res['rss after build']:.0f} MiB",
            "≤ 2.5 GB" if big else "",
            ok(rss_total_gb <= 2.5 * 1e9 / 2**30) if big else "",
        ),
        (
            "  of which corpus + index + engine (above the loaded encoder)",
            f"{rss_engine:.0f} MiB",
            "",
            "",
        ),
        ("peak RSS (VmHWM) during the run", f"{res['hwm']:.0f} MiB", "", ""),
        (
            "recall@10 vs exact",
            f"{res['recall@10']:.3f}",
            "≥ 0.95" if big else "",
            ok(res["recall@10"] >= 0.95) if big else "",
        ),
        (
            "`engine.ask` p50 end to end, novel questions, whole mix",
            f"{ms(p50)} ms",
            "≤ 15 ms" if big else "",
            ok(p50 <= 0.015) if big else "",
        ),
        (
            f"`engine.ask` p50 of the slowest kind ({worst_kind})",
            f"{ms(worst_p50)} ms",
            "≤ 15 ms" if big else "",
            ok(worst_p50 <= 0.015) if big else "",
        ),
        ("`engine.ask` p95 end to end, novel questions", f"{ms(pct(allq, 95))} ms", "", ""),
        (
            "`engine.ask` p50 / p95, repeated questions",
            f"{ms(pct(rep, 50))} / {ms(pct(rep, 95))} ms",
            "",
            "",
        ),
        ("IVF direct map (reconstruct for lexical hits)", res["direct map"], "", ""),
    ]
    parts.append("### Summary\n\n" + table(("measure", "value", "target", "met"), summary))

    by_kind: dict[str, list[float]] = defaultdict(list)
    rep_kind: dict[str, list[float]] = defaultdict(list)
    for q, ts in res["samples"].items():
        by_kind[intended[q]] += ts
        rep_kind[intended[q]] += res["repeat"][q]
    rows = [
        (
            k,
            len([q for q in res["samples"] if intended[q] == k]),
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
            len(res["samples"]),
            ms(pct(allq, 50)),
            ms(pct(allq, 95)),
            ms(max(allq)),
            ms(pct(rep, 50)),
            ms(pct(rep, 95)),
        )
    )
    parts.append(
        f"### `engine.ask` end to end by intended kind (up to {reps} repetitions; ms)\n\n"
        f"Novel: the engine's {res['caches']} per-question caches emptied before each ask; "
        "repeat: the same question asked again at once.\n\n"
        + table(
            (
                "question kind",
                "questions",
                "novel p50",
                "novel p95",
                "novel max",
                "repeat p50",
                "repeat p95",
            ),
            rows,
        )
    )
    confusion = Counter((intended[q], res["answered"][q]) for q in res["samples"])
    kinds = sorted({k for k, _ in confusion} | {k for _, k in confusion})
    parts.append(
        "What the engine understood (rows: kind asked; columns: intent answered):\n\n"
        + table(
            ("asked \\ answered", *kinds),
            [
                (a, *(confusion.get((a, b), 0) for b in kinds))
                for a in sorted({k for k, _ in confusion})
            ],
        )
    )
    strays = [
        (q, intended[q], res["answered"][q], res["understood"][q])
        for q in res["samples"]
        if intended[q] in ("country", "person") and res["answered"][q] != intended[q]
    ]
    if strays:
        parts.append(
            "Country and person questions answered as something else:\n\n"
            + table(("question", "asked", "answered", "understood as"), strays[:10])
        )
    med_hits = {
        k: int(np.median([res["hits"][q] for q in res["samples"] if intended[q] == k]))
        for k in by_kind
    }
    parts.append(
        "Median hits returned per answer: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(med_hits.items()))
    )
    slow = sorted(res["samples"].items(), key=lambda kv: -float(np.median(kv[1])))[:8]
    parts.append(
        "Slowest questions (novel, median):\n\n"
        + table(
            ("question", "asked", "answered", "hits", "ms"),
            [
                (q, intended[q], res["answered"][q], res["hits"][q], ms(float(np.median(ts))))
                for q, ts in slow
            ],
        )
    )
    parts.append(
        "### Stages, each timed alone on the questions that reach it (ms)\n\n"
        + table(
            ("stage", "questions", "p50", "p95"),
            [(a, b, ms(c), ms(d)) for a, b, c, d in res["stage times"]],
        )
    )
    rows = [
        ("generate corpus (vectors, names, texts)", f"{res['generate s']:.1f}"),
        (
            "exact top-10, brute force, per query (batched)",
            f"{res['exact knn s/query (batched)'] * 1000:.1f} ms",
        ),
        ("FAISS index", f"{res['faiss build s']:.1f}"),
        *((f"engine: {k}", f"{v:.1f}") for k, v in res["engine stages"].items()),
        ("engine constructor total", f"{res['engine s']:.1f}"),
        (
            f"one full gc.collect() afterwards ({res['gc objects']:,} tracked objects)",
            f"{res['full gc s']:.2f}",
        ),
    ]
    parts.append("### Build (s)\n\n" + table(("stage", "s"), rows))
    rows = [
        ("process at start", f"{res['rss start']:.0f}"),
        ("+ real-corpus reference + ONNX encoder", f"{res['rss base']:.0f}"),
        (
            "+ corpus (statements) + FAISS index, raw vectors freed",
            f"{res['rss corpus + index']:.0f}",
        ),
        ("+ engine (BM25, speakers, names, countries)", f"{res['rss after build']:.0f}"),
        ("peak (VmHWM), raw vectors and build transients included", f"{res['hwm']:.0f}"),
    ]
    parts.append("### Memory (VmRSS, MiB)\n\n" + table(("point", "MiB"), rows))
    single = res["faiss search 1 query k=50"]
    parts.append(
        f"### Dense index\n\nrecall@10 of `{res['index']['index_type']}` (nprobe "
        f"{res['index']['nprobe']}) against exact `IndexFlatIP` on the same vectors, "
        f"{args.recall_queries} query vectors near the data: **{res['recall@10']:.3f}**. "
        f"One query, k=50: p50 {ms(pct(single, 50))} ms, p95 {ms(pct(single, 95))} ms."
    )
    parts.append(
        "Geometry: real MiniLM vectors vs the generated ones (cosine; mean (p5 / p50 / p95))\n\n"
        + table(("statistic", "real MiniLM", "generated"), res["geometry"])
    )
    if "reopen" in res:
        r = res["reopen"]
        if "error" in r:
            parts.append(f"### Reopen in a fresh process\n\nfailed: {r['error']}")
        else:
            parts.append(
                "### Save, then open in a fresh process twice (the first keeps the lexical index)\n\n"
                + table(
                    ("measure", "value"),
                    [
                        ("save_bundle", f"{r['save s']:.1f} s"),
                        ("bundle on disk", f"{r['bundle MiB']:.0f} MiB"),
                        *[
                            row
                            for tag, when in (("", "first open"), ("again ", "next opens"))
                            for row in (
                                (
                                    f"{when}: load_bundle (FAISS + JSON)",
                                    f"{r[tag + 'load s']:.1f} s",
                                ),
                                (
                                    f"{when}: Engine constructor (+ ONNX encoder load)",
                                    f"{r[tag + 'engine s']:.1f} s",
                                ),
                                (f"{when}: first ask", f"{r[tag + 'first ask s'] * 1000:.0f} ms"),
                                (f"{when}: process wall", f"{r[tag + 'wall s']:.1f} s"),
                                (
                                    f"{when}: RSS serving / peak",
                                    f"{r[tag + 'rss']:.0f} / {r[tag + 'hwm']:.0f} MiB",
                                ),
                            )
                        ],
                    ],
                )
            )
    if "profile" in res:
        parts.append(
            f"### cProfile of one pass over {min(args.profile_questions, len(res['questions']))} of the questions\n\n```\n"
            + trim_profile(res["profile"])
            + "\n```"
        )
    return "\n\n".join(parts) + "\n"


def trim_profile(text: str) -> str:
    keep = []
    for line in text.splitlines():
        line = line.replace(str(ROOT) + "/", "").replace(".venv/lib/python3.11/site-packages/", "")
        if line.strip() and not line.startswith(("   Random listing", "   List reduced")):
            keep.append(line.rstrip())
    return "\n".join(keep)


def ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="statements")
    p.add_argument("--speakers", type=int, default=None, help="default: n / 10 (100k at 1M)")
    p.add_argument("--queries", type=int, default=200, help="distinct questions")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--budget", type=float, default=120.0, help="seconds for the latency loop")
    p.add_argument("--recall-queries", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="cProfile a pass over the questions")
    p.add_argument("--profile-questions", type=int, default=60, help="questions profiled")
    p.add_argument("--reopen", action="store_true", help="also save and reopen in a fresh process")
    args = p.parse_args(argv)
    args.speakers = args.speakers or max(10, args.n // 10)
    os.environ["HF_HUB_OFFLINE"] = "1"
    print(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
