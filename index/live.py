"""A living archive: the engine that answers now, swapped for a new one when the sources
folder changes. Questions take a snapshot, so one in flight finishes on the index it began
on; a build that fails, or a changed file that does not parse, leaves the old one serving."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index import config

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


def folder_signature(folder: Path) -> Signature:
    """Name, size and modification time of every compilation: cheap enough to poll (a stat a
    file; bench/RESULTS.md), and any edit, copy, rename or removal changes it."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()
    out = []
    for e in entries:
        if e.name.endswith(".txt") and not e.name.startswith("."):
            try:
                st = e.stat()
            except OSError:  # removed between the listing and the stat
                continue
            out.append((e.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: swapped or kept the old engine, and why."""

    swapped: bool
    message: str
    seconds: float = 0.0


class LiveEngine:
    """Holds the current engine; ``reload_if_changed`` builds a new one and swaps it in."""

    def __init__(
        self,
        opener: Callable[[], Any],
        sources_dir: Path | str | None = None,
    ) -> None:
        self._open = opener
        self.sources_dir = config.sources_dir(sources_dir)
        self._signature = folder_signature(self.sources_dir)
        self._engine = opener()
        self._lock = threading.Lock()  # one build at a time
        self.last: Reloaded | None = None
        self._completed = threading.Event()  # set while no completion runs (see _complete)
        self._completed.set()

    def snapshot(self) -> Any:
        """The engine to answer one question with (it stays valid after a swap)."""
        return self._engine

    def __getattr__(self, name: str) -> Any:
        # Everything else (ask, who, documents, …) is the current engine's.
        return getattr(self._engine, name)

    def changed(self) -> bool:
        return folder_signature(self.sources_dir) != self._signature

    def reload_if_changed(self, *, force: bool = False) -> Reloaded | None:
        """Build and swap when the folder changed (or ``force``); None when nothing to do."""
        if not (force or self.changed()):
            return None
        with self._lock:
            signature = folder_signature(self.sources_dir)
            if not force and signature == self._signature:
                return None  # another caller reloaded meanwhile
            result = self._rebuild(signature)
        self.last = result
        return result

    def _rebuild(self, signature: Signature) -> Reloaded:
        from index.build import deferred_multilingual

        t0 = time.perf_counter()
        old = self._engine
        try:
            # Swapped in as soon as the English vectors are there; the new compilations'
            # multilingual vectors follow in the background (``_complete``).
            with deferred_multilingual():
                new = self._open()
        except Exception as exc:
            log.warning("reload failed, still serving the previous archive: %s", exc)
            self._signature = signature  # do not retry the same broken state every tick
            return Reloaded(False, f"Reload failed ({exc}); still serving the previous archive.")
        fresh = sorted(set(getattr(new, "problems", [])) - set(getattr(old, "problems", [])))
        if fresh:
            self._signature = signature
            msg = "Not reloaded: " + "; ".join(fresh) + ". Still serving the previous archive."
            log.warning("%s", msg)
            return Reloaded(False, msg, time.perf_counter() - t0)
        self._engine = new
        self._signature = signature
        seconds = time.perf_counter() - t0
        docs = len(new.documents()) if hasattr(new, "documents") else 0
        n = len(getattr(new, "statements", ()))
        msg = f"Reloaded: {docs} compilations, {n} statements ({seconds:.1f} s)."
        log.info("%s", msg)
        if getattr(new, "multilingual_pending", False):
            self._completed.clear()
            threading.Thread(
                target=self._complete, args=(new,), name="multilingual-vectors", daemon=True
            ).start()
        return Reloaded(True, msg, seconds)

    def _complete(self, quick: Any) -> None:
        """Embed what a quick reload left for later and swap the complete engine in, unless a
        newer reload has replaced ``quick`` meanwhile (that one completes itself)."""
        # Not under the reload lock: a publish meanwhile is swapped in without waiting for
        # this (the bundle is written atomically; the newer one's own completion follows).
        try:
            t0 = time.perf_counter()
            try:
                done = self._open()
            except Exception as exc:  # the quick engine keeps serving; English is complete
                log.warning("could not embed the multilingual vectors: %s", exc)
                return
            with self._lock:
                if self._engine is quick:
                    self._engine = done
                    log.info(
                        "multilingual vectors of the new compilations embedded (%.1f s)",
                        time.perf_counter() - t0,
                    )
        finally:
            self._completed.set()

    def wait_complete(self, timeout: float | None = None) -> bool:
        """Wait until no background completion runs; False when ``timeout`` passed first."""
        return self._completed.wait(timeout)
