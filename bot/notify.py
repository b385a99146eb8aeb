"""New quotes for followers: when a reload swaps in compilations the bot has not seen (the
old and new engine's document ids compared, and the publish log in the database for those
published while the bot was down), every follower gets one digest of the new statements that
match their follows, sent through the bot's flood control, at most once.

The database is the delivery log (``bot.storage``): digests are queued in one transaction per
publish, claimed a batch at a time by whichever replica asks first, and marked sent, dropped
(the user blocked the bot or is gone: everything about them is deleted), retried later (flood
control, server errors) or given up. A restart resumes with what is still pending; a digest a
crash left mid-send is never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import follows, i18n, render
from bot.delivery import may_have_arrived
from bot.render import Reply
from bot.storage import Claimed, Enqueued, Item, Store, publication_key

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 30  # digests claimed at a time: about one second of Telegram's ~30 messages a second
POLL_SECONDS = 5.0  # how often a replica looks for digests another one queued
# A claim older than this belongs to a process that died mid-send. Generous: a live sender may
# wait out Telegram's flood pauses (retry_after, twice) with a claim; and an expired claim is
# only marked, never resent, so nothing waits for it.
LEASE_SECONDS = 600.0
MAX_ATTEMPTS = 5  # transient failures before a digest is given up
RETRY_BASE_SECONDS = 30.0
# A replica that claims a digest before its own reload has swapped in the new compilation (the
# other replica queued it first) puts it back for this long times the attempts, then sends what
# it has after MAX_ATTEMPTS (a compilation removed since the publish never arrives).
BEHIND_SECONDS = 2.0
STOP_SECONDS = 5.0  # a stopping bot lets the digests in flight finish for this long
GONE_WORDS = ("chat not found", "user is deactivated", "bot was blocked", "user not found")


def worker_name() -> str:
    """This process's name in claims: host, pid and a random suffix (unique per start)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def document_ids(engine: Any) -> set[str]:
    return {d.id for d in engine.documents()}


@dataclass(frozen=True)
class Plan:
    """A publish, ready to queue: its key, compilations and each follower's statements."""

    key: str
    documents: tuple[str, ...]
    titles: tuple[str, ...]
    statements: int
    matches: dict[int, list[Item]]


def plan(engine: Any, store: Store, new: Collection[str]) -> Plan:
    """Match the new compilations' statements to every follow (blocking; on the engine's thread)."""
    docs = tuple(sorted(new))
    followers = store.followers()
    labels = store.labels()
    matches, n = follows.digests_for(engine, docs, followers, labels)
    ids = [st.id for st in engine.statements_in(new)]
    titles = tuple(d.title for d in engine.documents() if d.id in new)
    return Plan(publication_key(docs, ids), docs, titles, n, matches)


def enqueue(store: Store, p: Plan) -> Enqueued:
    return store.enqueue(p.key, p.documents, p.titles, p.statements, p.matches)


def baseline(engine: Any, store: Store) -> set[str]:
    """The compilations already announced. A first start (empty log) announces nothing: the
    archive as it is becomes the log's first entry."""
    known = store.known_documents()
    if known is not None:
        return known
    docs = document_ids(engine)
    ids = engine.statement_ids()
    titles = [d.title for d in engine.documents()]
    key = publication_key(docs, ids, "baseline")
    store.enqueue(key, sorted(docs), titles, len(ids), {})
    return docs


def digest_reply(engine: Any, digest_id: int, items: list[Item], page: int = 0) -> Reply | None:
    """A digest's page from its statement ids (those still in the archive)."""
    pairs = [(st, it.reason) for it in items if (st := engine.get(it.statement_id)) is not None]
    return render.render_digest(digest_id, pairs, engine.documents(), page)


def missing(engine: Any, items: list[Item]) -> int:
    """How many of a digest's statements this engine does not have (yet, or any more)."""
    return sum(1 for it in items if engine.get(it.statement_id) is None)


def current(engine: Any) -> Any:
    snapshot = getattr(engine, "snapshot", None)
    return snapshot() if callable(snapshot) else engine


async def _to_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


class Notifier:
    """Queues digests when new compilations appear and sends them; one per bot process."""

    def __init__(
        self,
        engine: Any,
        store: Store,
        send: Callable[[int, Reply], Awaitable[int | None]],
        *,
        run_engine: Callable[..., Awaitable[Any]] | None = None,
        worker: str | None = None,
        batch: int | None = None,
        poll: float | None = None,
        lease: float | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.send = send
        self.run_engine: Callable[..., Awaitable[Any]] = run_engine or _to_thread
        self.worker = worker or worker_name()
        # Read at start, not at import: tests and benchmarks set the module's numbers.
        self.batch = BATCH if batch is None else batch
        self.poll = POLL_SECONDS if poll is None else poll
        self.lease = LEASE_SECONDS if lease is None else lease
        self.seen: set[str] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    # --- publishing ---------------------------------------------------------------------------

    async def check(self) -> Enqueued | None:
        """Queue digests for compilations not seen before (call after a reload swaps)."""
        async with self._lock:
            engine = current(self.engine)
            if self.seen is None:
                self.seen = await self.run_engine(baseline, engine, self.store)
            docs = document_ids(engine)
            new = docs - self.seen
            if not new:
                self.seen = docs
                return None
            p: Plan = await self.run_engine(plan, engine, self.store, new)
            result = await _to_thread(enqueue, self.store, p)
            self.seen = docs
        log.info(
            "New compilation(s) %s: %s",
            ", ".join(p.documents),
            f"{result.digests} digest(s) queued" if result.created else "queued already",
        )
        self._wake.set()
        return result

    # --- delivering ---------------------------------------------------------------------------

    async def deliver_once(self) -> int:
        """Claim a batch and send it; how many were claimed."""
        claimed = await _to_thread(self.store.claim, self.worker, self.batch)
        if claimed:
            await asyncio.gather(*(self._deliver(d) for d in claimed))
        return len(claimed)

    async def _deliver(self, d: Claimed) -> None:
        store = self.store
        try:
            items = await _to_thread(store.items, d.id)
            engine = current(self.engine)
            if (
                items
                and d.attempts < MAX_ATTEMPTS
                and await self.run_engine(missing, engine, items)
            ):
                # Queued by a replica that reloaded first: wait for this one's reload.
                log.info("Digest %d names statements this process has not loaded yet", d.id)
                await _to_thread(store.retry_later, d.id, BEHIND_SECONDS * d.attempts)
                return
            # In the follower's language: chosen with /language, else their app's when they
            # followed (bot.storage.languages), else English.
            stored = await _to_thread(store.language_of, d.user_id)
            with i18n.use(stored[0] if stored is not None else i18n.DEFAULT_LANGUAGE):
                reply = await self.run_engine(digest_reply, engine, d.id, items)
            if reply is None:  # forgotten meanwhile, or its compilations removed
                await _to_thread(store.retry_later, d.id, 0, True)
                return
            message_id = await self.send(d.user_id, reply)
        except Forbidden as exc:
            await self._drop(d, str(exc))
        except BadRequest as exc:
            if any(w in str(exc).lower() for w in GONE_WORDS):
                await self._drop(d, str(exc))
            else:
                log.error("Digest %d refused by Telegram: %s; not retried", d.id, exc)
                await _to_thread(store.retry_later, d.id, 0, True)
        except RetryAfter as exc:
            delay = exc.retry_after
            wait = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            await _to_thread(store.retry_later, d.id, wait)
        except TimedOut as exc:
            if may_have_arrived(exc):  # never send it again
                log.warning("Digest %d timed out; not resent (it may have arrived)", d.id)
                await _to_thread(self.store.mark_unknown, d.id)
            else:
                await self._later(d, exc)
        except NetworkError as exc:
            await self._later(d, exc)
        except Exception:
            log.exception("Digest %d failed", d.id)
            await _to_thread(store.retry_later, d.id, RETRY_BASE_SECONDS * d.attempts, True)
        else:
            await _to_thread(store.sent, d.id, message_id)

    async def _later(self, d: Claimed, exc: Exception) -> None:
        give_up = d.attempts >= MAX_ATTEMPTS
        log.warning("Digest %d failed (%s); %s", d.id, exc, "given up" if give_up else "later")
        await _to_thread(self.store.retry_later, d.id, RETRY_BASE_SECONDS * d.attempts, give_up)

    async def _drop(self, d: Claimed, why: str) -> None:
        log.info("User %d blocked the bot or is gone (%s): forgetting them", d.user_id, why)
        await _to_thread(self.store.drop_user, d.user_id)

    # --- the loop -----------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until ``stop``: look for new compilations, expire dead claims, deliver."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.check()
                await _to_thread(self.store.expire_claims, self.lease)
                if await self.deliver_once():
                    continue
            except Exception:  # the loop must outlive a database or engine hiccup
                log.exception("Delivering digests failed; trying again")
            waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, self._stopping)]
            try:
                await asyncio.wait(waits, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.run(), name="digests")
        return self.task

    async def stop(self, grace: float = STOP_SECONDS) -> None:
        """Stop claiming; digests in flight get ``grace`` seconds to finish."""
        self._stopping.set()
        task, self.task = self.task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            log.warning("Stopped with digests in flight; they are not resent")
        except Exception:
            log.exception("The digest loop failed")
