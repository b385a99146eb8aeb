"""Incoming updates: inline queries and button presses have slots of their own; the webhook's
queue stores messages in the inbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from pathlib import Path
from typing import cast

import pytest
from telegram import CallbackQuery, Chat, InlineQuery, Message, Update, User
from telegram.ext import Application

from bot.storage import Store
from bot.updates import InboxQueue, Poller, StoreFailed, UpdateProcessor, is_quick

USER = User(1001, "Alice", False)
NOW = dt.datetime(2024, 11, 6, tzinfo=dt.UTC)
MESSAGE = Update(1, message=Message(1, NOW, Chat(1001, "private"), from_user=USER, text="hi"))
INLINE = Update(2, inline_query=InlineQuery("q", USER, "Peskov", ""))
BUTTON = Update(3, callback_query=CallbackQuery("c", USER, "-1", data="p|1|c:Georgia"))


def test_inline_queries_and_buttons_are_quick() -> None:
    assert [is_quick(u) for u in (MESSAGE, INLINE, BUTTON)] == [False, True, True]
    assert not is_quick(object())


def test_a_backlog_of_messages_does_not_hold_up_inline_queries() -> None:
    async def scenario() -> list[str]:
        processor = UpdateProcessor(messages=2, quick=1)
        release = asyncio.Event()
        done: list[str] = []

        async def handle(name: str, wait: bool) -> None:
            if wait:
                await release.wait()  # a send waiting for a group's flood limit
            done.append(name)

        stuck = [
            asyncio.create_task(processor.process_update(MESSAGE, handle(f"message {i}", True)))
            for i in range(4)
        ]
        await asyncio.wait_for(processor.process_update(INLINE, handle("inline", False)), 5)
        await asyncio.wait_for(processor.process_update(BUTTON, handle("button", False)), 5)
        assert done == ["inline", "button"]  # both message slots are still taken
        release.set()
        await asyncio.gather(*stuck)
        return done

    assert sorted(asyncio.run(scenario())[2:]) == [f"message {i}" for i in range(4)]


def test_an_update_cancelled_before_its_turn_is_closed_not_left_unawaited() -> None:
    async def scenario() -> None:
        processor = UpdateProcessor(messages=1, quick=1)
        release = asyncio.Event()
        first = asyncio.create_task(processor.process_update(MESSAGE, release.wait()))
        never = release.wait()
        waiting = asyncio.create_task(processor.process_update(MESSAGE, never))
        await asyncio.sleep(0.01)
        waiting.cancel()  # a stop gave up on it while it waited for a slot
        await asyncio.gather(waiting, return_exceptions=True)
        # Closed: no "coroutine was never awaited" warning when it is collected.
        assert inspect.getcoroutinestate(never) == inspect.CORO_CLOSED
        release.set()
        await first

    asyncio.run(scenario())


class KeepingPoller:
    """Stands in for the Poller behind an InboxQueue: records what it is asked to store."""

    def __init__(self, fail: bool = False) -> None:
        self.kept: list[int] = []
        self.fail = fail

    async def keep(self, updates: list[Update]) -> None:
        if self.fail:
            raise StoreFailed("the database is gone")
        self.kept += [u.update_id for u in updates]


def test_the_webhook_queue_stores_messages_and_queues_quick_updates() -> None:
    async def scenario() -> None:
        queue = InboxQueue()
        await queue.put(MESSAGE)  # no poller (polling mode): a plain queue
        assert queue.get_nowait() is MESSAGE
        poller = KeepingPoller()
        queue.poller = poller  # type: ignore[assignment]
        marker = object()
        for item in (MESSAGE, INLINE, BUTTON, marker):
            await queue.put(item)
        assert poller.kept == [MESSAGE.update_id]
        assert [queue.get_nowait() for _ in range(queue.qsize())] == [INLINE, BUTTON, marker]
        queue.poller = KeepingPoller(fail=True)  # type: ignore[assignment]
        # Not stored: the webhook's request fails (500) and Telegram sends the update again.
        with pytest.raises(StoreFailed):
            await queue.put(MESSAGE)
        assert queue.empty()

    asyncio.run(scenario())


class Unwritable:
    """An update whose JSON cannot be written."""

    update_id = 9

    def to_json(self) -> str:
        raise ValueError("not serialisable")


def test_an_update_that_cannot_be_stored_is_dropped_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    poller = Poller(cast(Application, None), store=store)
    asyncio.run(poller.keep([cast(Update, Unwritable()), MESSAGE]))
    assert [u.update_id for u in store.inbox_claim("me", 5)] == [MESSAGE.update_id]
    assert "Update 9 cannot be stored" in caplog.text
    store.close()
