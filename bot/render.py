"""Pure rendering: engine answers -> HTML text and buttons as plain data (Telegram, console)."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from index.model import Answer, Document, Hit, Source, Statement, Suggestion

MESSAGE_LIMIT = 4096  # Telegram's cap on a message, counted in UTF-16 code units
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes of UTF-8
INLINE_ID_LIMIT = 64  # bytes
PAGE_SIZE = 5  # statements a page: a phone screen or two
SUGGESTION_LIMIT = 8
HEADER_LIMIT = 600  # the header line(s) of an answer, escaped
QUERY_ECHO = 80  # how much of the user's question a header repeats
ELLIPSIS = "…"

# Intents whose value names what the answer is scoped to: "<b>value</b> — N statements".
SCOPED_KINDS = frozenset({"role", "region", "outlet", "scope"})
KIND_LABELS = {
    "market": "Markets",
    "event": "Event",
    "note": "No remarks",
    "organisation": "Organisation",
    "unnamed": "Unnamed source",
}


@dataclass(frozen=True)
class Button:
    """An inline button; ``data`` is its callback_data (<= 64 bytes, carries all state)."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """What the bot says: HTML text (the caption when there is a photo) and buttons."""

    html: str
    buttons: Keyboard = ()
    photo: bytes | None = None  # PNG bytes

    @property
    def plain(self) -> str:
        """The text for a terminal."""
        return to_plain(self.html)


@dataclass(frozen=True)
class InlineEntry:
    """One inline-mode result: plain title and description, HTML message."""

    id: str
    title: str
    description: str
    html: str


# --- small helpers ----------------------------------------------------------------------------


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    """Escape data or user text for Telegram HTML (quotes need no escaping outside attributes)."""
    return html.escape(text, quote=False)


def clip_escaped(text: str, budget: int) -> str:
    """``text`` escaped, cut with an ellipsis (at a word break when one is near) to fit ``budget``.

    The cut happens on the raw text before escaping, so it can never split an entity.
    """
    escaped = esc(text)
    if tg_len(escaped) <= budget:
        return escaped
    if budget < 1:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose escape plus the ellipsis fits
        mid = (lo + hi + 1) // 2
        if tg_len(esc(text[:mid])) + 1 <= budget:
            lo = mid
        else:
            hi = mid - 1
    cut = lo
    space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
    if space > 0 and cut - space < 80:
        cut = space
    return esc(text[:cut].rstrip()) + ELLIPSIS


def clip_plain(text: str, limit: int) -> str:
    """Plain text (titles, descriptions) squashed to one line and cut to ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    if cut < limit // 2:
        cut = limit - 1
    return text[:cut].rstrip() + ELLIPSIS


def button_text(label: str) -> str:
    """A button label: one line, short, never empty (Telegram rejects an empty one)."""
    return clip_plain(label, 60) or "?"


def callback(prefix: str, payload: str) -> str:
    """``prefix + payload`` cut at a UTF-8 boundary so it fits Telegram's 64-byte callback_data."""
    room = CALLBACK_LIMIT - len(prefix.encode())
    return prefix + payload.encode()[:room].decode("utf-8", "ignore")


@functools.cache
def _flag_function() -> Callable[[str], str] | None:
    try:
        from index.gazetteer import flag as gazetteer_flag
    except ImportError:
        return None
    return gazetteer_flag


def flag(country: str) -> str:
    """The country's emoji flag, or "" when unknown."""
    fn = _flag_function()
    if fn is None:
        return ""
    try:
        return fn(country) or ""
    except Exception:  # a flag is decoration: never let it break an answer
        return ""


def country_label(country: str) -> str:
    """``🇬🇪 Georgia`` (escaped)."""
    mark = flag(country)
    name = clip_escaped(country, 100)
    return f"{mark} {name}" if mark else name


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 statement``, ``3 statements``."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def to_plain(text_html: str) -> str:
    """Telegram HTML -> terminal text: quotes indented, tags dropped, entities unescaped."""

    def quote(m: re.Match[str]) -> str:
        return "\n".join("  │ " + line for line in m.group(1).split("\n"))

    text = re.sub(r"<blockquote[^>]*>(.*?)</blockquote>", quote, text_html, flags=re.S)
    text = re.sub(r"<[^>]*>", "", text)  # data is escaped, so every '<' left is one of our tags
    return html.unescape(text)


# --- statements -------------------------------------------------------------------------------


def speaker_html(st: Statement, *, country: bool = True) -> str:
    """``<b>Speaker</b>, role · 🇷🇺 Russia`` for a statement's attribution line."""
    role = (st.role or "").strip()
    if st.speaker:
        who = f"<b>{clip_escaped(st.speaker, 200)}</b>"
        if role:
            who += f", {clip_escaped(role, 400)}"
    elif role:
        label = role[:1].upper() + role[1:]
        who = f"<b>{clip_escaped(label, 400)}</b>"
        if st.kind == "unnamed":
            who += " <i>(unnamed)</i>"
    else:
        who = f"<b>{esc(KIND_LABELS.get(st.kind, 'Statement'))}</b>"
    if country and st.country:
        who += f" · {country_label(st.country)}"
    return who


def unique_sources(sources: Iterable[Source]) -> list[Source]:
    """Sources in order, each outlet-and-date once (the compilation repeats some)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for s in sources:
        key = (
            (" ".join(s.outlet.split()).casefold(), s.date)
            if s.date
            else ("", " ".join(s.raw.split()).casefold())
        )
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def sources_text(sources: Sequence[Source]) -> str:
    """``Interfax, 11.06.24 · FT, 11.06.24`` (plain), or "" when none."""
    return " · ".join(" ".join(s.label().split()) for s in unique_sources(sources))


def statement_html(st: Statement, *, country: bool = True, limit: int = MESSAGE_LIMIT) -> str:
    """One statement: attribution, the verbatim quote, its sources; never longer than ``limit``."""
    head = speaker_html(st, country=country)
    if st.kind == "note":
        head = country_label(st.country) if country and st.country else ""
        prefix, suffix = (head + "\n<i>" if head else "<i>"), "</i>"
        return prefix + clip_escaped(st.text, limit - tg_len(prefix) - tg_len(suffix)) + suffix
    cited = sources_text(st.sources)
    tail = "— " + clip_escaped(cited, 600) if cited else "<i>— no source cited</i>"
    prefix = f"{head}\n<blockquote>"
    suffix = f"</blockquote>\n{tail}"
    return prefix + clip_escaped(st.text, limit - tg_len(prefix) - tg_len(suffix)) + suffix


def inline_id(st: Statement) -> str:
    """A stable inline result id: the statement id, hashed if Telegram would reject it."""
    if 1 <= len(st.id.encode()) <= INLINE_ID_LIMIT:
        return st.id
    return hashlib.sha256(st.id.encode()).hexdigest()[:32]


def inline_entry(st: Statement) -> InlineEntry:
    """An inline-mode result for one statement."""
    who = st.speaker or (st.role or "").strip() or KIND_LABELS.get(st.kind, "Statement")
    title = f"{who} — {st.country}" if st.country else who
    cited = sources_text(st.sources)
    description = clip_plain(st.text, 160) + (f" ({clip_plain(cited, 60)})" if cited else "")
    return InlineEntry(
        id=inline_id(st),
        title=clip_plain(title, 100),
        description=description,
        html=statement_html(st, country=True),
    )


# --- answers ----------------------------------------------------------------------------------


def _header(answer: Answer) -> str:
    intent = answer.intent
    hits = answer.hits
    n = len(hits)
    asked = clip_escaped(" ".join(answer.query.split()), QUERY_ECHO)
    value = intent.value or ""
    if intent.kind == "country" and value:
        name = f"<b>{country_label(value)}</b>"
        if hits and all(h.statement.kind == "note" for h in hits):
            head = f"{name} — no remarks"
        else:
            head = f"{name} — {plural(n, 'statement')}"
    elif intent.kind == "person" and value:
        head = f"<b>{clip_escaped(value, 200)}</b> — {plural(n, 'statement')}"
    elif intent.kind in SCOPED_KINDS and value:
        head = f"<b>{clip_escaped(value, 200)}</b> — {plural(n, 'statement')}"
        if asked and asked.casefold() != esc(value).casefold():
            head += f" <i>(for “{asked}”)</i>"
    else:
        head = f"Top matches for “{asked}”" if asked else "Top matches"
    if len(answer.documents) > 1:
        head += f"\n<i>from {plural(len(answer.documents), 'compilation')}, newest first</i>"
    if answer.message:
        head += f"\n<i>{clip_escaped(answer.message, 300)}</i>"
    elif not answer.confident:
        head += "\n<i>I’m not sure I understood, so these are the closest matches.</i>"
    return head


def _suggestion_rows(suggestions: Sequence[Suggestion]) -> Keyboard:
    return tuple(
        (Button(button_text(s.label), callback("k|", s.key)),)
        for s in suggestions[:SUGGESTION_LIMIT]
    )


def pack(blocks: Sequence[str], budget: int, size: int = PAGE_SIZE) -> list[list[str]]:
    """Group whole blocks into pages of at most ``size`` blocks and ``budget`` characters."""
    pages: list[list[str]] = []
    current: list[str] = []
    used = 0
    for block in blocks:
        cost = tg_len(block) + 2  # the blank line between blocks
        if current and (len(current) >= size or used + cost > budget):
            pages.append(current)
            current, used = [], 0
        current.append(block)
        used += cost
    if current:
        pages.append(current)
    return pages


def answer_pages(answer: Answer) -> list[str]:
    """Every page of an answer with hits, as complete HTML messages."""
    head = _header(answer)
    show_country = answer.intent.kind != "country"
    page_line = 40  # room for "\n<i>Page 12 of 34</i>"
    room = MESSAGE_LIMIT - tg_len(head) - page_line - 2
    docs = {d.id: d for d in answer.documents} if len(answer.documents) > 1 else {}
    blocks = []
    current = None
    for h in answer.hits:
        doc = docs.get(h.statement.document)
        line = ""
        if doc is not None and doc.id != current:  # a new compilation: say which, and when
            current = doc.id
            line = compilation_line(doc) + "\n"
        limit = room - tg_len(line)
        blocks.append(line + statement_html(h.statement, country=show_country, limit=limit))
    pages = pack(blocks, room)
    out = []
    for i, page in enumerate(pages):
        top = head if len(pages) == 1 else f"{head}\n<i>Page {i + 1} of {len(pages)}</i>"
        out.append(top + "\n\n" + "\n\n".join(page))
    return out


def nav_buttons(answer: Answer, page: int, pages: int) -> tuple[Button, ...]:
    """‹ Prev / Next › buttons whose data reproduces the answer on any replica."""
    if answer.intent.key:
        state, payload = "p|{}|", answer.intent.key
    else:  # no key: carry the question itself, cut safely
        state, payload = "q|{}|", " ".join(answer.query.split())
    row = []
    if page > 0:
        row.append(Button("‹ Prev", callback(state.format(page - 1), payload)))
    if page < pages - 1:
        row.append(Button("Next ›", callback(state.format(page + 1), payload)))
    return tuple(row)


def render_answer(answer: Answer, page: int = 0) -> Reply:
    """One page of an answer; no hits -> why, plus "Did you mean" buttons."""
    if not answer.hits:
        return render_empty(answer)
    pages = answer_pages(answer)
    page = min(max(page, 0), len(pages) - 1)
    rows: list[tuple[Button, ...]] = []
    nav = nav_buttons(answer, page, len(pages))
    if nav:
        rows.append(nav)
    if page == 0 and answer.suggestions and not answer.confident:
        rows.extend(_suggestion_rows(answer.suggestions))
    return Reply(pages[page], tuple(rows))


def render_empty(answer: Answer) -> Reply:
    """Nothing to quote: say why and offer suggestions."""
    if answer.intent.kind == "empty":
        return Reply(
            "Ask me about a country, a person or a topic, e.g. <i>What did Peskov say?</i> "
            "or <code>/country Georgia</code>. /help lists everything."
        )
    asked = clip_escaped(" ".join(answer.query.split()), QUERY_ECHO)
    text = (
        clip_escaped(answer.message, 1000) if answer.message else f"I found nothing for “{asked}”."
    )
    if answer.suggestions:
        return Reply(text + "\n\nDid you mean…", _suggestion_rows(answer.suggestions))
    return Reply(
        text + "\n\nTry /countries to browse, or ask about a person, "
        "e.g. <i>What did Peskov say?</i>"
    )


# --- refusals and errors ---------------------------------------------------------------------

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


def slow_down(per_minute: int, wait: float) -> str:
    """The one warning a user gets when they ask faster than the per-user limit."""
    return (
        f"You are asking faster than I can keep up ({per_minute} questions a "
        f"minute). Please try again in {max(1, round(wait))} s."
    )


def inline_slow_down(wait: float) -> str:
    """The button above an empty inline answer when inline queries come too fast."""
    return f"Slow down: try again in {max(1, round(wait))} s"


# --- lists ------------------------------------------------------------------------------------


def render_countries(countries: Sequence[tuple[str, int]], *, intro: str | None = None) -> Reply:
    """Countries with statement counts, as text and as one button each."""
    lines = [intro or "<b>Countries</b> — tap one to read its reactions:"]
    buttons = []
    for name, count in countries:
        label = "no remarks" if count == 0 else plural(count, "statement")
        lines.append(f"{country_label(name)} — {label}")
        mark = flag(name)
        text = f"{mark} {name} ({count})" if mark else f"{name} ({count})"
        buttons.append(Button(button_text(text), callback("c|", name)))
    rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return Reply(fit_lines(lines), rows)


def fit_lines(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> str:
    """Join whole lines, dropping the tail with a note when they would pass ``limit``."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        cost = tg_len(line) + 1
        if used + cost > limit - 40:
            out.append(f"<i>… and {len(lines) - i} more</i>")
            break
        out.append(line)
        used += cost
    return "\n".join(out)


def date_text(iso: str | None) -> str:
    """``2024-11-06`` -> ``6 Nov 2024``; anything else as is."""
    if not iso:
        return ""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso)
    if not m:
        return iso
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    return f"{day} {months[month - 1]} {year}" if 1 <= month <= 12 else iso


def compilation_line(doc: Document) -> str:
    """``📰 <b>Title</b> · 6 Nov 2024``: the heading of one compilation's group in an answer."""
    title = re.split(r":\s", doc.title, maxsplit=1)[0]
    line = f"📰 <b>{clip_escaped(title, 200)}</b>"
    return line + (f" · {date_text(doc.published)}" if doc.published else "")


def document_html(doc: Document) -> str:
    """A compilation's title, blog and dates."""
    line = f"<b>{clip_escaped(doc.title, 300)}</b>"
    details = [esc(doc.blog)] if doc.blog else []
    if doc.published:
        details.append(f"published {date_text(doc.published)}")
    if doc.updated and doc.updated != doc.published:
        details.append(f"updated {date_text(doc.updated)}")
    if details:
        line += "\n" + clip_escaped(", ".join(html.unescape(d) for d in details), 400)
    return line


def render_sources(documents: Sequence[Document], outlets: Sequence[tuple[str, int]]) -> Reply:
    """The compilations quoted and the outlets they cite, most cited first."""
    lines = [f"<b>Compilations</b> ({len(documents)})"]
    for doc in documents:
        lines.append("• " + document_html(doc))
    lines.append("")
    lines.append(f"<b>Outlets cited</b> ({len(outlets)})")
    ranked = sorted(outlets, key=lambda o: (-o[1], o[0].casefold()))
    lines.extend(f"• {clip_escaped(name, 200)} — {plural(n, 'citation')}" for name, n in ranked)
    return Reply(fit_lines(lines))


def render_about(
    documents: Sequence[Document], countries: Sequence[tuple[str, int]], bot_username: str | None
) -> Reply:
    """What this bot is and what it knows."""
    lines = [
        "<b>Reactions bot</b> answers <i>who said what</i> about an event with verbatim "
        "quotes and the sources the compilation cites. It never writes its own summaries.",
        "",
        f"It knows {countries_summary(countries)}, from {plural(len(documents), 'compilation')}:",
    ]
    for doc in documents:
        lines.append("• " + document_html(doc))
        if doc.author:
            lines.append(f"  <i>{clip_escaped(doc.author, 300)}</i>")
    lines.append("")
    lines.append("<i>Opinions are solely those of the individuals quoted.</i>")
    if bot_username:
        lines.append(f"Inline: type <code>@{esc(bot_username)} Zelensky</code> in any chat.")
    return Reply(fit_lines(lines))


def countries_summary(countries: Sequence[tuple[str, int]]) -> str:
    """``50 statements from 13 countries (2 more with no remarks)``."""
    quoted = [n for _, n in countries if n > 0]
    silent = len(countries) - len(quoted)
    text = f"{plural(sum(quoted), 'statement')} from {plural(len(quoted), 'country', 'countries')}"
    return text + (f" ({silent} more with no remarks)" if silent else "")


def render_stats_caption(countries: Sequence[tuple[str, int]]) -> str:
    """The /stats chart's caption."""
    top = sorted((c for c in countries if c[1] > 0), key=lambda c: (-c[1], c[0]))[:3]
    most = ", ".join(f"{country_label(name)} ({n})" for name, n in top)
    text = f"<b>Statements per country</b>: {countries_summary(countries)}."
    if most:
        text += f"\nMost quoted: {most}."
    return text if tg_len(text) <= CAPTION_LIMIT else text[: text.find("\n")]


def statement_hits(statements: Iterable[Statement]) -> tuple[Hit, ...]:
    """Wrap statements as hits (for lists that are not search results)."""
    return tuple(Hit(st, 1.0) for st in statements)


# --- editors ----------------------------------------------------------------------------------

ADMIN_ONLY = "This command is for the bot’s editors."
RELOAD_UNSUPPORTED = "This bot serves a fixed archive: there is nothing to reload."


def reload_text(message: str | None) -> str:
    """What /reload and the watcher tell an editor (HTML-escaped)."""
    return esc(message or "Nothing changed in the sources folder.")
