"""The bot's settings: one frozen dataclass read from the environment and a ``.env`` file."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_PORT = 8443
DEFAULT_RATE_LIMIT = 20
DEFAULT_INLINE_RATE_LIMIT = 60  # inline queries arrive as the user types: a question costs several
DEFAULT_MAX_QUERY_CHARS = 500
DEFAULT_WATCH_SECONDS = 5.0
DEFAULT_DATABASE_URL = "sqlite:///data/bot.db"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it (and never echoes a secret)."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment; no token means a local console chat."""

    token: str | None = None
    webhook_url: str | None = None
    port: int = DEFAULT_PORT
    webhook_secret: str | None = None
    api_base_url: str | None = None
    api_base_file_url: str | None = None
    rate_limit: int = DEFAULT_RATE_LIMIT  # questions per user per minute; 0 turns the limit off
    inline_rate_limit: int = DEFAULT_INLINE_RATE_LIMIT  # inline queries per user per minute; 0: off
    max_query_chars: int = DEFAULT_MAX_QUERY_CHARS
    log_level: str = "INFO"
    admin_user_ids: frozenset[int] = frozenset()  # editors: /reload, and later publishing
    watch_seconds: float = DEFAULT_WATCH_SECONDS  # look for new compilations; 0: never
    # follows, deliveries and the publish log (bot/storage.py); postgresql:// for replicas
    database_url: str = DEFAULT_DATABASE_URL

    def __repr__(self) -> str:
        # The token and the webhook secret are credentials: show that they are set, never them.
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("token", "webhook_secret") and value is not None:
                value = "***"
            elif f.name == "database_url":
                value = _hide_password(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    @property
    def mode(self) -> str:
        """``webhook``, ``polling`` or ``console``."""
        if self.token is None:
            return "console"
        return "webhook" if self.webhook_url else "polling"

    @property
    def webhook_path(self) -> str:
        """The local path the webhook server listens on; derived from, never containing, the token.

        A WEBHOOK_URL with a path (say a reverse proxy's ``/tg/hook``) keeps it; a bare origin
        gets ``tg-<hash>`` so the endpoint is not guessable and the same on every replica.
        """
        path = urlsplit(self.webhook_url or "").path.strip("/")
        if path:
            return path
        digest = hashlib.sha256(f"webhook:{self.token or ''}".encode()).hexdigest()[:24]
        return f"tg-{digest}"

    @property
    def full_webhook_url(self) -> str | None:
        """The URL Telegram posts updates to."""
        if not self.webhook_url:
            return None
        if urlsplit(self.webhook_url).path.strip("/"):
            return self.webhook_url
        return f"{self.webhook_url.rstrip('/')}/{self.webhook_path}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | str | None = None
    ) -> Settings:
        """Read the settings: ``environ`` (default ``os.environ``) wins over the ``.env`` file.

        ``dotenv`` defaults to ``.env`` in the current directory; a missing file is fine.
        """
        env = dict(read_dotenv(Path(dotenv) if dotenv is not None else Path.cwd() / ".env"))
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is not None and not TOKEN_RE.match(token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is malformed: expected the '<digits>:<letters>' token "
                "that @BotFather gave you (unset it to chat in a local console)"
            )
        api_base_url = _url("TELEGRAM_API_BASE_URL", get("TELEGRAM_API_BASE_URL"))
        api_base_file_url = _url("TELEGRAM_API_BASE_FILE_URL", get("TELEGRAM_API_BASE_FILE_URL"))
        webhook_url = _url("WEBHOOK_URL", get("WEBHOOK_URL"))
        webhook_secret = get("WEBHOOK_SECRET")
        if webhook_url:
            if token is None:
                raise SettingsError("WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not")
            # Telegram posts only to HTTPS; plain HTTP makes sense only with a local API server.
            if not webhook_url.startswith("https://") and api_base_url is None:
                raise SettingsError("WEBHOOK_URL must start with https:// (Telegram requires it)")
            if webhook_secret is None:
                raise SettingsError(
                    "WEBHOOK_SECRET is required with WEBHOOK_URL "
                    "(1-256 characters from A-Z, a-z, 0-9, _ and -)"
                )
        if webhook_secret is not None and not SECRET_RE.match(webhook_secret):
            raise SettingsError(
                "WEBHOOK_SECRET must be 1-256 characters from A-Z, a-z, 0-9, _ and -"
            )
        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return cls(
            token=token,
            webhook_url=webhook_url,
            port=_int("PORT", get("PORT"), DEFAULT_PORT, 1, 65535),
            webhook_secret=webhook_secret,
            api_base_url=api_base_url,
            api_base_file_url=api_base_file_url,
            rate_limit=_int("BOT_RATE_LIMIT", get("BOT_RATE_LIMIT"), DEFAULT_RATE_LIMIT, 0, 10_000),
            inline_rate_limit=_int(
                "BOT_INLINE_RATE_LIMIT",
                get("BOT_INLINE_RATE_LIMIT"),
                DEFAULT_INLINE_RATE_LIMIT,
                0,
                10_000,
            ),
            max_query_chars=_int(
                "BOT_MAX_QUERY_CHARS", get("BOT_MAX_QUERY_CHARS"), DEFAULT_MAX_QUERY_CHARS, 1, 4000
            ),
            log_level=log_level,
            admin_user_ids=_ids("ADMIN_USER_IDS", get("ADMIN_USER_IDS")),
            watch_seconds=_seconds("REACTIONS_WATCH_SECONDS", get("REACTIONS_WATCH_SECONDS")),
            database_url=_database_url(get("DATABASE_URL")),
        )

    @property
    def log_level_number(self) -> int:
        """LOG_LEVEL as a :mod:`logging` level."""
        return logging.getLevelNamesMapping()[self.log_level]


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse simple ``KEY=VALUE`` lines (``#`` comments, optional ``export``, quotes stripped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from exc
    values: dict[str, str] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:  # an inline comment after an unquoted value
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _ids(name: str, raw: str | None) -> frozenset[int]:
    """Comma-separated Telegram user ids."""
    if not raw:
        return frozenset()
    out = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"\d{1,20}", part):
            raise SettingsError(f"{name} must be comma-separated numeric Telegram user ids")
        out.add(int(part))
    return frozenset(out)


def _seconds(name: str, raw: str | None) -> float:
    if raw is None:
        return DEFAULT_WATCH_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds (0 turns it off)") from None
    if not 0 <= value <= 86_400:
        raise SettingsError(f"{name} must be between 0 (off) and 86400 seconds")
    return value


def _int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _database_url(raw: str | None) -> str:
    """DATABASE_URL: an SQLite file (the default) or a PostgreSQL server."""
    if raw is None:
        return DEFAULT_DATABASE_URL
    scheme = raw.partition("://")[0].lower()
    if scheme not in DATABASE_SCHEMES or "://" not in raw:
        # Not echoed: it may hold a password.
        raise SettingsError(
            "DATABASE_URL must be sqlite:///path/to/bot.db or postgresql://user:password@host/db"
        )
    return raw


def _hide_password(url: str) -> str:
    """``postgresql://bot:***@host/db``: a URL fit for a log line."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _url(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # Not echoed: a misconfigured URL may hold the token.
        raise SettingsError(f"{name} must be an http(s) URL such as http://localhost:8081/bot")
    return raw
