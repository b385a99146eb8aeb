"""The editors' workflow on files: stage an upload, publish or discard it, remove a compilation.

Nothing here talks to Telegram. Every state lives in folders beside the sources, so any
replica that shares them can serve any button: ``pending/<key>.txt`` holds an upload
waiting for Publish or Discard (``key``: the first 16 hex digits of its text's SHA-256,
which the buttons carry), ``removed/`` holds compilations taken out of the archive (and
the previous version of one that was replaced), to be put back by hand if need be.

``index.ingest`` (and with it the parser) is imported only when an editor uploads, so the
bot that answers questions does not load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from dataclasses import replace as replace_fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.i18n import _
from index.atomic import fsync_dir, write_atomic
from index.model import Document

if TYPE_CHECKING:
    from index.ingest import Prepared, Published

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a compilation page is ~50-300 KB
FETCH_TIMEOUT_S = 20.0  # a link an editor sends: Telegram's callback and patience are short
PENDING_MAX_AGE_S = 24 * 3600  # an upload nobody published or discarded within a day is dropped
PENDING = "pending"
REMOVED = "removed"
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
ACCEPTED_TYPES = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
KEY_RE = re.compile(r"[0-9a-f]{16}")
DOC_KEY_LEN = 12  # hex digits of a compilation's short id in a button
LINK_RE = re.compile(r"^\s*(https?://\S+)\s*$", re.IGNORECASE)  # a message that is one link

Refusal = Literal["type", "size"]


class UploadError(Exception):
    """An upload refused or a file operation that failed; the message says why, for the editor."""


@dataclass(frozen=True)
class Staged:
    """An upload read and parsed: what publishing it would do, and the key its buttons carry."""

    key: str
    prepared: Prepared
    action: str  # "added", "replaced" or "unchanged" (already in the archive: nothing staged)
    target: str  # the file name it will have (or replace) in the sources folder


@dataclass(frozen=True)
class Done:
    """A publish: where the compilation went, and the copy of the file it replaced (if any)."""

    published: Published
    title: str
    backup: Path | None = None


def pending_dir(sources: Path) -> Path:
    """Uploads waiting for Publish or Discard: ``pending/`` beside the sources folder."""
    return sources.parent / PENDING


def removed_dir(sources: Path) -> Path:
    """Compilations taken out of the archive: ``removed/`` beside the sources folder."""
    return sources.parent / REMOVED


def link(text: str) -> str | None:
    """The URL when a message is nothing but one http(s) link, else None."""
    m = LINK_RE.match(text)
    return m.group(1) if m else None


def document_problem(name: str | None, mime_type: str | None, size: int | None) -> Refusal | None:
    """Why a Telegram document is refused before it is downloaded (type, then size), or None."""
    suffix = Path(name or "").suffix.lower()
    mime = (mime_type or "").split(";")[0].strip().lower()
    if suffix not in TEXT_SUFFIXES + HTML_SUFFIXES and mime not in ACCEPTED_TYPES:
        return "type"
    if size is not None and size > MAX_UPLOAD_BYTES:
        return "size"
    return None


def fetch(url: str) -> tuple[bytes, str, str | None]:
    """The page behind a link an editor sent: (bytes, name, Content-Type); UploadError why not."""
    from index import ingest

    try:
        got = ingest.read_input(url, timeout=FETCH_TIMEOUT_S, max_bytes=MAX_UPLOAD_BYTES)
    except ingest.IngestError as exc:
        raise UploadError(str(exc)) from None
    return got.data, got.name, got.content_type


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _pending_path(sources: Path, key: str) -> Path | None:
    """The pending file of a key from a button (checked: a button's data comes from a client)."""
    if not KEY_RE.fullmatch(key):
        return None
    return pending_dir(sources) / f"{key}.txt"


def stage(data: bytes, name: str, content_type: str | None, sources: Path) -> Staged:
    """Parse an upload and keep it in ``pending/`` until an editor publishes or discards it.

    UploadError with the reason when it is no compilation. Uploads older than a day are
    cleaned first. The archive itself is not touched.
    """
    from index import ingest

    clean_pending(sources)
    try:
        prepared = ingest.prepare(data, name, content_type)
    except ingest.IngestError as exc:
        raise UploadError(str(exc)) from None
    key = _key(prepared.text)
    try:
        plan = ingest.plan(prepared, sources)
    except ingest.IngestError:  # another file holds this name or this title and date
        plan = ingest.plan(prepared, sources, replace=True)
    staged = Staged(key, prepared, plan.action, plan.path.name)
    if plan.action != "unchanged":
        path = _pending_path(sources, key)
        assert path is not None
        _write_atomic(path, prepared.text.encode("utf-8"))
    return staged


def clean_pending(sources: Path, max_age: float = PENDING_MAX_AGE_S) -> int:
    """Delete uploads (and stray temp files) older than ``max_age`` seconds; how many went."""
    folder = pending_dir(sources)
    cutoff = time.time() - max_age
    gone = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                gone += 1
        except OSError:  # removed meanwhile by another replica
            continue
    return gone


def pending(sources: Path, key: str) -> bool:
    """Whether an upload still waits under this key."""
    path = _pending_path(sources, key)
    return path is not None and path.is_file()


def publish(
    sources: Path, key: str, *, replace: bool = False, journal: Journal | None = None
) -> Done | None:
    """Write a pending upload into the sources folder (atomically); None when it is gone.

    The pending file stays until ``discard`` (the caller drops it once the archive has
    reloaded, or keeps it after a ``rollback``). With ``replace``, the file it replaces is
    first copied into ``removed/``. With ``journal``, it is written (with the target file and
    the copy) before the folder changes, for ``recover``; the caller ends it with
    ``end_publish``. UploadError when the archive refuses it (a clash).
    """
    from index import ingest

    path = _pending_path(sources, key)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UploadError(
            _("cannot read the pending upload: {reason}").format(reason=exc.strerror or exc)
        ) from None
    try:
        prepared = ingest.prepare(data, path.name)
        backup = None
        plan = ingest.plan(prepared, sources, replace=replace)
        if replace and plan.action == "replaced":
            backup = _unique(removed_dir(sources) / plan.path.name)
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(plan.path, backup)
        if journal is not None:
            _write_journal(
                sources,
                replace_fields(
                    journal,
                    target=plan.path.name,
                    action=plan.action,
                    backup=str(backup) if backup else "",
                ),
            )
        published = ingest.publish(prepared, sources, replace=replace)
    except ingest.IngestError as exc:
        raise UploadError(str(exc)) from None
    except OSError as exc:
        raise UploadError(
            _("cannot write into the sources folder: {reason}").format(reason=exc.strerror or exc)
        ) from None
    return Done(published, prepared.document.title, backup)


# --- a publish that survives a crash ------------------------------------------------------------
#
# Before the sources folder changes, a publish writes ``pending/<key>.publishing.json`` (the
# journal: which upload, which file it becomes, the copy of the file it replaces, and the
# editor's "⏳ Publishing…" message); the journal goes once the upload is discarded or rolled
# back. A process that dies in between leaves it: at the next start ``recover`` finishes the
# publish (the file is in the archive and loads) or rolls it back (it is not, or does not
# load), and leaves ``pending/<key>.recovered.json`` with what the editor was told, so the
# button press Telegram delivers again (it was never confirmed) shows that, not a second
# publish.

JOURNAL = ".publishing.json"
RECOVERED = ".recovered.json"


@dataclass(frozen=True)
class Journal:
    """A publish in progress: the upload, the editor's message and what the folder gets."""

    key: str
    chat_id: int
    message_id: int
    query_id: str = ""  # the button press that started it (Telegram redelivers it after a crash)
    language: str = "en"
    replace: bool = False
    target: str = ""  # the file name in the sources folder
    action: str = ""  # added or replaced
    backup: str = ""  # the copy of the replaced file, in removed/


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` did with an interrupted publish."""

    journal: Journal
    outcome: Literal["finished", "rolled back"]
    title: str
    waiting: bool  # the upload still waits in pending/ (Publish again or Discard)
    changed: bool  # the sources folder changed (the archive must reload)


def _journal_path(sources: Path, key: str, suffix: str = JOURNAL) -> Path | None:
    if not KEY_RE.fullmatch(key):
        return None
    return pending_dir(sources) / f"{key}{suffix}"


def _write_journal(sources: Path, journal: Journal) -> None:
    path = _journal_path(sources, journal.key)
    assert path is not None
    write_atomic(path, json.dumps(asdict(journal), ensure_ascii=False).encode("utf-8"))


def begin_publish(sources: Path, journal: Journal) -> None:
    """Journal a publish before anything shows or changes (``publish`` completes it with the
    target file): a crash from here on is settled by ``recover`` at the next start."""
    _write_journal(sources, journal)


def end_publish(sources: Path, key: str) -> None:
    """The publish is over (published and discarded, or rolled back): drop its journal."""
    path = _journal_path(sources, key)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def interrupted(sources: Path) -> list[Journal]:
    """The journals a dead process left, oldest first; an unreadable one is dropped."""
    out = []
    for path in sorted(pending_dir(sources).glob(f"*{JOURNAL}"), key=_mtime):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            journal = Journal(**raw)
            if not KEY_RE.fullmatch(journal.key) or path.name != journal.key + JOURNAL:
                raise ValueError("key")
        except FileNotFoundError:
            continue
        except (OSError, ValueError, TypeError) as exc:
            log.warning("dropping the unreadable publish journal %s: %s", path.name, exc)
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        out.append(journal)
    return out


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def recover(sources: Path, journal: Journal, problems: Sequence[str]) -> Recovery:
    """Finish or roll back an interrupted publish. Finished: the upload's file is in the
    sources folder and the archive loaded it (``problems``: the engine's load problems);
    its pending copy goes. Rolled back: the folder is put back as it was (the added file
    removed, the replaced one restored) and the upload waits again."""
    from index import ingest

    pending_path = _pending_path(sources, journal.key)
    target = sources / Path(journal.target).name if journal.target else None
    data = None
    if pending_path is not None:
        with contextlib.suppress(FileNotFoundError):
            data = pending_path.read_bytes()
    title, written = journal.target, False
    if data is not None:
        try:
            prepared = ingest.prepare(data, pending_path.name if pending_path else "upload.txt")
            title = prepared.document.title
            written = ingest.plan(prepared, sources, replace=True).action == "unchanged"
        except ingest.IngestError:
            written = False
    elif target is not None and target.is_file():
        written = True  # discarded after the reload: only the journal was left
    loads = not any(target is not None and target.name in p for p in problems)
    backup = Path(journal.backup) if journal.backup else None
    changed = False
    if written and loads:
        outcome: Literal["finished", "rolled back"] = "finished"
        if pending_path is not None:
            with contextlib.suppress(FileNotFoundError):
                pending_path.unlink()
    else:
        outcome = "rolled back"
        if written and target is not None:
            if journal.action == "replaced" and backup is not None and backup.is_file():
                os.replace(backup, target)
            else:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            fsync_dir(sources)
            changed = True
        elif backup is not None and journal.action == "replaced":
            with contextlib.suppress(FileNotFoundError):
                backup.unlink()  # a copy made before the write that never happened
    end_publish(sources, journal.key)
    return Recovery(journal, outcome, title, data is not None and outcome != "finished", changed)


def remember_recovery(sources: Path, journal: Journal, html: str, buttons: list[str]) -> None:
    """What the editor was told about an interrupted publish, for the redelivered press."""
    path = _journal_path(sources, journal.key, RECOVERED)
    assert path is not None
    record = {"query_id": journal.query_id, "html": html, "buttons": buttons}
    write_atomic(path, json.dumps(record, ensure_ascii=False).encode("utf-8"))


def recovered(sources: Path, key: str, query_id: str) -> tuple[str, list[str]] | None:
    """The text and button data a recovery showed for this button press, or None (another
    press: handle it as usual)."""
    path = _journal_path(sources, key, RECOVERED)
    if path is None or not query_id:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("query_id") != query_id:
        return None
    return str(record.get("html", "")), [str(b) for b in record.get("buttons", [])]


def rollback(done: Done) -> None:
    """Undo a publish whose archive did not load: remove the added file or restore the old."""
    path = done.published.path
    if done.published.action == "added":
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    elif done.published.action == "replaced" and done.backup is not None:
        os.replace(done.backup, path)
    fsync_dir(path.parent)


def discard(sources: Path, key: str) -> bool:
    """Delete a pending upload; False when there was none (already published or discarded)."""
    path = _pending_path(sources, key)
    if path is None:
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# --- removing a compilation -------------------------------------------------------------------


def doc_key(doc: Document) -> str:
    """A compilation's short id for a button (its id may pass the 64 bytes a button holds)."""
    return hashlib.sha256(doc.id.encode("utf-8")).hexdigest()[:DOC_KEY_LEN]


def find_document(documents: Sequence[Document], key: str) -> Document | None:
    """The compilation a button's short id names, if it is still in the archive."""
    return next((d for d in documents if doc_key(d) == key), None)


def source_path(sources: Path, doc: Document) -> Path | None:
    """The compilation's file in the sources folder, or None when it is no longer there."""
    path = sources / Path(doc.path).name  # only ever a file directly in the sources folder
    return path if path.is_file() else None


def remove(sources: Path, doc: Document) -> Path | None:
    """Move a compilation's file into ``removed/`` (one rename); its new path, or None when it
    was already gone. UploadError when the move fails (the archive is then unchanged)."""
    path = source_path(sources, doc)
    if path is None:
        return None
    target = _unique(removed_dir(sources) / path.name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UploadError(
            _("cannot move {file} out of the archive: {reason}").format(
                file=path.name, reason=exc.strerror
            )
        ) from None
    fsync_dir(path.parent)
    return target


def restore(sources: Path, moved: Path) -> None:
    """Put a removed compilation back (when the archive did not reload without it)."""
    os.rename(moved, sources / moved.name)
    fsync_dir(sources)


# --- files ------------------------------------------------------------------------------------


def _unique(path: Path) -> Path:
    """``path``, or ``name.<UTC time>.txt`` when a file of that name was removed before."""
    if not path.exists():
        return path
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for n in range(1000):
        candidate = path.with_name(f"{path.stem}.{stamp}{f'-{n}' if n else ''}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise UploadError(_("too many removed copies of {file}").format(file=path.name))


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename: a reader never sees half a pending upload."""
    write_atomic(path, data)
