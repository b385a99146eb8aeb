"""/follow by a bare given name on a generated archive: the scan of every speaker that
bot/follows.py did before against NameMatcher.having (the name index the question reader
already has), on one opened bundle, same process, same answers.

Run from the repository root on a bundle that bench_open.py left (``--workdir DIR --keep``):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_follow_names.py DIR/bundle-100000
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bot import follows
from index import config, store
from index.embed import OnnxEncoder
from index.search import Engine
from index.textnorm import fold


def scan_every_speaker(engine: Engine, text: str) -> list[str]:
    """The former ``follows._name_candidates``: every speaker's spellings, one by one."""
    words = {w for w in fold(text).split() if len(w) >= follows.NAME_WORD_MIN}
    found = []
    for key, sp in engine.speakers.items():
        if not sp.name or key.startswith("r:"):
            continue
        names = {w for s in sp.spellings or (sp.name,) for w in fold(s).split()}
        if words <= names:
            found.append(key)
    return found


def median_ms(fn: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, out


def main(bundle: str) -> None:
    b = store.load_bundle(bundle)
    encoder = OnnxEncoder(cache_dir=config.cache_dir(), threads=1)
    engine = Engine(
        b.statements,
        b.documents,
        b.index,
        lambda t: encoder.encode(t),
        manifest=b.manifest,
        tables=b.tables,
    )
    name = next(sp.name for sp in engine.speakers.values() if sp.name)
    given = name.split()[0]
    old_ms, old = median_ms(lambda: scan_every_speaker(engine, given))
    new_ms, new = median_ms(lambda: follows._name_candidates(engine, given))
    key_ms, key = median_ms(lambda: follows.speaker_key(engine, "gone", name))
    print(f"{len(b.statements):,} statements, {len(engine.speakers):,} speakers")
    print(f"/follow {given!r}: scan {old_ms:.1f} ms, having {new_ms:.2f} ms, {len(new)} people")
    print(f"same people: {sorted(old) == sorted(new)}")
    print(f"speaker_key by the name {name!r}: {key_ms:.2f} ms, found: {key is not None}")


if __name__ == "__main__":
    main(sys.argv[1])
