"""What ranking a Cyrillic topic's English words by the English model as well
(``RankConfig.translation_weight``, ``Ranker._english_bag``) costs a Cyrillic question:
warm ``engine.ask`` with the weight as shipped and at 0 (the bag not encoded), interleaved
question by question in one process, every per-question cache emptied before each ask.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_translated.py [--reps 3]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from measure import (
    cyrillic_engines,
    header_block,
    interleaved,
    ms,
    pct,
    setting,
    table,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    print(header_block("Translated words: a Cyrillic question's English bag", " ".join(sys.argv)))
    rows = []
    for name, engine, questions in cyrillic_engines():
        shipped = engine.ranker.cfg
        off = replace(shipped, translation_weight=0.0)
        bagged = sum(
            len([*q.spelled, *q.lent, *q.about_spelled]) >= shipped.translation_words
            for q in map(engine.read, questions)
        )
        settings = {
            "off": setting(engine.ranker, "cfg", off),
            "shipped": setting(engine.ranker, "cfg", shipped),
        }
        times = interleaved(engine, questions, settings, args.reps)
        engine.ranker.cfg = shipped
        for label, cfg in (("off", off), ("shipped", shipped)):
            xs = times[label]
            rows.append(
                [
                    f"{name} ({len(questions)} q., {bagged} with a bag before glossing)",
                    f"translation_weight {cfg.translation_weight}",
                    str(len(xs)),
                    ms(pct(xs, 50)),
                    ms(pct(xs, 95)),
                ]
            )
    print(table(["corpus", "setting", "asks", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
