"""Outgoing requests: transient failures retried, flood control for sends but not for answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter, BaseRateLimiter

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
    the ``UNTHROTTLED`` answers, which go straight out.
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
        delays = self.delays if endpoint in RETRIED else ()
        once = rate_limit_args == AT_MOST_ONCE
        if once:
            rate_limit_args = None
        for attempt in range(len(delays) + 1):
            try:
                if self.flood is None or endpoint in UNTHROTTLED:
                    return await callback(*args, **kwargs)
                return await self.flood.process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
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
        raise AssertionError("unreachable: the last try returns or raises")
