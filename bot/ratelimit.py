"""Per-user question limit: an in-memory token bucket (incoming; AIORateLimiter guards outgoing)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["ok", "warn", "silent"]
MAX_USERS = 10_000  # buckets kept before idle (full) ones are dropped


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class RateLimiter:
    """``per_minute`` questions a user, in bursts of up to ``per_minute``; 0 means no limit.

    ``check`` says "ok", "warn" (the first refusal: tell the user once) or "silent" (keep quiet
    until the bucket refills, so a flood of messages does not become a flood of replies).
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int) -> Verdict:
        """Spend one token for ``user_id`` if there is one."""
        if self.per_minute <= 0:
            return "ok"
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= MAX_USERS:
                self._prune(now)
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "silent"
        bucket.warned = True
        return "warn"

    def retry_after(self, user_id: int) -> float:
        """Seconds until ``user_id`` may ask again."""
        bucket = self._buckets.get(user_id)
        if bucket is None or self.rate <= 0:
            return 0.0
        return max(0.0, (1.0 - bucket.tokens) / self.rate)

    def _prune(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket at all.
        full = [
            uid
            for uid, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.capacity
        ]
        for uid in full:
            del self._buckets[uid]
        if len(self._buckets) >= MAX_USERS:  # everyone is busy: forget the oldest
            oldest = sorted(self._buckets, key=lambda uid: self._buckets[uid].updated)
            for uid in oldest[: len(oldest) // 2]:
                del self._buckets[uid]
