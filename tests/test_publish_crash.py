"""A publish survives a crash, end to end: the real bot (``python -m bot``, polling the local
Bot API server) is killed with SIGKILL in the middle of a Publish, then started again; the
interrupted publish is finished or rolled back, the editor's "⏳ Publishing…" message says
which, and nothing that was published stays in pending/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import editors
from tests.bot_fakes import stop
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE, ROOT
from tests.fakebotapi import Call, FakeBotApi
from tests.test_bot_e2e import shown_text, to_chat

EDITOR = 4242
READER = 1001
DRUZHBA = ARCHIVE_SOURCES / "2031-03-03-post-soviet-reaction-to-druzhba-pipeline-shutdown.txt"
WAIT = 180.0

# The first process stops for good at one point of the publish (a marker file says it got
# there), so the test kills it there: before the file is written, or after it is written and
# before the archive has reloaded.
CRASHING = """
import os, sys, time
from pathlib import Path
marker = Path(os.environ["CRASH_MARKER"])
if os.environ["CRASH_AT"] == "write":
    from index import ingest
    def stuck(*args, **kwargs):
        marker.write_text("before the write")
        time.sleep(600)
    ingest.publish = stuck
else:
    from index.live import LiveEngine
    real = LiveEngine.reload_if_changed
    def stuck(self, *, force=False):
        if force:
            marker.write_text("written, before the reload")
            time.sleep(600)
        return real(self, force=force)
    LiveEngine.reload_if_changed = stuck
from bot.__main__ import main
sys.exit(main([]))
"""


def start(api: FakeBotApi, tmp_path: Path, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_API_BASE_FILE_URL": api.base_file_url,
        "REACTIONS_SOURCES_DIR": str(tmp_path / "sources"),
        "REACTIONS_INDEX_DIR": str(tmp_path / "index"),
        "REACTIONS_WATCH_SECONDS": "0",
        "ADMIN_USER_IDS": str(EDITOR),
        "CRASH_AT": crash_at or "",
        "CRASH_MARKER": str(tmp_path / "marker"),
        "PYTHONPATH": str(ROOT),
    }
    args = ["-c", CRASHING] if crash_at else ["-m", "bot"]
    with (tmp_path / "bot.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def edits_of(api: FakeBotApi, message: Call, after: int = 0) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in api.calls[after:]
        if c.method == "editMessageText"
        and c.params.get("message_id") == message.result["message_id"]
    ]


def ask(api: FakeBotApi, text: str) -> str:
    n = len(api.calls)
    api.user_sends(text, user_id=READER)
    return shown_text(api, api.wait_for("sendMessage", to_chat(READER), WAIT, n))


@pytest.mark.parametrize("crash_at", ["write", "reload"])
def test_a_publish_killed_midway_is_finished_or_rolled_back_after_a_restart(
    api: FakeBotApi, tmp_path: Path, crash_at: str
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / REAL_FILE.name).write_bytes(REAL_FILE.read_bytes())
    api.add_user(EDITOR)
    bot = start(api, tmp_path, crash_at)
    try:
        api.wait_for("getUpdates", None, WAIT)  # up (the archive is built before polling)
        n = len(api.calls)
        api.user_sends_document(DRUZHBA.read_bytes(), DRUZHBA.name, user_id=EDITOR)
        report = api.wait_for("sendMessage", to_chat(EDITOR), WAIT, n)
        rows = report.params["reply_markup"]["inline_keyboard"]
        publish = next(b["callback_data"] for r in rows for b in r if b["text"].startswith("✅"))
        n = len(api.calls)
        api.user_presses_button(
            chat_id=EDITOR, message_id=report.result["message_id"], data=publish, user_id=EDITOR
        )
        deadline = time.monotonic() + WAIT
        while not (tmp_path / "marker").exists():
            assert time.monotonic() < deadline and bot.poll() is None, "never reached the point"
            time.sleep(0.05)
        assert edits_of(api, report, n)[-1].startswith("⏳")  # what the editor sees now
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    key = publish.partition("|")[2]
    pending = editors.pending_dir(sources)
    assert (pending / f"{key}{editors.JOURNAL}").is_file()  # the crash left its journal
    assert (sources / DRUZHBA.name).is_file() == (crash_at == "reload")

    n = len(api.calls)
    bot = start(api, tmp_path, None)
    try:
        api.wait_for(
            "editMessageText",
            lambda c: c.params.get("message_id") == report.result["message_id"],
            WAIT,
            n,
        )
        told = edits_of(api, report, n)[0]
        left = sorted(p.name for p in pending.iterdir())
        if crash_at == "reload":  # the file was in the archive and loads: finished
            assert told.startswith("✅ Published") and "restarted meanwhile" in told
            assert left == [f"{key}{editors.RECOVERED}"]  # no upload, no journal
            assert "Ararat Melkonyan" in ask(api, "What did Melkonyan say?")
        else:  # nothing was written: rolled back, the upload waits with its buttons
            assert told.startswith("↩️") and "undone" in told
            assert left == sorted([f"{key}.txt", f"{key}{editors.RECOVERED}"])
            assert not (sources / DRUZHBA.name).exists()
            assert "Ararat Melkonyan" not in ask(api, "What did Melkonyan say?")
        # Telegram delivers the unconfirmed press again: it is answered with the same words,
        # not a second publish.
        time.sleep(1.0)
        assert all(t == told for t in edits_of(api, report, n))
        if crash_at == "write":  # pressing Publish again now publishes it
            m = len(api.calls)
            api.user_presses_button(
                chat_id=EDITOR, message_id=report.result["message_id"], data=publish, user_id=EDITOR
            )
            api.wait_for(
                "editMessageText",
                lambda c: str(c.params.get("text", "")).startswith("✅ Published"),
                WAIT,
                m,
            )
            assert (sources / DRUZHBA.name).is_file()
            assert sorted(p.name for p in pending.iterdir()) == [f"{key}{editors.RECOVERED}"]
    finally:
        stop(bot, 30)
