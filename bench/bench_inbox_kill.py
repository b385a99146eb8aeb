"""Stop the bot mid-backlog and count lost and repeated answers (issue 18: the durable inbox).

N questions (one per private chat) are queued before the bot starts as ``python -m bot``
(polling, flood control on: ~30 answers a second); once ``--after`` are answered it gets
``--signal``: ``term`` (SIGTERM, then SIGKILL if alive ``--kill-after`` s later, as a process
manager does) or ``kill`` (SIGKILL at once: the answers in flight may go out twice, once their
claims expire). Then it is started again and runs until every chat has an answer (or
``--timeout``); it prints how many chats got none (lost) and how many got more than one.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_inbox_kill.py --signal term
    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_inbox_kill.py --signal kill
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import load_average  # noqa: E402  (after the path is set)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=800, help="questions queued")
    parser.add_argument("--after", type=int, default=200, help="answers before the signal")
    parser.add_argument("--signal", choices=("term", "kill"), default="term")
    parser.add_argument("--kill-after", type=float, default=10.0, help="SIGTERM -> SIGKILL")
    parser.add_argument("--timeout", type=float, default=240.0, help="for the second run")
    args = parser.parse_args()

    from tests.bot_fakes import stop
    from tests.fakebotapi import FakeBotApi

    print(f"load average before: {load_average()}")
    with FakeBotApi() as api, tempfile.TemporaryDirectory() as cwd:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{cwd}/bot.db",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("WEBHOOK_URL", None)
        for i in range(args.n):
            api.user_sends("Georgia", user_id=500_000 + i)
        chats = {500_000 + i for i in range(args.n)}
        log = Path(cwd) / "bot.log"

        def answers() -> Counter[int]:
            return Counter(c.params["chat_id"] for c in api.calls_to("sendMessage"))

        def start() -> subprocess.Popen[bytes]:
            with log.open("ab") as out:
                return subprocess.Popen(
                    [sys.executable, "-m", "bot"], cwd=cwd, env=env, stdout=out, stderr=out
                )

        bot = start()
        api.wait_for("sendMessage", lambda _: len(answers()) >= args.after, timeout=180)
        signalled = time.monotonic()
        if args.signal == "kill":
            bot.kill()
            bot.wait()
            code: int | None = None
        else:
            code = stop(bot, args.kill_after)
        stopped_in = time.monotonic() - signalled
        at_stop = len(answers())
        restarted = time.monotonic()
        bot = start()
        try:
            api.wait_for("sendMessage", lambda _: set(answers()) >= chats, timeout=args.timeout)
            done_in = time.monotonic() - restarted
            time.sleep(2.0)  # repeats that come late
        except AssertionError:
            done_in = float("nan")
        finally:
            stop(bot, 30)
        got = answers()
        tracebacks = log.read_text(errors="replace").count("Traceback")
    lost = len(chats - set(got))
    twice = sum(1 for n in got.values() if n > 1)
    how = "SIGKILL" if args.signal == "kill" else f"SIGTERM (SIGKILL after {args.kill_after:g} s)"
    print(
        f"{args.n} questions queued; {how} after {at_stop} answers: exit code {code} "
        f"in {stopped_in:.1f} s"
    )
    print(
        f"restart answered the rest in {done_in:.1f} s: lost {lost}, answered twice {twice}, "
        f"tracebacks in the log {tracebacks}"
    )
    print(f"load average after: {load_average()}")
    return 0 if lost == 0 and (twice == 0 or args.signal == "kill") else 1


if __name__ == "__main__":
    sys.exit(main())
