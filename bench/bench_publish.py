"""Publish in seconds: an editor's Publish to the first answer that quotes the new compilation,
through the real bot (python-telegram-bot over HTTP to tests/fakebotapi.py) and a real
LiveEngine, while a reader keeps asking.

Run from the repository root:

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/bench_publish.py [--runs 3]

Everything lives in a temporary folder: the archive (two compilations of data/eval/archive/),
the index and a cache of its own (REACTIONS_CACHE_DIR), so nothing of the new compilations is
cached. The bot starts first (that builds the archive and, the first time, exports the ONNX
model: not timed). Each run then writes an invented compilation of 18 statements whose
speakers no other run has, sends it as an editor, presses Publish and asks every 0.2 s, as
another user each time, what its first speaker said. Timed: Publish pressed -> the editor's
"Published" edit, and -> the first answer that quotes the new compilation; the slowest
answer to any question asked during the publish; and Publish -> the new compilation's
multilingual vectors embedded in the background and swapped in (each run waits for it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import ROOT, header_block, table

ARCHIVE = ROOT / "data" / "eval" / "archive"
BASE = (
    "2024-11-06-post-soviet-reaction-to-trump-win.txt",
    "2029-07-18-post-soviet-reaction-to-grain-corridor-suspension.txt",
)
COUNTRIES = ("Armenia", "Estonia", "Georgia", "Kazakhstan", "Latvia", "Moldova")
EDITOR = 4242
STATEMENTS = 18


def compilation(run: int) -> tuple[str, str, str]:
    """An invented compilation of 18 statements: (file name, text, its first speaker)."""
    tag = f"{run:03d}"
    first = f"Zorbek Tulanov{tag}"
    lines = [
        "Invented Monitor",
        "",
        f"Post-Soviet Reaction to the Bench Accord {tag}: Calm in the Capitals",
        "",
        f"May {1 + run % 28}, 2035",
        "",
        "Officials reacted to the invented Bench Accord. Every person here is invented.",
        "",
    ]
    n = 0
    for c, country in enumerate(COUNTRIES):
        lines += [country, ""]
        for i in range(STATEMENTS // len(COUNTRIES)):
            name = first if n == 0 else f"Speaker{tag}x{n} Example{tag}y{n}"
            lines.append(
                f"  • {name}, {country}'s minister of bench affairs number {i}, said the accord "
                f"was “a measured step on topic {c}-{i} for run {tag}.” (Bench Wire, 05.0{1 + i}.35)"
            )
            n += 1
        lines.append("")
    assert n == STATEMENTS
    return f"2035-05-{1 + run % 28:02d}-bench-accord-{tag}.txt", "\n".join(lines) + "\n", first


async def scenario(api: object, live: Any, runs: int, rows: list[list[str]]) -> None:
    from tests.test_bot_e2e import shown_text, to_chat, wait

    for run in range(runs):
        name, text, speaker = compilation(run)
        n = len(api.calls)  # type: ignore[attr-defined]
        api.user_sends_document(text.encode(), name, user_id=EDITOR)  # type: ignore[attr-defined]
        report = await wait(api, "sendMessage", to_chat(EDITOR), after=n)  # type: ignore[arg-type]
        rows_ = report.params["reply_markup"]["inline_keyboard"]
        publish = next(b["callback_data"] for r in rows_ for b in r if b["text"].startswith("✅"))
        n = len(api.calls)  # type: ignore[attr-defined]
        t0 = time.monotonic()
        api.user_presses_button(  # type: ignore[attr-defined]
            chat_id=EDITOR, message_id=report.result["message_id"], data=publish, user_id=EDITOR
        )
        done_at: float | None = None
        quoted_at: float | None = None
        latencies: list[float] = []
        user = 100_000 + run * 1000
        while quoted_at is None and time.monotonic() - t0 < 120:
            user += 1
            m = len(api.calls)  # type: ignore[attr-defined]
            asked = time.monotonic()
            api.user_sends(f"What did {speaker} say?", user_id=user)  # type: ignore[attr-defined]
            answer = await wait(api, "sendMessage", to_chat(user), after=m)  # type: ignore[arg-type]
            got = time.monotonic()
            latencies.append(got - asked)
            if f"for run {run:03d}" in shown_text(api, answer):  # type: ignore[arg-type]
                quoted_at = got - t0
            if done_at is None:
                edits = [
                    c
                    for c in api.calls[n:]  # type: ignore[attr-defined]
                    if c.method == "editMessageText"
                    and str(c.params.get("text", "")).startswith("✅")
                ]
                if edits:
                    done_at = edits[0].at - t0
            await asyncio.sleep(max(0.0, 0.2 - (time.monotonic() - got)))
        # The new compilation's multilingual vectors follow in the background.
        if hasattr(live, "wait_complete"):  # (a version without the background step: done)
            await asyncio.to_thread(live.wait_complete, 300)
        complete = time.monotonic() - t0
        rows.append(
            [
                str(run + 1),
                f"{done_at:.2f}" if done_at is not None else "—",
                f"{quoted_at:.2f}" if quoted_at is not None else "not within 120 s",
                str(len(latencies)),
                f"{max(latencies) * 1000:.0f}",
                f"{complete:.2f}",
            ]
        )
        print(rows[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    sources = work / "sources"
    sources.mkdir()
    for name in BASE:
        shutil.copy(ARCHIVE / name, sources)
    os.environ["REACTIONS_CACHE_DIR"] = str(work / "cache")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.app import build_application
    from bot.settings import Settings
    from index.live import LiveEngine
    from index.search import Engine
    from tests.bot_fakes import polling
    from tests.fakebotapi import FakeBotApi

    # The archive is built beforehand, as at deploy time (`python -m index build`): the bot
    # process then opens it without importing torch, as a restarted bot does.
    t = time.monotonic()
    build = [sys.executable, "-m", "index", "--sources", str(sources)]
    build += ["--index-dir", str(work / "index"), "build"]
    subprocess.run(build, cwd=ROOT, check=True, capture_output=True)
    built = time.monotonic() - t
    t = time.monotonic()
    live = LiveEngine(lambda: Engine.open(sources, work / "index"), sources)
    start = time.monotonic() - t
    torch_at_start = "torch" in sys.modules
    rows: list[list[str]] = []
    try:
        with FakeBotApi() as api:
            api.add_user(EDITOR)
            settings = Settings(
                token=api.token,
                api_base_url=api.base_url,
                api_base_file_url=api.base_file_url,
                database_url=f"sqlite:///{work / 'bot.db'}",
                admin_user_ids=frozenset({EDITOR}),
                watch_seconds=0,
                rate_limit=0,
            )

            async def run() -> None:
                application = build_application(settings, live)
                async with polling(application):
                    await scenario(api, live, args.runs, rows)

            asyncio.run(run())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = " ".join([".venv/bin/python", *sys.argv])
    print(header_block("Publish to first answer (bench_publish.py)", command))
    print(
        f"\n`python -m index build` beforehand: {built:.1f} s; the bot opening it: {start:.2f} s "
        f"(torch imported at start: {torch_at_start}; after the publishes: "
        f"{'torch' in sys.modules})\n"
    )
    print(
        table(
            [
                "run",
                "Publish → “Published” (s)",
                "Publish → first answer quoting it (s)",
                "questions asked meanwhile",
                "slowest answer meanwhile (ms)",
                "Publish → multilingual vectors too (s)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
