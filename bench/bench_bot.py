"""Benchmark the bot end to end: questions pushed through the real bot against a local Bot API.

The bot runs in its own process (real ``build_application``, real engine, long polling), the
local Bot API server (tests/fakebotapi.py) and the clock in this one, so neither steals the
other's GIL. Each question comes from a different user (private chat = user id), so every
reply maps to exactly one update.

The bot polls as ``python -m bot`` does (``bot.updates.run_polling``: confirms only what was
answered, at most 64 updates in flight).

Two measurements:
  * burst: N updates queued at once; answered/s = N / (last reply - first update queued);
  * paced: updates queued at a steady rate; latency = update queued -> sendMessage received.

Or, with ``--inline-load``, inline answers while messages queue for the send limit: ``--users``
active users ask in private chats at ``--message-rate`` questions a second in all (above
Telegram's ~30 messages a second, so replies queue in the flood limiter), and meanwhile inline
queries arrive at ``--inline-rate`` a second; latency = query queued -> answerInlineQuery
received (Telegram drops an inline answer after ~10 s).

    .venv/bin/python bench/bench_bot.py                 # 2,000 questions, AIORateLimiter off
    .venv/bin/python bench/bench_bot.py --flood-control # as deployed: Telegram's ~30 msg/s cap
    .venv/bin/python bench/bench_bot.py --inline-load   # 200 users, flood control on
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import cpu_model, load_average  # noqa: E402  (after the path is set)

EXTRA_QUESTIONS = [
    "/country Georgia",
    "/country Russia",
    "/who Peskov",
    "/who Kremlin spokesman",
    "Zelensky",
    "What did Lukashenko say about socialism?",
    "markets",
    "sanctions",
    "peace talks in 24 hours",
    "/countries",
]


def question_mix() -> list[str]:
    """The eval questions (what users ask) plus commands and short topics."""
    lines = (ROOT / "data" / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()] + EXTRA_QUESTIONS


def serve(flood_control: bool) -> None:
    """Child process: run the real bot with long polling until SIGTERM."""
    from bot.app import build_application
    from bot.logs import configure_logging
    from bot.settings import Settings
    from bot.updates import run_polling
    from index.search import Engine

    settings = Settings.from_env()
    configure_logging("WARNING", settings.token)
    application = build_application(settings, Engine.open(), flood_control=flood_control)
    run_polling(application)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def measure(args: argparse.Namespace) -> int:
    from tests import fakebotapi
    from tests.bot_fakes import stop
    from tests.fakebotapi import FakeBotApi

    # http.server sends headers and body in two writes; with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (~40 ms a response). Telegram has no such stall, so
    # switch Nagle off in the local server or every latency below is +40 ms of test artefact.
    fakebotapi._Handler.disable_nagle_algorithm = True

    mix = question_mix()
    load_before = load_average()
    with FakeBotApi() as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_API_BASE_FILE_URL": api.base_file_url,
            "PYTHONPATH": str(ROOT),
            "BOT_RATE_LIMIT": "20",
        }
        env.pop("WEBHOOK_URL", None)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve"]
        if args.flood_control or args.inline_load:
            cmd.append("--flood-control")
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as cwd:  # no .env from the repo
            bot = subprocess.Popen(cmd, env=env, cwd=cwd)
            try:
                api.wait_for("getUpdates", timeout=180)
                ready = time.monotonic() - started
                user = 100_000

                def ask(text: str) -> tuple[int, float]:
                    nonlocal user
                    user += 1
                    api.user_sends(text, user_id=user)
                    return user, time.monotonic()

                def wait_replies(chats: set[int], timeout: float) -> dict[int, float]:
                    """chat id -> arrival time of the bot's first message to it."""
                    deadline = time.monotonic() + timeout
                    got: dict[int, float] = {}
                    seen = 0
                    while len(got) < len(chats) and time.monotonic() < deadline:
                        calls = api.calls
                        for call in calls[seen:]:
                            if call.method in ("sendMessage", "sendPhoto") and call.ok:
                                chat = call.params.get("chat_id")
                                if chat in chats and chat not in got:
                                    got[chat] = call.at
                        seen = len(calls)
                        time.sleep(0.005)
                    return got

                # warm-up: every question once (loads lazy caches, the chart, the model)
                warm = {ask(q)[0] for q in mix}
                wait_replies(warm, 120)
                if args.inline_load:
                    return inline_load(api, args, ask, ready, load_before)

                # burst
                n = args.n if not args.flood_control else min(args.n, 300)
                bot_cpu, own_cpu = cpu_seconds(bot.pid), time.process_time()
                sent: dict[int, float] = {}
                for i in range(n):
                    chat, at = ask(mix[i % len(mix)])
                    sent[chat] = at
                got = wait_replies(set(sent), 600)
                first = min(sent.values())
                last = max(got.values()) if got else first
                burst_rate = len(got) / (last - first) if last > first else 0.0
                bot_cpu = cpu_seconds(bot.pid) - bot_cpu
                own_cpu = time.process_time() - own_cpu

                # paced: half the burst rate (at most 100/s), latency per update
                rate = args.rate or min(100.0, max(5.0, burst_rate / 2))
                m = args.paced if not args.flood_control else min(args.paced, 200)
                paced: dict[int, float] = {}
                t0 = time.monotonic()
                for i in range(m):
                    target = t0 + i / rate
                    pause = target - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    chat, at = ask(mix[(i * 7) % len(mix)])
                    paced[chat] = at
                got_paced = wait_replies(set(paced), 600)
                latencies = [(got_paced[c] - paced[c]) * 1000 for c in got_paced]
                errors = sum(
                    1
                    for c in api.calls_to("sendMessage")
                    if "went wrong" in str(c.params.get("text", ""))
                )
            finally:
                stop(bot, 30)

    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    mode = "AIORateLimiter on" if args.flood_control else "AIORateLimiter off"
    machine = f"nproc={os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}"
    print(f"bot ready in {ready:.1f} s ({mode}); mix of {len(mix)} questions")
    print(f"load average before: {load_before}, after: {load_average()} (other work skews results)")
    print(f"burst: {len(got)}/{n} answered in {last - first:.2f} s = {burst_rate:.0f} answered/s")
    print(
        f"  CPU during the burst: bot process {bot_cpu:.1f} s "
        f"({bot_cpu / max(len(got), 1) * 1000:.1f} ms an answer), "
        f"local Bot API server + driver {own_cpu:.1f} s"
    )
    print(
        f"paced at {rate:.0f}/s: {len(latencies)}/{m} answered; "
        f"latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms"
    )
    print(f"error replies: {errors}")
    print()
    print(
        f"| {date.today().isoformat()} | bench_bot ({mode}) | {n} private questions, burst: "
        f"{burst_rate:.0f} answered/s; paced {rate:.0f}/s: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"| {machine} |"
    )
    return 0 if len(got) == n and len(latencies) == m and errors == 0 else 1


INLINE_QUERIES = ["Zelensky", "Peskov", "Georgia", "sanctions", "Lukashenko", "markets", ""]


def inline_load(
    api: Any,
    args: argparse.Namespace,
    ask: Callable[[str], tuple[int, float]],
    ready: float,
    load_before: str,
) -> int:
    """Inline queries while ``--users`` users' questions queue for the send limit."""
    mix = question_mix()
    rng = random.Random(0)
    users = [200_000 + i for i in range(args.users)]
    duration = args.seconds
    messages: dict[int, list[float]] = {}  # chat -> when each of its questions was queued
    inline: dict[str, float] = {}  # inline query id -> queued at
    steps = sorted(
        [(i / args.message_rate, "message") for i in range(int(duration * args.message_rate))]
        + [(i / args.inline_rate, "inline") for i in range(int(duration * args.inline_rate))]
    )
    t0 = time.monotonic()
    asked = 0
    for at, kind in steps:
        pause = t0 + at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        user = rng.choice(users)
        if kind == "inline":
            query = api.user_sends_inline_query(rng.choice(INLINE_QUERIES), user_id=user)
            inline[query] = time.monotonic()
        else:
            api.user_sends(mix[asked % len(mix)], user_id=user)
            messages.setdefault(user, []).append(time.monotonic())
            asked += 1
    sent_for = time.monotonic() - t0
    # every inline query answered (or given up: Telegram would have dropped it at 10 s)
    deadline = time.monotonic() + 120
    answers: dict[str, float] = {}
    while len(answers) < len(inline) and time.monotonic() < deadline:
        for call in api.calls_to("answerInlineQuery"):
            query = str(call.params.get("inline_query_id"))
            if query in inline and query not in answers:
                answers[query] = call.at
        time.sleep(0.05)
    latencies = [answers[q] - inline[q] for q in answers]
    backlog = len(api.pending_updates())
    # Every question answered: each gets one message, so a chat's k-th reply answers its k-th
    # question (a chat's questions may be answered out of order; the pairing then shifts
    # latency between them but keeps the distribution's count right).
    replies = wait_all_replies(api, messages, MESSAGE_WAIT_SECONDS)
    message_latencies = [
        reply - at
        for chat, times in messages.items()
        for reply, at in zip(replies.get(chat, []), times, strict=False)
    ]
    answered = sum(min(len(replies.get(c, [])), len(q)) for c, q in messages.items())
    extra = sum(max(0, len(replies.get(c, [])) - len(q)) for c, q in messages.items())
    errors = sum(
        1 for c in api.calls_to("sendMessage") if "went wrong" in str(c.params.get("text", ""))
    )
    late = sum(1 for x in latencies if x > 10) + len(inline) - len(answers)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    machine = f"nproc={os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}"
    print(f"bot ready in {ready:.1f} s (AIORateLimiter on, bot.updates.run_polling)")
    print(f"load average before: {load_before}, after: {load_average()} (other work skews results)")
    print(
        f"{args.users} users, {asked} questions at {args.message_rate:g}/s and "
        f"{len(inline)} inline queries at {args.inline_rate:g}/s over {sent_for:.1f} s"
    )
    print(
        f"inline: {len(answers)}/{len(inline)} answered; latency p50 {p50:.2f} s, "
        f"p95 {p95:.2f} s, max {max(latencies, default=float('nan')):.2f} s; "
        f"{late} later than 10 s or never (Telegram drops those)"
    )
    m50 = percentile(message_latencies, 0.5) if message_latencies else float("nan")
    m95 = percentile(message_latencies, 0.95) if message_latencies else float("nan")
    print(
        f"messages: {answered}/{asked} answered ({extra} extra replies, {errors} error replies); "
        f"latency p50 {m50:.2f} s, p95 {m95:.2f} s, "
        f"max {max(message_latencies, default=float('nan')):.2f} s; updates still unconfirmed "
        f"when the inline queries were done: {backlog}"
    )
    print()
    print(
        f"| {date.today().isoformat()} | bench_bot --inline-load | {args.users} users, "
        f"{args.message_rate:g} questions/s + {args.inline_rate:g} inline/s for {duration:g} s: "
        f"inline p50 {p50:.2f} s, p95 {p95:.2f} s, {late} past 10 s; messages {answered}/{asked}, "
        f"p50 {m50:.2f} s, p95 {m95:.2f} s | {machine} |"
    )
    return 0 if latencies and answered == asked and not extra and not errors else 1


MESSAGE_WAIT_SECONDS = 180.0  # after the inline queries, for the queued questions' answers


def wait_all_replies(
    api: Any, questions: dict[int, list[float]], timeout: float
) -> dict[int, list[float]]:
    """chat id -> arrival times of the bot's messages to it, once every chat has as many as it
    asked questions (or at ``timeout``), and a second more to catch answers sent twice."""

    def replies() -> dict[int, list[float]]:
        got: dict[int, list[float]] = {}
        for call in api.calls:
            if call.method in ("sendMessage", "sendPhoto") and call.ok:
                chat = call.params.get("chat_id")
                if chat in questions:
                    got.setdefault(chat, []).append(call.at)
        return got

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = replies()
        if all(len(got.get(c, [])) >= len(q) for c, q in questions.items()):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    return replies()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="questions in the burst")
    parser.add_argument(
        "--flood-control",
        action="store_true",
        help="keep AIORateLimiter (Telegram's ~30 messages/s cap) as deployed",
    )
    parser.add_argument(
        "--rate", type=float, default=0.0, help="paced rate (default: half the burst rate)"
    )
    parser.add_argument(
        "--paced", type=int, default=1000, help="questions in the paced (latency) run"
    )
    parser.add_argument(
        "--inline-load",
        action="store_true",
        help="inline answers while questions queue for the send limit (flood control on)",
    )
    parser.add_argument("--users", type=int, default=200, help="--inline-load: active users")
    parser.add_argument(
        "--message-rate", type=float, default=40.0, help="--inline-load: questions a second"
    )
    parser.add_argument(
        "--inline-rate", type=float, default=2.0, help="--inline-load: inline queries a second"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="--inline-load: duration")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.flood_control)
        return 0
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
