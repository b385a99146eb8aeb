"""The outgoing seam: which requests are retried, how often, and which skip flood control."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery import AT_MOST_ONCE, RETRY_DELAYS, Delivery, is_transient, may_have_arrived


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
