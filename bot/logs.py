"""Logging set-up for the entry point, with the bot token redacted from every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[REDACTED]"
# httpx/httpcore INFO lines carry the token in request URLs; faiss announces its CPU loader;
# alembic narrates every start.
QUIET_LOGGERS = ("httpx", "httpcore", "faiss", "alembic")


class RedactFilter(logging.Filter):
    """Replace secrets in a record's message, args, exception and stack text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        """Secrets to hide, with their URL-encoded forms (a token's ':' becomes %3A in URLs)."""
        found = {form for s in secrets if s for form in (s, quote(s, safe=""), quote(s))}
        self.secrets = tuple(sorted(found, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _leaks(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can show
            message = f"{record.msg} {record.args}"
        if self._leaks(message):
            record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._leaks(record.exc_text):
            record.exc_text = self.redact(record.exc_text)
            # Formatters print exc_text when it is set; dropping exc_info stops any handler
            # from re-rendering the exception (whose message holds the token) by itself.
            record.exc_info = None
        if record.stack_info and self._leaks(record.stack_info):
            record.stack_info = self.redact(record.stack_info)
        return True


_REDACTOR = RedactFilter()
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _REDACTOR.filter(record)
    return record


def protect(*secrets: str | None) -> RedactFilter:
    """Redact ``secrets`` from every log record, whichever handler (or test) receives it.

    A handler filter alone misses handlers added later (pytest's caplog, a library's own), so
    records are also redacted as they are created.
    """
    _REDACTOR.set_secrets(s for s in secrets if s)
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
    for handler in logging.getLogger().handlers:
        if _REDACTOR not in handler.filters:
            handler.addFilter(_REDACTOR)
    return _REDACTOR


def configure_logging(level: int | str = logging.INFO, token: str | None = None) -> None:
    """Configure logging once: stderr, timestamps, quiet HTTP libraries, the token redacted."""
    root = logging.getLogger()
    if not any(getattr(h, "_reactions_bot", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        handler._reactions_bot = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    protect(token)
