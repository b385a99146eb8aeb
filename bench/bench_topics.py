"""Topic follows: precision and recall of the threshold on data/eval/archive.

Each compilation in turn is the new one; a topic follow pushes its statements that the
engine scores at or above the threshold (``index.relevance.topic_scores``, the fused score).
Judged by hand in bench/topic_labels.json. Prints a table over thresholds; the bot's is
``bot.follows.TOPIC_THRESHOLD``.

    .venv/bin/python bench/bench_topics.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.follows import TOPIC_THRESHOLD  # noqa: E402
from index.relevance import topic_scores  # noqa: E402
from index.search import Engine  # noqa: E402

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def main() -> None:
    labels = json.loads((ROOT / "bench" / "topic_labels.json").read_text())["topics"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(ROOT / "data" / "eval" / "archive", Path(tmp) / "index")
        docs = [d.id for d in engine.documents()]
        scored: dict[str, list[tuple[str, float]]] = {}
        for topic in labels:
            scored[topic] = [
                (st.id, score) for doc in docs for st, score in topic_scores(engine, topic, [doc])
            ]
    print(f"{len(labels)} topics x {len(docs)} compilations, each taken as the new one")
    print("threshold  pushed  relevant  precision  recall  topics-with-a-false-push")
    for t in THRESHOLDS:
        pushed = good = wrong_topics = 0
        total = sum(len(v) for v in labels.values())
        for topic, relevant in labels.items():
            mine = [sid for sid, s in scored[topic] if s >= t]
            hits = sum(1 for sid in mine if sid in relevant)
            pushed += len(mine)
            good += hits
            wrong_topics += hits < len(mine)
        precision = good / pushed if pushed else 1.0
        mark = "  <- bot" if abs(t - TOPIC_THRESHOLD) < 1e-9 else ""
        print(
            f"{t:9.2f}  {pushed:6d}  {good:8d}  {precision:9.3f}  {good / total:6.3f}  "
            f"{wrong_topics:2d}{mark}"
        )
    print("\nAt the bot's threshold, the false pushes:")
    for topic, relevant in labels.items():
        for sid, s in scored[topic]:
            if s >= TOPIC_THRESHOLD and sid not in relevant:
                print(f"  {topic!r}: {sid} ({s:.3f})")


if __name__ == "__main__":
    main()
