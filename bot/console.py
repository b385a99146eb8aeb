"""A local console chat on the same engine, commands and rendering as the Telegram bot."""

from __future__ import annotations

import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from bot import commands, follows, i18n, notify, render
from bot.commands import Chat, EngineLike
from bot.i18n import N_, _
from bot.render import Button, Reply, to_plain
from bot.settings import Settings
from bot.storage import StorageError, Store

BANNER = N_(
    """\
Reactions bot: local console (no TELEGRAM_BOT_TOKEN is set, so nothing talks to Telegram).
Type a question, or a command:
  What did Peskov say?        /country Georgia        /who Kremlin spokesman
  /latest  /events  /countries  /sources  /stats  /about  /help   n or /more: next page
  /follow Peskov  /following  /unfollow Peskov  /privacy  /forget: new quotes print here
  /language ru: the console's language (en, ru, uk)
Quit with Ctrl-D (or Ctrl-C)."""
)
NEXT_WORDS = {"n", "/more", "/next", "more", "next"}
QUIT_WORDS = {"/quit", "/exit", "q", "quit", "exit"}
CONSOLE_USER = 0  # the console's one local user in the database (no Telegram id is 0)
CONSOLE_WORKER = "console"
FOLLOW_COMMANDS = {"follow", "following", "unfollow", "forget", "privacy"}
NO_DATABASE = N_(
    "Follows need the database (DATABASE_URL), which did not open: see the message above."
)


class Console:
    """Read lines, answer them; remembers the last reply's buttons so "n" and "2" press them."""

    def __init__(
        self,
        engine: EngineLike,
        out: TextIO,
        *,
        max_chars: int = 500,
        chart_dir: Path | None = None,
        store: Store | None = None,
        user: int = CONSOLE_USER,
        language: str = i18n.DEFAULT_LANGUAGE,
    ) -> None:
        self.engine = engine
        self.language = language
        self.out = out
        self.chat = Chat(where="console", bot_username=None, max_chars=max_chars)
        self.chart_dir = chart_dir or Path(tempfile.gettempdir())
        self.buttons: list[Button] = []
        self.store = store
        self.user = user
        self.seen: set[str] | None = None

    def handle(self, line: str) -> Reply | None:
        """One line of input -> the reply (None: nothing to say), in the console's language."""
        with i18n.use(self.language):
            return self._handle(line)

    def _handle(self, line: str) -> Reply | None:
        text = line.strip()
        if not text:
            return None
        self.refresh()
        engine = self.current()
        if text.lower() in NEXT_WORDS:
            nxt = next((b for b in self.buttons if b.role == "next"), None)
            if nxt is None:
                return Reply(_("No more pages."))
            return commands.button(engine, nxt.data)
        number = commands.parse_number(text)
        if number is not None and self.buttons:
            index = number - 1
            if 0 <= index < len(self.buttons):
                return self.press(engine, self.buttons[index].data)
        parts = commands.split_command(text)
        if parts is not None and parts[0] == "language":
            wanted = i18n.parse(parts[2])
            if wanted is None:
                menu = render.language_menu(chosen=True)
                note = "" if not parts[2].strip() else _(render.LANGUAGE_UNKNOWN) + "\n\n"
                return Reply(note + menu.html, menu.buttons)
            return self.switch(wanted)
        if parts is not None and parts[0] in FOLLOW_COMMANDS:
            if self.store is None:
                return Reply(_(NO_DATABASE))
            desk = follows.Desk(engine, self.store)
            name, args = parts[0], parts[2]
            if name in ("following", "forget", "privacy"):
                reply: Reply = getattr(desk, name)(self.user)
                return reply
            return (
                desk.follow(self.user, args) if name == "follow" else desk.unfollow(self.user, args)
            )
        return commands.dispatch(engine, text, self.chat)

    def switch(self, language: str) -> Reply:
        """Speak ``language`` from now on (not stored: the console's user is local)."""
        self.language = language
        i18n.activate(language)
        return render.language_set(stored=False)

    def press(self, engine: EngineLike, data: str) -> Reply | None:
        """A numbered button: the follow buttons act for the console's user."""
        if data.startswith(render.LANGUAGE):
            wanted = data[len(render.LANGUAGE) :]
            return self.switch(wanted) if wanted in i18n.LANGUAGES else None
        if not data.startswith(render.FOLLOW_BUTTONS):
            return commands.button(engine, data)
        if self.store is None:
            return Reply(_(NO_DATABASE))
        desk = follows.Desk(engine, self.store)
        prefix, _sep, rest = data.partition("|")
        if prefix + "|" in (render.FOLLOW, render.FOLLOW_ANSWER):
            return desk.follow_code(self.user, rest)
        if prefix + "|" == render.UNFOLLOW:
            return desk.unfollow_token(self.user, rest)
        digest, _sep, page = rest.partition("|")
        if not (digest.isascii() and digest.isdigit() and (page or "0").isdigit()):
            return None
        return desk.digest_page(self.user, int(digest), int(page or 0))

    def deliver(self) -> None:
        """New compilations since the last look: queue the digests, and print this user's."""
        with i18n.use(self.language):
            self._deliver()

    def _deliver(self) -> None:
        store = self.store
        if store is None:
            return
        engine = self.current()
        if self.seen is None:
            self.seen = notify.baseline(engine, store)
        docs = notify.document_ids(engine)
        new = docs - self.seen
        if new:
            notify.enqueue(store, notify.plan(engine, store, new))
        self.seen = docs
        store.expire_claims(notify.LEASE_SECONDS)
        for d in store.claim(CONSOLE_WORKER, 100, user_id=self.user):
            reply = notify.digest_reply(engine, d.id, store.items(d.id))
            if reply is None:
                store.retry_later(d.id, 0, True)
                continue
            self.show(reply)
            store.sent(d.id, None)

    def current(self) -> EngineLike:
        """The engine that answers now: a living archive's snapshot, so the lists cached per
        engine (/latest, /events, /countries) are those of the archive as it is."""
        snapshot = getattr(self.engine, "snapshot", None)
        engine: EngineLike = snapshot() if callable(snapshot) else self.engine
        return engine

    def refresh(self) -> None:
        """A living archive: a compilation added, changed or removed since the last question is
        loaded before this one is answered (the console has no background watcher)."""
        reload = getattr(self.engine, "reload_if_changed", None)
        if not callable(reload):
            return
        result = reload()
        if result is not None:
            print(f"[{result.message}]", file=self.out, flush=True)
        self.deliver()

    def show(self, reply: Reply | None) -> None:
        """Print a reply as plain text, its photo saved to a file, its buttons numbered."""
        if reply is None:
            return
        with i18n.use(self.language):
            self._show(reply)

    def _show(self, reply: Reply) -> None:
        self.buttons = [b for row in reply.buttons for b in row]
        print(to_plain(reply.html), file=self.out)
        if reply.photo is not None:
            path = self.chart_dir / "reactions-stats.png"
            path.write_bytes(reply.photo)
            print("[" + _("chart saved to {path}").format(path=path) + "]", file=self.out)
        if self.buttons:
            labels = "  ".join(f"[{i}] {b.text}" for i, b in enumerate(self.buttons, 1))
            hint = ""
            if any(b.role == "next" for b in self.buttons):
                hint = " (" + _("n: next page") + ")"
            print(f"{labels}{hint}", file=self.out)
        print(file=self.out)
        self.out.flush()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_console(
    settings: Settings,
    open_engine: Callable[[], EngineLike],
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    language: str = i18n.DEFAULT_LANGUAGE,
) -> int:
    """Chat on the terminal until EOF, Ctrl-C or SIGTERM; works with piped input too;
    ``language``: en, ru or uk (``python -m bot --lang ru``)."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    interactive = stdin.isatty() and out.isatty()
    previous = signal.signal(signal.SIGTERM, _stop)
    i18n.load_all()
    i18n.activate(language)
    try:
        print(_(BANNER), file=out)
        print(_("Loading the index…"), file=out, flush=True)
        store = open_store(settings, out)
        console = Console(
            open_engine(), out, max_chars=settings.max_query_chars, store=store, language=language
        )
        console.deliver()  # digests of compilations added while nobody was looking
        print(_("Ready.") + "\n", file=out, flush=True)
        while True:
            if interactive:
                try:
                    line = input("› ")
                except EOFError:
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
            if line.strip().lower() in QUIT_WORDS:
                break
            console.show(console.handle(line))
    except KeyboardInterrupt:
        print(file=out)
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def open_store(settings: Settings, out: TextIO) -> Store | None:
    """The database for follows; without it the console still answers questions."""
    try:
        return Store.open(settings.database_url)
    except StorageError as exc:
        print("[" + _("{error}; follows are off").format(error=exc) + "]", file=out, flush=True)
        return None
