"""Telegram handlers: read the update, ask ``bot.commands`` for the reply, send it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot import commands, editors, follows, i18n, render
from bot.commands import Chat, EngineLike
from bot.i18n import _
from bot.ratelimit import RateLimiter
from bot.render import Keyboard, Reply
from bot.settings import Settings
from index.model import Document

log = logging.getLogger(__name__)
T = TypeVar("T")

# bot_data keys
ENGINE = "engine"
EXECUTOR = "engine_executor"
LIMITER = "rate_limiter"
INLINE_LIMITER = "inline_rate_limiter"
SETTINGS = "settings"
# A published compilation should reach inline answers soon; Telegram caches them this long.
INLINE_CACHE_SECONDS = 30
WATCHER = "archive_watcher"
STORE = "store"  # bot.storage.Store: follows, digests, the publish log
NOTIFIER = "notifier"  # bot.notify.Notifier: queues and sends digests
PREFERENCES = "preferences"  # Preferences: the languages users chose, cached
# A language chosen on another replica reaches this one within this long.
PREFERENCE_SECONDS = 60.0
PREFERENCE_CACHE = 10_000  # users whose choice is kept in memory
SLOW_DOWN_START = "inline"
DIGEST_ID_RE = re.compile(
    r"[0-9]{1,15}"
)  # /start payload of the "slow down" button (opens the welcome)

Context = ContextTypes.DEFAULT_TYPE


# --- plumbing ---------------------------------------------------------------------------------


async def _engine_call(context: Context, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(engine, *args)`` on the engine's own thread, keeping the event loop free.

    One worker thread: the engine (tokenizer, FAISS) is not promised to be thread-safe, and its
    answers take milliseconds, so a queue in front of one thread costs little.
    """
    executor: Executor = context.bot_data[EXECUTOR]
    engine: EngineLike = context.bot_data[ENGINE]
    snapshot = getattr(engine, "snapshot", None)
    if callable(snapshot):  # a living archive: this question finishes on the index it began on
        engine = snapshot()
    loop = asyncio.get_running_loop()
    # The copied context carries the update's language (bot.i18n) into the engine's thread.
    call = functools.partial(fn, engine, *args)
    return await loop.run_in_executor(executor, contextvars.copy_context().run, call)


# --- the user's language ----------------------------------------------------------------------


class Preferences:
    """The languages users chose with /language: read from the database (``bot.storage``)
    and kept ``seconds`` in memory, so an update costs no query most of the time."""

    def __init__(
        self,
        store: Any,
        executor: Executor | None = None,
        seconds: float = PREFERENCE_SECONDS,
        size: int = PREFERENCE_CACHE,
    ) -> None:
        self.store = store
        # The engine's one thread: a read queued there keeps updates in the order they came
        # (a pool would let a user's second question overtake the first).
        self.executor = executor
        self.seconds = seconds
        self.size = size
        self._cache: OrderedDict[int, tuple[float, str | None]] = OrderedDict()

    async def chosen(self, user_id: int) -> str | None:
        """The language the user chose, or None (Telegram's then decides)."""
        hit = self._cache.get(user_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        loop = asyncio.get_running_loop()
        stored = await loop.run_in_executor(self.executor, self.store.language_of, user_id)
        language = stored[0] if stored is not None and stored[1] else None
        self.remember(user_id, language)
        return language

    def remember(self, user_id: int, language: str | None) -> None:
        """This process just stored (or deleted) the user's choice."""
        self._cache[user_id] = (time.monotonic() + self.seconds, language)
        self._cache.move_to_end(user_id)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)


async def choose_language(update: Update, context: Context) -> None:
    """Before any handler (group -1): the update is answered in its user's language — the
    one they chose with /language, else their Telegram app's (``ru``, ``uk``), else English."""
    user = update.effective_user
    language = i18n.resolve(user.language_code if user is not None else None)
    preferences: Preferences | None = context.bot_data.get(PREFERENCES)
    if user is not None and preferences is not None and _addressed(update, context):
        try:
            language = await preferences.chosen(user.id) or language
        except Exception:  # the database is down: answer anyway, in the app's language
            log.warning("Could not read a user's language; using their app's", exc_info=True)
    i18n.activate(language)


def _addressed(update: Update, context: Context) -> bool:
    """Whether the bot may answer this update: anything but group chatter (which is ignored,
    so its user's stored language is not worth a database read)."""
    message = update.message
    if message is None or message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or ""
    if text.startswith("/"):
        return True
    replied = message.reply_to_message
    if (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    ):
        return True
    username = context.bot.username
    return bool(username) and text.lower().startswith(f"@{username}".lower())


def markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """Plain render buttons -> Telegram's inline keyboard."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
    )


def _chat(update: Update, context: Context) -> Chat:
    settings: Settings = context.bot_data[SETTINGS]
    private = update.effective_chat is None or update.effective_chat.type == ChatType.PRIVATE
    return Chat(
        where="private" if private else "group",
        bot_username=context.bot.username,
        max_chars=settings.max_query_chars,
        editor=private and is_admin(update, context),
    )


async def _send(update: Update, context: Context, reply: Reply) -> None:
    """Answer the message in its chat; in groups quote it, so the answer's context is clear."""
    message = update.effective_message
    if message is None:
        return
    quote = message.chat.type != ChatType.PRIVATE
    if reply.photo is not None:
        await message.reply_photo(
            photo=reply.photo,
            caption=reply.html,
            reply_markup=markup(reply.buttons),
            do_quote=quote,
        )
    else:
        await message.reply_text(reply.html, reply_markup=markup(reply.buttons), do_quote=quote)


async def _allowed(update: Update, context: Context) -> bool:
    """Spend one of the user's questions; tell them once when they run out."""
    user = update.effective_user
    limiter: RateLimiter = context.bot_data[LIMITER]
    if user is None:
        return True
    verdict = limiter.check(user.id)
    if verdict == "ok":
        return True
    if verdict == "warn":
        text = render.slow_down(limiter.per_minute, limiter.retry_after(user.id))
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        else:
            await _send(update, context, Reply(text))
    elif update.callback_query is not None:
        await update.callback_query.answer()  # stop the button's spinner, say nothing
    return False


def _command_args(message: Message) -> str:
    """The text after ``/command`` (or ``/command@Bot``), as typed."""
    parts = commands.split_command(message.text or "")
    return parts[2] if parts else ""


async def _answer_command(
    update: Update, context: Context, command: Callable[[EngineLike, str, Chat], Reply]
) -> None:
    message = update.effective_message
    if message is None or not await _allowed(update, context):
        return
    reply = await _engine_call(context, command, _command_args(message), _chat(update, context))
    await _send(update, context, reply)


# --- commands ---------------------------------------------------------------------------------


async def start_deep_link(update: Update, context: Context) -> None:
    """Open the answer a deep link names: ``/start country-Georgia``, ``/start who-Peskov``."""
    await _answer_command(update, context, commands.start)


async def start_bot(update: Update, context: Context) -> None:
    """Greet the user with examples."""
    await _answer_command(update, context, commands.start)


async def show_help(update: Update, context: Context) -> None:
    """Explain how to ask, worded for private chats or groups."""
    await _answer_command(update, context, commands.help_text)


async def show_country(update: Update, context: Context) -> None:
    """Quote a country's reactions; without a name, offer a keyboard of countries."""
    await _answer_command(update, context, commands.country)


async def show_who(update: Update, context: Context) -> None:
    """Quote what a person (or the holder of a role) said."""
    await _answer_command(update, context, commands.who)


async def answer_ask(update: Update, context: Context) -> None:
    """Answer ``/ask <question>`` (the way to ask in groups)."""
    await _answer_command(update, context, commands.question)


async def list_countries(update: Update, context: Context) -> None:
    """List the countries with their statement counts, as buttons."""
    await _answer_command(update, context, commands.countries)


async def list_sources(update: Update, context: Context) -> None:
    """List the compilations and the outlets they cite."""
    await _answer_command(update, context, commands.sources)


async def show_about(update: Update, context: Context) -> None:
    """Say what this bot is and what it knows."""
    await _answer_command(update, context, commands.about)


async def show_stats(update: Update, context: Context) -> None:
    """Send a bar chart of statements per country (rendered off the event loop)."""
    await _answer_command(update, context, commands.stats)


async def show_latest(update: Update, context: Context) -> None:
    """Quote the newest compilation's first reaction from each country, a button a country."""
    await _answer_command(update, context, commands.latest)


async def list_events(update: Update, context: Context) -> None:
    """List the compilations newest first; editors get a Remove button for each."""
    await _answer_command(update, context, commands.events)


async def answer_unknown_command(update: Update, context: Context) -> None:
    """Point to /help for a command we do not have (in groups only when addressed to us)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    parts = commands.split_command(message.text)
    if parts is None:
        return
    name, target, _args = parts
    bot_username = context.bot.username or ""
    if message.chat.type != ChatType.PRIVATE and (target or "").lower() != bot_username.lower():
        return  # another bot's command, or one not meant for anyone in particular
    await _send(
        update,
        context,
        commands.unknown_command(name),
    )


# --- free text --------------------------------------------------------------------------------


async def answer_message(update: Update, context: Context) -> None:
    """Private chat: any text is a question."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if message.via_bot is not None and message.via_bot.id == context.bot.id:
        return  # one of our own inline results, posted into this chat
    if not await _allowed(update, context):
        return
    reply = await _engine_call(context, commands.question, message.text, _chat(update, context))
    await _send(update, context, reply)


async def answer_group_message(update: Update, context: Context) -> None:
    """Group: answer replies to the bot and messages that start with @BotName; ignore chatter."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = message.text
    replied = message.reply_to_message
    to_bot = (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    )
    mention = f"@{context.bot.username}".lower() if context.bot.username else None
    if mention and text.lower().startswith(mention):
        text = text[len(mention) :].lstrip(" ,:")
    elif not to_bot:
        return
    if not await _allowed(update, context):
        return
    reply = await _engine_call(context, commands.question, text, _chat(update, context))
    await _send(update, context, reply)


# --- buttons and inline mode ------------------------------------------------------------------


async def answer_button(update: Update, context: Context) -> None:
    """A pressed button: pages and suggestions edit the message; list picks send a new one."""
    query = update.callback_query
    if query is None:
        return
    if not await _allowed(update, context):
        return
    await _stop_spinner(query)  # first, then the edit
    data = query.data or ""
    reply = await _engine_call(context, commands.button, data)
    if reply is None:
        return
    if data.startswith(render.LIST_BUTTONS) and query.message is not None:
        # From a list of countries or the welcome: keep the list, answer below it.
        await context.bot.send_message(
            chat_id=query.message.chat.id, text=reply.html, reply_markup=markup(reply.buttons)
        )
        return
    try:
        await query.edit_message_text(reply.html, reply_markup=markup(reply.buttons))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # the same page pressed twice
            raise


async def answer_inline(update: Update, context: Context) -> None:
    """Inline mode: quotes as articles, 50 a page, best first; an empty query gets a sampler."""
    inline_query = update.inline_query
    if inline_query is None:
        return
    limiter: RateLimiter = context.bot_data[INLINE_LIMITER]
    if limiter.check(inline_query.from_user.id) != "ok":
        await _refuse_inline(inline_query, limiter.retry_after(inline_query.from_user.id))
        return
    page = await _engine_call(context, commands.inline, inline_query.query, inline_query.offset)
    results = [
        InlineQueryResultArticle(
            id=entry.id,
            title=entry.title,
            description=entry.description,
            input_message_content=InputTextMessageContent(entry.html, parse_mode=ParseMode.HTML),
        )
        for entry in page.entries
    ]
    await inline_query.answer(
        results,
        # None, not "": with Defaults set, PTB 22.8 turns an empty-string argument into "[]"
        # (ExtBot._insert_defaults treats "" as an empty list of poll options), and clients
        # would then ask for offset "[]". Leaving it out means "no more results" too.
        next_offset=page.next_offset or None,
        button=(
            InlineQueryResultsButton(text=page.example[0], start_parameter=page.example[1])
            if page.example
            else None
        ),
        cache_time=INLINE_CACHE_SECONDS,
        # Personal: the results are in the asker's language (country names, the note that
        # quotes are English); a shared cache would show one user's language to everyone.
        is_personal=True,
    )


async def _refuse_inline(inline_query: InlineQuery, wait: float) -> None:
    """Over the limit: no results, and a button that says when to try again."""
    try:
        await inline_query.answer(
            [],
            # Personal and uncached: Telegram would otherwise show this to everyone typing it.
            cache_time=0,
            is_personal=True,
            button=InlineQueryResultsButton(
                text=render.inline_slow_down(wait), start_parameter=SLOW_DOWN_START
            ),
        )
    except TelegramError as exc:  # e.g. the query expired: nothing to tell, nothing to trace
        log.info("Could not answer a refused inline query: %s", exc)


# --- follows ----------------------------------------------------------------------------------


def _desk(engine: EngineLike, store: Any, method: str, *args: Any) -> Reply:
    """Run one follow command (engine reading and database) on the engine's thread."""
    reply: Reply = getattr(follows.Desk(engine, store), method)(*args)
    return reply


async def _follow_command(update: Update, context: Context, method: str) -> None:
    """A follow command in a private chat; in groups, say where follows work."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not await _allowed(update, context):
        return
    if message.chat.type != ChatType.PRIVATE:
        await _send(update, context, Reply(_(render.FOLLOW_PRIVATE)))
        return
    store = context.bot_data[STORE]
    if method == "forget":  # the language choice goes too: answer in the app's language
        preferences: Preferences | None = context.bot_data.get(PREFERENCES)
        if preferences is not None:
            preferences.remember(user.id, None)
        i18n.activate(i18n.resolve(user.language_code))
    args = (
        (user.id,)
        if method in ("following", "forget", "privacy")
        else (
            user.id,
            _command_args(message),
        )
    )
    reply = await _engine_call(context, _desk, store, method, *args)
    await _send(update, context, reply)


async def follow_something(update: Update, context: Context) -> None:
    """/follow <person | country | region | topic>: new quotes about it come as one digest."""
    await _follow_command(update, context, "follow")


async def list_following(update: Update, context: Context) -> None:
    """/following: what the user follows, an Unfollow button each."""
    await _follow_command(update, context, "following")


async def unfollow_something(update: Update, context: Context) -> None:
    """/unfollow <…>: stop following it."""
    await _follow_command(update, context, "unfollow")


async def forget_user(update: Update, context: Context) -> None:
    """/forget: delete everything stored about the user."""
    await _follow_command(update, context, "forget")


async def show_privacy(update: Update, context: Context) -> None:
    """/privacy: what is stored about the user and how to delete it."""
    await _follow_command(update, context, "privacy")


async def answer_follow_button(update: Update, context: Context) -> None:
    """Follow (under an answer: a toast; in a list of choices: the list becomes the result),
    Unfollow (the list again) and a digest's pages. The presser is the user they act for."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    if not await _allowed(update, context):
        return
    prefix, _sep, rest = (query.data or "").partition("|")
    prefix += "|"
    store = context.bot_data[STORE]
    user = query.from_user.id
    reply: Reply
    if prefix == render.FOLLOW_ANSWER:  # under an answer: keep it, say it in a toast
        reply = await _engine_call(context, _desk, store, "follow_code", user, rest)
        await query.answer(render.clip_plain(reply.plain, 190))
        return
    if prefix == render.FOLLOW:  # a choice or a suggestion: the message becomes the result
        reply = await _engine_call(context, _desk, store, "follow_code", user, rest)
    elif prefix == render.UNFOLLOW:
        reply = await _engine_call(context, _desk, store, "unfollow_token", user, rest)
    else:  # DIGEST: dg|<id>|<page>
        digest_text, _sep, page_text = rest.partition("|")
        # Digest ids pass NUMBER_MAX as publishes add up; ASCII digits only, as for pages.
        digest_id = int(digest_text) if DIGEST_ID_RE.fullmatch(digest_text) else None
        page = commands.parse_number(page_text)
        if digest_id is None or page is None:
            await query.answer()
            return
        reply = await _engine_call(context, _desk, store, "digest_page", user, digest_id, page)
    await _stop_spinner(query)
    await _edit(query, reply)


# --- the language -----------------------------------------------------------------------------


async def choose_language_command(update: Update, context: Context) -> None:
    """/language: the buttons English / Русский / Українська; ``/language ru`` switches now."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not await _allowed(update, context):
        return
    typed = _command_args(message).strip()
    if typed:
        wanted = i18n.parse(typed)
        if wanted is not None:
            await _send(update, context, await _set_language(context, user.id, wanted))
            return
        await _send(update, context, Reply(_(render.LANGUAGE_UNKNOWN), render.language_buttons()))
        return
    preferences: Preferences | None = context.bot_data.get(PREFERENCES)
    chosen = preferences is not None and await preferences.chosen(user.id) is not None
    await _send(update, context, render.language_menu(chosen))


async def answer_language_button(update: Update, context: Context) -> None:
    """A language button (``lg|ru``): stored for the presser; the message says so in it."""
    query = update.callback_query
    if query is None or query.from_user is None or not await _allowed(update, context):
        return
    wanted = (query.data or "")[len(render.LANGUAGE) :]
    if wanted not in i18n.LANGUAGES:
        await query.answer()
        return
    reply = await _set_language(context, query.from_user.id, wanted)
    await _stop_spinner(query)
    await _edit(query, reply)


async def _set_language(context: Context, user_id: int, language: str) -> Reply:
    """Store the user's choice (the database and this process's cache) and speak it now."""
    store = context.bot_data.get(STORE)
    if store is not None:
        await asyncio.to_thread(store.set_language, user_id, language, True)
        preferences: Preferences | None = context.bot_data.get(PREFERENCES)
        if preferences is not None:
            preferences.remember(user_id, language)
    i18n.activate(language)
    return render.language_set(stored=store is not None)


def archive_changed(bot_data: dict[str, Any]) -> None:
    """A reload swapped the archive: look for new compilations to tell followers about now."""
    notifier = bot_data.get(NOTIFIER)
    if notifier is not None:
        notifier.wake()


# --- errors -----------------------------------------------------------------------------------


async def handle_error(update: object, context: Context) -> None:
    """Log the error with its traceback and tell the user, politely, if there is one."""
    error = context.error
    if isinstance(error, Forbidden):  # the user blocked the bot: no one to tell
        log.info("Forbidden: %s", error)
        return
    kind = "update"
    if isinstance(update, Update):
        kind = f"update {update.update_id}"
    if isinstance(error, RetryAfter):  # flood control: a known state, no bug to trace
        # bot.delivery already waited as long as the answer's deadline or the limiter allows;
        # an apology now would be one more request refused the same way.
        log.warning("Telegram's flood control dropped the answer to %s: %s", kind, error)
        return
    log.error("Error while handling %s", kind, exc_info=error)
    if not isinstance(update, Update):
        return
    text = _(render.APOLOGY)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=False)
        elif update.effective_message is not None and update.inline_query is None:
            await update.effective_message.reply_text(text)
    except TelegramError as exc:  # the apology failed too; the log already has the cause
        log.warning("Could not tell the user about the error: %s", exc)


# --- the living archive -----------------------------------------------------------------------


def is_admin(update: Update, context: Context) -> bool:
    """Whether the update comes from an editor (ADMIN_USER_IDS)."""
    settings: Settings = context.bot_data[SETTINGS]
    user = update.effective_user
    return user is not None and user.id in settings.admin_user_ids


async def reload_archive(update: Update, context: Context) -> None:
    """/reload (editors): rebuild the index from the sources folder now and say what changed."""
    message = update.effective_message
    if message is None:
        return
    if not is_admin(update, context):
        await message.reply_text(_(render.ADMIN_ONLY))
        return
    engine = context.bot_data[ENGINE]
    if not hasattr(engine, "reload_if_changed"):
        await message.reply_text(_(render.RELOAD_UNSUPPORTED))
        return
    result = await asyncio.to_thread(engine.reload_if_changed, force=True)
    if result is not None and result.swapped:
        archive_changed(context.bot_data)
    await message.reply_text(render.reload_text(result.message if result else None))


async def watch_archive(application: Any, interval: float) -> None:
    """Every ``interval`` seconds: a changed sources folder is rebuilt off the event loop and
    swapped in; a reload that keeps the old archive is told to the editors."""
    engine = application.bot_data[ENGINE]
    settings: Settings = application.bot_data[SETTINGS]
    while True:
        await asyncio.sleep(interval)
        try:
            result = await asyncio.to_thread(engine.reload_if_changed)
        except Exception:  # the watcher must outlive any one failure
            log.exception("Watching the sources folder failed")
            continue
        if result is not None and result.swapped:
            archive_changed(application.bot_data)
        if result is None or result.swapped:
            continue
        for admin in sorted(settings.admin_user_ids):
            try:
                with i18n.use(await _stored_language(application.bot_data, admin)):
                    text = render.reload_text(result.message)
                await application.bot.send_message(admin, text)
            except TelegramError as exc:
                log.warning("Could not tell editor %s about the reload: %s", admin, exc)


async def _stored_language(bot_data: dict[str, Any], user_id: int) -> str:
    """The language stored for a user the bot writes to unasked (chosen, or last known from
    their app); English when none is stored or the database fails."""
    store = bot_data.get(STORE)
    if store is None:
        return i18n.DEFAULT_LANGUAGE
    try:
        stored = await asyncio.to_thread(store.language_of, user_id)
    except Exception:
        log.warning("Could not read a user's language", exc_info=True)
        return i18n.DEFAULT_LANGUAGE
    return stored[0] if stored is not None else i18n.DEFAULT_LANGUAGE


# --- editors: uploads, publishing, removing ---------------------------------------------------


def _sources(context: Context) -> Path | None:
    """The sources folder of a living archive; None when the bot serves a fixed one."""
    engine = context.bot_data[ENGINE]
    folder = getattr(engine, "sources_dir", None)
    if folder is None or not hasattr(engine, "reload_if_changed"):
        return None
    return Path(folder)


async def _reload(context: Context) -> Any:
    """Rebuild the archive now, off the event loop (``index.live.Reloaded``)."""
    engine = context.bot_data[ENGINE]
    result = await asyncio.to_thread(engine.reload_if_changed, force=True)
    if result is not None and result.swapped:
        archive_changed(context.bot_data)
    return result


async def _stop_spinner(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press (its spinner stops) before acting on it; if the answer cannot be
    given, the action (an edit, a new message) still happens: a press too old to answer (400)
    is only a debug line, an answer flood control dropped past its deadline (429) a warning."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        log.debug("callback answer failed: %s", exc)
    except RetryAfter as exc:
        log.warning("Telegram's flood control dropped a button's answer: %s", exc)


async def _edit(query: CallbackQuery, reply: Reply) -> None:
    """Replace a button's message; the same content twice is not an error."""
    try:
        await query.edit_message_text(reply.html, reply_markup=markup(reply.buttons))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _refuse_upload(update: Update, context: Context) -> None:
    """Someone who is not an editor sent a file or a link: thank them, say who may."""
    if await _allowed(update, context):
        await _send(update, context, Reply(_(render.UPLOAD_EDITORS_ONLY)))


async def _stage_upload(
    update: Update, data: bytes, name: str, content_type: str | None, sources: Path
) -> None:
    """Parse the upload in a worker thread, keep it pending, show the report and the buttons."""
    message = update.effective_message
    assert message is not None
    try:
        staged = await asyncio.to_thread(editors.stage, data, name, content_type, sources)
    except editors.UploadError as exc:
        await message.reply_text(render.upload_failed(str(exc)))
        return
    reply = render.upload_report(staged.prepared, staged.key, staged.action, staged.target)
    await message.reply_text(reply.html, reply_markup=markup(reply.buttons))


async def _editor_sources(update: Update, context: Context, message: Message) -> Path | None:
    """The sources folder for an editor's upload; anyone else, or a fixed archive, is told why."""
    if not is_admin(update, context):
        await _refuse_upload(update, context)
        return None
    sources = _sources(context)
    if sources is None:
        await message.reply_text(_(render.FIXED_ARCHIVE))
    return sources


async def receive_document(update: Update, context: Context) -> None:
    """A file in a private chat: an editor's compilation (.txt) or saved page (.html), checked
    before it is downloaded (type, 2 MB), parsed, and offered for Publish or Discard."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    sources = await _editor_sources(update, context, message)
    if sources is None:
        return
    document = message.document
    problem = editors.document_problem(document.file_name, document.mime_type, document.file_size)
    if problem == "type":
        await message.reply_text(render.upload_wrong_type(document.file_name, document.mime_type))
        return
    if problem == "size":
        size = document.file_size or 0
        await message.reply_text(render.upload_too_large(size, editors.MAX_UPLOAD_BYTES))
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    if len(data) > editors.MAX_UPLOAD_BYTES:  # Telegram did not say the size beforehand
        await message.reply_text(render.upload_too_large(len(data), editors.MAX_UPLOAD_BYTES))
        return
    await _stage_upload(update, data, document.file_name or "upload", document.mime_type, sources)


async def receive_link(update: Update, context: Context) -> None:
    """A private message that is just a link: an editor's compilation page, fetched (20 s,
    2 MB) off the event loop, parsed, and offered for Publish or Discard."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    url = editors.link(message.text)
    if url is None:
        return
    sources = await _editor_sources(update, context, message)
    if sources is None:
        return
    await message.chat.send_action(ChatAction.TYPING)
    try:
        data, name, content_type = await asyncio.to_thread(editors.fetch, url)
    except editors.UploadError as exc:
        await message.reply_text(render.upload_failed(str(exc)))
        return
    await _stage_upload(update, data, name, content_type, sources)


async def answer_editor_button(update: Update, context: Context) -> None:
    """Publish, Replace or Discard an upload; Remove a compilation (asked, then Yes or No).
    Editors only, checked on every press; every state is in the button and the folders."""
    query = update.callback_query
    if query is None:
        return
    admin = is_admin(update, context)
    await _stop_spinner(query, None if admin else _(render.EDITOR_BUTTON_ONLY))
    if not admin:
        return
    sources = _sources(context)
    if sources is None:
        await _edit(query, Reply(_(render.FIXED_ARCHIVE)))
        return
    prefix, _sep, key = (query.data or "").partition("|")
    prefix += "|"
    if prefix in (render.PUBLISH, render.REPLACE):
        told = await asyncio.to_thread(editors.recovered, sources, key, query.id)
        if told is not None:  # redelivered after a crash: the recovery has answered it
            await _edit(query, Reply(told[0], _data_buttons(told[1], key)))
            return
    try:
        if prefix in (render.PUBLISH, render.REPLACE):
            reply = await _publish(context, query, sources, key, replace=prefix == render.REPLACE)
        elif prefix == render.DISCARD:
            discarded = await asyncio.to_thread(editors.discard, sources, key)
            reply = Reply(_(render.DISCARDED if discarded else render.UPLOAD_GONE))
        elif prefix == render.REMOVE:
            reply = await _engine_call(context, commands.confirm_removal, key)
        elif prefix == render.REMOVE_YES:
            reply = await _remove(context, query, sources, key)
        else:  # REMOVE_NO: back to the list
            reply = await _engine_call(context, commands.events, "", _chat(update, context))
    except Exception:
        # The button was answered already: say so in the message (not left at "⏳ …"), and
        # let the error handler log it.
        with contextlib.suppress(TelegramError):
            await _edit(query, Reply(_(render.APOLOGY)))
        raise
    await _edit(query, reply)


async def _publish(
    context: Context, query: CallbackQuery, sources: Path, key: str, *, replace: bool
) -> Reply:
    """Write the pending upload into the sources folder and reload; if the archive does not
    load with it, put the folder back as it was and keep the upload pending."""
    if not editors.pending(sources, key):
        return Reply(_(render.UPLOAD_GONE))
    buttons = render.upload_buttons(key, replace=replace)
    message = query.message
    journal = None
    if message is not None:  # a crash from here on is finished or undone at the next start
        journal = editors.Journal(
            key, message.chat.id, message.message_id, query.id, i18n.current(), replace
        )
        await asyncio.to_thread(editors.begin_publish, sources, journal)
    try:
        await _edit(query, Reply(render.working("replace" if replace else "publish")))
    except Exception:
        await asyncio.to_thread(editors.end_publish, sources, key)  # nothing was published
        raise
    try:
        done = await asyncio.to_thread(
            editors.publish, sources, key, replace=replace, journal=journal
        )
    except editors.UploadError as exc:
        await asyncio.to_thread(editors.end_publish, sources, key)
        return Reply(render.publish_failed(str(exc)), buttons)
    if done is None:
        return Reply(_(render.UPLOAD_GONE))
    result = await _reload(context)
    if not result.swapped and done.published.action != "unchanged":
        await asyncio.to_thread(editors.rollback, done)
        await asyncio.to_thread(editors.end_publish, sources, key)
        await _reload(context)
        return Reply(render.publish_failed(result.message), buttons)
    await asyncio.to_thread(editors.discard, sources, key)
    await asyncio.to_thread(editors.end_publish, sources, key)
    path = done.published.path
    return Reply(render.published(done.title, path.name, done.published.action, result.message))


def _data_buttons(data: list[str], key: str) -> Keyboard:
    """The upload buttons a recovery showed, from their callback data."""
    if not data:
        return ()
    return render.upload_buttons(key, replace=any(d.startswith(render.REPLACE) for d in data))


async def recover_publishes(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """At start: finish or roll back each publish a dead process left half done, reload when
    the folder changed, and edit each editor's "⏳ Publishing…" message to say which."""
    engine = application.bot_data[ENGINE]
    folder = getattr(engine, "sources_dir", None)
    if folder is None or not hasattr(engine, "reload_if_changed"):
        return
    sources = Path(folder)
    journals = await asyncio.to_thread(editors.interrupted, sources)
    for journal in journals:
        try:
            problems = list(getattr(engine.snapshot(), "problems", []))
            done = await asyncio.to_thread(editors.recover, sources, journal, problems)
            result = None
            if done.changed:
                result = await asyncio.to_thread(engine.reload_if_changed, force=True)
                if result is not None and result.swapped:
                    archive_changed(application.bot_data)
            with i18n.use(journal.language if journal.language in i18n.LANGUAGES else "en"):
                reply = render.publish_recovered(done, result.message if result else None)
            buttons = [b.data for row in reply.buttons for b in row]
            await asyncio.to_thread(
                editors.remember_recovery, sources, journal, reply.html, buttons
            )
            log.info("interrupted publish of %s: %s", journal.target or journal.key, done.outcome)
            await application.bot.edit_message_text(
                reply.html,
                chat_id=journal.chat_id,
                message_id=journal.message_id,
                reply_markup=markup(reply.buttons),
            )
        except TelegramError as exc:
            log.info("could not tell the editor about the interrupted publish: %s", exc)
        except Exception:  # one bad journal must not stop the bot
            log.exception("could not recover the interrupted publish %s", journal.key)


def _documents(engine: EngineLike) -> list[Document]:
    return engine.documents()


async def _remove(context: Context, query: CallbackQuery, sources: Path, key: str) -> Reply:
    """Move a compilation out of the sources folder and reload; if the archive does not load
    without it, move it back."""
    documents = await _engine_call(context, _documents)
    doc = editors.find_document(documents, key)
    if doc is None:
        return Reply(_(render.REMOVE_GONE))
    if len(documents) == 1:
        return Reply(_(render.REMOVE_LAST))
    await _edit(query, Reply(render.working("remove")))
    try:
        moved = await asyncio.to_thread(editors.remove, sources, doc)
    except editors.UploadError as exc:
        return Reply(render.remove_failed(str(exc)))
    if moved is None:  # another replica (or a hand) removed it; let this one catch up
        await _reload(context)
        return Reply(_(render.REMOVE_GONE))
    result = await _reload(context)
    if not result.swapped:
        await asyncio.to_thread(editors.restore, sources, moved)
        await _reload(context)
        return Reply(render.remove_failed(result.message))
    return Reply(render.removed(doc, moved.name, result.message))
