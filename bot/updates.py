"""Incoming updates: concurrency budgets, and long polling that confirms only handled updates."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, BaseUpdateProcessor

from bot.delivery import RECEIVED, is_transient

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 32  # one slow reply (a chart, a slow network) must not hold up the rest
# Inline queries and button presses have slots of their own: a backlog of messages waiting for
# Telegram's per-chat limits must not make them miss Telegram's ~10 s answer deadline.
QUICK_UPDATES = 16
# PTB's own semaphore in front of the two budgets above; only bounds the tasks kept waiting.
UPDATE_CEILING = 1024

ALLOWED_UPDATES = Update.ALL_TYPES
POLL_TIMEOUT = 10  # seconds a long poll waits for news when nothing is in flight
FETCH_LIMIT = 100  # updates a getUpdates call returns at most (Telegram's cap)
# Updates fetched but not yet handled. Telegram forgets an update only when getUpdates is called
# with an offset past it, so these are the ones a stop must finish or leave to be sent again;
# at Telegram's ~30 messages a second they drain in about 2 s.
MAX_IN_FLIGHT = 64
# While updates are in flight getUpdates cannot long-poll (it returns at once with those
# unconfirmed updates), so the poller waits for them to finish, or at most this long.
REFETCH_SECONDS = 0.25
POLL_ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after failed getUpdates calls; the last repeats
# On SIGTERM or SIGINT: fetching stops, the updates in flight get DRAIN_SECONDS to be answered
# (the rest are cancelled and left unconfirmed), the answered ones are confirmed within
# CONFIRM_SECONDS, and the process exits: all within GRACE_SECONDS, which the README asks
# process managers to allow before SIGKILL.
DRAIN_SECONDS = 5.0
CONFIRM_SECONDS = 1.0
GRACE_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def is_quick(update: object) -> bool:
    """Inline queries and button presses: a user is watching a spinner."""
    return isinstance(update, Update) and (
        update.inline_query is not None or update.callback_query is not None
    )


class UpdateProcessor(BaseUpdateProcessor):
    """``messages`` updates at a time, and beside them ``quick`` inline queries and button presses."""

    def __init__(self, messages: int = CONCURRENT_UPDATES, quick: int = QUICK_UPDATES) -> None:
        super().__init__(UPDATE_CEILING)
        self._messages = asyncio.Semaphore(messages)
        self._quick = asyncio.Semaphore(quick)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for a slot of the update's own kind, then handle it."""
        # The answers' deadline runs from here (bot.delivery), for this update's handling only.
        arrival = RECEIVED.set(time.monotonic()) if RECEIVED.get() is None else None
        try:
            async with self._quick if is_quick(update) else self._messages:
                await coroutine
        except asyncio.CancelledError:
            if inspect.iscoroutine(coroutine):  # cancelled before its turn: never started
                coroutine.close()
            raise
        finally:
            if arrival is not None:
                RECEIVED.reset(arrival)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class Poller:
    """Long polling that confirms to Telegram only the updates that were handled.

    Telegram forgets an update once getUpdates is called with an offset past it. PTB's Updater
    passes the offset past everything it fetched, handled or not, and drains its queue on stop:
    with a backlog, a SIGKILL after the grace loses questions already confirmed. Here the offset
    is always the oldest update still in flight, so a kill at any moment loses nothing (at worst
    some answers are sent twice after the restart); fetching pauses at ``max_in_flight``.
    """

    def __init__(
        self,
        application: Application,
        *,
        poll_timeout: float = POLL_TIMEOUT,
        max_in_flight: int = MAX_IN_FLIGHT,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self.application = application
        self.poll_timeout = poll_timeout
        self.max_in_flight = max_in_flight
        self.drain_seconds = drain_seconds
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # update id -> its handling
        self._newest: int | None = None  # the newest update id handed to the application
        self._confirmed: int | None = None  # the offset of the last getUpdates Telegram answered
        self._fetch: asyncio.Future[tuple[Update, ...]] | None = None
        self._stopping: asyncio.Event | None = None
        self._idle = asyncio.Event()  # set while nothing is in flight
        self.task: asyncio.Task[None] | None = None

    @property
    def offset(self) -> int | None:
        """The getUpdates offset: the oldest update not yet handled (None: nothing fetched yet)."""
        if self._in_flight:
            return min(self._in_flight)
        return None if self._newest is None else self._newest + 1

    async def start(self, bootstrap_retries: int = 0) -> None:
        """Remove any webhook (getUpdates refuses to work beside one), then poll in the background."""
        self._stopping = asyncio.Event()
        await retry_transient(self.application.bot.delete_webhook, bootstrap_retries)
        self.task = asyncio.create_task(self._poll(), name="Poller")

    async def stop(self) -> None:
        """Stop fetching, let updates in flight finish (``drain_seconds``), confirm those handled."""
        if self._stopping is None or self.task is None:
            return
        self._stopping.set()
        if self._fetch is not None:
            self._fetch.cancel()  # an unanswered long poll: whatever it brings comes again later
        running = [t for t in self._in_flight.values() if not t.done()]
        if running:
            log.info("Answering %d updates in flight before stopping", len(running))
            _, late = await asyncio.wait(running, timeout=self.drain_seconds)
            if late:
                log.warning(
                    "%d updates were not answered within %.1f s; Telegram will send them again",
                    len(late),
                    self.drain_seconds,
                )
                for task in late:
                    task.cancel()
                await asyncio.wait(late)
        with contextlib.suppress(Exception):  # a polling failure is the runner's to report
            await self.task
        await self._confirm()

    # --- the loop -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        assert self._stopping is not None
        failures = 0
        while not self._stopping.is_set():
            if self._in_flight:
                await self._sleep(REFETCH_SECONDS, until=self._idle)
                if self._stopping.is_set() or len(self._in_flight) >= self.max_in_flight:
                    continue
            busy = bool(self._in_flight)
            try:
                updates = await self._get_updates(timeout=0 if busy else self.poll_timeout)
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    break
                raise
            except InvalidToken:
                raise
            except TelegramError as exc:
                delay = POLL_ERROR_DELAYS[min(failures, len(POLL_ERROR_DELAYS) - 1)]
                failures += 1
                log.warning("getUpdates failed (%s); trying again in %.0f s", exc, delay)
                await self._sleep(delay)
                continue
            failures = 0
            if not self._stopping.is_set():  # fetched while stopping: unconfirmed, comes again
                self._dispatch(updates)

    async def _get_updates(self, timeout: float) -> tuple[Update, ...]:
        offset = self.offset
        self._fetch = asyncio.ensure_future(
            self.application.bot.get_updates(
                offset=offset,
                limit=FETCH_LIMIT,
                timeout=timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        try:
            updates = await self._fetch
        finally:
            self._fetch = None
        self._confirmed = offset
        return updates

    def _dispatch(self, updates: tuple[Update, ...]) -> None:
        """Hand new updates to the application; those in flight or handled come back: skip them."""
        for update in updates:
            if self._newest is not None and update.update_id <= self._newest:
                continue
            if len(self._in_flight) >= self.max_in_flight:
                break  # not confirmed: a later getUpdates brings it again
            task = asyncio.create_task(self._handle(update), name=f"update {update.update_id}")
            self._in_flight[update.update_id] = task
            task.add_done_callback(functools.partial(self._finished, update.update_id))
            self._newest = update.update_id
            self._idle.clear()

    def _finished(self, update_id: int, task: asyncio.Task[None]) -> None:
        # A cancelled update stays in flight: the offset must not pass it.
        if not task.cancelled():
            self._in_flight.pop(update_id, None)
        if not self._in_flight:
            self._idle.set()

    async def _handle(self, update: Update) -> None:
        application = self.application
        try:
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception:  # handlers' errors go to the error handler; this is PTB's own failure
            log.exception("Could not process update %d", update.update_id)

    async def _confirm(self) -> None:
        """Tell Telegram which updates were handled, so a restart does not answer them again."""
        offset = self.offset
        if offset is None or offset == self._confirmed:
            return
        try:
            await asyncio.wait_for(
                self.application.bot.get_updates(
                    offset=offset, limit=1, timeout=0, allowed_updates=ALLOWED_UPDATES
                ),
                CONFIRM_SECONDS,
            )
        except (TelegramError, TimeoutError) as exc:
            log.warning("Could not confirm the answered updates (%s); some may come again", exc)
            return
        self._confirmed = offset

    async def _sleep(self, seconds: float, until: asyncio.Event | None = None) -> None:
        """Wait ``seconds``, less if stopping or once ``until`` is set."""
        assert self._stopping is not None
        events = [self._stopping] if until is None else [self._stopping, until]
        waits = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()


async def retry_transient(action: Callable[[], Awaitable[Any]], retries: int) -> None:
    """Run ``action``, again up to ``retries`` times while it fails transiently (start-up calls)."""
    for attempt in range(retries + 1):
        try:
            await action()
            return
        except TelegramError as exc:
            if attempt == retries or not is_transient(exc):
                raise
            delay = POLL_ERROR_DELAYS[min(attempt, len(POLL_ERROR_DELAYS) - 1)]
            log.warning("Telegram is not reachable (%s); trying again in %.0f s", exc, delay)
            await asyncio.sleep(delay)


def run_polling(application: Application, *, bootstrap_retries: int = 0) -> None:
    """Serve with long polling until SIGINT or SIGTERM, then stop within ``GRACE_SECONDS``."""
    asyncio.run(_serve(application, bootstrap_retries))


async def _serve(application: Application, bootstrap_retries: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    poller = Poller(application)
    try:
        await retry_transient(application.initialize, bootstrap_retries)
        if application.post_init:
            await application.post_init(application)
        await application.start()
        try:
            await poller.start(bootstrap_retries)
            assert poller.task is not None
            signalled = asyncio.create_task(stop.wait())
            await asyncio.wait({signalled, poller.task}, return_when=asyncio.FIRST_COMPLETED)
            signalled.cancel()
            log.info("Stopping (answering what is in flight for up to %.0f s)", DRAIN_SECONDS)
            await poller.stop()
        finally:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        if poller.task is not None and poller.task.done() and not poller.task.cancelled():
            failure = poller.task.exception()
            if failure is not None:  # e.g. the token was revoked while polling
                raise failure
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
