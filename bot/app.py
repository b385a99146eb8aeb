"""The application factory: ``build_application(settings, engine)`` wires PTB to the handlers."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import editors, handlers, i18n, render
from bot.commands import EngineLike
from bot.delivery import AT_MOST_ONCE, Delivery, flood_limiter
from bot.i18n import N_, _
from bot.notify import Notifier
from bot.ratelimit import RateLimiter
from bot.render import Reply
from bot.settings import Settings
from bot.storage import Store
from bot.updates import InboxQueue, UpdateProcessor

log = logging.getLogger(__name__)

DESCRIPTION = N_(
    "I quote who said what about an event, verbatim and with the sources cited. "
    "Ask about a country, a person, a role or a topic."
)
SHORT_DESCRIPTION = N_("Who said what: verbatim, sourced reactions by country and person.")
# The command menus: (command, description msgid); each is published in every language.
PRIVATE_COMMANDS = (
    ("latest", N_("The newest compilation's reactions")),
    ("country", N_("A country's reactions")),
    ("who", N_("What a person said")),
    ("events", N_("Every compilation, newest first")),
    ("follow", N_("Get new quotes of a person, country or topic")),
    ("following", N_("What you follow (unfollow there)")),
    ("countries", N_("Every country, with counts")),
    ("sources", N_("Compilations and outlets cited")),
    ("stats", N_("Chart of statements per country")),
    ("help", N_("How to ask")),
    ("about", N_("What this bot is")),
    ("language", N_("Language: English, Русский, Українська")),
    ("privacy", N_("What I store about you")),
    ("forget", N_("Delete everything I store about you")),
)
GROUP_COMMANDS = (
    ("ask", N_("Ask a question")),
    ("latest", N_("The newest compilation's reactions")),
    ("country", N_("A country's reactions")),
    ("who", N_("What a person said")),
    ("events", N_("Every compilation, newest first")),
    ("countries", N_("Every country, with counts")),
    ("help", N_("How to ask in a group")),
    ("language", N_("Language: English, Русский, Українська")),
)
# Editors (ADMIN_USER_IDS) see these too, in their own chats only; the public menus do not.
EDITOR_COMMANDS = (("reload", N_("Rebuild the archive from the sources folder")),)


def bot_commands(menu: tuple[tuple[str, str], ...], language: str) -> list[BotCommand]:
    """A menu's commands with their descriptions in ``language``."""
    with i18n.use(language):
        return [BotCommand(name, _(description)) for name, description in menu]


def menu_language_code(language: str) -> str | None:
    """setMyCommands' ``language_code``: English is the default menu (no code), the rest
    are for users whose app speaks them."""
    return None if language == i18n.DEFAULT_LANGUAGE else language


# httpcore scans every pooled connection on each request; PTB's default pool of 256 made that
# scan a fifth of the event loop's time under load. 16 connections still allow ~150 requests/s
# at 100 ms round trips, far above Telegram's ~30 messages/s (bench/bench_bot.py).
CONNECTION_POOL = 16
OWNED_STORE = "store_owned"  # build_application opened the database: shutdown closes it


def build_application(
    settings: Settings,
    engine: EngineLike,
    *,
    flood_control: bool = True,
    store: Store | None = None,
) -> Application:
    """Build the bot: HTML defaults, outgoing flood control and retries, handlers, the engine,
    the database (``settings.database_url``, migrated; or ``store``) and the digest sender.

    ``flood_control=False`` drops AIORateLimiter (it caps sending at Telegram's ~30 messages a
    second); only benchmarks that measure the bot itself, not Telegram's limits, want that.
    Transient failures are retried either way (``bot.delivery``).
    """
    if not settings.token:
        raise ValueError("build_application needs TELEGRAM_BOT_TOKEN (without it, use the console)")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                # A group question deleted before the answer is sent still gets its answer.
                allow_sending_without_reply=True,
            )
        )
        .concurrent_updates(UpdateProcessor())
        .update_queue(InboxQueue())  # webhook mode: message updates stored before the 200
        .connection_pool_size(CONNECTION_POOL)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.rate_limiter(Delivery(flood_limiter() if flood_control else None))  # type: ignore[arg-type]
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
    if settings.api_base_file_url:
        builder = builder.base_file_url(settings.api_base_file_url)
    application = builder.build()
    i18n.load_all()  # a broken catalog stops the start, not a reply
    owned = store is None
    if store is None:
        store = Store.open(settings.database_url)
    executor = ThreadPoolExecutor(1, thread_name_prefix="engine")
    application.bot_data.update(
        {
            handlers.STORE: store,
            handlers.PREFERENCES: handlers.Preferences(store, executor),
            OWNED_STORE: owned,
            handlers.ENGINE: engine,
            handlers.SETTINGS: settings,
            handlers.LIMITER: RateLimiter(settings.rate_limit),
            handlers.INLINE_LIMITER: RateLimiter(settings.inline_rate_limit),
            handlers.EXECUTOR: executor,
        }
    )
    add_handlers(application)
    return application


def add_handlers(application: Application) -> None:
    """Register the handlers; order matters (deep links before /start, commands before text)."""
    new = filters.UpdateType.MESSAGE  # not edits: an edited question must not be answered twice
    groups = filters.ChatType.GROUPS
    private = filters.ChatType.PRIVATE
    # First, for every update: answer in the user's language (bot.i18n).
    application.add_handler(TypeHandler(Update, handlers.choose_language), group=-1)
    application.add_handlers(
        [
            CommandHandler(
                "start", handlers.start_deep_link, new & filters.Regex(r"^/start\S*\s+\S")
            ),
            CommandHandler("start", handlers.start_bot, new),
            CommandHandler("help", handlers.show_help, new),
            CommandHandler("country", handlers.show_country, new),
            CommandHandler("who", handlers.show_who, new),
            CommandHandler("ask", handlers.answer_ask, new),
            CommandHandler("countries", handlers.list_countries, new),
            CommandHandler("sources", handlers.list_sources, new),
            CommandHandler("about", handlers.show_about, new),
            CommandHandler("stats", handlers.show_stats, new),
            CommandHandler("latest", handlers.show_latest, new),
            CommandHandler("events", handlers.list_events, new),
            CommandHandler("reload", handlers.reload_archive, new),
            CommandHandler("follow", handlers.follow_something, new),
            CommandHandler("following", handlers.list_following, new),
            CommandHandler("unfollow", handlers.unfollow_something, new),
            CommandHandler("forget", handlers.forget_user, new),
            CommandHandler("privacy", handlers.show_privacy, new),
            CommandHandler("language", handlers.choose_language_command, new),
            MessageHandler(new & filters.COMMAND, handlers.answer_unknown_command),
            # Editors publish by sending a file or a link to its page (others are told so).
            MessageHandler(new & private & filters.Document.ALL, handlers.receive_document),
            MessageHandler(
                new & private & filters.TEXT & filters.Regex(editors.LINK_RE),
                handlers.receive_link,
            ),
            MessageHandler(new & filters.TEXT & private, handlers.answer_message),
            MessageHandler(new & filters.TEXT & groups, handlers.answer_group_message),
            CallbackQueryHandler(handlers.answer_editor_button, pattern=render.EDITOR_BUTTON_RE),
            CallbackQueryHandler(handlers.answer_follow_button, pattern=render.FOLLOW_BUTTON_RE),
            CallbackQueryHandler(
                handlers.answer_language_button, pattern=render.LANGUAGE_BUTTON_RE
            ),
            CallbackQueryHandler(handlers.answer_button),
            InlineQueryHandler(handlers.answer_inline),
        ]
    )
    application.add_error_handler(handlers.handle_error)


async def _post_init(application: Application) -> None:
    """Publish the command menus and the description; a failure here must not stop the bot."""
    bot = application.bot
    try:
        for language in i18n.LANGUAGES:
            await _publish_menus(application, language)
    except TelegramError as exc:
        log.warning("Could not publish the command menu or description: %s", exc)
    settings: Settings = application.bot_data[handlers.SETTINGS]
    for admin in sorted(settings.admin_user_ids):
        try:  # fails for an editor who never opened a chat with the bot: they still may type it
            for language in i18n.LANGUAGES:
                await bot.set_my_commands(
                    bot_commands(PRIVATE_COMMANDS + EDITOR_COMMANDS, language),
                    scope=BotCommandScopeChat(admin),
                    language_code=menu_language_code(language),
                )
        except TelegramError as exc:
            log.info("Could not publish the editors' menu to %s: %s", admin, exc)
    log.info("Bot @%s is up", bot.username)
    await handlers.recover_publishes(application)  # before any button press is handled
    engine = application.bot_data[handlers.ENGINE]
    if settings.watch_seconds > 0 and hasattr(engine, "reload_if_changed"):
        application.bot_data[handlers.WATCHER] = asyncio.create_task(
            handlers.watch_archive(application, settings.watch_seconds)
        )
    notifier = make_notifier(application)
    application.bot_data[handlers.NOTIFIER] = notifier
    notifier.start()


async def _publish_menus(application: Application, language: str) -> None:
    """The private and group menus and the descriptions, for users whose app speaks
    ``language`` (English: everyone else)."""
    bot = application.bot
    code = menu_language_code(language)
    await bot.set_my_commands(
        bot_commands(PRIVATE_COMMANDS, language),
        scope=BotCommandScopeAllPrivateChats(),
        language_code=code,
    )
    await bot.set_my_commands(
        bot_commands(GROUP_COMMANDS, language),
        scope=BotCommandScopeAllGroupChats(),
        language_code=code,
    )
    with i18n.use(language):
        description, short = _(DESCRIPTION), _(SHORT_DESCRIPTION)
    # Descriptions are rate-limited by Telegram: only write them when they changed.
    if (await bot.get_my_description(language_code=code)).description != description:
        await bot.set_my_description(description, language_code=code)
    if (await bot.get_my_short_description(language_code=code)).short_description != short:
        await bot.set_my_short_description(short, language_code=code)


def make_notifier(application: Application, **options: Any) -> Notifier:
    """The digest sender: the engine's own thread for matching, the bot's flood control for
    sending, at most once (a timeout is not retried: Telegram may have delivered it)."""
    bot = application.bot
    executor = application.bot_data[handlers.EXECUTOR]

    async def send(user: int, reply: Reply) -> int | None:
        message = await bot.send_message(
            chat_id=user,
            text=reply.html,
            reply_markup=handlers.markup(reply.buttons),
            rate_limit_args=AT_MOST_ONCE,
        )
        return message.message_id

    async def run_engine(fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args)  # in the follower's language (the context's)
        return await loop.run_in_executor(executor, contextvars.copy_context().run, call)

    return Notifier(
        application.bot_data[handlers.ENGINE],
        application.bot_data[handlers.STORE],
        send,
        run_engine=run_engine,
        **options,
    )


async def _post_stop(application: Application) -> None:
    """Stop the digest sender while the bot can still send (what is in flight finishes)."""
    notifier = application.bot_data.pop(handlers.NOTIFIER, None)
    if notifier is not None:
        await notifier.stop()


async def _post_shutdown(application: Application) -> None:
    """Stop the archive watcher and the engine's worker thread; close our database."""
    await _post_stop(application)
    watcher = application.bot_data.pop(handlers.WATCHER, None)
    if watcher is not None:
        watcher.cancel()
    executor = application.bot_data.get(handlers.EXECUTOR)
    if isinstance(executor, ThreadPoolExecutor):
        executor.shutdown(wait=False, cancel_futures=True)
    if application.bot_data.get(OWNED_STORE):
        store = application.bot_data.get(handlers.STORE)
        if store is not None:
            store.close()
