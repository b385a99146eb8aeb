"""Editors in Telegram, end to end: an editor sends a compilation (a .txt, a saved page or a
link), reads what it holds, publishes or discards it, removes one from /events; everyone
reads /latest, and an empty inline query shows the newest compilation. The real bot talks to
the local Bot API server; a real LiveEngine serves a sources folder of the test's own."""

from __future__ import annotations

import asyncio
import functools
import http.server
import io
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import editors, render
from bot.console import Console
from index.live import LiveEngine
from index.search import Engine
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE, ROOT, live_engine
from tests.fakebotapi import Call, FakeBotApi
from tests.test_bot_e2e import run_bot, shown_text, to_chat, wait

EDITOR = 4242
READER = 1001
GRAIN = ARCHIVE_SOURCES / "2029-07-18-post-soviet-reaction-to-grain-corridor-suspension.txt"
DRUZHBA = ARCHIVE_SOURCES / "2031-03-03-post-soviet-reaction-to-druzhba-pipeline-shutdown.txt"
HTML_DIR = ROOT / "tests" / "data" / "html"  # index/ingest.py's saved pages
TRUMP_PAGE = HTML_DIR / "post-soviet-reaction-to-trump-win.html"
ESSAY_PAGE = HTML_DIR / "essay-no-compilation.html"


def run(api: FakeBotApi, live: LiveEngine, scenario: Any) -> None:
    """The bot with one editor; no watcher, so every reload here is one the bot asked for."""
    run_bot(api, live, scenario, admin_user_ids=frozenset({EDITOR}), watch_seconds=0)


def contents(folder: Path) -> dict[str, bytes]:
    """Every file in a folder, by name (missing folder: none)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def pending(folder: Path) -> dict[str, bytes]:
    return contents(editors.pending_dir(folder))


def buttons(call: Call) -> dict[str, str]:
    """Button text -> callback_data of a sent or edited message."""
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def button(call: Call, starts: str) -> str:
    """The callback_data of the button whose text starts with ``starts``."""
    return next(data for text, data in buttons(call).items() if text.startswith(starts))


def settled(call: Call) -> bool:
    """An edit that is not the "⏳ working…" one shown while the archive reloads."""
    return not str(call.params.get("text", "")).startswith("⏳")


async def upload(api: FakeBotApi, data: bytes, name: str, user: int = EDITOR) -> Call:
    """A user sends a file; the bot's reply."""
    n = len(api.calls)
    api.user_sends_document(data, name, user_id=user)
    return await wait(api, "sendMessage", to_chat(user), after=n)


async def press(api: FakeBotApi, message: Call, data: str, user: int = EDITOR) -> Call:
    """A user presses a button of a message; the bot's final edit of it."""
    n = len(api.calls)
    api.user_presses_button(
        chat_id=message.params["chat_id"],
        message_id=message.result["message_id"],
        data=data,
        user_id=user,
    )
    return await wait(api, "editMessageText", settled, after=n)


async def ask(api: FakeBotApi, text: str, user: int = READER) -> str:
    n = len(api.calls)
    api.user_sends(text, user_id=user)
    return shown_text(api, await wait(api, "sendMessage", to_chat(user), after=n))


# --- uploads ----------------------------------------------------------------------------------


def test_an_editor_publishes_a_txt_and_it_is_answered_without_a_restart(
    api: FakeBotApi, folder: Path
) -> None:
    live = live_engine(folder)
    before = contents(folder)

    async def scenario(api: FakeBotApi) -> None:
        assert "Ararat Melkonyan" not in await ask(api, "What did Melkonyan say?")
        report = await upload(api, DRUZHBA.read_bytes(), DRUZHBA.name)
        text = shown_text(api, report)
        assert "Post-Soviet Reaction to the Druzhba Pipeline Shutdown" in text
        assert "published 3 Mar 2031" in text and "text file" in text
        assert "25 statements from 12 countries" in text and "🇦🇲 Armenia — 1" in text
        assert set(buttons(report)) == {"✅ Publish", "✖️ Discard"}
        assert len(pending(folder)) == 1 and contents(folder) == before  # staged, not added
        again = await upload(api, DRUZHBA.read_bytes(), "again.txt")  # the same, sent twice
        assert button(again, "✅") == button(report, "✅")  # named by content: one pending file

        done = await press(api, report, button(report, "✅"))
        assert "Published" in done.params["text"] and DRUZHBA.name in done.params["text"]
        assert "Reloaded: 2 compilations" in done.params["text"]
        assert not buttons(done)
        assert contents(folder)[DRUZHBA.name] == DRUZHBA.read_bytes()
        assert pending(folder) == {}
        assert "Ararat Melkonyan" in await ask(api, "What did Melkonyan say?")

        # Pressed again (the second report, another replica, after a restart): a clear answer.
        twice = await press(api, again, button(again, "✅"))
        assert twice.params["text"] == render.UPLOAD_GONE
        assert set(contents(folder)) == {REAL_FILE.name, DRUZHBA.name}

    run(api, live, scenario)


def test_an_editor_publishes_the_blog_page_of_a_compilation(
    api: FakeBotApi, tmp_path: Path
) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(GRAIN, folder)  # the archive lacks the compilation the page holds
    live = live_engine(folder)

    question = "What did Peskov say about congratulating Trump?"
    quote = "I still know nothing about Putin's intention to congratulate Trump"

    async def scenario(api: FakeBotApi) -> None:
        assert quote not in await ask(api, question)
        report = await upload(api, TRUMP_PAGE.read_bytes(), TRUMP_PAGE.name)
        text = shown_text(api, report)
        assert "Post-Soviet Reaction to Trump’s Win" in text and "web page" in text
        assert "2024-11-06-post-soviet-reaction-to-trump-win.txt" in text
        assert "52 statements from 15 countries" in text and "warning" in text
        # The preview says what of the page was left out.
        assert "left out of the page: " in text and "share buttons" in text
        assert "author bio or closing lines after the last section" in text
        done = await press(api, report, button(report, "✅"))
        assert "Reloaded: 2 compilations" in done.params["text"]
        assert quote in await ask(api, question)
        written = folder / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
        assert written.read_text(encoding="utf-8").startswith("In the Thick of It")

    run(api, live, scenario)


def test_discard_leaves_nothing_behind(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)
    before = contents(folder)

    async def scenario(api: FakeBotApi) -> None:
        report = await upload(api, GRAIN.read_bytes(), GRAIN.name)
        again = await upload(api, GRAIN.read_bytes(), GRAIN.name)
        assert len(pending(folder)) == 1
        done = await press(api, report, button(report, "✖️"))
        assert done.params["text"] == render.DISCARDED and not buttons(done)
        assert pending(folder) == {} and contents(folder) == before
        twice = await press(api, again, button(again, "✖️"))  # pressed again: said plainly
        assert twice.params["text"] == render.UPLOAD_GONE
        assert "Oleksandr Dovhal" not in await ask(api, "What did Dovhal say?")

    run(api, live, scenario)


def test_a_compilation_already_in_the_archive_offers_nothing_to_publish(
    api: FakeBotApi, folder: Path
) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        report = await upload(api, REAL_FILE.read_bytes(), "copy.txt")
        assert "Already in the archive as" in shown_text(api, report)
        assert not buttons(report) and pending(folder) == {}

    run(api, live, scenario)


def test_an_edited_compilation_replaces_the_old_one_which_is_kept(
    api: FakeBotApi, folder: Path
) -> None:
    live = live_engine(folder)
    old = REAL_FILE.read_bytes()
    edited = old.replace(b"I still know nothing", b"I still know absolutely nothing")

    async def scenario(api: FakeBotApi) -> None:
        report = await upload(api, edited, "fixed.txt")
        assert "replaces" in shown_text(api, report)
        assert set(buttons(report)) == {"♻️ Replace", "✖️ Discard"}
        done = await press(api, report, button(report, "♻️"))
        assert "Replaced" in done.params["text"]
        assert (folder / REAL_FILE.name).read_bytes().rstrip() == edited.rstrip()
        assert contents(editors.removed_dir(folder)) == {REAL_FILE.name: old}
        assert "I still know absolutely nothing" in await ask(api, "What did Peskov say?")

    run(api, live, scenario)


def test_only_editors_may_upload_or_press_the_buttons(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)
    before = contents(folder)

    async def scenario(api: FakeBotApi) -> None:
        refused = await upload(api, GRAIN.read_bytes(), GRAIN.name, user=READER)
        assert refused.params["text"] == render.UPLOAD_EDITORS_ONLY
        assert not api.calls_to("getFile")  # never downloaded
        link = await ask(api, "https://example.org/compilation.html")
        assert "Only the bot’s editors can add compilations" in link
        # A reader who sees an editor's report (say, forwarded) cannot publish it.
        report = await upload(api, GRAIN.read_bytes(), GRAIN.name)
        n = len(api.calls)
        api.user_presses_button(
            chat_id=EDITOR,
            message_id=report.result["message_id"],
            data=button(report, "✅"),
            user_id=READER,
        )
        answered = await wait(api, "answerCallbackQuery", after=n)
        assert answered.params["text"] == render.EDITOR_BUTTON_ONLY
        await asyncio.sleep(0.3)
        assert not [c for c in api.calls[n:] if c.method == "editMessageText"]
        assert contents(folder) == before and len(pending(folder)) == 1

    run(api, live, scenario)


def test_broken_uploads_say_why_and_change_nothing(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)
    before = contents(folder)
    essay = ESSAY_PAGE.read_bytes()  # an article with no compilation in it

    async def scenario(api: FakeBotApi) -> None:
        png = await upload(api, b"\x89PNG\r\n\x1a\n" + bytes(200), "scan.txt")
        assert "Not added: a PNG image" in png.params["text"]
        page = await upload(api, essay, "essay.html")
        assert "Not added: no compilation in this page" in page.params["text"]
        assert "Nothing was changed in the archive" in page.params["text"]
        n = len(api.calls)
        pdf = await upload(api, b"%PDF-1.7 ...", "compilation.pdf")
        assert "send a compilation as a <b>.txt</b> file" in pdf.params["text"]
        assert not [c for c in api.calls[n:] if c.method == "getFile"]  # refused by its type
        assert contents(folder) == before and pending(folder) == {}

    run(api, live, scenario)


def test_a_file_over_2_mb_is_refused_before_it_is_downloaded(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        big = REAL_FILE.read_bytes() * (editors.MAX_UPLOAD_BYTES // REAL_FILE.stat().st_size + 1)
        refused = await upload(api, big, "huge.txt")
        assert "a compilation is at most 2.0 MB" in refused.params["text"]
        assert not api.calls_to("getFile")
        assert not [r for r in api.request_log if "/file/bot" in r]
        assert pending(folder) == {}

    run(api, live, scenario)


def test_a_publish_the_archive_cannot_load_is_undone(api: FakeBotApi, folder: Path) -> None:
    index_dir = folder.parent / "index"
    broken = threading.Event()

    def opener() -> Engine:
        if broken.is_set():  # a build that fails after the file is written (disk full, …)
            raise OSError("No space left on device")
        return Engine.open(folder, index_dir)

    live = LiveEngine(opener, folder)
    before = contents(folder)

    async def scenario(api: FakeBotApi) -> None:
        report = await upload(api, GRAIN.read_bytes(), GRAIN.name)
        broken.set()
        failed = await press(api, report, button(report, "✅"))
        assert "Not published: Reload failed (No space left on device)" in failed.params["text"]
        assert contents(folder) == before and len(pending(folder)) == 1  # still on offer
        broken.clear()
        done = await press(api, failed, button(failed, "✅"))
        assert "Reloaded: 2 compilations" in done.params["text"]

    run(api, live, scenario)


class _Pages(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Callable[[str, bytes], str]]:
    """A local web server; ``put(name, data)`` serves a page and returns its URL."""
    root = tmp_path / "web"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Pages, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def put(name: str, data: bytes) -> str:
        (root / name).write_bytes(data)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield put
    server.shutdown()
    server.server_close()


def test_an_editor_sends_a_link_and_the_bot_fetches_the_page(
    api: FakeBotApi, folder: Path, web: Callable[[str, bytes], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for proxy in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    live = live_engine(folder)
    url = web("druzhba.txt", DRUZHBA.read_bytes())

    async def scenario(api: FakeBotApi) -> None:
        n = len(api.calls)
        api.user_sends(f"  {url} ", user_id=EDITOR)
        report = await wait(api, "sendMessage", to_chat(EDITOR), after=n)
        assert "Druzhba Pipeline Shutdown" in shown_text(api, report)
        missing = await ask(api, url.replace("druzhba", "nowhere"), user=EDITOR)
        assert "Not added: the server answered HTTP 404" in missing
        done = await press(api, report, button(report, "✅"))
        assert "Published" in done.params["text"]

    run(api, live, scenario)


def test_editors_find_their_commands_in_their_own_menu_and_help(
    api: FakeBotApi, folder: Path
) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        assert "Editors" in await ask(api, "/help", user=EDITOR)
        reader = await ask(api, "/help", user=READER)
        assert "/latest" in reader and "/events" in reader and "Editors" not in reader
        menus = {scope: [c["command"] for c in cmds] for (scope, _), cmds in api.commands.items()}
        public = [cmds for scope, cmds in menus.items() if str(EDITOR) not in scope]
        assert all("reload" not in cmds for cmds in public)
        assert any("latest" in cmds and "events" in cmds for cmds in public)
        [editor] = [cmds for scope, cmds in menus.items() if str(EDITOR) in scope]
        assert {"reload", "latest", "events"} <= set(editor)

    run(api, live, scenario)


# --- /events and removing ---------------------------------------------------------------------


def test_events_lists_newest_first_and_an_editor_removes_one(api: FakeBotApi, folder: Path) -> None:
    shutil.copy(GRAIN, folder)
    live = live_engine(folder)

    async def events(user: int) -> Call:
        n = len(api.calls)
        api.user_sends("/events", user_id=user)
        return await wait(api, "sendMessage", to_chat(user), after=n)

    async def scenario(api: FakeBotApi) -> None:
        listed = shown_text(api, await events(READER))
        grain, trump = listed.index("Grain Corridor Suspension"), listed.index("Trump’s Win")
        assert grain < trump  # newest first
        assert "18 Jul 2029 — 24 statements" in listed and "6 Nov 2024 — 52 statements" in listed
        assert not buttons(api.calls_to("sendMessage")[-1])  # readers remove nothing

        first, second, third = await events(EDITOR), await events(EDITOR), await events(EDITOR)
        remove = button(first, "🗑 Remove 1.")
        assert len(remove.encode()) <= 64
        confirm = await press(api, first, remove)
        assert "Remove" in confirm.params["text"] and "24 statements" in confirm.params["text"]
        back = await press(api, confirm, button(confirm, "Keep"))
        assert buttons(back) == buttons(first)  # No: the list again, nothing removed
        assert (folder / GRAIN.name).exists()

        confirm = await press(api, back, remove)
        done = await press(api, confirm, button(confirm, "🗑 Yes"))
        assert (
            "Removed" in done.params["text"] and "Reloaded: 1 compilations" in done.params["text"]
        )
        assert not (folder / GRAIN.name).exists()
        moved = editors.removed_dir(folder) / GRAIN.name
        assert moved.read_bytes() == GRAIN.read_bytes()  # can be put back by hand
        assert "Oleksandr Dovhal" not in await ask(api, "What did Dovhal say?")

        # The older list still shows the buttons: pressing them now is answered plainly.
        again = await press(api, second, button(second, "🗑 Remove 1."))
        assert again.params["text"] == render.REMOVE_GONE
        last = await press(api, third, button(third, "🗑 Remove 2."))
        assert last.params["text"] == render.REMOVE_LAST

    run(api, live, scenario)


# --- /latest and inline -----------------------------------------------------------------------


def test_latest_shows_the_newest_compilations_first_statements(
    api: FakeBotApi, folder: Path
) -> None:
    shutil.copy(GRAIN, folder)
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        n = len(api.calls)
        api.user_sends("/latest")
        latest = await wait(api, "sendMessage", to_chat(READER), after=n)
        text = shown_text(api, latest)
        assert text.startswith("📰 Post-Soviet Reaction to the Grain Corridor Suspension")
        assert "Pavel Daronin, Belarusian foreign minister" in text  # Belarus's first
        assert "Alesia Kurylovich" not in text  # Belarus's second
        assert "Oleksandr Dovhal" in text
        assert "Trump" not in text
        datas = list(buttons(latest).values())
        assert datas[0] == "c|Belarus" and "c|Ukraine" in datas and len(datas) == 11

        n = len(api.calls)
        api.user_presses_button(
            chat_id=READER, message_id=latest.result["message_id"], data="c|Ukraine"
        )
        ukraine = await wait(api, "sendMessage", to_chat(READER), after=n)
        assert "Ukraine" in shown_text(api, ukraine).splitlines()[0]

        n = len(api.calls)
        api.user_sends_inline_query("")
        results = (await wait(api, "answerInlineQuery", after=n)).params["results"]
        assert len(results) == 11
        assert results[0]["title"] == "Pavel Daronin — Belarus"
        assert all("Trump" not in r["input_message_content"]["message_text"] for r in results)

    run(api, live, scenario)


def test_the_console_answers_events_and_latest_of_the_archive_as_it_is(folder: Path) -> None:
    out = io.StringIO()
    console = Console(live_engine(folder), out)
    console.show(console.handle("/latest"))
    assert "Trump’s Win" in out.getvalue()
    shutil.copy(GRAIN, folder)
    out.seek(0)
    out.truncate()
    console.show(console.handle("/latest"))
    latest = out.getvalue()
    assert "[Reloaded: 2 compilations" in latest
    assert "📰 Post-Soviet Reaction to the Grain Corridor Suspension" in latest
    assert "Trump" not in latest
    console.show(console.handle("/events"))
    events = out.getvalue()[len(latest) :]
    assert events.index("Grain Corridor") < events.index("Trump’s Win")
    assert "Remove" not in events  # the console is no editor


# --- what the editor reads, at its limits -----------------------------------------------------


def test_a_huge_report_fits_one_message_and_keeps_its_verdict() -> None:
    from index.ingest import prepare

    real = REAL_FILE.read_text(encoding="utf-8")
    sections = "".join(
        f"\nRepublic {i:03d}\n\n  • Ivan Ivanov{i}, foreign minister, said: “Words & <tags>.” "
        "(Interfax, 11.06.29)\n"
        for i in range(300)
    )
    prepared = prepare((real[: real.index("\nArmenia\n")] + sections).encode(), "big.txt")
    assert len(prepared.warnings) >= 300
    reply = render.upload_report(prepared, "0123456789abcdef", "added", prepared.filename)
    assert render.tg_len(reply.html) <= render.MESSAGE_LIMIT
    assert "300 statements</b> from 300 countries, ⚠️ " in reply.html
    assert reply.html.endswith("Publish adds it to the archive; Discard drops it.")
    assert [b.data for row in reply.buttons for b in row] == [
        "up|0123456789abcdef",
        "ud|0123456789abcdef",
    ]


def test_events_and_latest_fit_one_message_however_large_the_archive() -> None:
    from index.model import Document, Statement

    docs = [
        Document(f"2030-01-{i:03d}-c", f"{i}.txt", f"Compilation {i} " + "long title " * 20)
        for i in range(300)
    ]
    events = render.render_events(docs, {d.id: 7 for d in docs}, editor=True)
    assert render.tg_len(events.html) <= render.MESSAGE_LIMIT and "more</i>" in events.html
    assert len(events.buttons) == render.REMOVE_BUTTON_LIMIT
    assert all(len(b.data.encode()) <= 64 for row in events.buttons for b in row)
    firsts = [
        Statement(f"s{i}", docs[0].id, f"Country {i}", "Someone", None, "person", "Words " * 300)
        for i in range(40)
    ]
    latest = render.render_latest(docs[0], firsts)
    assert render.tg_len(latest.html) <= render.MESSAGE_LIMIT
    assert "more countries: tap one below" in latest.html
    assert sum(len(row) for row in latest.buttons) == 40
