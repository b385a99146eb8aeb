"""What each command answers, as render output; shared by the Telegram handlers and the console."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot import chart, editors, examples, i18n, render
from bot.i18n import N_, _
from bot.render import Button, InlineEntry, Reply
from index.model import Answer, Document, Intent, Statement

Where = Literal["private", "group", "console"]
INLINE_PAGE = 50  # Telegram's cap on results per answerInlineQuery
INLINE_MAX = 200  # how deep inline pagination goes
INLINE_QUERY_CHARS = 256  # Telegram's cap on an inline query
NUMBER_MAX = 10_000  # the largest offset or page number read from a client; anything else is page 1
NUMBER_RE = re.compile(r"[0-9]{1,5}")  # ASCII only: str.isdigit() also accepts "²" and "①"
DEEP_LINK_RE = re.compile(r"^(country|who)-([A-Za-z0-9_-]{1,60})$")


class EngineLike(Protocol):
    """The search engine API the bot renders (``index.search.Engine``)."""

    def __hash__(self) -> int: ...  # engines key small caches of derived lists

    @property
    def statements(self) -> Sequence[Statement]: ...  # every statement, in document order
    def ask(self, query: str, k: int = 10) -> Answer: ...
    def country(self, name: str) -> Answer: ...
    def who(self, name: str) -> Answer: ...
    def by_key(self, key: str) -> Answer: ...
    def countries(self) -> list[tuple[str, int]]: ...
    def documents(self) -> list[Document]: ...
    def outlets(self) -> list[tuple[str, int]]: ...
    def get(self, statement_id: str) -> Statement | None: ...
    def statements_in(self, documents: Collection[str]) -> list[Statement]: ...
    def counts_by_document(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class Chat:
    """Where a command runs: the wording of help differs between private chats, groups, console."""

    where: Where = "private"
    bot_username: str | None = None
    max_chars: int = 500
    editor: bool = False  # an editor in a private chat: /events offers Remove buttons


@dataclass(frozen=True)
class InlinePage:
    """One page of inline results and the offset of the next ("" when none); ``example``: the
    button above an empty query's results (its text, and the /start payload it opens)."""

    entries: tuple[InlineEntry, ...]
    next_offset: str
    example: tuple[str, str] | None = None


@dataclass(frozen=True)
class Example:
    """A person to show in an example question: ``shown`` in the user's script (Cyrillic for
    Russian and Ukrainian when the engine reads it as the same person), ``latin`` as quoted."""

    shown: str
    latin: str


# --- input ------------------------------------------------------------------------------------


def clean_query(text: str) -> str:
    """Drop control and bidi-override characters, squash whitespace; HTML stays plain text."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f":
            kept.append(" ")
        elif cat in ("Cc", "Cs") or (cat == "Cf" and ch != "\u200d"):  # keep emoji joiners
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def too_long(text: str, chat: Chat) -> Reply | None:
    """A polite refusal when the text passes the length cap."""
    if len(text) <= chat.max_chars:
        return None
    return Reply(
        _(
            "That is a long message ({length} characters). Please ask in under {limit} "
            "characters: a country, a name or a short question works best, e.g. "
            "<i>What did Peskov say?</i>"
        ).format(length=i18n.number(len(text)), limit=i18n.number(chat.max_chars))
    )


def _prepare(text: str, chat: Chat) -> tuple[str, Reply | None]:
    refusal = too_long(text, chat)
    if refusal is not None:
        return "", refusal
    query = clean_query(text)
    if not query:
        return "", render.render_empty(Answer("", Intent("empty")))
    return query, None


def parse_number(text: str) -> int | None:
    """A client's offset or page number: ASCII digits up to ``NUMBER_MAX``, else None."""
    if not NUMBER_RE.fullmatch(text):
        return None
    value = int(text)
    return value if value <= NUMBER_MAX else None


def deep_link_payload(kind: str, value: str) -> str:
    """``country-Georgia`` / ``who-Dmitry_Peskov``: the /start payload that opens an answer."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", folded).strip("_")[:60]
    return f"{kind}-{slug}"


# --- commands ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def country_counts(engine: EngineLike) -> tuple[tuple[str, int], ...]:
    """(country, quoted statements): a country whose only entry is a "no remarks" note gets 0.

    ``engine.countries()`` counts the note as a statement; the list and the chart should not.
    """
    counts = []
    for name, n in engine.countries():
        if n <= 1 and all(h.statement.kind == "note" for h in engine.country(name).hits):
            n = 0
        counts.append((name, n))
    return tuple(counts)


@functools.lru_cache(maxsize=8)
def _examples(engine: EngineLike) -> tuple[str, str]:
    """A country and a person from the corpus itself, for the welcome text."""
    countries = sorted(engine.countries(), key=lambda c: -c[1])
    if not countries:
        return "", ""
    country = countries[0][0]
    speakers: dict[str, int] = {}
    for hit in engine.country(country).hits:
        st = hit.statement
        if st.kind == "person" and st.speaker:
            speakers[st.speaker] = speakers.get(st.speaker, 0) + 1
    person = max(speakers, key=lambda s: speakers[s]) if speakers else ""
    return country, person.split()[-1] if person else ""


@functools.lru_cache(maxsize=32)
def example_person(engine: EngineLike, language: str) -> Example | None:
    """The corpus's example person (a last name) in ``language``'s script: ``Песков`` for
    Russian, but only when the engine reads that spelling as the same speaker (as a question
    and as /who); else the next most quoted person who passes, else the Latin name."""
    _country, person = _examples(engine)
    if not person:
        return None
    if language not in examples.SCRIPTED:
        return Example(person, person)
    with i18n.use(language):
        return _scripted(engine, person, language)


def _scripted(engine: EngineLike, person: str, language: str) -> Example:
    candidates = [person, *_other_people(engine, person)]
    for latin in candidates[:EXAMPLE_TRIES]:
        shown = examples.cyrillic(latin, language)
        wanted = engine.who(latin).intent
        if wanted.kind != "person" or not wanted.value:
            continue
        asked = engine.ask(_("What did {person} say?").format(person=shown)).intent
        if engine.who(shown).intent == wanted and (asked.kind, asked.value) == (
            wanted.kind,
            wanted.value,
        ):
            return Example(shown, latin)
    return Example(person, person)


EXAMPLE_TRIES = 12  # people tried for a Cyrillic example before the Latin name is shown


def _other_people(engine: EngineLike, person: str) -> list[str]:
    """Last names of the archive's people, most quoted first (the example's fallbacks)."""
    counts: dict[str, int] = {}
    for st in engine.statements:
        if st.kind == "person" and st.speaker:
            last = st.speaker.split()[-1]
            counts[last] = counts.get(last, 0) + 1
    counts.pop(person, None)
    return sorted(counts, key=lambda n: (-counts[n], n))


def welcome(engine: EngineLike, chat: Chat) -> Reply:
    """The /start greeting with examples taken from the corpus, in the user's language and
    script (the person's button asks the engine in that script too)."""
    country, latin = _examples(engine)
    example = example_person(engine, i18n.current())
    person = example.shown if example else ""
    docs = engine.documents()
    about = (
        render.clip_escaped(docs[0].title, 200)
        if len(docs) == 1
        else render.esc(_("the compilations I hold"))
    )
    lines = [
        _("👋 I quote <b>who said what</b>, verbatim and with sources, from <i>{about}</i>").format(
            about=about
        ),
        "",
        _("Ask me about a country, a person, a role or a topic:"),
    ]
    if person:
        lines.append(
            "• <i>" + _("What did {person} say?").format(person=render.esc(person)) + "</i>"
        )
    if country:
        lines.append(f"• <code>/country {render.esc(i18n.country(country))}</code>")
    lines.append("• " + _("<i>Kremlin spokesman</i>, <i>markets</i>, <i>sanctions</i>"))
    if i18n.current() != i18n.DEFAULT_LANGUAGE:
        lines.append("<i>" + _("Quotes are verbatim, in English.") + "</i>")
    lines.append("")
    lines.append(_("/countries to browse · /help for everything · /language"))
    buttons: list[Button] = []
    if country:
        buttons.append(
            Button(
                f"{render.flag(country)} {i18n.country(country)}".strip(),
                render.callback(render.COUNTRY, country),
            )
        )
    if person:
        data = render.callback(render.WHO, person)
        if data != render.WHO + person:  # too long for a button in Cyrillic: ask as quoted
            data = render.callback(render.WHO, latin)
        buttons.append(Button(person, data))
    return Reply("\n".join(lines), (tuple(buttons),) if buttons else ())


def start(engine: EngineLike, payload: str, chat: Chat) -> Reply:
    """/start, or a deep link such as ``/start country-Georgia`` opening that answer."""
    m = DEEP_LINK_RE.match(payload.strip())
    if not m:
        return welcome(engine, chat)
    value = m.group(2).replace("_", " ").replace("-", " ").strip()
    answer = engine.country(value) if m.group(1) == "country" else engine.who(value)
    return render.render_answer(answer)


def help_text(engine: EngineLike, text: str, chat: Chat) -> Reply:
    """/help, worded for where it is asked."""
    commands = [_(line) for line in HELP_COMMANDS]
    follow_lines = [_(line) for line in HELP_FOLLOWS]
    language_line = _("/language — English, Русский or Українська")
    if chat.where == "group":
        bot = f"@{render.esc(chat.bot_username)}" if chat.bot_username else _("the bot")
        lines = [
            _("<b>In a group</b> I only read what is meant for me:"),
            _("• commands, e.g. <code>/ask What did Peskov say?</code>"),
            _("• replies to my messages, or a message starting with {bot}").format(bot=bot),
            "",
            _("/ask <i>question</i> — a free question"),
            *commands,
            language_line,
        ]
    elif chat.where == "console":
        lines = [
            _("<b>Console</b>: type a question, or:"),
            *commands,
            *follow_lines,
            _("/language <i>en, ru or uk</i> — the console's language"),
            _("/more or <code>n</code> — next page · a number — press that button · Ctrl-D — quit"),
        ]
    else:
        lines = [
            _(
                "Just type a question: a country, a person, a role or a topic, e.g. "
                "<i>What did Peskov say?</i>, <i>Georgia</i>, <i>Kremlin spokesman</i>."
            ),
            "",
            *commands,
            *follow_lines,
            language_line,
        ]
    if i18n.current() != i18n.DEFAULT_LANGUAGE:
        lines += ["", "<i>" + _("Quotes are verbatim, in English.") + "</i>"]
    if chat.bot_username and chat.where != "console":
        example = f"@{render.esc(chat.bot_username)} " + _("Zelensky")
        lines += [
            "",
            _("In any chat, type <code>{example}</code> to share a quote.").format(example=example),
        ]
    if chat.editor:
        lines += ["", *editor_help()]
    return Reply("\n".join(lines))


HELP_COMMANDS = (
    N_("/country <i>name</i> — a country's reactions (no name: pick from a list)"),
    N_("/who <i>name or role</i> — what a person said, e.g. <code>/who Peskov</code>"),
    N_("/latest — the newest compilation's first reaction from each country"),
    N_("/events — every compilation, newest first"),
    N_("/countries — every country with its number of statements"),
    N_("/sources — the compilations and the outlets they cite"),
    N_("/stats — a chart of statements per country"),
    N_("/about — what this bot is"),
)
HELP_FOLLOWS = (
    N_(
        "/follow <i>person, country, region or topic</i> — new quotes come to you as they are "
        "published, e.g. <code>/follow Peskov</code>"
    ),
    N_(
        "/following — what you follow (unfollow there) · /privacy — what I store · "
        "/forget — delete it"
    ),
)


def editor_help() -> tuple[str, ...]:
    """The editors' part of /help, in the current language."""
    return (
        _("<b>Editors</b>:"),
        _(
            "• send a compilation as a <b>.txt</b> file, its web page as an <b>.html</b> file "
            "(up to {size}), or a link to the page: I show what it holds, then <i>Publish</i> "
            "adds it to the archive, <i>Discard</i> drops it"
        ).format(size=render.size_text(editors.MAX_UPLOAD_BYTES)),
        _(
            "• /events — <i>Remove</i> takes a compilation out (its file moves to "
            "<code>removed/</code>)"
        ),
        _("• /reload — rebuild from the sources folder now"),
    )


def question(engine: EngineLike, text: str, chat: Chat) -> Reply:
    """A free question: country, person, role or topic."""
    query, refusal = _prepare(text, chat)
    if refusal is not None:
        return refusal
    return render.render_answer(engine.ask(query))


def country(engine: EngineLike, text: str, chat: Chat) -> Reply:
    """/country <name>; no name lists the countries as buttons."""
    name, refusal = _prepare(text, chat)
    if refusal is not None:
        if not text.strip():
            return render.render_countries(country_counts(engine), intro=_("Which country?"))
        return refusal
    return render.render_answer(engine.country(name))


def who(engine: EngineLike, text: str, chat: Chat) -> Reply:
    """/who <name or role>."""
    name, refusal = _prepare(text, chat)
    if refusal is not None:
        if not text.strip():
            return Reply(_("Whose words? Give a name or a role, e.g. <code>/who Peskov</code>."))
        return refusal
    return render.render_answer(engine.who(name))


def countries(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/countries."""
    return render.render_countries(country_counts(engine))


def sources(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/sources."""
    return render.render_sources(engine.documents(), engine.outlets())


def about(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/about."""
    return render.render_about(
        engine.documents(), country_counts(engine), chat.bot_username if chat else None
    )


def stats(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/stats: a bar chart PNG of statements per country, with a caption."""
    counts = tuple(sorted(country_counts(engine), key=lambda c: (-c[1], c[0])))
    photo = chart.bar_chart_png(counts, i18n.current())
    return Reply(render.render_stats_caption(counts), photo=photo)


def button(engine: EngineLike, data: str) -> Reply | None:
    """A pressed button: its callback_data holds everything needed to answer (any replica)."""
    prefix, _sep, rest = data.partition("|")
    prefix += "|"
    if prefix in (render.PAGE, render.QUESTION_PAGE):
        page_text, _sep, payload = rest.partition("|")
        page = parse_number(page_text)
        if page is None or not payload:
            return None
        answer = engine.by_key(payload) if prefix == render.PAGE else engine.ask(payload)
        return render.render_answer(answer, page)
    if not rest:
        return None
    if prefix == render.KEY:
        return render.render_answer(engine.by_key(rest))
    if prefix == render.COUNTRY:
        return render.render_answer(engine.country(rest))
    if prefix == render.WHO:
        return render.render_answer(engine.who(rest))
    return None


@functools.lru_cache(maxsize=8)
def document_counts(engine: EngineLike) -> dict[str, int]:
    """Statements per compilation (Document.id)."""
    return engine.counts_by_document()


@functools.lru_cache(maxsize=8)
def latest_firsts(engine: EngineLike) -> tuple[Document | None, tuple[Statement, ...]]:
    """The newest compilation and its first statement from each country, in its order: the
    first quote, or the "no remarks" note of a country that has nothing else."""
    documents = engine.documents()  # newest first
    if not documents:
        return None, ()
    doc = documents[0]
    mine = sorted(engine.statements_in([doc.id]), key=_position)
    firsts: dict[str, Statement] = {}
    for st in mine:
        held = firsts.get(st.country)
        if held is None or (held.kind == "note" and st.kind != "note"):
            firsts[st.country] = st
    order = list(dict.fromkeys(st.country for st in mine))
    return doc, tuple(firsts[c] for c in order)


def _position(st: Statement) -> int:
    return st.position


def latest(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/latest: the newest compilation's headline reactions, a button a country."""
    return render.render_latest(*latest_firsts(engine))


def events(engine: EngineLike, text: str = "", chat: Chat | None = None) -> Reply:
    """/events: the compilations, newest first; editors may remove one."""
    editor = chat is not None and chat.editor
    return render.render_events(engine.documents(), document_counts(engine), editor=editor)


def confirm_removal(engine: EngineLike, key: str) -> Reply:
    """An editor pressed Remove: ask before the compilation goes."""
    documents = engine.documents()
    doc = editors.find_document(documents, key)
    if doc is None:
        return Reply(_(render.REMOVE_GONE))
    if len(documents) == 1:
        return Reply(_(render.REMOVE_LAST))
    return render.remove_confirm(doc, document_counts(engine).get(doc.id, 0), key)


def _default_inline(engine: EngineLike) -> tuple[Statement, ...]:
    """An empty inline query: the newest compilation's first statement from each country."""
    return latest_firsts(engine)[1]


def _named_documents(engine: EngineLike) -> dict[str, Document]:
    """The compilations a result names: all of them when the archive holds several, else none
    (one compilation goes without saying)."""
    documents = engine.documents()
    return {d.id: d for d in documents} if len(documents) > 1 else {}


def inline(engine: EngineLike, text: str, offset: str) -> InlinePage:
    """Inline mode: best hits first, 50 a page; an empty query gets the newest compilation's
    first statement from each country (as /latest)."""
    start = parse_number(offset) or 0
    query = clean_query(text[:INLINE_QUERY_CHARS])
    if start >= INLINE_MAX:
        return InlinePage((), "")
    statements: Sequence[Statement]
    if query:
        answer = engine.ask(query, k=min(start + INLINE_PAGE + 1, INLINE_MAX))
        # A slice of the answer's hits: a country of 60,000 statements makes only a page's.
        statements = [h.statement for h in answer.hits[: start + INLINE_PAGE + 1]]
    else:
        statements = _default_inline(engine)
    example = None if query or start else inline_example(engine)
    page = statements[start : start + INLINE_PAGE]
    more = len(statements) > start + INLINE_PAGE and start + INLINE_PAGE < INLINE_MAX
    seen: set[str] = set()
    entries = []
    named = _named_documents(engine)
    for st in page:  # Telegram rejects a page with a repeated id
        entry = render.inline_entry(st, named.get(st.document))
        if entry.id not in seen:
            seen.add(entry.id)
            entries.append(entry)
    return InlinePage(tuple(entries), str(start + INLINE_PAGE) if more else "", example)


def inline_example(engine: EngineLike) -> tuple[str, str] | None:
    """The empty inline query's button: an example name in the user's script, opening that
    person's answer in a private chat (``/start who-Peskov``)."""
    example = example_person(engine, i18n.current())
    if example is None:
        return None
    text = _("Type a name, e.g. {person}").format(person=example.shown)
    return render.clip_plain(text, 64), deep_link_payload("who", example.latin)


Command = Callable[[EngineLike, str, Chat], Reply]

COMMANDS: dict[str, Command] = {
    "start": start,
    "help": help_text,
    "ask": question,
    "country": country,
    "who": who,
    "countries": countries,
    "sources": sources,
    "about": about,
    "stats": stats,
    "latest": latest,
    "events": events,
}


COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+|$)(.*)$", re.S)


def split_command(line: str) -> tuple[str, str | None, str] | None:
    """``/country@Bot Georgia`` -> ``("country", "Bot", "Georgia")``; None if not a command."""
    m = COMMAND_RE.match(line.strip())
    if not m:
        return None
    return m.group(1).lower(), m.group(2), m.group(3)


def dispatch(engine: EngineLike, line: str, chat: Chat) -> Reply | None:
    """A line of input -> the reply: a command, else a question (None: for another bot)."""
    parts = split_command(line)
    if parts is None:
        return question(engine, line, chat)
    name, target, args = parts
    if target and chat.bot_username and target.lower() != chat.bot_username.lower():
        return None
    command = COMMANDS.get(name)
    if command is None:
        return unknown_command(name)
    return command(engine, args, chat)


def unknown_command(name: str) -> Reply:
    """A command the bot does not have."""
    return Reply(
        _("I don’t know {command}. /help lists what I can do.").format(
            command="/" + render.esc(name)
        )
    )
