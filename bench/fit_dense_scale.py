"""Fit the multilingual route's DenseScale (index/rank.py) on data, and print how.

The engine reads each Russian and Ukrainian eval question (public, compound and archive sets)
and each off-topic question (data/eval/offtopic_ru_uk.jsonl) with every multilingual
threshold switched off, and records what the ranker saw: scoped or not, the best e5 cosine,
whether a word matched. Then, on those numbers:

* ``floor``: the median cosine between the off-topic questions and every statement (what
  "unrelated" scores for this model);
* ``sure_dense`` (confident on meaning alone): just above every unanswerable question's
  best cosine, so none of them is ever answered confidently;
* ``min_dense`` (no scope, no word in common: weaker is "nothing"): just below the weakest
  answerable question the engine answers right, so none of them is lost; unanswerable
  questions between the two get quotes marked unsure (the scoring rule's "not confident").
  e5-small's cosines of answerable and unanswerable questions overlap (printed below), so
  no single cut separates them;
* ``sure_dense_with_words`` (within a named scope, below it the topic "matched nothing"):
  ``min_dense`` (the scope's own questions are all answerable);
* ``lexical_weight`` (``dense_weight`` = 1 - it) and ``cut_ratio`` (results stop below this
  share of the best fused score), swept together through the engine: the pair with the best
  top-1 over the four sets, then the best recall, then the shortest lists (largest cut).
  A Cyrillic topic meets the statements' words only through names (``Query.spelled``), so
  the weight BM25 deserves here is a question for the data, not MiniLM's 0.4.

    python bench/fit_dense_scale.py            # prints the fit and the numbers behind it
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from measure import ROOT, table

from index import evaluate as ev
from index.rank import MULTILINGUAL_SCALE, DenseScale
from index.search import Engine

EVAL = ROOT / "data" / "eval"
SETS = {  # question file -> which archive answers it
    "questions_ru": "public",
    "questions_uk": "public",
    "archive_ru": "archive",
    "archive_uk": "archive",
    "offtopic_ru_uk": "public",
}
OPEN = replace(MULTILINGUAL_SCALE, min_dense=-1.0, sure_dense=2.0, sure_dense_with_words=-1.0)
MARGIN = 0.005  # thresholds sit this far past the question they are fitted on


def engines(index_base: Path) -> dict[str, Engine]:
    out = {
        "public": Engine.open(ROOT / "data" / "sources", index_base / "public", multilingual="on"),
        "archive": Engine.open(EVAL / "archive", index_base / "archive", multilingual="on"),
    }
    for e in out.values():  # each question is embedded once however many configs run
        route = e.ranker.multilingual
        assert route is not None, "the multilingual route did not build"
        cached = functools.lru_cache(maxsize=None)(functools.partial(_one, route.encode))
        e.ranker.multilingual = replace(route, encode=lambda ts, c=cached: c(ts[0]))
    return out


def _one(encode: Callable[[list[str]], np.ndarray], text: str) -> np.ndarray:
    return encode([text])


def run(e: Engine, qs: list[dict[str, Any]], scale: DenseScale) -> ev.Score:
    e.ranker.cfg = replace(e.ranker.cfg, multilingual=scale)
    answers = [e.ask(q["question"]) for q in qs]
    return ev.score(
        qs, [[h.statement.text for h in a.hits] for a in answers], [a.confident for a in answers]
    )


def observe(e: Engine, qs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the ranker saw for each question, thresholds off."""
    e.ranker.cfg = replace(e.ranker.cfg, multilingual=OPEN)
    rows = []
    for q in qs:
        read = e.read(q["question"])
        ranked = e.ranker.rank(read)
        texts = [e.statements[int(r)].text for r in ranked.rows]
        right = ev.score([q], [texts]).top1 == 1.0
        scope, _ = e.ranker.scope(read)
        rows.append(
            {
                "id": q["id"],
                "none": q.get("match") == "none",
                "right": right,
                "route": ranked.route,
                "scoped": scope is not None and read.filters,
                "dense": ranked.dense_top,
                "lexical": ranked.lexical_hit,
            }
        )
    return rows


def widest_cut(yes: list[float], no: list[float]) -> tuple[float, int]:
    """The threshold that best separates ``yes`` (keep, >=) from ``no`` (drop, <): among
    the cuts with fewest mistakes, the middle of the widest gap."""
    values = sorted(set(yes) | set(no))
    cuts = [values[0] - 0.01] + [(a + b) / 2 for a, b in itertools.pairwise(values)]
    cuts.append(values[-1] + 0.01)
    scored = []
    for c in cuts:
        wrong = sum(v < c for v in yes) + sum(v >= c for v in no)
        below = max([v for v in values if v < c], default=c)
        above = min([v for v in values if v >= c], default=c)
        scored.append((wrong, -(above - below), c))
    wrong, _, cut = min(scored)
    return round(cut, 3), wrong


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index-base", type=Path, default=Path("/tmp/fit-dense-scale"))
    args = p.parse_args()
    es = engines(args.index_base)
    qs = {name: ev.load_questions(EVAL / f"{name}.jsonl") for name in SETS}
    seen = {name: observe(es[SETS[name]], qs[name]) for name in SETS}
    ml = [r for rows in seen.values() for r in rows if r["route"] == "multilingual"]

    # floor: off-topic questions against every statement
    e5 = es["public"].ranker.multilingual
    assert e5 is not None
    vecs = np.vstack([e5.encode([q["question"]]) for q in qs["offtopic_ru_uk"]])
    stored = e5.index.reconstruct_n(0, e5.index.ntotal)
    floor = round(float(np.median(stored @ vecs.T)), 2)

    free = [r for r in ml if not r["scoped"] and not r["lexical"]]
    yes = [r["dense"] for r in free if r["right"] and not r["none"]]
    no = [r["dense"] for r in free if r["none"]]
    best_cut, wrong = widest_cut(yes, no)
    min_dense = round(min(yes) - MARGIN, 3)
    nones = [r["dense"] for r in ml if r["none"] and not r["scoped"]]
    sure_dense = round(max(max(nones, default=min_dense) + MARGIN, min_dense), 3)
    scale = replace(
        MULTILINGUAL_SCALE,
        floor=floor,
        min_dense=min_dense,
        sure_dense=sure_dense,
        sure_dense_with_words=min_dense,
    )
    print(f"multilingual route: {len(ml)} questions ({len(free)} unscoped, no word in common)")
    print(f"floor (median off-topic cosine): {floor}")
    print(
        f"min_dense {min_dense}: {len(yes)} answerable answered right (lowest {min(yes):.3f}),"
        f" {len(no)} unanswerable (highest {max(no):.3f}); the best single cut ({best_cut})"
        f" still puts {wrong} on the wrong side"
    )
    print(f"sure_dense {sure_dense}: above every unanswerable question ({max(nones):.3f})")

    lines = []
    ranked = []
    for lexical in (0.1, 0.2, 0.3, 0.4):
        for cut in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85):
            trial = replace(scale, lexical_weight=lexical, dense_weight=1 - lexical, cut_ratio=cut)
            scores = [run(es[SETS[n]], qs[n], trial) for n in SETS]
            top1 = float(np.mean([s.top1 for s in scores]))
            recall = float(np.mean([s.recall for s in scores]))
            ranked.append((top1, recall, cut, -abs(lexical - 0.4), trial))
            lines.append([lexical, cut, *(f"{s.top1:.3f}/{s.recall:.3f}" for s in scores)])
    print("\nlexical_weight x cut_ratio sweep (top-1/recall per set):")
    print(table(["lexical", "cut", *SETS], lines))
    scale = max(ranked, key=lambda r: r[:4])[4]
    print(f"\nfitted: {scale}")
    final = [run(es[SETS[n]], qs[n], scale) for n in SETS]
    print(
        table(
            ["set", "top1", "recall"],
            [[n, f"{s.top1:.3f}", f"{s.recall:.3f}"] for n, s in zip(SETS, final, strict=True)],
        )
    )
    for n, s in zip(SETS, final, strict=True):
        for m in s.misses:
            print(f"  miss {n}: {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
