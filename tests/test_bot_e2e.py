"""End to end: the real Application (polling) and the real engine against a local Bot API server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from telegram.constants import FloodLimit
from telegram.error import InvalidToken

from bot import delivery, handlers, logs
from bot.app import build_application
from bot.settings import Settings
from bot.storage import Store
from bot.updates import DRAIN_SECONDS, FETCH_LIMIT, GRACE_SECONDS
from tests.bot_fakes import FakeEngine, polling, stop
from tests.fakebotapi import Call, FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
USER = 1001
GROUP = -1001234567890
WAIT = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TRIES = 1 + len(delivery.RETRY_DELAYS)  # tries of a request that fails transiently

Scenario = Callable[[FakeBotApi], Awaitable[None]]


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> int:
    """Production's number of tries with short waits between them; returns the tries."""
    monkeypatch.setattr(delivery, "RETRY_DELAYS", (0.01,) * len(delivery.RETRY_DELAYS))
    return TRIES


def settings_for(api: FakeBotApi, **overrides: Any) -> Settings:
    """Settings for the bot against the local server; the test's own database (conftest)."""
    overrides.setdefault("database_url", os.environ["DATABASE_URL"])
    return Settings(
        token=api.token,
        api_base_url=api.base_url,
        api_base_file_url=api.base_file_url,
        **overrides,
    )


def run_bot(api: FakeBotApi, engine: Any, scenario: Scenario, **overrides: Any) -> None:
    """Run the real bot with long polling while ``scenario`` plays the user, then stop it."""

    async def main() -> None:
        application = build_application(settings_for(api, **overrides), engine)
        async with polling(application):
            await scenario(api)

    asyncio.run(main())


async def wait(
    api: FakeBotApi,
    method: str,
    predicate: Callable[[Call], bool] | None = None,
    after: int = 0,
) -> Call:
    """``api.wait_for`` off the event loop (it blocks), so the bot keeps running meanwhile."""
    return await asyncio.to_thread(api.wait_for, method, predicate, WAIT, after)


def to_chat(chat_id: int) -> Callable[[Call], bool]:
    return lambda call: call.params.get("chat_id") == chat_id


def answering(query_id: str) -> Callable[[Call], bool]:
    return lambda call: call.params.get("callback_query_id") == query_id


def shown_text(api: FakeBotApi, call: Call) -> str:
    """The message as the user sees it (entities parsed by the server)."""
    result = call.result
    return str(api.message(result["chat"]["id"], result["message_id"]).get("text") or "")


# --- private chat -----------------------------------------------------------------------------


def test_private_question_quotes_peskov_with_his_source(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("What did Peskov say?")
        call = await wait(api, "sendMessage", to_chat(USER))
        text = shown_text(api, call)
        assert "Dmitry Peskov" in text.splitlines()[0]
        assert "I still know nothing about Putin's intention to congratulate Trump" in text
        assert "TASS, 11.06.24" in text
        assert call.params["parse_mode"] == "HTML"

    run_bot(api, engine, scenario)


def test_country_command_quotes_every_georgian_statement(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Georgia")
        text = shown_text(api, await wait(api, "sendMessage", to_chat(USER)))
        assert text.splitlines()[0].endswith("Georgia — 3 statements")
        for speaker in ("Irakli Kobakhidze", "Mamuka Mdinaradze", "Salome Zourabichvili"):
            assert speaker in text
        assert "peace and traditional values win" in text

    run_bot(api, engine, scenario)


def test_deep_link_opens_the_answer(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/start country-Georgia")
        text = shown_text(api, await wait(api, "sendMessage", to_chat(USER)))
        assert "Georgia — 3 statements" in text
        n = len(api.calls)
        api.user_sends("/start")
        text = shown_text(api, await wait(api, "sendMessage", to_chat(USER), after=n))
        assert "who said what" in text

    run_bot(api, engine, scenario)


def test_no_remarks_country_says_so(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Tajikistan")
        text = shown_text(api, await wait(api, "sendMessage", to_chat(USER)))
        assert "Tajikistan — no remarks" in text
        assert "no remarks on the U.S. presidential election" in text

    run_bot(api, engine, scenario)


def test_unknown_country_offers_a_suggestion_button(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Atlantis")
        call = await wait(api, "sendMessage", to_chat(USER))
        text = shown_text(api, call)
        assert "Atlantis" in text
        keyboard = call.params["reply_markup"]["inline_keyboard"]
        datas = [b["callback_data"] for row in keyboard for b in row]
        assert datas and all(d.startswith("k|") for d in datas)
        n = len(api.calls)
        api.user_presses_button(chat_id=USER, message_id=call.result["message_id"], data=datas[0])
        await wait(api, "answerCallbackQuery", after=n)
        edit = await wait(api, "editMessageText", after=n)
        assert "statement" in str(edit.params["text"])

    run_bot(api, engine, scenario)


def test_next_button_edits_the_message_to_the_next_page(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Russia")
        call = await wait(api, "sendMessage", to_chat(USER))
        assert "Page 1 of" in shown_text(api, call)
        [[nxt], [follow]] = call.params["reply_markup"]["inline_keyboard"]
        assert nxt["text"] == "Next ›" and len(nxt["callback_data"].encode()) <= 64
        assert follow["text"] == "🔔 Follow Russia"  # under a country's answer, every page
        n = len(api.calls)
        message_id = call.result["message_id"]
        api.user_presses_button(chat_id=USER, message_id=message_id, data=nxt["callback_data"])
        answered = await wait(api, "answerCallbackQuery", after=n)
        edited = await wait(api, "editMessageText", after=n)
        assert answered.at <= edited.at  # the spinner is stopped first
        page2 = str(api.message(USER, message_id)["text"])
        assert "Page 2 of" in page2
        buttons = [
            b["text"] for row in edited.params["reply_markup"]["inline_keyboard"] for b in row
        ]
        assert buttons[0] == "‹ Prev"

    run_bot(api, engine, scenario)


def test_country_list_buttons_answer_below_the_list(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country")
        call = await wait(api, "sendMessage", to_chat(USER))
        datas = [
            b["callback_data"]
            for row in call.params["reply_markup"]["inline_keyboard"]
            for b in row
        ]
        assert "c|Georgia" in datas and "c|Tajikistan" in datas
        n = len(api.calls)
        api.user_presses_button(
            chat_id=USER, message_id=call.result["message_id"], data="c|Georgia"
        )
        answer = await wait(api, "sendMessage", to_chat(USER), after=n)
        assert "Georgia — 3 statements" in shown_text(api, answer)
        assert "Which country?" in str(api.message(USER, call.result["message_id"])["text"])

    run_bot(api, engine, scenario)


def test_stats_sends_a_png_chart(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/stats")
        call = await wait(api, "sendPhoto", to_chat(USER))
        assert call.files["photo"].startswith(b"\x89PNG")
        assert "Statements per country" in str(call.params["caption"])

    run_bot(api, engine, scenario)


def test_html_looking_input_is_answered_as_text(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("<b>hi</b> & <script>")
        call = await wait(api, "sendMessage", to_chat(USER))  # only accepted calls match
        assert "<script>" not in str(call.params["text"])
        n = len(api.calls)
        api.user_sends("/who <b>hi</b> & <script>")  # an answer that repeats the input
        call = await wait(api, "sendMessage", to_chat(USER), after=n)
        assert "<script>" not in str(call.params["text"])
        assert "<b>hi</b> & <script>" in shown_text(api, call)

    run_bot(api, engine, scenario)


def test_a_huge_message_gets_a_polite_answer(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("Peskov " * 1428 + "!!!!")  # 10,000 characters
        text = shown_text(api, await wait(api, "sendMessage", to_chat(USER)))
        assert "10,000 characters" in text and "under 500" in text

    run_bot(api, engine, scenario)


def test_rate_limit_is_polite_and_per_user(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        for _ in range(4):
            api.user_sends("Georgia")
        api.user_sends("Georgia", user_id=2002)
        await wait(api, "sendMessage", to_chat(2002))  # another user is not limited
        warning = await wait(api, "sendMessage", lambda c: "faster than" in str(c.params["text"]))
        assert "2 questions a minute" in str(warning.params["text"])
        # Updates are handled in order of arrival: once a later user's answer is out,
        # every reply to the first user has been sent.
        n = len(api.calls)
        api.user_sends("Georgia", user_id=3003)
        await wait(api, "sendMessage", to_chat(3003), after=n)
        replies = [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == USER]
        assert len(replies) == 3  # two answers, one warning, then silence

    run_bot(api, engine, scenario, rate_limit=2)


def test_a_failure_is_logged_and_the_user_gets_an_apology(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture, quick_retries: int
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        # Every try of the answer fails; the apology, one more sendMessage, goes through.
        api.inject_error("sendMessage", 500, "Internal Server Error", times=quick_retries)
        api.user_sends("/country Georgia")
        call = await wait(api, "sendMessage", to_chat(USER))
        assert "Sorry, something went wrong" in str(call.params["text"])

    with caplog.at_level(logging.ERROR, logger="bot.handlers"):
        run_bot(api, engine, scenario)
    [record] = [r for r in caplog.records if r.name == "bot.handlers"]
    assert record.exc_info is not None and "Internal Server Error" in caplog.text


# --- transient failures -----------------------------------------------------------------------


def test_a_502_on_an_answer_is_retried_and_the_answer_arrives(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.fail_next("sendMessage")
        api.user_sends("/country Georgia")
        call = await wait(api, "sendMessage", to_chat(USER))
        assert "Georgia — 3 statements" in shown_text(api, call)
        [failed] = [c for c in api.calls if c.method == "sendMessage" and not c.ok]
        assert failed.error == "Bad Gateway" and failed.at < call.at

    with caplog.at_level(logging.WARNING):
        run_bot(api, engine, scenario)
    assert f"sendMessage failed (Bad Gateway); try 2 of {TRIES}" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_502_on_a_page_turn_is_retried_and_the_page_turns(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Russia")
        call = await wait(api, "sendMessage", to_chat(USER))
        [[nxt], _follow] = call.params["reply_markup"]["inline_keyboard"]
        api.fail_next("answerCallbackQuery")
        api.fail_next("editMessageText", times=2)
        n = len(api.calls)
        message_id = call.result["message_id"]
        api.user_presses_button(chat_id=USER, message_id=message_id, data=nxt["callback_data"])
        await wait(api, "answerCallbackQuery", after=n)
        await wait(api, "editMessageText", after=n)
        assert "Page 2 of" in str(api.message(USER, message_id)["text"])
        failed = [c.method for c in api.calls[n:] if not c.ok]
        assert sorted(failed) == ["answerCallbackQuery", "editMessageText", "editMessageText"]

    run_bot(api, engine, scenario)


def test_a_502_on_an_inline_answer_is_retried(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.fail_next("answerInlineQuery")
        api.user_sends_inline_query("Zelensky")
        answer = await wait(api, "answerInlineQuery")
        assert answer.params["results"][0]["title"] == "Volodymyr Zelenskyy — Ukraine"

    run_bot(api, engine, scenario)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def dropped_once_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """The answer a 429 of 30 s made too late was dropped: one warning, no traceback."""
    no_tracebacks(caplog)
    [dropped] = [r for r in caplog.records if "Retry in 30" in r.getMessage()]
    assert dropped.levelno == logging.WARNING


def test_a_429_on_an_inline_answer_is_waited_out_in_time(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.inject_error(
            "answerInlineQuery", 429, "Too Many Requests: retry after 1", retry_after=1
        )
        query = api.user_sends_inline_query("Zelensky")
        answer = await wait(api, "answerInlineQuery")
        assert answer.params["inline_query_id"] == query
        assert answer.params["results"][0]["title"] == "Volodymyr Zelenskyy — Ukraine"
        [limited] = [c for c in api.calls if c.method == "answerInlineQuery" and not c.ok]
        assert answer.at - limited.at >= 1.0  # waited as told: an earlier retry is refused too

    with caplog.at_level(logging.INFO):
        run_bot(api, engine, scenario)
    no_tracebacks(caplog)


def test_a_429_past_the_inline_deadline_is_logged_once_without_a_traceback(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.inject_error(
            "answerInlineQuery", 429, "Too Many Requests: retry after 30", retry_after=30
        )
        query = api.user_sends_inline_query("Zelensky")
        await asyncio.to_thread(api.wait_for, "answerInlineQuery", None, WAIT, include_failed=True)
        n = len(api.calls)
        api.user_sends_inline_query("Peskov", user_id=USER + 1)  # the bot carries on
        later = await wait(api, "answerInlineQuery", after=n)
        assert later.params["inline_query_id"] != query
        tries = [c for c in api.calls if c.params.get("inline_query_id") == query]
        assert [c.ok for c in tries] == [False]  # no retry that would come too late

    with caplog.at_level(logging.INFO):
        run_bot(api, engine, scenario)
    dropped_once_without_traceback(caplog)


def test_a_429_on_a_button_answer_is_waited_out_or_logged_and_the_page_turns(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Russia")
        call = await wait(api, "sendMessage", to_chat(USER))
        message_id = call.result["message_id"]
        for retry_after, answered in ((1, True), (30, False)):
            page = str(api.message(USER, message_id)["text"])
            [button, *_] = [
                b["callback_data"]
                for row in api.message(USER, message_id)["reply_markup"]["inline_keyboard"]
                for b in row
                if b["text"] in ("Next ›", "‹ Prev")
            ]
            api.inject_error(
                "answerCallbackQuery",
                429,
                f"Too Many Requests: retry after {retry_after}",
                retry_after=retry_after,
            )
            n = len(api.calls)
            query = api.user_presses_button(chat_id=USER, message_id=message_id, data=button)
            await wait(api, "editMessageText", after=n)
            assert str(api.message(USER, message_id)["text"]) != page  # the page turned
            if answered:
                await wait(api, "answerCallbackQuery", after=n)
            tries = [c for c in api.calls if c.params.get("callback_query_id") == query]
            assert [c.ok for c in tries] == [False, True] if answered else [False]

    with caplog.at_level(logging.INFO):
        run_bot(api, engine, scenario)
    dropped_once_without_traceback(caplog)


def test_a_repeated_page_press_is_answered_and_not_a_failure(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Russia")
        call = await wait(api, "sendMessage", to_chat(USER))
        [[nxt], _follow] = call.params["reply_markup"]["inline_keyboard"]
        message_id = call.result["message_id"]
        n = len(api.calls)
        presses = api.user_double_taps_button(
            chat_id=USER, message_id=message_id, data=nxt["callback_data"]
        )
        for press in presses:  # both spinners stop
            await wait(api, "answerCallbackQuery", answering(press), after=n)
        await wait(api, "editMessageText", after=n)
        assert "Page 2 of" in str(api.message(USER, message_id)["text"])

        def edits() -> list[Call]:
            return [c for c in api.calls[n:] if c.method == "editMessageText"]

        await asyncio.to_thread(
            api.wait_for,
            "editMessageText",
            lambda _: len(edits()) == 2,
            WAIT,
            n,
            include_failed=True,
        )
        assert [c.ok for c in edits()].count(True) == 1
        # Telegram's answer to the second, identical edit: the page already shows.
        assert all("not modified" in str(c.error) for c in edits() if not c.ok)

    with caplog.at_level(logging.DEBUG, logger="bot"):
        run_bot(api, engine, scenario)
    no_tracebacks(caplog)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_persistent_5xx_is_logged_and_the_bot_carries_on(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture, quick_retries: int
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.fail_next("sendMessage", times=2 * quick_retries)  # every try of answer and apology
        api.user_sends("/country Georgia")
        await asyncio.to_thread(
            api.wait_for,
            "sendMessage",
            lambda _: sum(not c.ok for c in api.calls) == 2 * quick_retries,
            WAIT,
            include_failed=True,
        )
        n = len(api.calls)
        api.user_sends("/country Georgia")  # Telegram is back
        call = await wait(api, "sendMessage", to_chat(USER), after=n)
        assert "Georgia — 3 statements" in shown_text(api, call)

    with caplog.at_level(logging.WARNING):
        run_bot(api, engine, scenario)
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.name == "bot.handlers" and error.exc_info is not None
    assert "Could not tell the user about the error: Bad Gateway" in caplog.text


# --- answers that must not wait -----------------------------------------------------------------


def test_an_inline_answer_does_not_wait_out_a_flood_pause(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        # A 429 on a send pauses every queued send for retry_after (AIORateLimiter).
        api.inject_error("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
        api.user_sends("/country Georgia")
        limited = await asyncio.to_thread(
            api.wait_for, "sendMessage", None, WAIT, include_failed=True
        )
        assert not limited.ok
        n = len(api.calls)
        api.user_sends_inline_query("Zelensky")
        answer = await wait(api, "answerInlineQuery", after=n)
        sent = await wait(api, "sendMessage", to_chat(USER))
        # Answered during the pause, not queued behind the paused send.
        assert answer.at < sent.at
        assert answer.at - limited.at < sent.at - answer.at

    run_bot(api, engine, scenario)


def sends_before(api: FakeBotApi, call: Any) -> list[Any]:
    """The messages that went out before ``call``."""
    calls = api.calls
    return [c for c in calls[: calls.index(call)] if c.method == "sendMessage" and c.ok]


def test_an_inline_query_is_answered_while_a_group_backlog_waits(
    api: FakeBotApi, engine: Any
) -> None:
    backlog = 60  # Telegram allows a group 20 messages a minute: 40 of these must wait
    for i in range(backlog):
        api.user_sends("/ask Georgia", user_id=3000 + i, chat_id=GROUP, chat_type="supergroup")
    api.user_sends_inline_query("Zelensky")

    async def main() -> None:
        application = build_application(settings_for(api, rate_limit=0), engine)
        async with polling(application, drain_seconds=0.5):
            answer = await wait(api, "answerInlineQuery")
            assert answer.params["results"]
            sent_before = sends_before(api, answer)
            # It came with the group's first burst, before any send that had to wait for the
            # group's limit (one every 3 s), though all message slots were taken by such sends.
            assert len(sent_before) <= FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP

    asyncio.run(main())
    assert len(api.calls_to("sendMessage")) < backlog  # stopped with the backlog still queued


def test_an_inline_query_behind_hundreds_of_queued_questions_is_answered_at_once(
    api: FakeBotApi, engine: Any
) -> None:
    backlog = 3 * FETCH_LIMIT  # questions ahead of it, each waiting for the ~30/s send limit
    for i in range(backlog):
        api.user_sends("Georgia", user_id=6000 + i)
    api.user_sends_inline_query("Zelensky")

    async def main() -> None:
        application = build_application(settings_for(api), engine)
        async with polling(application, drain_seconds=0.5):
            answer = await wait(api, "answerInlineQuery")
            assert answer.params["results"]
            sent_before = sends_before(api, answer)
            # Fetched past the questions (they wait in the inbox), not after 200 of them were
            # answered (getUpdates returns FETCH_LIMIT updates past the oldest unconfirmed).
            assert len(sent_before) < FETCH_LIMIT

    asyncio.run(main())
    assert len(answers_per_chat(api)) < backlog  # stopped with the backlog still queued


# --- stopping ---------------------------------------------------------------------------------


def answered_messages(api: FakeBotApi, chat_id: int) -> set[int]:
    """Ids of the messages in a group chat that got an answer (answers quote them)."""
    return {
        c.params["reply_parameters"]["message_id"]
        for c in api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id
    }


def answers_per_chat(api: FakeBotApi) -> Counter[int]:
    """How many answers each chat got (a private question per chat: more than 1 is a repeat)."""
    return Counter(c.params["chat_id"] for c in api.calls_to("sendMessage"))


def inbox() -> Store:
    """The bot's database (the test's own, conftest's DATABASE_URL)."""
    return Store.open(os.environ["DATABASE_URL"])


def test_a_stop_confirms_only_what_was_answered_or_stored(api: FakeBotApi, engine: Any) -> None:
    for i in range(30):  # 20 answers go out at once, then the group's limit holds the rest
        api.user_sends("/ask Georgia", user_id=3000 + i, chat_id=GROUP, chat_type="supergroup")
    queued = {u["update_id"]: u["message"]["message_id"] for u in api.pending_updates()}

    async def serve(until: Callable[[], bool], drain_seconds: float) -> None:
        application = build_application(settings_for(api, rate_limit=0), engine)
        async with polling(application, drain_seconds=drain_seconds):
            await asyncio.to_thread(api.wait_for, "sendMessage", lambda _: until(), WAIT)

    asyncio.run(serve(lambda: len(answered_messages(api, GROUP)) >= 20, drain_seconds=0.5))
    answered = answered_messages(api, GROUP)
    assert len(answered) < len(queued), "the stop was not mid-way"
    # Everything was confirmed to Telegram: answered, or stored in the inbox for later.
    assert api.confirmed_offset == max(queued) + 1
    store = inbox()
    try:
        counts = store.inbox_counts()
        assert counts.get("claimed", 0) == 0  # what the stop did not answer was released
        assert counts.get("pending", 0) == len(queued) - len(answered)
        assert counts.get("done", 0) == len(answered)
    finally:
        store.close()
    # A restart (a fresh flood limit) answers the rest from the inbox, none twice.
    everything = set(queued.values())
    asyncio.run(serve(lambda: answered_messages(api, GROUP) >= everything, DRAIN_SECONDS))
    replies = [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert len(replies) == len(queued)


def test_a_stop_that_cuts_an_answer_short_after_it_went_out_does_not_repeat_it(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api.slow_response("sendMessage", 3.0)  # delivered, but the response is late
    api.user_sends("/country Georgia")

    async def serve(until: Callable[[], bool], drain_seconds: float) -> None:
        application = build_application(settings_for(api), engine)
        async with polling(application, drain_seconds=drain_seconds):
            await asyncio.to_thread(api.wait_for, "sendMessage", lambda _: until(), WAIT)

    # Stopped while the answer's request waits for its response: the handling is cancelled.
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        asyncio.run(serve(lambda: True, drain_seconds=0.5))
    assert "cut short after 1 sends" in caplog.text
    store = inbox()
    try:
        assert store.inbox_counts() == {"done": 1}  # not released: it went out
    finally:
        store.close()
    api.user_sends("/country Georgia", user_id=USER + 1)
    asyncio.run(serve(lambda: USER + 1 in answers_per_chat(api), DRAIN_SECONDS))
    assert answers_per_chat(api) == {USER: 1, USER + 1: 1}


def test_an_update_stored_by_a_killed_run_and_fetched_again_is_answered_once(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api.user_sends("/country Georgia", user_id=4001)
    api.user_sends("/country Georgia", user_id=4002)
    [first, second] = api.pending_updates()
    store = inbox()
    # A run stored both and was killed before confirming them; another replica (alive: its
    # claim is fresh) is answering the second; and something unreadable was stored.
    early = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    store.inbox_put([(second["update_id"], json.dumps(second))], at=early)
    [elsewhere] = store.inbox_claim("other-replica", 1)
    assert elsewhere.update_id == second["update_id"]
    store.inbox_put([(first["update_id"], json.dumps(first)), (first["update_id"] - 1, "{no")])

    async def scenario(api: FakeBotApi) -> None:
        await wait(api, "sendMessage", to_chat(4001))
        await asyncio.sleep(1.0)  # time for a second answer, if one were coming

    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        run_bot(api, engine, scenario)
    assert answers_per_chat(api) == {4001: 1}  # the other replica answers 4002
    assert api.confirmed_offset == second["update_id"] + 1
    assert "cannot be read" in caplog.text
    counts = store.inbox_counts()
    store.close()
    assert counts == {"done": 2, "claimed": 1}


def test_a_batch_the_inbox_cannot_store_is_not_confirmed_and_comes_again(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.user_sends("/country Georgia")
    query = api.user_sends_inline_query("Zelensky")
    offsets: list[int] = []
    put = Store.inbox_put

    def failing_once(self: Store, updates: Any, **kw: Any) -> int:
        if not offsets:
            offsets.append(api.confirmed_offset)
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return put(self, updates, **kw)

    monkeypatch.setattr(Store, "inbox_put", failing_once)

    async def scenario(api: FakeBotApi) -> None:
        await wait(api, "sendMessage", to_chat(USER))
        await asyncio.sleep(1.0)  # time for a second answer, if one were coming

    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        run_bot(api, engine, scenario)
    assert "Could not store 1 updates" in caplog.text
    # Fetched again after the failure (nothing was confirmed), then stored and answered once;
    # the inline query of the same batch was answered at once, and once.
    assert offsets == [0] and api.confirmed_offset > 0
    assert answers_per_chat(api) == {USER: 1}
    assert [c.params["inline_query_id"] for c in api.calls_to("answerInlineQuery")] == [query]


def test_two_replicas_share_the_inbox_and_answer_each_message_once(
    api: FakeBotApi, postgres_url: str
) -> None:
    questions = 120
    for i in range(questions):
        api.user_sends("/country Georgia", user_id=7000 + i)
    store = Store.open(postgres_url)
    store.inbox_put([(u["update_id"], json.dumps(u)) for u in api.pending_updates()])

    async def main() -> None:
        # Two processes on one PostgreSQL database, neither polling: as webhook replicas, or
        # what a stopped poller left. Each has its own flood limit, engine and store.
        apps = [
            build_application(settings_for(api, database_url=postgres_url), FakeEngine())
            for _ in range(2)
        ]
        async with polling(apps[0], fetch=False), polling(apps[1], fetch=False):
            await asyncio.to_thread(
                api.wait_for,
                "sendMessage",
                lambda _: len(answers_per_chat(api)) == questions,
                WAIT,
            )
            await asyncio.sleep(1.0)  # time for a second answer, if one were coming

    asyncio.run(main())
    assert answers_per_chat(api) == Counter({7000 + i: 1 for i in range(questions)})
    assert store.inbox_counts() == {"done": questions}
    store.close()


def start_bot(api: FakeBotApi, log_file: Path) -> subprocess.Popen[bytes]:
    """``python -m bot`` in polling mode against the local server, its output in ``log_file``."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "PYTHONPATH": str(ROOT),
    }
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=log_file.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


KILL_AFTER = 10.0  # seconds between SIGTERM and SIGKILL (a process manager's grace)


def stop_bot(bot: subprocess.Popen[bytes]) -> tuple[int | None, float]:
    """SIGTERM, then SIGKILL if the bot is alive KILL_AFTER later; (exit code or None if
    killed, seconds it took)."""
    started = time.monotonic()
    code = stop(bot, KILL_AFTER)
    return code, time.monotonic() - started


def test_sigterm_then_sigkill_mid_backlog_loses_no_question_and_repeats_none(
    api: FakeBotApi, engine: Any, tmp_path: Path
) -> None:
    backlog = 800  # ~27 s of answers at Telegram's ~30 messages a second
    for i in range(backlog):
        api.user_sends("Georgia", user_id=5000 + i)  # one question each: no per-user limit
    chats = {u["message"]["chat"]["id"] for u in api.pending_updates()}
    newest = max(u["update_id"] for u in api.pending_updates())
    log_file = tmp_path / "bot.log"

    bot = start_bot(api, log_file)
    try:
        api.wait_for("sendMessage", lambda _: len(answers_per_chat(api)) >= 60, timeout=120)
    finally:
        code, took = stop_bot(bot)
    output = log_file.read_text()
    assert code == 0, output  # stopped by itself, before the SIGKILL
    assert took < GRACE_SECONDS
    answered = answers_per_chat(api)
    assert len(answered) < backlog, "the SIGTERM was not mid-way"
    # Confirmed means answered or stored: everything fetched is in one or the other.
    store = inbox()
    try:
        counts = store.inbox_counts()
    finally:
        store.close()
    assert api.confirmed_offset == newest + 1, output
    assert counts.get("claimed", 0) == 0
    assert counts.get("pending", 0) + len(answered) == backlog

    bot = start_bot(api, log_file)  # the rest come from the inbox and are answered
    try:
        api.wait_for("sendMessage", lambda _: len(answers_per_chat(api)) == backlog, timeout=180)
        time.sleep(1.0)  # time for a repeat, if one were coming
    finally:
        code, _ = stop_bot(bot)
    output = log_file.read_text()
    assert code == 0, output
    answered = answers_per_chat(api)
    assert set(answered) == chats  # 0 lost
    assert [c for c, n in answered.items() if n > 1] == []  # 0 answered twice
    assert "Traceback" not in output


# --- groups -----------------------------------------------------------------------------------


def test_group_commands_are_answered_and_chatter_is_ignored(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        group: dict[str, Any] = {"chat_id": GROUP, "chat_type": "supergroup"}
        api.user_sends("hello all, what did Peskov say?", **group)
        first = api.user_sends("/country@ReactionsTestBot Georgia", **group)
        call = await wait(api, "sendMessage", to_chat(GROUP))
        assert "Georgia — 3 statements" in shown_text(api, call)
        assert call.params["reply_parameters"]["message_id"] == first["message_id"]
        api.user_sends("Georgia is nice this time of year", **group)
        api.user_sends("/country@SomeOtherBot Georgia", **group)
        second = api.user_sends("/ask What did Zelenskyy say?", **group)
        await wait(
            api, "sendMessage", lambda c: to_chat(GROUP)(c) and "Zelenskyy" in str(c.params["text"])
        )
        # Everything sent before the last command has been handled by now: only two replies.
        replies = [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
        assert [c.params["reply_parameters"]["message_id"] for c in replies] == [
            first["message_id"],
            second["message_id"],
        ]

    run_bot(api, engine, scenario)


def test_a_reply_to_the_bot_in_a_group_is_answered(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        group: dict[str, Any] = {"chat_id": GROUP, "chat_type": "group"}
        api.user_sends("/help", **group)
        helped = await wait(api, "sendMessage", to_chat(GROUP))
        assert "/ask" in str(helped.params["text"])
        n = len(api.calls)
        api.user_sends(
            "What did Zelenskyy say?", reply_to_message_id=helped.result["message_id"], **group
        )
        call = await wait(api, "sendMessage", to_chat(GROUP), after=n)
        assert "peace through strength" in shown_text(api, call)
        n = len(api.calls)
        api.user_sends("@ReactionsTestBot Georgia", **group)  # addressed by name
        call = await wait(api, "sendMessage", to_chat(GROUP), after=n)
        assert "Georgia — 3 statements" in shown_text(api, call)

    run_bot(api, engine, scenario)


# --- inline mode ------------------------------------------------------------------------------


def test_inline_mode_pages_through_results(api: FakeBotApi, engine: Any) -> None:
    # The engine's answers stop where relevance drops: inline pages what it answers, no padding.
    total = len(engine.ask("Trump election victory", k=51).hits)

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends_inline_query("Trump election victory")
        first = await wait(api, "answerInlineQuery")
        results = first.params["results"]
        assert len(results) == min(total, 50)
        assert (
            first.params["cache_time"] == handlers.INLINE_CACHE_SECONDS
            and first.params["is_personal"] is True  # results are in the asker's language
        )
        assert all(r["type"] == "article" and " — " in r["title"] for r in results)
        next_offset = first.params.get("next_offset", "")
        if total > 50:
            assert next_offset == "50"
        if next_offset:
            n = len(api.calls)
            api.user_sends_inline_query("Trump election victory", offset=next_offset)
            second = await wait(api, "answerInlineQuery", after=n)
            ids = {r["id"] for r in results}
            assert second.params["results"]
            assert ids.isdisjoint(r["id"] for r in second.params["results"])
        n = len(api.calls)
        api.user_sends_inline_query("Zelensky")
        zel = await wait(api, "answerInlineQuery", after=n)
        top = zel.params["results"][0]
        assert top["title"] == "Volodymyr Zelenskyy — Ukraine"
        assert "Meduza, 11.06.24" in top["input_message_content"]["message_text"]
        n = len(api.calls)
        api.user_sends_inline_query("")
        sampler = await wait(api, "answerInlineQuery", after=n)
        assert len(sampler.params["results"]) == len(engine.countries())

    run_bot(api, engine, scenario)


def test_odd_inline_offsets_get_the_first_page(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends_inline_query("Zelensky")
        first = await wait(api, "answerInlineQuery")
        for offset in ("²", "①", "١٢", "99999999999"):  # str.isdigit() accepts them all
            n = len(api.calls)
            api.user_sends_inline_query("Zelensky", offset=offset)
            again = await wait(api, "answerInlineQuery", after=n)
            assert again.params["results"] == first.params["results"]

    with caplog.at_level(logging.ERROR):
        run_bot(api, engine, scenario)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_inline_queries_are_limited_per_user(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        for _ in range(3):
            api.user_sends_inline_query("Zelensky")
        api.user_sends_inline_query("Zelensky", user_id=2002)  # another user is not limited
        api.user_sends_inline_query("Zelensky")
        await wait(api, "answerInlineQuery", lambda _: len(api.calls_to("answerInlineQuery")) == 5)
        answers = api.calls_to("answerInlineQuery")
        served = [a for a in answers if a.params["results"]]
        refused = [a for a in answers if not a.params["results"]]
        assert len(served) == 3 and len(refused) == 2  # two for user 1001, one for 2002
        for call in refused:
            assert call.params["button"]["text"].startswith("Slow down: try again in")
            # Not cached, not shared: Telegram must not show the refusal to anyone else.
            assert call.params["cache_time"] == 0 and call.params["is_personal"] is True

    with caplog.at_level(logging.INFO):
        run_bot(api, engine, scenario, inline_rate_limit=2)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# --- secrets ----------------------------------------------------------------------------------


def test_the_token_never_reaches_the_logs(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    logs.protect(api.token)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")  # as if someone turned the URLs back on

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Georgia")
        await wait(api, "sendMessage")

    try:
        run_bot(api, engine, scenario)
    finally:
        logs.protect()
    assert any(r.name == "httpx" for r in caplog.records), "httpx logged nothing: test is moot"
    assert logs.REDACTED in caplog.text
    assert api.token not in caplog.text
    assert "TEST-token" not in caplog.text
    assert not any("TEST-token" in r.getMessage() for r in caplog.records)


def test_a_rejected_token_is_not_logged(
    api: FakeBotApi, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "123456:WRONG-token-zyxw"
    logs.protect(wrong)
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        application = build_application(
            Settings(
                token=wrong,
                api_base_url=api.base_url,
                database_url=os.environ["DATABASE_URL"],
            ),
            engine,
        )
        with pytest.raises(InvalidToken):
            await application.initialize()

    try:
        asyncio.run(main())
    finally:
        logs.protect()
    assert "WRONG-token" not in caplog.text


def test_a_rejected_token_exits_2_without_printing_it(
    api: FakeBotApi, engine: Any, tmp_path: Path
) -> None:
    wrong = "123456:WRONG-token-zyxw"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": wrong,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no stray .env
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "rejected TELEGRAM_BOT_TOKEN" in output
    assert "WRONG-token" not in output


# --- webhook ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_when_listening(url: str, update: dict[str, Any], secret: str) -> httpx.Response:
    """POST an update as Telegram would; PTB sets the webhook before it starts listening."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return httpx.post(url, json=update, headers={SECRET_HEADER: secret}, timeout=10)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_webhook_mode_checks_the_secret_and_answers(api: FakeBotApi, engine: Any) -> None:
    port, secret = free_port(), "test_secret-1"
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        # Behind a TLS-terminating proxy: Telegram posts to https://..., the bot listens here.
        "WEBHOOK_URL": "https://bot.example.test",
        "WEBHOOK_SECRET": secret,
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    with tempfile.TemporaryDirectory() as cwd:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            hook = api.wait_for("setWebhook", timeout=120)
            public = str(hook.params["url"])
            assert public.startswith("https://bot.example.test/tg-")
            assert api.token not in public and "TEST-token" not in public
            url = f"http://127.0.0.1:{port}/{public.rsplit('/', 1)[1]}"
            assert hook.params["secret_token"] == secret
            message = api.user_sends("/country Georgia")
            update = {"update_id": 10_000, "message": message}
            wrong = post_when_listening(url, update, "nope")
            assert wrong.status_code == 403
            ok = post_when_listening(url, update, secret)
            assert ok.status_code == 200
            # Telegram sends an update again when it missed the 200: it is answered once.
            assert post_when_listening(url, update, secret).status_code == 200
            query = api.user_sends_inline_query("Zelensky")
            [inline] = [u for u in api.pending_updates() if "inline_query" in u]
            assert post_when_listening(url, inline, secret).status_code == 200
            call = api.wait_for("sendMessage", to_chat(USER), timeout=WAIT)
            assert "Georgia — 3 statements" in shown_text(api, call)
            answer = api.wait_for("answerInlineQuery", timeout=WAIT)
            assert answer.params["inline_query_id"] == query and answer.params["results"]
            time.sleep(1.0)  # time for a second answer, if one were coming
            assert len(api.calls_to("sendMessage")) == 1  # the forged update got nothing
        finally:
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=60)
    assert bot.returncode == 0, output
    assert "TEST-token" not in output
    store = inbox()  # the message went through the inbox; the inline query did not
    try:
        assert store.inbox_counts() == {"done": 1}
    finally:
        store.close()


# --- console ----------------------------------------------------------------------------------


def test_console_answers_piped_questions(engine: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        input="/country Georgia\nWhat did Peskov say?\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "no TELEGRAM_BOT_TOKEN" in out
    assert "Georgia — 3 statements" in out
    assert "peace and traditional values win" in out
    assert "I still know nothing about Putin's intention to congratulate Trump" in out
    assert "TASS, 11.06.24" in out
