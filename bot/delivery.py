"""Outgoing requests: transient failures retried, flood control for sends but not for answers."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

# Seconds before each retry of a transient failure (a 5xx from Telegram, a timeout, a dropped
# connection): four tries in all, about 3.5 s of waiting, then the error reaches the handler.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
# The requests a user waits for. Others (menus, descriptions) fail once and are logged.
RETRIED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "answerInlineQuery",
        "answerCallbackQuery",
    }
)
# Telegram drops an inline query's answer after ~10 s and a pressed button spins until it is
# answered; neither counts against the per-chat message limits, so neither waits in the flood
# limiter's queue (nor in its pause after a 429) behind bulk messages.
UNTHROTTLED = frozenset({"answerInlineQuery", "answerCallbackQuery"})
# Telegram takes an inline query's answer for ~10 s after the query (later ones fail "query is
# too old"); a button's spinner gives up about as soon. A 429 on one of those answers is waited
# out, once, when the retry still goes out ANSWER_MARGIN before that deadline; otherwise the
# error handler logs it in one line (there is no one to apologise to in time).
ANSWER_DEADLINE = 10.0
ANSWER_MARGIN = 1.0  # the retry's own round trip, and the time Telegram had the update first
# time.monotonic() when the update being handled reached the bot (bot.updates sets it for each
# update's handling); None outside one: the answer's deadline then runs from its first try.
RECEIVED: contextvars.ContextVar[float | None] = contextvars.ContextVar("received", default=None)
# Requests the user sees (an answer, an edit). bot.updates sets STARTED for the handling of a
# stored update and counts here those that went out: one started may have reached the user,
# so a handling cut short after it must not be answered again from the start.
VISIBLE = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


class Started:
    """How many VISIBLE requests one update's handling has sent (or begun to send)."""

    def __init__(self) -> None:
        self.count = 0


STARTED: contextvars.ContextVar[Started | None] = contextvars.ContextVar("started", default=None)
FLOOD_RETRIES = 2  # AIORateLimiter's retries after a 429 (RetryAfter), having waited as told
# ``rate_limit_args`` of a send that must reach the user at most once (a follower's digest):
# a timeout is not tried again, because Telegram may have delivered the first try.
AT_MOST_ONCE = -1

Result = bool | dict[str, Any] | list[dict[str, Any]]


def is_transient(exc: BaseException) -> bool:
    """A failure worth another try: 5xx, timeouts, network trouble (PTB's NetworkError).

    PTB derives BadRequest from NetworkError too; a bad request never gets better by repeating.
    """
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB gives an int or, opted in, a timedelta)."""
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)


def may_have_arrived(exc: BaseException) -> bool:
    """A timeout after the request left: Telegram may have acted on it. A pool or connect
    timeout (PTB's TimedOut from httpx's PoolTimeout or ConnectTimeout) never sent anything."""
    return isinstance(exc, TimedOut) and not isinstance(
        exc.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout
    )


def flood_limiter() -> AIORateLimiter:
    """Telegram's limits on sending: ~30 messages a second, 20 a minute per group."""
    return AIORateLimiter(max_retries=FLOOD_RETRIES)


class Delivery(BaseRateLimiter[int]):
    """The one seam every Bot API request but getUpdates passes (PTB's rate-limiter hook).

    Requests in ``RETRIED`` are tried again after ``RETRY_DELAYS`` when they fail transiently;
    each try queues in ``flood`` (an AIORateLimiter, or None for no flood control) again, except
    the ``UNTHROTTLED`` answers, which go straight out: a 429 on one of those is waited out once
    if the retry still meets the answer's deadline (``ANSWER_DEADLINE``), else it is raised.
    """

    def __init__(
        self, flood: BaseRateLimiter[int] | None, delays: Sequence[float] | None = None
    ) -> None:
        self.flood = flood
        self.delays = tuple(RETRY_DELAYS if delays is None else delays)

    async def initialize(self) -> None:
        """Initialize the flood limiter."""
        if self.flood is not None:
            await self.flood.initialize()

    async def shutdown(self) -> None:
        """Shut the flood limiter down."""
        if self.flood is not None:
            await self.flood.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Send one request: through flood control unless it is an answer, retried if it may be."""
        started = STARTED.get()
        if started is not None and endpoint in VISIBLE:
            callback = _counted(callback, started)
        delays = self.delays if endpoint in RETRIED else ()
        once = rate_limit_args == AT_MOST_ONCE
        if once:
            rate_limit_args = None
        received = RECEIVED.get()
        deadline = (time.monotonic() if received is None else received) + ANSWER_DEADLINE
        flood_waited = False
        attempt = 0
        while True:
            try:
                if self.flood is None or endpoint in UNTHROTTLED:
                    return await callback(*args, **kwargs)
                return await self.flood.process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except RetryAfter as exc:
                # Sends are AIORateLimiter's to wait out; only the answers come here unwaited.
                wait = retry_seconds(exc)
                late = time.monotonic() + wait + ANSWER_MARGIN > deadline
                if endpoint not in UNTHROTTLED or flood_waited or late:
                    raise
                flood_waited = True
                log.info("%s: flood control; trying again in %.1f s, in time", endpoint, wait)
                await asyncio.sleep(wait)
            except Exception as exc:
                if attempt == len(delays) or not is_transient(exc):
                    raise
                if once and may_have_arrived(exc):
                    raise
                log.warning(
                    "%s failed (%s); try %d of %d in %.1f s",
                    endpoint,
                    exc,
                    attempt + 2,
                    len(delays) + 1,
                    delays[attempt],
                )
                await asyncio.sleep(delays[attempt])
                attempt += 1


def _counted(
    callback: Callable[..., Coroutine[Any, Any, Result]], started: Started
) -> Callable[..., Coroutine[Any, Any, Result]]:
    """``callback`` (the request itself, past flood control), counted in ``started``."""

    async def send(*args: Any, **kwargs: Any) -> Result:
        started.count += 1
        return await callback(*args, **kwargs)

    return send
