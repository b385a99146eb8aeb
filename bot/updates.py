"""Incoming updates: concurrency budgets, and long polling into a durable inbox."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import os
import secrets
import signal
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, BaseUpdateProcessor

from bot.delivery import RECEIVED, STARTED, Started, is_transient
from bot.storage import Inboxed, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

CONCURRENT_UPDATES = 32  # one slow reply (a chart, a slow network) must not hold up the rest
# Inline queries and button presses have slots of their own: a backlog of messages waiting for
# Telegram's per-chat limits must not make them miss Telegram's ~10 s answer deadline.
QUICK_UPDATES = 16
# PTB's own semaphore in front of the two budgets above; only bounds the tasks kept waiting.
UPDATE_CEILING = 1024

ALLOWED_UPDATES = Update.ALL_TYPES
POLL_TIMEOUT = 10  # seconds a long poll waits for news
FETCH_LIMIT = 100  # updates a getUpdates call returns at most (Telegram's cap)
POLL_ERROR_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after failed getUpdates calls; the last repeats

# The durable inbox (bot.storage's ``inbox`` table). Message updates are stored there, in one
# transaction a batch, before the getUpdates offset passes them, so fetching never waits for
# answers: an inline query or a button press behind a backlog of questions is fetched, and
# answered, at once. Inline queries and button presses are not stored: they are worthless
# after Telegram's ~10 s, longer than a restart takes, so they are answered on arrival and a
# crash loses the few in flight.
# Inbox updates this process has claimed at most: CONCURRENT_UPDATES of them are handled at
# once, the rest wait ready. A stop finishes or releases them; at ~30 messages a second they
# are answered in about 2 s.
MAX_IN_FLIGHT = 64
CLAIM_POLL_SECONDS = 1.0  # how often to look for updates another process stored or released
CLAIM_COALESCE_SECONDS = 0.02  # answers finishing together are marked done in one transaction
# Claims are refreshed every CLAIM_REFRESH_SECONDS while their process lives; one older than
# CLAIM_EXPIRE_SECONDS belongs to a process that died (SIGKILL, a crash): its update is
# pending again for any process (if its answer went out before the death, it goes out twice),
# or, claimed MAX_ATTEMPTS times already, given up (it may be what kills its handler).
CLAIM_REFRESH_SECONDS = 5.0
CLAIM_EXPIRE_SECONDS = 30.0
MAX_ATTEMPTS = 3
# Updates waiting in the inbox at most: past it fetching pauses INBOX_FULL_PAUSE at a time
# (Telegram keeps unfetched updates for 24 h) rather than fill the disk.
INBOX_LIMIT = 20_000
INBOX_FULL_PAUSE = 1.0
# Answered updates keep their id (not their text) until Telegram has acknowledged an offset
# past them, so the same update fetched again (stored, then a stop before the next getUpdates
# confirmed it) or sent again by webhook is not answered twice; at most INBOX_KEEP_SECONDS
# (Telegram keeps an update 24 h), which bounds the table in webhook mode.
INBOX_KEEP_SECONDS = 24 * 3600.0
PURGE_SECONDS = 60.0  # how often answered ids are purged
RECENT_QUICK = 1_000  # ids of inline queries and presses remembered against a re-fetch
# On SIGTERM or SIGINT: fetching and claiming stop, the updates in flight get DRAIN_SECONDS to
# be answered (the rest are cancelled; their claims released for the next start or another
# replica, except those whose answer had gone out: done, never answered twice), the inbox is written within STORE_SECONDS and the stored updates confirmed to
# Telegram within CONFIRM_SECONDS, and the process exits: all within GRACE_SECONDS, which the
# README asks process managers to allow before SIGKILL.
DRAIN_SECONDS = 5.0
STORE_SECONDS = 1.0
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
    """Long polling into the durable inbox; workers answer what it holds.

    Telegram forgets an update once getUpdates is called with an offset past it. Here the offset
    passes only updates that are answered or stored: message updates are written to the inbox
    (``bot.storage``) before the next getUpdates, inline queries and button presses are
    answered on arrival. A separate loop claims stored updates, oldest first (what a previous
    run or another replica left comes first), at most ``max_in_flight`` at a time, and marks
    each done once answered. A kill at any moment loses no stored question; one being answered
    at that moment may be answered twice after its claim expires (CLAIM_EXPIRE_SECONDS).
    """

    def __init__(
        self,
        application: Application,
        *,
        store: Store | None = None,
        poll_timeout: float = POLL_TIMEOUT,
        max_in_flight: int = MAX_IN_FLIGHT,
        drain_seconds: float = DRAIN_SECONDS,
        worker: str | None = None,
        fetch: bool = True,
    ) -> None:
        self.application = application
        self.fetch = fetch  # False: updates come by webhook (InboxQueue), only answer them
        self._store = store
        self.poll_timeout = poll_timeout
        self.max_in_flight = max_in_flight
        self.drain_seconds = drain_seconds
        # Unique per process: a claim names its owner (a restart is a new owner).
        self.worker = worker or f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        self._offset: int | None = None  # past every update answered or stored
        self._confirmed: int | None = None  # the offset of the last getUpdates Telegram answered
        self._fetch: asyncio.Future[tuple[Update, ...]] | None = None
        self._stopping: asyncio.Event | None = None
        self._wake = asyncio.Event()  # something to claim, or a slot free
        self._claimed: dict[int, asyncio.Task[None]] = {}  # update id -> its handling
        self._started: dict[int, Started] = {}  # update id -> the answers it has sent
        self._quick: set[asyncio.Task[None]] = set()
        self._done: list[int] = []  # answered, not yet marked in the inbox
        self._recent: deque[int] = deque(maxlen=RECENT_QUICK)
        self._waiting = 0  # updates in the inbox not yet done, as last counted
        self._executor: ThreadPoolExecutor | None = None
        self.task: asyncio.Task[None] | None = None
        self.drainer: asyncio.Task[None] | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from bot.handlers import STORE

            self._store = self.application.bot_data[STORE]
        return self._store

    @property
    def offset(self) -> int | None:
        """The getUpdates offset: past every update answered or stored (None: none fetched)."""
        return self._offset

    async def start(self, bootstrap_retries: int = 0) -> None:
        """Remove any webhook (getUpdates refuses to work beside one), then fetch and answer in
        the background."""
        self._stopping = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="inbox")
        if self.fetch:
            await retry_transient(self.application.bot.delete_webhook, bootstrap_retries)
        self.drainer = asyncio.create_task(self._drain(), name="Inbox")
        self.task = asyncio.create_task(self._poll() if self.fetch else self._idle(), name="Poller")

    async def stop(self) -> None:
        """Stop fetching and claiming, let updates in flight finish (``drain_seconds``), mark
        them done, release the rest, confirm what was stored."""
        if self._stopping is None or self.task is None or self.drainer is None:
            return
        self._stopping.set()
        if self._fetch is not None:
            self._fetch.cancel()  # an unanswered long poll: whatever it brings comes again later
        for loop in (self.task, self.drainer):
            with contextlib.suppress(Exception):  # a failure is the runner's to report
                await loop
        running = [t for t in (*self._claimed.values(), *self._quick) if not t.done()]
        if running:
            log.info("Answering %d updates in flight before stopping", len(running))
            _, late = await asyncio.wait(running, timeout=self.drain_seconds)
            if late:
                log.warning(
                    "%d updates were not answered within %.1f s; left in the inbox for the "
                    "next start",
                    len(late),
                    self.drain_seconds,
                )
                for task in late:
                    task.cancel()
                await asyncio.wait(late)
        try:
            await asyncio.wait_for(self._settle(), STORE_SECONDS)
        except Exception as exc:  # the database is gone: its claims expire instead
            log.warning("Could not release the inbox's claims (%s); they expire", exc)
        await self._confirm()
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    async def _settle(self) -> None:
        """Mark the answered updates done and give back the claims not answered."""
        await self._flush()
        released = await self._db(self.store.inbox_release, self.worker)
        if released:
            log.info("%d stored updates left for the next start", released)

    # --- fetching -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        assert self._stopping is not None
        failures = 0
        while not self._stopping.is_set():
            if self._waiting >= INBOX_LIMIT:
                await self._sleep(INBOX_FULL_PAUSE)
                with contextlib.suppress(Exception):
                    self._waiting = await self._db(self.store.inbox_put, [])
                if self._waiting >= INBOX_LIMIT:
                    log.warning("The inbox holds %d updates; fetching paused", self._waiting)
                    continue
            try:
                updates = await self._get_updates(timeout=self.poll_timeout)
                if self._stopping.is_set():
                    break  # fetched while stopping: not stored nor confirmed, comes again
                await self._take(updates)
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    break
                raise
            except InvalidToken:
                raise
            except (TelegramError, StoreFailed) as exc:
                delay = POLL_ERROR_DELAYS[min(failures, len(POLL_ERROR_DELAYS) - 1)]
                failures += 1
                what = exc if isinstance(exc, StoreFailed) else f"getUpdates failed ({exc})"
                log.warning("%s; trying again in %.0f s", what, delay)
                await self._sleep(delay)
                continue
            failures = 0

    async def _idle(self) -> None:
        """In place of fetching in webhook mode: wait for the stop."""
        assert self._stopping is not None
        await self._stopping.wait()

    async def _get_updates(self, timeout: float) -> tuple[Update, ...]:
        offset = self._offset
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

    async def _take(self, updates: tuple[Update, ...]) -> None:
        """Answer the quick updates, store the rest; then the offset may pass them all."""
        if not updates:
            return
        for update in updates:
            if is_quick(update) and update.update_id not in self._recent:
                self._recent.append(update.update_id)
                task = asyncio.create_task(self._handle(update), name=f"update {update.update_id}")
                self._quick.add(task)
                task.add_done_callback(self._quick.discard)
        await self.keep([u for u in updates if not is_quick(u)])
        self._offset = max(u.update_id for u in updates) + 1

    async def keep(self, updates: Sequence[Update]) -> None:
        """Store updates in the inbox (one transaction) for the drain loop to answer; raises
        StoreFailed when they could not be stored (the caller must not confirm them)."""
        rows = []
        for update in updates:
            try:
                rows.append((update.update_id, update.to_json()))
            except Exception as exc:  # bad input never stops fetching: it is given up
                log.warning("Update %d cannot be stored (%s); dropped", update.update_id, exc)
        if not rows:
            return
        try:
            self._waiting = await self._db(self.store.inbox_put, rows)
        except Exception as exc:  # not stored: not confirmed, Telegram sends them again
            raise StoreFailed(f"Could not store {len(rows)} updates ({exc})") from exc
        self._wake.set()

    async def _confirm(self) -> None:
        """Tell Telegram which updates were stored, so a restart does not fetch them again
        (if it does, the inbox knows them: nothing is answered twice)."""
        offset = self._offset
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
            log.warning("Could not confirm the stored updates (%s); they come again", exc)
            return
        self._confirmed = offset

    # --- answering what the inbox holds -------------------------------------------------------

    async def _drain(self) -> None:
        assert self._stopping is not None
        store = self.store
        refreshed = purged = 0.0
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self._flush()
                clock = time.monotonic()
                if clock - refreshed >= CLAIM_REFRESH_SECONDS:
                    if self._claimed:
                        await self._db(store.inbox_refresh, self.worker)
                    await self._db(store.inbox_expire, CLAIM_EXPIRE_SECONDS, MAX_ATTEMPTS)
                    refreshed = clock
                if clock - purged >= PURGE_SECONDS:
                    await self._db(
                        functools.partial(store.inbox_purge, below=self._confirmed),
                        INBOX_KEEP_SECONDS,
                    )
                    purged = clock
                free = self.max_in_flight - len(self._claimed)
                if free > 0:
                    claimed = await self._db(store.inbox_claim, self.worker, free)
                    if self._stopping.is_set():
                        await self._db(
                            store.inbox_release, self.worker, [u.update_id for u in claimed]
                        )
                        break
                    for row in claimed:
                        self._answer(row)
                    if len(claimed) == free:
                        self._wake.set()  # there may be more: claim again when a slot frees
            except Exception as exc:  # the database is unreachable: wait, keep what is claimed
                delay = POLL_ERROR_DELAYS[min(failures, len(POLL_ERROR_DELAYS) - 1)]
                failures += 1
                log.warning("The inbox failed (%s); trying again in %.0f s", exc, delay)
                await self._sleep(delay)
                continue
            failures = 0
            await self._sleep(CLAIM_POLL_SECONDS, until=self._wake)
            await self._sleep(CLAIM_COALESCE_SECONDS)

    def _answer(self, row: Inboxed) -> None:
        try:
            update = Update.de_json(json.loads(row.payload), self.application.bot)
        except Exception as exc:  # bad input never crashes: it is given up
            log.warning("Stored update %d cannot be read (%s); dropped", row.update_id, exc)
            self._done.append(row.update_id)
            return
        if update is None:
            self._done.append(row.update_id)
            return
        started = self._started[row.update_id] = Started()
        task = asyncio.create_task(self._handle(update, started), name=f"update {row.update_id}")
        self._claimed[row.update_id] = task
        task.add_done_callback(functools.partial(self._finished, row.update_id))

    def _finished(self, update_id: int, task: asyncio.Task[None]) -> None:
        sent = self._started[update_id].count if update_id in self._started else 0
        if task.cancelled() and not sent:
            return  # cut short before it sent anything: stays claimed, the stop releases it
        if task.cancelled():  # cut short after an answer went out: not answered again
            log.warning(
                "Update %d was cut short after %d sends; not answered again", update_id, sent
            )
        self._claimed.pop(update_id, None)
        self._started.pop(update_id, None)
        self._done.append(update_id)
        self._wake.set()

    async def _flush(self) -> None:
        """Mark the answered updates done (in one transaction)."""
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            await self._db(self.store.inbox_done, done)
        except BaseException:
            self._done = done + self._done
            raise

    async def _handle(self, update: Update, started: Started | None = None) -> None:
        if started is not None:
            STARTED.set(started)  # this task's context only (bot.delivery counts the sends)
        application = self.application
        try:
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception:  # handlers' errors go to the error handler; this is PTB's own failure
            log.exception("Could not process update %d", update.update_id)

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking Store method on the inbox's own thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

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


class StoreFailed(RuntimeError):
    """Fetched updates could not be stored: they are not confirmed, and come again."""


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


class InboxQueue(asyncio.Queue[object]):
    """The application's update queue (``ApplicationBuilder.update_queue``). In webhook mode
    (``poller`` set) it stores message updates in the inbox before the webhook answers
    Telegram: the 200 means stored, and a failure to store answers 500 (Telegram sends the
    update again later). Inline queries, button presses and anything else are queued for the
    application to answer at once, as PTB does. Without a poller it is a plain queue."""

    def __init__(self) -> None:
        super().__init__()
        self.poller: Poller | None = None

    async def put(self, item: object) -> None:
        poller = self.poller
        if poller is None or not isinstance(item, Update) or is_quick(item):
            await super().put(item)
            return
        await poller.keep([item])


def run_polling(application: Application, *, bootstrap_retries: int = 0) -> None:
    """Serve with long polling until SIGINT or SIGTERM, then stop within ``GRACE_SECONDS``."""
    asyncio.run(_serve(application, bootstrap_retries))


def run_webhook(application: Application, *, bootstrap_retries: int = 0, **webhook: Any) -> None:
    """Serve a webhook (``webhook``: ``Updater.start_webhook``'s arguments) until SIGINT or
    SIGTERM, message updates through the inbox (InboxQueue); stop within ``GRACE_SECONDS``."""
    asyncio.run(_serve(application, bootstrap_retries, webhook))


async def _serve(
    application: Application, bootstrap_retries: int, webhook: dict[str, Any] | None = None
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    poller = Poller(application, fetch=webhook is None)
    queue = application.update_queue
    updater = application.updater
    try:
        await retry_transient(application.initialize, bootstrap_retries)
        if application.post_init:
            await application.post_init(application)
        await application.start()
        try:
            await poller.start(bootstrap_retries)
            assert poller.task is not None
            if webhook is not None:
                if not isinstance(queue, InboxQueue) or updater is None:
                    raise RuntimeError("webhook mode needs build_application's InboxQueue")
                queue.poller = poller
                await updater.start_webhook(bootstrap_retries=bootstrap_retries, **webhook)
            signalled = asyncio.create_task(stop.wait())
            await asyncio.wait({signalled, poller.task}, return_when=asyncio.FIRST_COMPLETED)
            signalled.cancel()
            log.info(
                "Stopping (answering what is in flight for up to %.0f s)", poller.drain_seconds
            )
            if updater is not None and updater.running:  # no new webhook requests
                await updater.stop()
            await poller.stop()
        finally:
            if isinstance(queue, InboxQueue):
                queue.poller = None
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
