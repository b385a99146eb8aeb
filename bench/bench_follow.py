"""Publishing to many followers: time to match and queue the digests, the database's size, and
delivery throughput through the real bot against the local Bot API server, with Telegram's
flood limits (AIORateLimiter, ~30 messages a second) on and off.

The archive is data/eval/archive; its newest compilation (Astana, 2033) is the one published.
Each generated follower follows 1-5 things drawn (seeded) from the archive's people,
countries, regions and the judged topics (bench/topic_labels.json).

    .venv/bin/python bench/bench_follow.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/bench_follow.py --users 10000 --on-sample 1000 --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import notify  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import Follow, Store, publication_key  # noqa: E402
from index.search import Engine  # noqa: E402
from tests.fakebotapi import FakeBotApi  # noqa: E402

REGIONS = ("Baltic states", "Central Asia", "South Caucasus")
FIRST_USER = 10_000_000


def follow_pool(engine: Engine) -> list[Follow]:
    topics = json.loads((ROOT / "bench" / "topic_labels.json").read_text())["topics"]
    people = [
        Follow("person", k, sp.label)
        for k, sp in engine.speakers.items()
        if sp.name and len(sp.ids) >= 1
    ]
    countries = [Follow("country", c, c) for c, _ in engine.countries()]
    regions = [Follow("region", r, r) for r in REGIONS]
    return people + countries * 3 + regions * 5 + [Follow("topic", t.casefold(), t) for t in topics]


def populate(store: Store, engine: Engine, users: int, seed: int = 7) -> None:
    """Generated followers, written straight into the follows table (one transaction)."""
    from bot.storage import follows, now

    rng = random.Random(seed)
    pool = follow_pool(engine)
    rows = []
    stamp = now()
    for u in range(FIRST_USER, FIRST_USER + users):
        for f in rng.sample(pool, rng.randint(1, 5)):
            rows.append(
                {"user_id": u, "kind": f.kind, "key": f.key, "label": f.label, "created_at": stamp}
            )
    with store.engine.begin() as c:
        unique = {(r["user_id"], r["kind"], r["key"]): r for r in rows}
        c.execute(follows.insert(), list(unique.values()))


def publish(store: Store, engine: Engine, new: str) -> dict[str, float]:
    """The notifier's steps, timed: match on the engine, queue in one transaction."""
    old = {d.id for d in engine.documents()} - {new}
    old_ids = [st.id for st in engine.statements if st.document in old]
    store.enqueue(publication_key(old, old_ids, "baseline"), sorted(old), [], len(old_ids), {})
    t0 = time.perf_counter()
    plan = notify.plan(engine, store, {new})
    t1 = time.perf_counter()
    result = notify.enqueue(store, plan)
    t2 = time.perf_counter()
    items = sum(len(v) for v in plan.matches.values())
    return {
        "match_s": t1 - t0,
        "enqueue_s": t2 - t1,
        "digests": result.digests,
        "items": items,
        "statements": plan.statements,
    }


def deliver(
    store: Store, engine: Engine, users: int, limit: int, flood_control: bool
) -> dict[str, float]:
    """Run the real bot (no polling) until ``limit`` digests are sent; messages a second."""

    async def main() -> dict[str, float]:
        with FakeBotApi() as api:
            for u in range(FIRST_USER, FIRST_USER + users):
                api.add_user(u)
            settings = Settings(
                token=api.token,
                api_base_url=api.base_url,
                api_base_file_url=api.base_file_url,
                watch_seconds=0,
            )
            app = build_application(settings, engine, flood_control=flood_control, store=store)
            await app.initialize()
            start = time.perf_counter()
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            try:
                while True:
                    sent = store.counts().get("sent", 0)
                    if sent >= limit:
                        break
                    await asyncio.sleep(0.2)
                elapsed = time.perf_counter() - start
            finally:
                await app.stop()
                assert app.post_stop is not None
                await app.post_stop(app)
                await app.shutdown()
                assert app.post_shutdown is not None
                await app.post_shutdown(app)
            sends = [c for c in api.calls if c.method == "sendMessage"]
            return {
                "sent": sent,
                "seconds": elapsed,
                "per_s": sent / elapsed,
                "failed": sum(1 for c in sends if not c.ok),
            }

    return asyncio.run(main())


def run_one(kind: str, url: str, engine: Engine, args: argparse.Namespace) -> None:
    new = max(engine.documents(), key=lambda d: d.published or "").id
    for flood in (False, True):
        store = Store.open(url)
        with store.engine.begin() as c:  # a clean slate for each run
            for table in ("digest_items", "digests", "publications", "follows"):
                c.exec_driver_sql(f"DELETE FROM {table}")
        t0 = time.perf_counter()
        populate(store, engine, args.users)
        populate_s = time.perf_counter() - t0
        queued = publish(store, engine, new)
        size = store.size_bytes()
        limit = min(queued["digests"], args.on_sample if flood else args.users)
        delivered = deliver(store, engine, args.users, int(limit), flood)
        print(
            f"{kind:10s} flood control {'on ' if flood else 'off'}: "
            f"{args.users} followers (written in {populate_s:.2f} s); "
            f"match {queued['match_s']:.2f} s + queue {queued['enqueue_s']:.2f} s = "
            f"{queued['match_s'] + queued['enqueue_s']:.2f} s for {queued['digests']} digests "
            f"({queued['items']} quotes of {queued['statements']} new statements); "
            f"database {size / 1e6:.1f} MB after queueing, {store.size_bytes() / 1e6:.1f} MB "
            f"after sending; sent {delivered['sent']} in {delivered['seconds']:.1f} s = "
            f"{delivered['per_s']:.1f} digests/s ({delivered['failed']} refused)",
            flush=True,
        )
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument(
        "--on-sample",
        type=int,
        default=1_000,
        help="digests sent with flood control on (at ~30/s all 10,000 take ~6 minutes)",
    )
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(
        f"{time.strftime('%Y-%m-%d')} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.open(ROOT / "data" / "eval" / "archive", Path(tmp) / "index")
        if args.db in ("sqlite", "both"):
            run_one("SQLite", f"sqlite:///{tmp}/bench.db", engine, args)
        if args.db in ("postgresql", "both"):
            from tests.postgres import Cluster

            cluster = Cluster().start()
            try:
                run_one("PostgreSQL", cluster.new_database(), engine, args)
            finally:
                cluster.stop()


if __name__ == "__main__":
    main()
