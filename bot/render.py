"""Pure rendering: engine answers -> HTML text and buttons as plain data (Telegram, console)."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from babel.numbers import format_decimal

from bot import i18n
from bot.editors import doc_key
from bot.i18n import N_, _, count, ngettext, number
from index.model import Answer, Document, Hit, Source, Statement, Suggestion, Why

if TYPE_CHECKING:
    from bot.editors import Recovery
    from bot.storage import Follow
    from index.ingest import Prepared

MESSAGE_LIMIT = 4096  # Telegram's cap on a message, counted in UTF-16 code units
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes of UTF-8
INLINE_ID_LIMIT = 64  # bytes
PAGE_SIZE = 5  # statements a page: a phone screen or two
MAX_SHOWN = 200  # statements an answer pages through; more are counted, not shown
SUGGESTION_LIMIT = 8
HEADER_LIMIT = 600  # the header line(s) of an answer, escaped
QUERY_ECHO = 80  # how much of the user's question a header repeats
ELLIPSIS = "…"

# Button callback prefixes: the one place they are named. callback_data is a prefix and its
# payload (<= 64 bytes), so any replica can answer a button without remembering anything.
PAGE = "p|"  # p|<page>|<intent key>: a page of an answer
QUESTION_PAGE = "q|"  # q|<page>|<question>: a page of an answer that has no key
KEY = "k|"  # k|<key>: a "did you mean" suggestion
COUNTRY = "c|"  # c|<country>: a country's statements (from a list: answered below it)
WHO = "w|"  # w|<speaker>: a person's statements (from the welcome: answered below it)
PUBLISH = "up|"  # up|<upload key>: an editor publishes a pending upload
REPLACE = "ur|"  # ur|<upload key>: … replacing the compilation it updates
DISCARD = "ud|"  # ud|<upload key>: … or discards it
REMOVE = "rm|"  # rm|<compilation key>: an editor asks to remove a compilation
REMOVE_YES = "ry|"  # ry|<compilation key>: … and confirms
REMOVE_NO = "rn|"  # rn|<compilation key>: … or keeps it (back to /events)
FOLLOW = "fo|"  # fo|<s:speaker | c:country | r:region | t:topic>: follow it (the presser)
FOLLOW_ANSWER = "fa|"  # fa|<s:… | c:…>: the same under an answer (a toast; the answer stays)
UNFOLLOW = "uf|"  # uf|<follow token>: stop following one of the presser's follows
DIGEST = "dg|"  # dg|<digest id>|<page>: a page of a digest (its owner's, from the database)
LANGUAGE = "lg|"  # lg|<en|ru|uk>: the presser chooses the bot's language (stored for them)
LANGUAGE_BUTTON_RE = "^" + re.escape(LANGUAGE)
FOLLOW_BUTTONS = (FOLLOW, FOLLOW_ANSWER, UNFOLLOW, DIGEST)
FOLLOW_BUTTON_RE = "^(?:" + "|".join(re.escape(p) for p in FOLLOW_BUTTONS) + ")"
EDITOR_BUTTONS = (PUBLISH, REPLACE, DISCARD, REMOVE, REMOVE_YES, REMOVE_NO)
EDITOR_BUTTON_RE = "^(?:" + "|".join(re.escape(p) for p in EDITOR_BUTTONS) + ")"
LIST_BUTTONS = (COUNTRY, WHO)  # pressed in a list: the answer comes as a new message

# Intents whose value names what the answer is scoped to: "<b>value</b> — N statements".
SCOPED_KINDS = frozenset({"role", "region", "outlet", "scope"})
KIND_LABELS = {
    "market": N_("Markets"),
    "event": N_("Event"),
    "note": N_("No remarks"),
    "organisation": N_("Organisation"),
    "unnamed": N_("Unnamed source"),
}
STATEMENT_LABEL = N_("Statement")


def kind_label(kind: str) -> str:
    """What to call a statement without a speaker or role, in the current language."""
    return _(KIND_LABELS.get(kind, STATEMENT_LABEL))


@dataclass(frozen=True)
class Button:
    """An inline button; ``data`` is its callback_data (<= 64 bytes, carries all state)."""

    text: str
    data: str
    # "next" / "prev" on page buttons, so the console finds them whatever the language.
    role: str = field(default="", compare=False)


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
    """``🇬🇪 Georgia`` / ``🇬🇪 Грузия`` (escaped)."""
    mark = flag(country)
    name = clip_escaped(i18n.country(country), 100)
    return f"{mark} {name}" if mark else name


def statements_count(n: int) -> str:
    """``1 statement``, ``3 statements`` / ``3 высказывания``."""
    return count("{n} statement", "{n} statements", n)


def quotes_language_note() -> str:
    """Under an answer's header in Russian or Ukrainian: the quotes stay in their English."""
    if i18n.current() == i18n.DEFAULT_LANGUAGE:
        return ""
    return "\n<i>" + esc(_("Quotes are verbatim, in English.")) + "</i>"


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
            who += " <i>" + esc(_("(unnamed)")) + "</i>"
    else:
        who = f"<b>{esc(kind_label(st.kind))}</b>"
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


def source_html(source: Source) -> str:
    """``<a href="…">Interfax</a>, 11.06.24``: the outlet a link where the compilation gives
    one (http or https only; escaped for Telegram's HTML), else the citation as text."""
    raw = " ".join(source.label().split())
    url = source.url or ""
    if not re.match(r"https?://\S+$", url, re.I) or len(url) > 2000:
        return esc(raw)
    outlet = " ".join(source.outlet.split())
    name, rest = (outlet, raw[len(outlet) :]) if outlet and raw.startswith(outlet) else (raw, "")
    return f'<a href="{html.escape(url, quote=True)}">{esc(name)}</a>{esc(rest)}'


def sources_html(sources: Sequence[Source], budget: int = 600) -> str:
    """The sources as HTML (outlets linked), whole sources only, within ``budget`` characters
    of text; a cut list ends with an ellipsis."""
    shown: list[str] = []
    used = 0
    for s in unique_sources(sources):
        cost = len(" ".join(s.label().split())) + 3
        if shown and used + cost > budget:
            shown.append(ELLIPSIS)
            break
        shown.append(source_html(s) if cost <= budget else clip_escaped(s.label(), budget))
        used += cost
    return " · ".join(shown)


def statement_html(st: Statement, *, country: bool = True, limit: int = MESSAGE_LIMIT) -> str:
    """One statement: attribution, the verbatim quote, its sources; never longer than ``limit``."""
    head = speaker_html(st, country=country)
    if st.kind == "note":
        head = country_label(st.country) if country and st.country else ""
        prefix, suffix = (head + "\n<i>" if head else "<i>"), "</i>"
        return prefix + clip_escaped(st.text, limit - tg_len(prefix) - tg_len(suffix)) + suffix
    cited = sources_html(st.sources)
    tail = "— " + cited if cited else "<i>— " + esc(_("no source cited")) + "</i>"
    prefix = f"{head}\n<blockquote>"
    suffix = f"</blockquote>\n{tail}"
    return prefix + clip_escaped(st.text, limit - tg_len(prefix) - tg_len(suffix)) + suffix


def inline_id(st: Statement) -> str:
    """A stable inline result id: the statement id, hashed if Telegram would reject it."""
    if 1 <= len(st.id.encode()) <= INLINE_ID_LIMIT:
        return st.id
    return hashlib.sha256(st.id.encode()).hexdigest()[:32]


def inline_entry(st: Statement, doc: Document | None = None) -> InlineEntry:
    """An inline-mode result for one statement; with ``doc`` (an archive of several
    compilations), the message and the description name the compilation and its date."""
    who = st.speaker or (st.role or "").strip() or kind_label(st.kind)
    title = f"{who} — {i18n.country(st.country)}" if st.country else who
    cited = sources_text(st.sources)
    description = clip_plain(st.text, 160) + (f" ({clip_plain(cited, 60)})" if cited else "")
    head = ""
    if doc is not None:
        head = compilation_line(doc) + "\n"
        dated = f", {date_text(doc.published)}" if doc.published else ""
        description += "\n📰 " + clip_plain(short_title(doc), 60) + dated
    return InlineEntry(
        id=inline_id(st),
        title=clip_plain(title, 100),
        description=description,
        html=head + statement_html(st, country=True, limit=MESSAGE_LIMIT - tg_len(head)),
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
            head = _("{country} — no remarks").format(country=name)
        else:
            head = f"{name} — {statements_count(n)}"
    elif intent.kind == "person" and value:
        head = f"<b>{clip_escaped(value, 200)}</b> — {statements_count(n)}"
    elif intent.kind in SCOPED_KINDS and value:
        shown = scope_text(value)
        head = f"<b>{clip_escaped(shown, 200)}</b> — {statements_count(n)}"
        if asked and asked.casefold() != esc(value).casefold():
            head += " <i>" + _("(for “{question}”)").format(question=asked) + "</i>"
    elif asked:
        head = _("Top matches for “{question}”").format(question=asked)
    else:
        head = _("Top matches")
    if len(answer.documents) == 1 and answer.archive > 1:  # which of the archive's, and when
        head += "\n" + compilation_line(answer.documents[0])
    elif len(answer.documents) > 1:
        docs = len(answer.documents)
        head += "\n<i>" + esc(
            ngettext(
                "from {n} compilation, newest first", "from {n} compilations, newest first", docs
            ).format(n=number(docs))
        )
        head += "</i>"
    if answer.why or answer.message:
        head += f"\n<i>{clip_escaped(engine_text(answer), 300)}</i>"
    elif not answer.confident:
        head += "\n<i>" + esc(_("I’m not sure I understood, so these are the closest matches."))
        head += "</i>"
    return head + quotes_language_note()


def scope_text(value: str) -> str:
    """An answer's scope (``Georgia · 2031``) with its country names in the current language."""
    return " · ".join(i18n.place(part) for part in value.split(" · "))


# The engine (index/) says why an answer is empty, relaxed or unsure as codes (``Why``); each
# code's sentence in the user's language. tests/test_i18n.py checks every code the engine
# has (``index.answer.SENTENCES``) is here and translated.
WHY_TEXT: dict[tuple[str, str], str] = {
    ("absent", "country"): N_("The archive has no statements from {name}."),
    ("absent", "region"): N_("The archive has no statements from the {name}."),
    ("absent", "outlet"): N_("The archive quotes nothing from {name}."),
    ("absent", "speaker"): N_("{name} is not quoted in the archive."),
    ("absent", ""): N_("Nothing in the archive about {name}."),
    ("dropped", "time"): N_("Nothing dated {name}."),
    ("dropped", "country"): N_("Nothing from {name} fits."),
    ("dropped", "region"): N_("Nothing from the {name} fits."),
    ("dropped", "speaker"): N_("Nothing by {name} fits."),
    ("dropped", "role"): N_("No quote by “{name}” fits."),
    ("dropped", "outlet"): N_("Nothing cited from {name} fits."),
    ("dropped", "event"): N_("Nothing in {name} fits."),
    ("dropped", "kind"): N_("Nothing of the kind “{name}” fits."),
    ("dropped", "about"): N_("Nothing about {name} fits."),
    ("closest", ""): N_("These are the closest quotes on the rest of the question."),
    ("closest", "absent"): N_("These are the closest quotes that speak of it."),
    ("topic_relaxed", ""): N_(
        "Nothing here speaks of “{name}”; this is everything that fits the rest of the question."
    ),
    ("scope", ""): N_("Nothing in the archive fits all of: {name}."),
    ("nothing", ""): N_("Nothing in the compilations matches that well."),
    ("nothing", "scope"): N_("Nothing fits."),
    ("vague", ""): N_(
        "Ask about a country, a person or a topic — e.g. “Georgia”, “Peskov”, “Who talked about socialism?”"
    ),
    ("no_country", ""): N_("No country called “{name}” in the compilations."),
    ("no_person", ""): N_("Nobody called “{name}” is quoted in the compilations."),
}
# Codes whose name is a place (or a scope of places and more): its countries translated.
_PLACE_NAMES = frozenset(
    {("absent", "country"), ("absent", "region"), ("dropped", "country"), ("dropped", "region")}
    | {("scope", "")}
)


def why_text(whys: Sequence[Why]) -> str:
    """The engine's reasons, one sentence each, in the current language."""
    out = []
    for w in whys:
        msgid = WHY_TEXT.get((w.code, w.slot)) or WHY_TEXT.get((w.code, ""))
        if msgid is None:
            continue
        known = (w.code, w.slot) in _PLACE_NAMES
        out.append(_(msgid).format(name=scope_text(w.name) if known else w.name))
    return " ".join(out)


def engine_text(answer: Answer) -> str:
    """Why the answer is as it is, for the user: its codes translated (the engine's English
    sentence only for an answer made without codes)."""
    return why_text(answer.why) if answer.why else (answer.message or "")


def suggestion_label(s: Suggestion) -> str:
    """A "did you mean" button's text: a country's name in the current language."""
    return i18n.country(s.label) if s.key.startswith("c:") else s.label


def _suggestion_rows(suggestions: Sequence[Suggestion]) -> Keyboard:
    return tuple(
        (Button(button_text(suggestion_label(s)), callback(KEY, s.key)),)
        for s in suggestions[:SUGGESTION_LIMIT]
    )


def page_of(page: int, pages: int) -> str:
    """``Page 2 of 5`` (escaped, italic)."""
    return "<i>" + esc(_("Page {page} of {pages}").format(page=page, pages=pages)) + "</i>"


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
    for h in answer.hits[:MAX_SHOWN]:  # a slice: a 60,000-statement answer renders 200
        doc = docs.get(h.statement.document)
        line = ""
        if doc is not None and doc.id != current:  # a new compilation: say which, and when
            current = doc.id
            line = compilation_line(doc) + "\n"
        limit = room - tg_len(line)
        blocks.append(line + statement_html(h.statement, country=show_country, limit=limit))
    pages = pack(blocks, room)
    if len(answer.hits) > MAX_SHOWN:  # say so on the last page, and how to narrow it down
        pages[-1] = [*pages[-1], more_line(len(answer.hits))]
    out = []
    for i, page in enumerate(pages):
        top = head if len(pages) == 1 else f"{head}\n{page_of(i + 1, len(pages))}"
        out.append(top + "\n\n" + "\n\n".join(page))
    return out


def more_line(total: int) -> str:
    """The note under the last page of a very long answer."""
    text = _(
        "… and {n} more. Add a topic, a person, a year or an outlet to narrow it down."
    ).format(n=number(total - MAX_SHOWN))
    return f"<i>{esc(text)}</i>"


def nav_buttons(answer: Answer, page: int, pages: int) -> tuple[Button, ...]:
    """‹ Prev / Next › buttons whose data reproduces the answer on any replica."""
    if answer.intent.key:
        state, payload = PAGE + "{}|", answer.intent.key
    else:  # no key: carry the question itself, cut safely
        state, payload = QUESTION_PAGE + "{}|", " ".join(answer.query.split())
    row = []
    if page > 0:
        row.append(Button(_("‹ Prev"), callback(state.format(page - 1), payload), "prev"))
    if page < pages - 1:
        row.append(Button(_("Next ›"), callback(state.format(page + 1), payload), "next"))
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
    follow = follow_button(answer)
    if follow is not None:
        rows.append((follow,))
    return Reply(pages[page], tuple(rows))


def follow_button(answer: Answer) -> Button | None:
    """🔔 Follow under a person's or a country's answer: new quotes come as they are published."""
    key = answer.intent.key or ""
    if not answer.hits or answer.intent.kind not in ("person", "country"):
        return None
    if not key.startswith(("s:", "c:")) or len((FOLLOW_ANSWER + key).encode()) > CALLBACK_LIMIT:
        return None
    value = answer.intent.value or ""
    if answer.intent.kind == "country":
        value = i18n.country(value)
    return Button(button_text(_("🔔 Follow {name}").format(name=value)), FOLLOW_ANSWER + key)


def render_empty(answer: Answer) -> Reply:
    """Nothing to quote: say why and offer suggestions."""
    if answer.intent.kind == "empty":
        return Reply(
            _(
                "Ask me about a country, a person or a topic, e.g. <i>What did Peskov say?</i> "
                "or <code>/country Georgia</code>. /help lists everything."
            )
        )
    asked = clip_escaped(" ".join(answer.query.split()), QUERY_ECHO)
    text = (
        clip_escaped(engine_text(answer), 1000)
        if answer.why or answer.message
        else _("I found nothing for “{question}”.").format(question=asked)
    )
    if answer.suggestions:
        return Reply(text + "\n\n" + _("Did you mean…"), _suggestion_rows(answer.suggestions))
    return Reply(
        text
        + "\n\n"
        + _("Try /countries to browse, or ask about a person, e.g. <i>What did Peskov say?</i>")
    )


# --- refusals and errors ---------------------------------------------------------------------

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")


def slow_down(per_minute: int, wait: float) -> str:
    """The one warning a user gets when they ask faster than the per-user limit."""
    return ngettext(
        "You are asking faster than I can keep up ({n} question a minute). "
        "Please try again in {wait} s.",
        "You are asking faster than I can keep up ({n} questions a minute). "
        "Please try again in {wait} s.",
        per_minute,
    ).format(n=number(per_minute), wait=max(1, round(wait)))


def inline_slow_down(wait: float) -> str:
    """The button above an empty inline answer when inline queries come too fast."""
    return _("Slow down: try again in {wait} s").format(wait=max(1, round(wait)))


# --- lists ------------------------------------------------------------------------------------


def render_countries(countries: Sequence[tuple[str, int]], *, intro: str | None = None) -> Reply:
    """Countries with statement counts, as text and as one button each."""
    lines = [intro or _("<b>Countries</b> — tap one to read its reactions:")]
    for name, n in countries:
        label = _("no remarks") if n == 0 else statements_count(n)
        lines.append(f"{country_label(name)} — {label}")
    return Reply(fit_lines(lines), country_rows(countries))


def country_button(name: str, n: int | None = None) -> Button:
    """``🇬🇪 Georgia (3)`` / ``🇬🇪 Грузия (3)``: opens the country's statements (its data
    keeps the archive's English name)."""
    mark = flag(name)
    shown = i18n.country(name)
    text = f"{mark} {shown}" if mark else shown
    if n is not None:
        text += f" ({n})"
    return Button(button_text(text), callback(COUNTRY, name))


def country_rows(countries: Sequence[tuple[str, int | None]], per_row: int = 3) -> Keyboard:
    """One button a country, three a row."""
    buttons = [country_button(name, count) for name, count in countries]
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def fit_lines(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> str:
    """Join whole lines, dropping the tail with a note when they would pass ``limit``."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        cost = tg_len(line) + 1
        if used + cost > limit - 40:
            out.append("<i>" + esc(_("… and {n} more").format(n=number(len(lines) - i))) + "</i>")
            break
        out.append(line)
        used += cost
    return "\n".join(out)


def date_text(iso: str | None) -> str:
    """``2024-11-06`` -> ``6 Nov 2024`` (in the current language); anything else as is."""
    return i18n.date(iso)


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
        details.append(_("published {date}").format(date=date_text(doc.published)))
    if doc.updated and doc.updated != doc.published:
        details.append(_("updated {date}").format(date=date_text(doc.updated)))
    if details:
        line += "\n" + clip_escaped(", ".join(html.unescape(d) for d in details), 400)
    return line


def render_sources(documents: Sequence[Document], outlets: Sequence[tuple[str, int]]) -> Reply:
    """The compilations quoted and the outlets they cite, most cited first."""
    lines = [_("<b>Compilations</b> ({n})").format(n=number(len(documents)))]
    for doc in documents:
        lines.append("• " + document_html(doc))
    lines.append("")
    lines.append(_("<b>Outlets cited</b> ({n})").format(n=number(len(outlets))))
    ranked = sorted(outlets, key=lambda o: (-o[1], o[0].casefold()))
    for name, n in ranked:
        cited = count("{n} citation", "{n} citations", n)
        lines.append(f"• {clip_escaped(name, 200)} — {cited}")
    return Reply(fit_lines(lines))


def render_about(
    documents: Sequence[Document], countries: Sequence[tuple[str, int]], bot_username: str | None
) -> Reply:
    """What this bot is and what it knows."""
    lines = [
        _(
            "<b>Reactions bot</b> answers <i>who said what</i> about an event with verbatim "
            "quotes and the sources the compilation cites. It never writes its own summaries."
        ),
        "",
        ngettext(
            "It knows {summary}, from {n} compilation:",
            "It knows {summary}, from {n} compilations:",
            len(documents),
        ).format(summary=countries_summary(countries), n=number(len(documents))),
    ]
    for doc in documents:
        lines.append("• " + document_html(doc))
        if doc.author:
            lines.append(f"  <i>{clip_escaped(doc.author, 300)}</i>")
    lines.append("")
    lines.append("<i>" + _("Opinions are solely those of the individuals quoted.") + "</i>")
    if i18n.current() != i18n.DEFAULT_LANGUAGE:
        lines.append("<i>" + _("Quotes are verbatim, in English.") + "</i>")
    if bot_username:
        lines.append(
            _("Inline: type <code>{example}</code> in any chat.").format(
                example=f"@{esc(bot_username)} " + _("Zelensky")
            )
        )
    return Reply(fit_lines(lines))


def countries_summary(countries: Sequence[tuple[str, int]]) -> str:
    """``50 statements from 13 countries (2 more with no remarks)``."""
    quoted = [n for _name, n in countries if n > 0]
    silent = len(countries) - len(quoted)
    text = ngettext(
        "{statements} from {n} country", "{statements} from {n} countries", len(quoted)
    ).format(statements=statements_count(sum(quoted)), n=number(len(quoted)))
    if silent:
        text += " " + ngettext(
            "({n} more with no remarks)", "({n} more with no remarks)", silent
        ).format(n=number(silent))
    return text


def render_stats_caption(countries: Sequence[tuple[str, int]]) -> str:
    """The /stats chart's caption."""
    top = sorted((c for c in countries if c[1] > 0), key=lambda c: (-c[1], c[0]))[:3]
    most = ", ".join(f"{country_label(name)} ({n})" for name, n in top)
    text = _("<b>Statements per country</b>: {summary}.").format(
        summary=countries_summary(countries)
    )
    if most:
        text += "\n" + _("Most quoted: {countries}.").format(countries=most)
    return text if tg_len(text) <= CAPTION_LIMIT else text[: text.find("\n")]


def statement_hits(statements: Iterable[Statement]) -> tuple[Hit, ...]:
    """Wrap statements as hits (for lists that are not search results)."""
    return tuple(Hit(st, 1.0) for st in statements)


# --- editors ----------------------------------------------------------------------------------

ADMIN_ONLY = N_("This command is for the bot’s editors.")
RELOAD_UNSUPPORTED = N_("This bot serves a fixed archive: there is nothing to reload.")


def reload_text(message: str | None) -> str:
    """What /reload and the watcher tell an editor (HTML-escaped; the engine's own report
    of what changed stays in English, as the log has it)."""
    return esc(message or _("Nothing changed in the sources folder."))


# --- the latest compilation and the list of compilations --------------------------------------

LATEST_QUOTE_LIMIT = 700  # one statement of /latest; the rest is a tap on its country away
REMOVE_BUTTON_LIMIT = 50  # /events offers Remove for the newest 50 (Telegram caps keyboards)
NO_COMPILATIONS = N_("The archive holds no compilations yet.")


def render_latest(doc: Document | None, statements: Sequence[Statement]) -> Reply:
    """/latest: the newest compilation's first statement of each country, a button a country."""
    if doc is None or not statements:
        return Reply(_(NO_COMPILATIONS))
    intro = ngettext(
        "The newest compilation: its first reaction from each of {n} country. "
        "Tap a country for all of its statements.",
        "The newest compilation: its first reaction from each of {n} countries. "
        "Tap a country for all of its statements.",
        len(statements),
    ).format(n=number(len(statements)))
    head = compilation_line(doc) + f"\n<i>{esc(intro)}</i>" + quotes_language_note()
    blocks = [statement_html(st, country=True, limit=LATEST_QUOTE_LIMIT) for st in statements]
    room = MESSAGE_LIMIT - tg_len(head) - 60  # "… and 12 more countries: tap one below"
    shown: list[str] = []
    used = 0
    for block in blocks:
        cost = tg_len(block) + 2
        if used + cost > room:
            break
        shown.append(block)
        used += cost
    text = head + "\n\n" + "\n\n".join(shown)
    if len(shown) < len(blocks):
        rest = len(blocks) - len(shown)
        more = ngettext(
            "… and {n} more country: tap one below", "… and {n} more countries: tap one below", rest
        ).format(n=number(rest))
        text += f"\n\n<i>{esc(more)}</i>"
    return Reply(text, country_rows([(st.country, None) for st in statements]))


def render_events(
    documents: Sequence[Document], counts: dict[str, int], *, editor: bool = False
) -> Reply:
    """/events: the compilations, newest first, with their statement counts; editors get a
    Remove button for each."""
    if not documents:
        return Reply(_(NO_COMPILATIONS))
    lines = [_("<b>Compilations</b> ({n}), newest first:").format(n=number(len(documents)))]
    rows = []
    for i, doc in enumerate(documents, 1):
        n = counts.get(doc.id, 0)
        lines.append(f"{i}. {compilation_line(doc)} — {statements_count(n)}")
        if editor and i <= REMOVE_BUTTON_LIMIT:
            label = _("🗑 Remove {number}. {title}").format(number=i, title=short_title(doc))
            rows.append((Button(button_text(label), callback(REMOVE, doc_key(doc))),))
    if editor:
        note = _("Editors: Remove takes a compilation out of the archive (asks first).")
        lines += ["", f"<i>{esc(note)}</i>"]
    return Reply(fit_lines(lines), tuple(rows))


def short_title(doc: Document) -> str:
    """The title before its colon (plain): ``Post-Soviet Reaction to Trump’s Win``."""
    return re.split(r":\s", doc.title, maxsplit=1)[0]


# --- editors: uploads -------------------------------------------------------------------------

# Constants are English msgids: show them with ``_(render.UPLOAD_GONE)``.
UPLOAD_EDITORS_ONLY = N_(
    "Thanks! Only the bot’s editors can add compilations. Ask me a question instead, e.g. "
    "<i>What did Peskov say?</i>"
)
UPLOAD_GONE = N_(
    "This upload is no longer waiting: it was published or discarded already, or it was "
    "older than a day. Send the file again to start over."
)
DISCARDED = N_("🗑 Discarded. Nothing was added to the archive.")
EDITOR_BUTTON_ONLY = N_("Only the bot’s editors can use this button.")
FIXED_ARCHIVE = N_("This bot serves a fixed archive: compilations are added on the server.")


def size_text(n: int) -> str:
    """``1.5 MB``, ``320 KB`` (``1,5 МБ``)."""
    language = i18n.current()
    if n >= 1024 * 1024:
        size = format_decimal(round(n / 1024 / 1024, 1), format="0.0", locale=language)
        return _("{size} MB").format(size=size)
    return _("{size} KB").format(size=number(max(1, round(n / 1024))))


def sentence(reason: str) -> str:
    """A reason from the ingest or the file system, escaped, ending with one full stop."""
    text = clip_escaped(reason.strip(), 1500)
    return text if text.endswith((".", "?", "!", ELLIPSIS)) else text + "."


def upload_wrong_type(name: str | None, mime_type: str | None) -> str:
    """A document that is neither a .txt compilation nor a saved .html page."""
    what = esc(name or mime_type or _("this file"))
    return _(
        "I can’t read {file}: send a compilation as a <b>.txt</b> file, its saved web page "
        "as an <b>.html</b> file, or a link to the page."
    ).format(file=what)


def upload_too_large(size: int, limit: int) -> str:
    """Refused before downloading."""
    return _("That file is {size}; a compilation is at most {limit}. Is it the right file?").format(
        size=size_text(size), limit=size_text(limit)
    )


def upload_failed(reason: str) -> str:
    """The upload is not a compilation (the ingest's reason); the archive is unchanged."""
    return (
        _("❌ Not added: {reason}").format(reason=sentence(reason))
        + "\n<i>"
        + _("Nothing was changed in the archive.")
        + "</i>"
    )


def upload_report(
    prepared: Prepared, key: str, action: str, target: str, limit: int = MESSAGE_LIMIT
) -> Reply:
    """What an upload holds (title, dates, statements per country, notes, warnings) and the
    Publish / Discard buttons."""
    doc = prepared.document
    what = _("web page") if prepared.format == "html" else _("text file")
    counts = prepared.counts
    lines = [f"📥 <b>{clip_escaped(doc.title, 300)}</b>"]
    dates = (
        _("published {date}").format(date=date_text(doc.published))
        if doc.published
        else _("no date")
    )
    if doc.updated and doc.updated != doc.published:
        dates += ", " + _("updated {date}").format(date=date_text(doc.updated))
    lines.append(f"{esc(dates)} · {esc(what)} → <code>{clip_escaped(target, 120)}</code>")
    if doc.author:
        lines.append(f"<i>{clip_escaped(doc.author, 300)}</i>")
    warned = ""
    if prepared.warnings:
        warned = ", ⚠️ " + count("{n} warning", "{n} warnings", len(prepared.warnings))
    lines += [
        "",
        ngettext(
            "<b>{statements}</b> from {n} country{warnings}:",
            "<b>{statements}</b> from {n} countries{warnings}:",
            len(counts),
        ).format(
            statements=statements_count(len(prepared.statements)),
            n=number(len(counts)),
            warnings=warned,
        ),
    ]
    lines += [f"{country_label(c)} — {n}" for c, n in counts.items()]
    linked, cited = prepared.links
    lines.append(
        "🔗 "
        + ngettext(
            "{linked} of {n} source links to the outlet’s page",
            "{linked} of {n} sources link to the outlet’s page",
            cited,
        ).format(linked=number(linked), n=number(cited))
    )
    tail = []
    for note in prepared.notes:
        tail.append(f"ℹ️ {clip_escaped(note, 400)}")
    if prepared.warnings:
        tail.append(_("⚠️ Warnings (as <code>python -m index check</code> reports them):"))
        tail += [
            "• "
            + _("line {line}: {warning}").format(line=w.line, warning=clip_escaped(w.message, 300))
            for w in prepared.warnings
        ]
    buttons: Keyboard = ()
    code = f"<code>{clip_escaped(target, 120)}</code>"
    if action == "unchanged":
        verdict = _("✅ Already in the archive as {file}: nothing to publish.").format(file=code)
    elif action == "replaced":
        verdict = _(
            "Publishing <b>replaces</b> {file} (the old file is kept in <code>removed/</code>)."
        ).format(file=code)
        buttons = upload_buttons(key, replace=True)
    else:
        verdict = _("Publish adds it to the archive; Discard drops it.")
        buttons = upload_buttons(key)
    # The verdict must survive a long report: the lists give way first.
    body = fit_lines([*lines, *(["", *tail] if tail else [])], limit - tg_len(verdict) - 2)
    return Reply(body + "\n\n" + verdict, buttons)


def upload_buttons(key: str, *, replace: bool = False) -> Keyboard:
    """Publish (or Replace) and Discard for a pending upload."""
    go = (
        Button(_("♻️ Replace"), REPLACE + key) if replace else Button(_("✅ Publish"), PUBLISH + key)
    )
    return ((go, Button(_("✖️ Discard"), DISCARD + key)),)


WORKING = {
    "publish": N_("⏳ Publishing… the archive is reloading; this takes a few seconds."),
    "replace": N_("⏳ Replacing… the archive is reloading; this takes a few seconds."),
    "remove": N_("⏳ Removing… the archive is reloading; this takes a few seconds."),
}


def working(action: str) -> str:
    """While a file moves and the archive reloads (the buttons are gone meanwhile);
    ``action``: publish, replace or remove."""
    return _(WORKING[action])


def published(title: str, target: str, action: str, reload_message: str | None) -> str:
    """The compilation is in the archive and the bot answers from it."""
    name = f"<b>{clip_escaped(title, 300)}</b>"
    code = f"<code>{clip_escaped(target, 120)}</code>"
    if action == "unchanged":
        head = _("✅ {title} was already in the archive as {file}.")
    elif action == "replaced":
        head = _("✅ Replaced {title} as {file}.")
    else:
        head = _("✅ Published {title} as {file}.")
    return head.format(title=name, file=code) + f"\n{reload_text(reload_message)}"


def publish_recovered(done: Recovery, reload_message: str | None) -> Reply:
    """The "⏳ Publishing…" message of a publish a restart interrupted: finished or undone."""
    journal = done.journal
    name = f"<b>{clip_escaped(done.title, 300)}</b>"
    if done.outcome == "finished":
        code = f"<code>{clip_escaped(journal.target, 120)}</code>"
        text = _("✅ Published {title} as {file}: the bot restarted meanwhile and finished it.")
        text = text.format(title=name, file=code)
        return Reply(text + (f"\n{reload_text(reload_message)}" if reload_message else ""))
    text = _(
        "↩️ Publishing {title} was interrupted by a restart and undone: the archive is as it was."
    ).format(title=name)
    if not done.waiting:
        return Reply(text)
    text += "\n" + _("The upload still waits: publish it again or discard it.")
    return Reply(text, upload_buttons(journal.key, replace=journal.replace))


def publish_failed(reason: str) -> str:
    """Publishing was refused or undone; the upload still waits."""
    return _refused(
        _("❌ Not published: {reason}"),
        reason,
        _("The archive is unchanged; the upload still waits for Publish or Discard."),
    )


def _refused(head: str, reason: str, note: str) -> str:
    """An editor's action that did not happen: why, then what that leaves (in italics)."""
    return head.format(reason=sentence(reason)) + f"\n<i>{note}</i>"


# --- editors: removing a compilation ----------------------------------------------------------

REMOVE_GONE = N_(
    "That compilation is no longer in the archive (removed already?). /events lists what is."
)
REMOVE_LAST = N_(
    "That is the only compilation: the bot would have nothing to quote. Add another first."
)


def remove_confirm(doc: Document, n: int, key: str) -> Reply:
    """Ask before removing."""
    text = (
        _("Remove {compilation} ({statements}) from the archive?").format(
            compilation=compilation_line(doc), statements=statements_count(n)
        )
        + "\n<i>"
        + _(
            "Its file moves to <code>removed/</code> beside the sources folder, where it can be "
            "put back by hand."
        )
        + "</i>"
    )
    return Reply(
        text,
        ((Button(_("🗑 Yes, remove"), REMOVE_YES + key), Button(_("Keep it"), REMOVE_NO + key)),),
    )


def removed(doc: Document, moved: str, reload_message: str | None) -> str:
    """The compilation is out of the archive."""
    return (
        _("🗑 Removed {compilation}: its file is now {file}.").format(
            compilation=compilation_line(doc),
            file=f"<code>removed/{clip_escaped(moved, 120)}</code>",
        )
        + f"\n{reload_text(reload_message)}"
    )


def remove_failed(reason: str) -> str:
    """The removal failed or was undone; the compilation stays."""
    return _refused(_("❌ Not removed: {reason}"), reason, _("The archive is unchanged."))


# --- follows and digests ----------------------------------------------------------------------

FOLLOW_HOW = N_(
    "What should I follow? A person, a country, a region or a topic, e.g. "
    "<code>/follow Peskov</code>, <code>/follow Georgia</code>, <code>/follow Baltic states</code>, "
    "<code>/follow grain exports</code>. When a new compilation quotes them, I send you the new "
    "quotes in one message."
)
FOLLOW_TOO_LONG = N_(
    "That is long for a follow: a name, a country, a region or a few words of a topic."
)
FOLLOW_GONE = N_("That button no longer names anything in the archive. /follow with a name works.")
FOLLOW_PRIVATE = N_(
    "Follows are personal: send me <code>/follow …</code> in a private chat, and the new "
    "quotes come there."
)
DIGEST_GONE = N_("This digest is no longer stored (you used /forget, or it was for someone else).")
KIND_MARKS = {"person": "👤", "country": "", "region": "🌍", "topic": "🏷"}
KIND_WORDS = {
    "person": N_("person"),
    "country": N_("country"),
    "region": N_("region"),
    "topic": N_("topic"),
}


def follow_name(f: Follow) -> str:
    """A follow's label as shown (plain): a country's name in the current language."""
    return i18n.country(f.label) if f.kind == "country" else f.label


def topic_matches(found: Sequence[Statement]) -> list[str]:
    """A new topic follow's matches in the archive so far: how many, and the best few."""
    if not found:
        return [
            "<i>"
            + esc(_("Nothing in the archive matches it so far: only new quotes that do will come."))
            + "</i>"
        ]
    lines = [
        esc(
            ngettext(
                "So far it matches {n} quote in the archive, e.g.:",
                "So far it matches {n} quotes in the archive, e.g.:",
                len(found),
            ).format(n=number(len(found)))
        )
    ]
    for st in found[:FOLLOW_EXAMPLES]:
        who = st.speaker or st.country
        lines.append(f"• <b>{clip_escaped(who, 80)}</b>: {clip_escaped(st.text, 140)}")
    return lines


def follow_label(f: Follow) -> str:
    """``👤 <b>Dmitry Peskov</b>``, ``🇬🇪 <b>Georgia</b>``, ``🏷 <b>grain exports</b>`` (escaped)."""
    mark = flag(f.label) if f.kind == "country" else KIND_MARKS.get(f.kind, "")
    return f"{mark} <b>{clip_escaped(follow_name(f), 200)}</b>".strip()


def follow_code_button(f: Follow, text: str) -> Button | None:
    """A button that follows ``f`` when pressed; None when it would not fit 64 bytes."""
    kind = {"person": "s", "country": "c", "region": "r", "topic": "t"}[f.kind]
    data = f"{FOLLOW}{kind}:{f.label if f.kind == 'topic' else f.key}"
    if len(data.encode()) > CALLBACK_LIMIT:
        return None
    return Button(button_text(text), data)


FOLLOW_EXAMPLES = 3  # quotes a new topic follow shows of what it matches so far


def followed(
    results: Sequence[tuple[Follow, str]],
    limit: int,
    matched: Mapping[str, Sequence[Statement]] | None = None,
) -> Reply:
    """What /follow (or a Follow button) did, a line per thing asked; for a topic, what it
    matches in the archive so far (``matched``: its statements, best first)."""
    lines = []
    for f, outcome in results:
        if outcome == "added":
            lines.append(
                _("🔔 Following {name} ({kind}).").format(
                    name=follow_label(f), kind=_(KIND_WORDS[f.kind])
                )
            )
            if matched is not None and f.kind == "topic":
                lines += topic_matches(matched.get(f.key, ()))
        elif outcome == "already":
            lines.append(_("You already follow {name}.").format(name=follow_label(f)))
        else:
            lines.append(
                ngettext(
                    "You follow {n} thing already, the most I keep: /following to unfollow "
                    "some, then follow {name} again.",
                    "You follow {n} things already, the most I keep: /following to unfollow "
                    "some, then follow {name} again.",
                    limit,
                ).format(n=number(limit), name=follow_label(f))
            )
    if any(o == "added" for _f, o in results):
        lines += [
            "",
            "<i>"
            + _(
                "When a new compilation quotes them, I send you the new quotes in one message. "
                "/following lists what you follow."
            )
            + "</i>",
        ]
    return Reply("\n".join(lines))


def follow_choices(text: str, choices: Sequence[Follow]) -> Reply:
    """Several people fit the name: a button each."""
    rows = []
    for f in choices[:SUGGESTION_LIMIT]:
        b = follow_code_button(f, f"🔔 {follow_name(f)}")
        if b is not None:
            rows.append((b,))
    return Reply(
        _("Several people fit “{name}”. Whom should I follow?").format(
            name=clip_escaped(text, QUERY_ECHO)
        ),
        tuple(rows),
    )


def follow_missing(message: str, suggestions: Sequence[Follow], anyway: Follow | None) -> Reply:
    """Nothing fits as typed: "did you mean" buttons, and perhaps "follow it anyway"."""
    rows = []
    for f in suggestions[:SUGGESTION_LIMIT]:
        b = follow_code_button(f, f"🔔 {follow_name(f)}")
        if b is not None:
            rows.append((b,))
    text = sentence(message) if message else _("I found nothing to follow.")
    if rows:
        text += "\n\n" + _("Did you mean…")
    if anyway is not None:
        b = follow_code_button(
            anyway, _("🔔 Follow “{name}” anyway").format(name=follow_name(anyway))
        )
        if b is not None:
            rows.append((b,))
            text += "\n\n" + _(
                "Or follow {name} anyway: I tell you when a new compilation quotes it."
            ).format(name=follow_label(anyway))
    return Reply(text, tuple(rows))


def following_list(follows: Sequence[Follow], limit: int, head: str = "") -> Reply:
    """/following: what the user follows, an Unfollow button each."""
    if not follows:
        return Reply(
            (head + "\n\n" if head else "") + _("You follow nothing yet.") + " " + _(FOLLOW_HOW)
        )
    lines = [head, ""] if head else []
    lines.append(
        _("<b>You follow</b> ({n} of at most {limit}):").format(
            n=number(len(follows)), limit=number(limit)
        )
    )
    lines += [f"• {follow_label(f)}" for f in follows]
    note = _("Tap one to unfollow it. /forget deletes everything I keep about you.")
    lines += ["", f"<i>{note}</i>"]
    rows = tuple(
        (
            Button(
                button_text(_("✖️ Unfollow {name}").format(name=follow_name(f))), UNFOLLOW + f.token
            ),
        )
        for f in follows
    )
    return Reply(fit_lines(lines), rows)


def unfollowed(gone: Sequence[Follow], remaining: Sequence[Follow], limit: int) -> Reply:
    """After an Unfollow: what went, and the list again."""
    if gone:
        head = _("Unfollowed {names}.").format(names=", ".join(follow_label(f) for f in gone))
    else:
        head = _("You no longer follow that.")
    return following_list(remaining, limit, head)


def unfollow_missing(text: str, follows: Sequence[Follow]) -> Reply:
    """/unfollow with something the user does not follow."""
    head = _("You don’t follow “{name}”.").format(name=clip_escaped(text, QUERY_ECHO))
    return following_list(follows, 50, head)


def forgotten(counts: dict[str, int]) -> Reply:
    """/forget is done."""
    follows = count("{n} follow", "{n} follows", counts.get("follows", 0))
    records = count("{n} delivery record", "{n} delivery records", counts.get("digests", 0))
    text = _(
        "🗑 Done: I deleted everything I kept about you — {follows} and {records}. "
        "I will send you nothing until you follow something again."
    ).format(follows=follows, records=records)
    if counts.get("language"):
        text += " " + _("Your language setting is gone too: I speak your Telegram app’s again.")
    return Reply(text)


def privacy(counts: dict[str, int], language: str | None = None) -> Reply:
    """/privacy: what is stored, for how long, and how to delete it; ``language``: the one
    stored for the user, if any."""
    stored = (
        _("Language stored: {language}.").format(language=i18n.NAMES.get(language, language))
        if language
        else _("No language stored.")
    )
    return Reply(
        "\n".join(
            [
                _("<b>What I store about you</b>"),
                _(
                    "• what you follow (your Telegram user id, the name or words you followed, when)"
                ),
                _(
                    "• for each digest I sent you: when, its message id, and which quotes it held "
                    "(ids only, so no quote reaches you twice)"
                ),
                _(
                    "• your language: the one you chose with /language, or else your Telegram "
                    "app’s when you last followed something (digests are written in it)"
                ),
                "",
                _(
                    "Questions you ask are kept only until they are answered; my logs hold no "
                    "message text. If you block me or delete your account, I delete all of it."
                ),
                "",
                _("Now: {follows}, {digests} ({quotes}).").format(
                    follows=count("{n} follow", "{n} follows", counts.get("follows", 0)),
                    digests=count("{n} digest", "{n} digests", counts.get("digests", 0)),
                    quotes=count("{n} quote", "{n} quotes", counts.get("items", 0)),
                )
                + " "
                + stored,
                _("/forget deletes it all at once."),
            ]
        )
    )


def digest_pages(
    statements: Sequence[tuple[Statement, str]], documents: Sequence[Document]
) -> list[str]:
    """A digest's pages: the new statements, grouped by compilation, each with the follow that
    brought it, under Telegram's limits."""
    docs = {d.id: d for d in documents}
    shown = [d for d in documents if any(st.document == d.id for st, _ in statements)]
    head = ngettext(
        "🔔 <b>{n} new quote</b> for what you follow",
        "🔔 <b>{n} new quotes</b> for what you follow",
        len(statements),
    ).format(n=number(len(statements)))
    if len(shown) == 1:
        head += "\n" + compilation_line(shown[0])
    head += quotes_language_note()
    page_line = 40
    room = MESSAGE_LIMIT - tg_len(head) - page_line - 2
    blocks = []
    current = None
    for st, reason in statements:
        line = ""
        doc = docs.get(st.document)
        if len(shown) > 1 and doc is not None and doc.id != current:
            current = doc.id
            line = compilation_line(doc) + "\n"
        why = f"\n<i>🔔 {clip_escaped(reason, 200)}</i>"
        limit = room - tg_len(line) - tg_len(why)
        blocks.append(line + statement_html(st, country=True, limit=limit) + why)
    pages = pack(blocks, room)
    out = []
    for i, page in enumerate(pages):
        top = head if len(pages) == 1 else f"{head}\n{page_of(i + 1, len(pages))}"
        out.append(top + "\n\n" + "\n\n".join(page))
    return out


def render_digest(
    digest_id: int,
    statements: Sequence[tuple[Statement, str]],
    documents: Sequence[Document],
    page: int = 0,
) -> Reply | None:
    """One page of a digest, with ‹ Prev / Next › (``dg|<id>|<page>``); None when empty."""
    if not statements:
        return None
    pages = digest_pages(statements, documents)
    page = min(max(page, 0), len(pages) - 1)
    row = []
    if page > 0:
        row.append(Button(_("‹ Prev"), f"{DIGEST}{digest_id}|{page - 1}", "prev"))
    if page < len(pages) - 1:
        row.append(Button(_("Next ›"), f"{DIGEST}{digest_id}|{page + 1}", "next"))
    return Reply(pages[page], (tuple(row),) if row else ())


# --- the language -----------------------------------------------------------------------------


def language_buttons() -> Keyboard:
    """English / Русский / Українська: ``lg|<code>``, the same in every language."""
    return (tuple(Button(name, LANGUAGE + code) for code, name in i18n.NAMES.items()),)


def language_menu(chosen: bool) -> Reply:
    """/language: the language now and the buttons to change it; ``chosen``: the user picked
    it (else it follows their Telegram app)."""
    name = i18n.NAMES[i18n.current()]
    if chosen:
        text = _("I speak <b>{language}</b> with you, as you chose.").format(language=name)
    else:
        text = _("I speak <b>{language}</b> with you, as your Telegram app does.").format(
            language=name
        )
    text += "\n" + _("Choose the language of my messages and buttons:")
    text += "\n<i>" + _("Quotes stay verbatim, in the language of their source.") + "</i>"
    return Reply(text, language_buttons())


def language_set(stored: bool) -> Reply:
    """The language is switched (the text is already in it)."""
    text = _("Done: I speak <b>{language}</b> with you now.").format(
        language=i18n.NAMES[i18n.current()]
    )
    if stored:
        text += "\n<i>" + _("I keep this choice; /forget deletes it.") + "</i>"
    text += "\n\n" + _("/help lists what I can do.")
    return Reply(text)


LANGUAGE_UNKNOWN = N_("I speak English, Russian and Ukrainian: choose one below.")
