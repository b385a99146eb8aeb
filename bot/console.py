"""A local console chat on the same engine, commands and rendering as the Telegram bot."""

from __future__ import annotations

import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from bot import commands
from bot.commands import Chat, EngineLike
from bot.render import Button, Reply, to_plain
from bot.settings import Settings

BANNER = """\
Reactions bot: local console (no TELEGRAM_BOT_TOKEN is set, so nothing talks to Telegram).
Type a question, or a command:
  What did Peskov say?        /country Georgia        /who Kremlin spokesman
  /latest  /events  /countries  /sources  /stats  /about  /help   n or /more: next page
Quit with Ctrl-D (or Ctrl-C)."""
NEXT_WORDS = {"n", "/more", "/next", "more", "next"}
QUIT_WORDS = {"/quit", "/exit", "q", "quit", "exit"}


class Console:
    """Read lines, answer them; remembers the last reply's buttons so "n" and "2" press them."""

    def __init__(
        self,
        engine: EngineLike,
        out: TextIO,
        *,
        max_chars: int = 500,
        chart_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.out = out
        self.chat = Chat(where="console", bot_username=None, max_chars=max_chars)
        self.chart_dir = chart_dir or Path(tempfile.gettempdir())
        self.buttons: list[Button] = []

    def handle(self, line: str) -> Reply | None:
        """One line of input -> the reply (None: nothing to say)."""
        text = line.strip()
        if not text:
            return None
        self.refresh()
        engine = self.current()
        if text.lower() in NEXT_WORDS:
            nxt = next((b for b in self.buttons if b.text.startswith("Next")), None)
            if nxt is None:
                return Reply("No more pages.")
            return commands.button(engine, nxt.data)
        number = commands.parse_number(text)
        if number is not None and self.buttons:
            index = number - 1
            if 0 <= index < len(self.buttons):
                return commands.button(engine, self.buttons[index].data)
        return commands.dispatch(engine, text, self.chat)

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

    def show(self, reply: Reply | None) -> None:
        """Print a reply as plain text, its photo saved to a file, its buttons numbered."""
        if reply is None:
            return
        self.buttons = [b for row in reply.buttons for b in row]
        print(to_plain(reply.html), file=self.out)
        if reply.photo is not None:
            path = self.chart_dir / "reactions-stats.png"
            path.write_bytes(reply.photo)
            print(f"[chart saved to {path}]", file=self.out)
        if self.buttons:
            labels = "  ".join(f"[{i}] {b.text}" for i, b in enumerate(self.buttons, 1))
            hint = " (n: next page)" if any(b.text.startswith("Next") for b in self.buttons) else ""
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
) -> int:
    """Chat on the terminal until EOF, Ctrl-C or SIGTERM; works with piped input too."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    interactive = stdin.isatty() and out.isatty()
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        print(BANNER, file=out)
        print("Loading the index…", file=out, flush=True)
        console = Console(open_engine(), out, max_chars=settings.max_query_chars)
        print("Ready.\n", file=out, flush=True)
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
