"""Entry point: read settings, then run webhook, polling, or a console chat without a token."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot import i18n
from bot.commands import EngineLike
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError
from bot.updates import run_polling, run_webhook
from index import config

log = logging.getLogger("bot")
BOOTSTRAP_RETRIES = 3  # a network blip while starting should not kill the process


def sources_problem(folder: Path | None = None) -> str | None:
    """Why the engine would have nothing to quote (no compilations), or None when there are some.

    Checked before the engine opens: an empty index would answer every question with nothing.
    """
    folder = folder or config.sources_dir()
    if folder.is_dir() and any(
        p.is_file() and not p.name.startswith(".") for p in folder.glob("*.txt")
    ):
        return None
    found = "does not exist" if not folder.is_dir() else "has no compilations (*.txt)"
    return (
        f"the sources folder {folder} {found}. Put compilations (*.txt) in data/sources/, "
        "or set REACTIONS_SOURCES_DIR to a folder that has them."
    )


def _open_frozen() -> EngineLike:
    """Open the search engine (paths and model from the environment; builds the index once)."""
    from index.search import Engine

    engine: EngineLike = Engine.open()
    # The engine's objects live as long as the process: keep them out of the collector's
    # full passes (a 1M-statement engine paused ~1.3 s per pass, bench/RESULTS.md).
    gc.collect()
    gc.freeze()
    return engine


def open_engine() -> EngineLike:
    """The living archive: the engine, rebuilt and swapped in when the sources folder changes."""
    from index.live import LiveEngine

    live: EngineLike = LiveEngine(_open_frozen)
    return live


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``python -m bot [--lang en|ru|uk]``: everything else comes from the environment."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="The reactions bot; without TELEGRAM_BOT_TOKEN, a local console chat.",
    )
    parser.add_argument(
        "--lang",
        choices=i18n.LANGUAGES,
        default=i18n.DEFAULT_LANGUAGE,
        help="the console's language (on Telegram each user gets their own)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot as the environment says; the exit code is 2 for configuration errors."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"reactions-bot: configuration error: {exc}", file=sys.stderr)
        return 2
    problem = sources_problem()
    if problem is not None:
        print(f"reactions-bot: {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level_number, settings.token)
    if settings.mode == "console":
        from bot.console import run_console

        return run_console(settings, open_engine, language=args.lang)

    from bot.app import build_application

    log.info("Opening the search engine…")
    application = build_application(settings, open_engine())
    try:
        if settings.mode == "webhook":
            log.info("Starting in webhook mode on port %d", settings.port)
            run_webhook(
                application,
                bootstrap_retries=BOOTSTRAP_RETRIES,
                listen="0.0.0.0",
                port=settings.port,
                url_path=settings.webhook_path,
                webhook_url=settings.full_webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            log.info("Starting in polling mode")
            run_polling(application, bootstrap_retries=BOOTSTRAP_RETRIES)
    except InvalidToken:
        # The exception's text contains the token: say what happened without it.
        log.error("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
        return 2
    except TelegramError as exc:  # e.g. setWebhook refused the URL, or no network at start
        log.error("Could not start the bot: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
