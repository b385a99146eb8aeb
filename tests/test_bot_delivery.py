"""The outgoing seam: which requests are retried, how often, and which skip flood control."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery import (
    ANSWER_DEADLINE,
    AT_MOST_ONCE,
    RECEIVED,
    RETRY_DELAYS,
    UNTHROTTLED,
    Delivery,
    is_transient,
    may_have_arrived,
    retry_seconds,
)
from bot.updates import UpdateProcessor


class Flaky:
    """A request callback that fails with ``errors`` in turn, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.tries = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.tries += 1
        if self.errors:
            raise self.errors.pop(0)
        return True


class CountingFlood(Delivery):
    """Stands in for AIORateLimiter: counts what passes through it."""

    def __init__(self) -> None:
        super().__init__(None, ())
        self.endpoints: list[str] = []

    async def process_request(
        self, callback: Any, args: Any, kwargs: Any, endpoint: str, data: Any, rate_limit_args: Any
    ) -> Any:
        self.endpoints.append(endpoint)
        return await callback(*args, **kwargs)


def send(delivery: Delivery, callback: Flaky, endpoint: str) -> Any:
    return asyncio.run(delivery.process_request(callback, (), {}, endpoint, {"chat_id": 1}, None))


def test_transient_failures_are_retried_then_raised() -> None:
    delivery = Delivery(None, delays=(0, 0, 0))
    flaky = Flaky(NetworkError("Bad Gateway"), TimedOut())
    assert send(delivery, flaky, "sendMessage") is True and flaky.tries == 3
    down = Flaky(*[NetworkError("Bad Gateway")] * 4)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        send(delivery, down, "editMessageText")
    assert down.tries == 4  # the first try and three retries


@pytest.mark.parametrize(
    "make",
    [
        lambda: BadRequest("Message is not modified"),
        lambda: Forbidden("Forbidden: bot was blocked by the user"),
        lambda: RetryAfter(dt.timedelta(seconds=1)),  # AIORateLimiter's to handle
    ],
    ids=["bad request", "forbidden", "retry after"],
)
def test_errors_that_repeat_are_not_retried(make: Callable[[], Exception]) -> None:
    error = make()
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        send(Delivery(None, delays=(0, 0, 0)), flaky, "sendMessage")
    assert flaky.tries == 1 and not is_transient(error)


def test_only_what_a_user_waits_for_is_retried() -> None:
    flaky = Flaky(NetworkError("Bad Gateway"))
    with pytest.raises(NetworkError):
        send(Delivery(None, delays=(0, 0, 0)), flaky, "setMyCommands")
    assert flaky.tries == 1


def test_answers_skip_flood_control_and_every_retry_queues_again() -> None:
    flood = CountingFlood()
    delivery = Delivery(flood, delays=(0, 0))
    send(delivery, Flaky(), "answerInlineQuery")
    send(delivery, Flaky(NetworkError("x")), "answerCallbackQuery")
    assert flood.endpoints == []
    send(delivery, Flaky(NetworkError("x")), "sendMessage")
    assert flood.endpoints == ["sendMessage", "sendMessage"]


def test_the_delays_are_the_configured_ones() -> None:
    assert Delivery(None).delays == RETRY_DELAYS == (0.5, 1.0, 2.0)


def timed_out(cause: Exception) -> TimedOut:
    """PTB's TimedOut as its httpx request raises it: the httpx error as its cause."""
    try:
        raise TimedOut() from cause
    except TimedOut as exc:
        return exc


def test_a_send_at_most_once_is_retried_only_when_nothing_left() -> None:
    request = httpx.Request("POST", "http://api/sendMessage")
    before = [httpx.PoolTimeout("pool"), httpx.ConnectTimeout("connect", request=request)]
    after = httpx.ReadTimeout("read", request=request)
    assert not any(may_have_arrived(timed_out(c)) for c in before)
    assert may_have_arrived(timed_out(after)) and may_have_arrived(TimedOut())

    async def once(delivery: Delivery, callback: Flaky) -> Any:
        return await delivery.process_request(
            callback, (), {}, "sendMessage", {"chat_id": 1}, AT_MOST_ONCE
        )

    delivery = Delivery(None, delays=(0, 0, 0))
    flaky = Flaky(*(timed_out(c) for c in before))
    assert asyncio.run(once(delivery, flaky)) is True and flaky.tries == 3
    sent = Flaky(timed_out(after))
    with pytest.raises(TimedOut):
        asyncio.run(once(delivery, sent))
    assert sent.tries == 1


def flood(seconds: float) -> RetryAfter:
    return RetryAfter(dt.timedelta(seconds=seconds))


def answer_at(delivery: Delivery, callback: Flaky, endpoint: str, received: float | None) -> Any:
    """Send an answer while handling an update that reached the bot at ``received``."""

    async def run() -> Any:
        RECEIVED.set(received)
        return await delivery.process_request(callback, (), {}, endpoint, {}, None)

    return asyncio.run(run())


@pytest.mark.parametrize("endpoint", sorted(UNTHROTTLED))
def test_a_429_on_an_answer_is_waited_out_once_if_the_retry_is_in_time(endpoint: str) -> None:
    delivery = Delivery(CountingFlood(), delays=(0, 0, 0))
    now = time.monotonic()
    flaky = Flaky(flood(0.01))
    assert answer_at(delivery, flaky, endpoint, now) is True and flaky.tries == 2
    assert retry_seconds(flood(0.01)) == pytest.approx(0.01)
    twice = Flaky(flood(0.01), flood(0.01))  # waited once already: the second is raised
    with pytest.raises(RetryAfter):
        answer_at(delivery, twice, endpoint, now)
    assert twice.tries == 2
    # The deadline runs from the update's arrival: 9 s ago, a 1 s wait would end too late.
    late = Flaky(flood(1))
    with pytest.raises(RetryAfter):
        answer_at(delivery, late, endpoint, now - (ANSWER_DEADLINE - 1))
    assert late.tries == 1
    # Without an update (RECEIVED unset) it runs from the first try.
    assert answer_at(delivery, Flaky(flood(0.01)), endpoint, None) is True
    too_long = Flaky(flood(ANSWER_DEADLINE))
    with pytest.raises(RetryAfter):
        answer_at(delivery, too_long, endpoint, None)
    assert too_long.tries == 1


def test_the_update_processor_marks_when_an_update_arrived() -> None:
    seen: list[float | None] = []

    async def handle() -> None:
        seen.append(RECEIVED.get())

    async def scenario() -> None:
        processor = UpdateProcessor()
        before = time.monotonic()
        await processor.process_update(object(), handle())
        assert seen[0] is not None and before <= seen[0] <= time.monotonic()
        assert RECEIVED.get() is None  # only for that update's handling

    asyncio.run(scenario())
