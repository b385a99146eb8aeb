"""The living archive: a compilation added, changed or removed while the bot runs is answered
without a restart; a broken one leaves the old archive serving and the editors are told."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.console import Console
from index.live import folder_signature
from tests.bot_fakes import polling
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE, live_engine
from tests.fakebotapi import Call, FakeBotApi
from tests.test_bot_e2e import settings_for, shown_text, to_chat, wait

EDITOR = 4242
READER = 1001
GRAIN = next(ARCHIVE_SOURCES.glob("2029-*.txt"))


def speakers(engine: Any, question: str) -> set[str | None]:
    return {h.statement.speaker for h in engine.ask(question).hits}


def test_a_new_compilation_is_swapped_in_and_old_snapshots_stay_valid(folder: Path) -> None:
    live = live_engine(folder)
    before = live.snapshot()
    assert live.reload_if_changed() is None  # nothing changed: nothing built
    assert "Oleksandr Dovhal" not in speakers(live, "Dovhal")
    shutil.copy(GRAIN, folder)
    assert live.changed()
    result = live.reload_if_changed()
    assert result is not None and result.swapped and "2 compilations" in result.message
    assert "Oleksandr Dovhal" in speakers(live, "Dovhal")
    assert live.snapshot() is not before
    assert before.ask("Peskov").hits  # a question in flight on the old engine still works
    (folder / GRAIN.name).unlink()
    assert live.reload_if_changed().swapped  # type: ignore[union-attr]
    assert "Oleksandr Dovhal" not in speakers(live, "Dovhal")


def test_a_broken_file_keeps_the_old_archive(folder: Path) -> None:
    live = live_engine(folder)
    serving = live.snapshot()
    (folder / "2031-01-01-broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    result = live.reload_if_changed()
    assert result is not None and not result.swapped
    assert "2031-01-01-broken.txt" in result.message and "previous archive" in result.message
    assert live.snapshot() is serving
    assert live.reload_if_changed() is None  # the same broken state is not rebuilt every tick


def test_the_signature_sees_edits_renames_and_removals(folder: Path) -> None:
    first = folder_signature(folder)
    copy = folder / "2030-01-01-copy.txt"
    shutil.copy(REAL_FILE, copy)
    second = folder_signature(folder)
    copy.rename(folder / "2030-01-02-copy.txt")
    third = folder_signature(folder)
    (folder / "2030-01-02-copy.txt").unlink()
    assert len({first, second, third}) == 3 and folder_signature(folder) == first
    assert folder_signature(folder / "missing") == ()


def test_the_console_answers_a_file_dropped_in_without_a_restart(folder: Path) -> None:
    out = io.StringIO()
    console = Console(live_engine(folder), out)
    console.show(console.handle("Dovhal"))
    assert "Oleksandr Dovhal" not in out.getvalue()
    shutil.copy(GRAIN, folder)
    console.show(console.handle("Dovhal"))
    text = out.getvalue()
    assert "[Reloaded: 2 compilations" in text and "Oleksandr Dovhal" in text


def run(api: FakeBotApi, engine: Any, scenario: Any, **settings: Any) -> None:
    async def main() -> None:
        application = build_application(settings_for(api, **settings), engine)
        async with polling(application):
            await scenario(api)

    asyncio.run(main())


def mentions(text: str) -> Any:
    return lambda call: text in str(call.params.get("text", ""))


def test_the_bot_answers_a_dropped_in_compilation_within_seconds(
    api: FakeBotApi, folder: Path
) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("What did Dovhal say?")
        first = await wait(api, "sendMessage", to_chat(READER))
        assert "Oleksandr Dovhal" not in shown_text(api, first)
        shutil.copy(GRAIN, folder)
        deadline = asyncio.get_running_loop().time() + 25
        while True:  # the watcher looks every 0.2 s; the build takes a few seconds here
            n = len(api.calls)
            api.user_sends("What did Dovhal say?")
            call: Call = await wait(api, "sendMessage", to_chat(READER), after=n)
            if "Oleksandr Dovhal" in shown_text(api, call):
                break
            assert asyncio.get_running_loop().time() < deadline, "never reloaded"
            await asyncio.sleep(0.5)

    run(api, live, scenario, watch_seconds=0.2, admin_user_ids=frozenset({EDITOR}))


def test_editors_are_told_when_a_broken_file_is_not_loaded(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/start", user_id=EDITOR)  # Telegram lets a bot write only to its users
        await wait(api, "sendMessage", to_chat(EDITOR))
        n = len(api.calls)
        (folder / "2031-01-01-broken.txt").write_text("not a compilation at all\n")
        call = await wait(api, "sendMessage", to_chat(EDITOR), after=n)
        assert (
            "Not reloaded" in call.params["text"] and "2031-01-01-broken.txt" in call.params["text"]
        )
        api.user_sends("Peskov")
        answer = await wait(api, "sendMessage", to_chat(READER))
        assert "Dmitry Peskov" in shown_text(api, answer)

    run(api, live, scenario, watch_seconds=0.2, admin_user_ids=frozenset({EDITOR}))


def test_reload_is_for_editors(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/reload", user_id=READER)
        refused = await wait(api, "sendMessage", to_chat(READER))
        assert "editors" in refused.params["text"]
        shutil.copy(GRAIN, folder)
        n = len(api.calls)
        api.user_sends("/reload", user_id=EDITOR)
        done = await wait(api, "sendMessage", to_chat(EDITOR), after=n)
        assert "Reloaded: 2 compilations" in done.params["text"]

    run(api, live, scenario, watch_seconds=0, admin_user_ids=frozenset({EDITOR}))


def test_a_reload_answers_at_once_and_its_multilingual_vectors_follow(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A publish is swapped in once its English vectors are there; the e5 vectors of the new
    compilation (the slow part) are embedded in the background and swapped in after."""
    import uuid

    live = live_engine(folder)
    assert not live.snapshot().multilingual_pending
    tag = uuid.uuid4().hex[:8]  # a compilation no vector cache has seen
    text = GRAIN.read_text(encoding="utf-8").replace(
        "Post-Soviet Reaction to", f"Post-Soviet Reaction ({tag}) to", 1
    )
    (folder / f"2029-07-19-grain-{tag}.txt").write_text(text, encoding="utf-8")
    result = live.reload_if_changed()
    assert result is not None and result.swapped
    quick = live.snapshot()  # the completion takes seconds: this is still the quick engine
    assert "Oleksandr Dovhal" in speakers(quick, "Dovhal")  # answered from the quick engine
    assert quick.ask("Кто говорил о санкциях?") is not None  # zero rows break nothing
    assert live.wait_complete(120)
    complete = live.snapshot()
    assert quick.multilingual_pending and complete is not quick
    assert not complete.multilingual_pending and complete.multilingual
    assert "Oleksandr Dovhal" in speakers(complete, "Dovhal")
    again = live_engine(folder)  # a restart loads the completed bundle as it is
    assert not again.snapshot().multilingual_pending
    assert "broken" not in caplog.text and "corrupt" not in caplog.text
