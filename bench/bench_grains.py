"""What the multilingual route's grains (index/crosslingual.py: sentence pieces, glossary)
cost a Cyrillic question: warm ``engine.ask`` with and without them, interleaved question by
question in one process, every per-question cache emptied before each ask.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_grains.py [--reps 3]
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
    print(header_block("Grains: a Cyrillic question with and without them", " ".join(sys.argv)))
    rows = []
    for name, engine, questions in cyrillic_engines():
        with_grains = engine.ranker.multilingual
        assert with_grains is not None and with_grains.grains is not None
        without = replace(with_grains, grains=None)
        settings = {
            "with": setting(engine.ranker, "multilingual", with_grains),
            "without": setting(engine.ranker, "multilingual", without),
        }
        times = interleaved(engine, questions, settings, args.reps)
        engine.ranker.multilingual = with_grains
        g = with_grains.grains
        for label in ("without", "with"):
            xs = times[label]
            rows.append(
                [
                    f"{name} ({len(engine.statements)} st., {len(g.owner)} pieces, "
                    f"{len(g.words)} words)",
                    label,
                    str(len(xs)),
                    ms(pct(xs, 50)),
                    ms(pct(xs, 95)),
                ]
            )
    print(table(["corpus", "grains", "asks", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    main()
