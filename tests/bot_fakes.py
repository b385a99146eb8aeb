"""Test seams the bot owns: a FakeEngine with the engine's API over hand-written statements,
and a helper that runs a real PTB Application with the bot's polling against a local Bot API
server."""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence

from telegram.ext import Application

from bot.updates import DRAIN_SECONDS, Poller
from index.model import Answer, Document, Hit, Intent, Source, Statement, Suggestion

DOC = Document(
    id="fake-doc",
    path="fake.txt",
    title="Fake <Reactions> & Co.",
    blog="A test blog",
    published="2024-11-06",
    updated="2024-11-08",
    author="Written for the tests.",
)


def _st(
    sid: str,
    country: str,
    speaker: str | None,
    role: str | None,
    text: str,
    sources: Sequence[tuple[str, str]] = (("Interfax", "11.06.24"),),
    kind: str = "person",
) -> Statement:
    srcs = tuple(Source(o, f"2024-{d[:2]}-{d[3:5]}", f"{o}, {d}") for o, d in sources)
    return Statement(sid, DOC.id, country, speaker, role, kind, text, srcs)


STATEMENTS: tuple[Statement, ...] = (
    _st(
        "ge1",
        "Georgia",
        "Irakli Kobakhidze",
        "prime minister of Georgia",
        "I am confident that President Trump’s leadership will promote peace.",
        [("X", "11.06.24")],
    ),
    _st(
        "ge2",
        "Georgia",
        "Mamuka Mdinaradze",
        "executive secretary of the ruling party",
        "We congratulate the American people, where peace and traditional values win.",
    ),
    _st(
        "ge3",
        "Georgia",
        "Salome Zourabichvili",
        "Georgian president",
        "A strong U.S. is needed now more than ever for Georgia's Euro-Atlantic integration.",
    ),
    _st(
        "ru1",
        "Russia",
        "Dmitry Peskov",
        "Vladimir Putin’s press secretary",
        "I still know nothing about Putin's intention to congratulate Trump.",
        [("TASS", "11.06.24")],
    ),
    _st(
        "ru2",
        "Russia",
        "Dmitry Peskov",
        "Vladimir Putin’s press secretary",
        "Peskov dismissed the possibility of ending the conflict in Ukraine “overnight.”",
        [("Meduza", "11.06.24")],
    ),
    _st(
        "ru3",
        "Russia",
        "Maria <Zakharova> & Co",
        'Foreign Ministry "spokeswoman" <i>',
        "She wrote <b>bold</b> & <script>alert('x')</script> “Hallelujah”.",
        [("Meduza & <Friends>", "11.06.24")],
    ),
    _st(
        "ru4",
        "Russia",
        None,
        None,
        "The Moscow Exchange Index rose by 3.6% on news of Trump's likely victory.",
        [("Istories", "11.06.24"), ("FT", "11.06.24"), ("FT", "11.06.24")],
        kind="market",
    ),
    _st(
        "tj1",
        "Tajikistan",
        None,
        None,
        "At the time of publication, no remarks were available from Tajik officials.",
        (),
        kind="note",
    ),
    _st(
        "ua1",
        "Ukraine",
        "Volodymyr Zelenskyy",
        "president of Ukraine",
        "I appreciate President Trump’s commitment to the ‘peace through strength’ approach.",
        [("Meduza", "11.06.24")],
    ),
    _st(
        "kg1",
        "Кыргызстан",
        "Садыр Жапаров",
        "президент",
        "Я уверен, что ваш опыт создаст условия для сотрудничества.",
        [("Кабар", "11.06.24")],
    ),
)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


class FakeEngine:
    """The engine's API (see index.search.Engine) over ``STATEMENTS``; for unit tests only."""

    def __init__(self, statements: Sequence[Statement] = STATEMENTS) -> None:
        self.statements = list(statements)
        self.calls: list[tuple[str, str]] = []

    # lists
    def countries(self) -> list[tuple[str, int]]:
        return sorted(Counter(s.country for s in self.statements).items())

    def documents(self) -> list[Document]:
        return [DOC]

    def document(self, doc_id: str) -> Document | None:
        return DOC if doc_id == DOC.id else None

    def outlets(self) -> list[tuple[str, int]]:
        counts = Counter(src.outlet for s in self.statements for src in s.sources)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def get(self, statement_id: str) -> Statement | None:
        return next((s for s in self.statements if s.id == statement_id), None)

    def statements_in(self, documents: Collection[str]) -> list[Statement]:
        return [s for s in self.statements if s.document in documents]

    def statement_ids(self) -> list[str]:
        return sorted(s.id for s in self.statements)

    def counts_by_document(self) -> dict[str, int]:
        return dict(Counter(s.document for s in self.statements))

    # answers
    def _country_names(self) -> list[str]:
        return [c for c, _ in self.countries()]

    def _speakers(self) -> list[str]:
        return list(dict.fromkeys(s.speaker for s in self.statements if s.speaker))

    def country(self, name: str) -> Answer:
        self.calls.append(("country", name))
        q = _fold(name)
        if not q:
            return Answer(name, Intent("empty"))
        for c in self._country_names():
            if _fold(c) == q or _fold(c).startswith(q):
                hits = tuple(Hit(s, 1.0) for s in self.statements if s.country == c)
                return Answer(name, Intent("country", c, f"c:{c}"), hits, confident=True)
        return self._nothing(name, f"No country called “{name}” in the compilations.")

    def who(self, name: str) -> Answer:
        self.calls.append(("who", name))
        q = _fold(name)
        for sp in self._speakers():
            parts = _fold(sp).split()
            if q == _fold(sp) or q in parts or any(p in q.split() for p in parts[-1:]):
                hits = tuple(Hit(s, 1.0) for s in self.statements if s.speaker == sp)
                return Answer(name, Intent("person", sp, f"s:{sp}"[:48]), hits, confident=True)
        return self._nothing(name, f"Nobody called “{name}” is quoted.")

    def ask(self, query: str, k: int = 10) -> Answer:
        self.calls.append(("ask", query))
        q = _fold(query)
        if not q:
            return Answer(query, Intent("empty"))
        words = set(q.replace("?", " ").split())
        for c in self._country_names():
            if _fold(c) in words:
                return self.country(c)
        for sp in self._speakers():
            if _fold(sp).split()[-1] in words:
                return self.who(sp)
        scored = []
        for s in self.statements:
            overlap = len(words & set(_fold(s.text).split()))
            if overlap:
                scored.append((overlap, s))
        scored.sort(key=lambda x: -x[0])
        if not scored:
            return self._nothing(query, "Nothing in the compilations matches that well.")
        hits = tuple(Hit(s, float(n)) for n, s in scored[:k])
        confident = scored[0][0] >= 3
        suggestions = () if confident else self._suggest(q)
        key = "q:" + query.encode()[:46].decode("utf-8", "ignore")
        return Answer(query, Intent("topic", None, key), hits, confident, suggestions)

    def by_key(self, key: str) -> Answer:
        kind, _, value = key.partition(":")
        if kind == "c":
            return self.country(value)
        if kind == "s":
            return self.who(value)
        return self.ask(value if kind == "q" else key)

    def _suggest(self, q: str) -> tuple[Suggestion, ...]:
        names = self._country_names() + self._speakers()
        close = difflib.get_close_matches(q, [_fold(n) for n in names], n=3, cutoff=0.5)
        by_fold = {_fold(n): n for n in names}
        out = []
        for f in close:
            n = by_fold[f]
            out.append(Suggestion(n, f"c:{n}" if n in self._country_names() else f"s:{n}"))
        return tuple(out)

    def _nothing(self, query: str, message: str) -> Answer:
        return Answer(
            query,
            Intent("none", None, "q:" + query.encode()[:46].decode("utf-8", "ignore")),
            (),
            False,
            self._suggest(_fold(query)),
            message,
        )


@contextlib.asynccontextmanager
async def polling(
    application: Application, drain_seconds: float = DRAIN_SECONDS, fetch: bool = True
) -> AsyncIterator[Poller]:
    """Run a real Application with the bot's long polling for the block, then stop it
    (``fetch=False``: only answer what the inbox holds, as a webhook replica does)."""
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    await application.start()
    poller = Poller(application, poll_timeout=1, drain_seconds=drain_seconds, fetch=fetch)
    await poller.start()
    try:
        yield poller
    finally:
        await poller.stop()
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        await asyncio.sleep(0)


def stop(process: subprocess.Popen[bytes], kill_after: float) -> int | None:
    """SIGTERM, then SIGKILL if ``process`` is alive ``kill_after`` seconds later, as a process
    manager stops the bot: its exit code, or None when it had to be killed."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
