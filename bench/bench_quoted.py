"""What looking a quoted phrase up among the sentence pieces (``DenseScale.quote_weight``)
costs a Cyrillic question that quotes one: warm ``engine.ask`` with the weight as shipped
and at 0 (the phrase not encoded, no pieces searched for it), interleaved question by
question in one process, every per-question cache emptied before each ask.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_quoted.py [--reps 5]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from measure import ROOT, header_block, interleaved, ms, pct, setting, table

from index.search import Engine

ARCHIVE = ROOT / "data" / "eval" / "archive"
# Questions that quote a phrase of three words or more, as readers type them (not from the
# eval sets' expected answers; any quotation costs the same).
QUESTIONS = [
    "хто сказав «дипломатія через голови українців»",
    "кто сказал «это был не коридор, это был поводок»",
    "«надёжность — это именно то, чего сейчас не хватает Европе»",
    "хто сказав «у Таллінні ніхто не здивований»",
    "кто назвал это «возвращением дипломатии»?",
    "«точно не буде нудно» — чиї це слова",
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    print(header_block("Quoted phrases: a Cyrillic quotation looked up", " ".join(sys.argv)))
    engine = Engine.open(ARCHIVE, ROOT / "data" / "index-grains-archive")
    shipped = engine.ranker.cfg
    off = replace(shipped, multilingual=replace(shipped.multilingual, quote_weight=0.0))
    settings = {
        "shipped": setting(engine.ranker, "cfg", shipped),
        "off": setting(engine.ranker, "cfg", off),
    }
    times = interleaved(engine, QUESTIONS, settings, args.reps)
    engine.ranker.cfg = shipped
    rows = [
        [
            f"eval archive ({len(engine.statements)} st.)",
            f"quote_weight {cfg.multilingual.quote_weight}",
            str(len(times[label])),
            ms(pct(times[label], 50)),
            ms(pct(times[label], 95)),
        ]
        for label, cfg in (("off", off), ("shipped", shipped))
    ]
    print(table(["corpus", "setting", "asks", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
