"""Parse plain-text compilations into verbatim, sourced statements."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from index import vocabulary
from index.model import Document, Source, Statement
from index.textnorm import MONTH_NAMES

MONTHS = {m: i + 1 for i, m in enumerate(MONTH_NAMES)}
MONTH_ABBR = {m[:3]: n for m, n in MONTHS.items()} | {"sept": 9}

# An item: a bullet mark (•, -, * …) or a number ("1.", "2)") before its text.
BULLET_RE = re.compile(
    r"^(?P<indent>[ \t\u00a0]*)(?P<mark>[•◦▪●‣∙·*\-–]|\d{1,3}[.)])[ \t\u00a0]+(?P<text>\S.*)$"
)
FULL_DATE_RE = re.compile(
    r"^\s*(?P<month>[A-Z][a-z]+)\.?\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})\s*$"
)
LOOSE_DATE_RE = re.compile(r"(?P<month>[A-Z][a-z]{2,8})\.?\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})")
# A citation's date: the blog's MM.DD.YY ("11.06.24"), or written out ("Nov. 7, 2024").
CITE_DATE_RE = re.compile(
    r"(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<y>\d{2}|\d{4})(?!\d)"
    r"|(?P<long>[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s+\d{4})"
)
PAREN_RE = re.compile(r"\(([^()]*)\)")
# An outlet's link in a citation: "(Interfax <https://www.interfax.ru/russia/1>, 11.06.24)".
LINK_RE = re.compile(r"\s*<(https?://[^\s<>()]+)>", re.I)
# Verbs of saying, market and organisation words: shared with the question reader
# (index/data/vocabulary.json), longest first so "states" is tried before "state".
SPEECH_VERBS = sorted(vocabulary.reported_speech_verbs(), key=len, reverse=True)
SPEECH_RE = re.compile(
    r"(?:,\s*|\s+)(?:(?:has|had|have|also|then|later|earlier)\s+)*(?:"
    + "|".join(SPEECH_VERBS)
    + r")\b"
)
ORG_WORDS = vocabulary.organisation_words()
MARKET_WORDS = vocabulary.english_market_words()
ORG_HEADS = set(vocabulary.organisation_heads())
PREPOSITIONS = {"to", "of", "in", "at", "for", "from", "with", "on"}
UNNAMED_RE = re.compile(
    r"^(?:A|An|One|Some|Several|Two|Three|Many)\s+(?P<desc>.+?)(?=" + SPEECH_RE.pattern + r")"
)
NO_REMARKS_RE = re.compile(r"\bno (?:remarks|comments?|reactions?|statements?)\b", re.I)
PUBLISHED_RE = re.compile(r"\b(?:originally\s+)?published\b", re.I)
UPDATED_RE = re.compile(
    r"\bupdated\b(?:\s+on)?\s+(?P<date>[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s+\d{4})", re.I
)

# A citation closes a statement; citation dates more than this far from the document are suspect.
WINDOW_BEFORE = timedelta(days=31)
WINDOW_AFTER = timedelta(days=7)


class ParseError(Exception):
    """A compilation that cannot be read; the message names the file (and line)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Warning_:
    """A data anomaly found while parsing: file, line, what and which statement."""

    path: str
    line: int
    code: str
    message: str
    statement: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code}: {self.message}"


@dataclass
class Parsed:
    """One document with its statements and the anomalies found on the way."""

    document: Document
    statements: list[Statement]
    warnings: list[Warning_] = field(default_factory=list)


@dataclass
class Corpus:
    """Every loaded document; files that failed are listed in ``errors``, the rest still load."""

    documents: list[Document] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


# ---------------------------------------------------------------- text helpers


def squash(s: str) -> str:
    """Collapse runs of whitespace (NBSP included) to one space and strip."""
    return re.sub(r"\s+", " ", s.replace("\u00a0", " ")).strip()


def norm_key(s: str) -> str:
    """Accent-, case-, quote- and whitespace-insensitive form used for duplicate detection."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.translate(str.maketrans("‘’“”«»–—", '\'\'""""--'))
    return squash(s).casefold()


def slugify(name: str) -> str:
    """A file name as a stable document id."""
    stem = Path(name).stem
    slug = re.sub(r"[^A-Za-z0-9]+", "-", norm_key(stem)).strip("-")
    return slug or hashlib.sha1(name.encode()).hexdigest()[:8]


def parse_long_date(s: str) -> str | None:
    """'November 06, 2024' or 'Nov. 8, 2024' -> ISO date."""
    m = LOOSE_DATE_RE.search(s)
    if not m:
        return None
    mon = m["month"].lower()
    month = MONTHS.get(mon) or MONTH_ABBR.get(mon[:4].rstrip(".")) or MONTH_ABBR.get(mon[:3])
    if not month:
        return None
    try:
        return date(int(m["year"]), month, int(m["day"])).isoformat()
    except ValueError:
        return None


def citation_date(a: str, b: str, y: str) -> str | None:
    """The file writes US MM.DD.YY; a date that cannot be that (25.11.24) is read day first.
    ISO, or None when it is no real date either way."""
    return _iso_date(y, a, b) or _iso_date(y, b, a)


def _iso_date(y: str, month: str, day: str) -> str | None:
    try:
        return date(int(y) + (2000 if len(y) == 2 else 0), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _day_first(raw: str) -> bool:
    """Whether a citation's numeric date only makes sense day first (13.03.25)."""
    m = CITE_DATE_RE.search(raw)
    if m is None or m["long"]:
        return False
    return (
        _iso_date(m["y"], m["a"], m["b"]) is None and _iso_date(m["y"], m["b"], m["a"]) is not None
    )


def _cite_date(m: re.Match[str]) -> str | None:
    if m["long"]:
        return parse_long_date(m["long"])
    return citation_date(m["a"], m["b"], m["y"])


def parse_citation(content: str) -> list[Source] | None:
    """Sources in a parenthesised citation, or None if the parentheses hold something else.

    An outlet may carry its link in angle brackets after its name:
    ``(Interfax <https://www.interfax.ru/…>, 11.06.24)`` (``LINK_RE``); the link is kept as
    the source's ``url`` and is no part of its outlet or raw text."""
    # Dates are looked for outside the links (a URL may hold "11.06.24").
    bare = LINK_RE.sub(lambda m: " " * len(m[0]), content)
    dates = list(CITE_DATE_RE.finditer(bare))
    if not dates:
        return None
    sources: list[Source] = []
    pos = 0
    for m in dates:
        chunk = content[pos : m.start()]
        links = [u[1] for u in LINK_RE.finditer(chunk)]
        outlet = LINK_RE.sub(" ", chunk).strip().strip(",;.").strip()
        if not outlet or len(outlet) > 80 or not re.search(r"[^\W\d_]", outlet):
            return None
        if re.search(r"[.!?]\s+[A-Z]", outlet) or len(outlet.split()) > 8:
            return None  # reads like a sentence, not an outlet name
        raw = squash(LINK_RE.sub(" ", content[pos : m.end()]).strip().lstrip(",;.").strip())
        if links:  # "Interfax <…>, 11.06.24" -> "Interfax, 11.06.24"
            raw = re.sub(r"\s+([,;.])", r"\1", raw)
        url = links[0] if len(links) == 1 else None
        sources.append(Source(outlet=squash(outlet), date=_cite_date(m), raw=raw, url=url))
        pos = m.end()
    if LINK_RE.sub(" ", content[pos:]).strip().strip(".,;").strip():
        return None
    return sources


def link_token(url: str) -> str:
    """How the plain-text layout writes an outlet's link: `` <url>`` after its name, with the
    characters the layout reads otherwise (parentheses, angle brackets, spaces) escaped."""
    safe = url.strip()
    for ch, code in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        safe = safe.replace(ch, code)
    return f" <{safe}>"


# ---------------------------------------------------------------- attribution


@dataclass(frozen=True)
class Attribution:
    speaker: str | None
    role: str | None
    kind: str


def _looks_like_name(chunk: str) -> bool:
    words = chunk.split()
    if not 1 <= len(words) <= 5 or len(chunk) > 60:
        return False
    particles = {"de", "da", "van", "von", "der", "al", "bin", "ibn", "la", "le", "du", "del", "of"}
    caps = 0
    for w in words:
        if w.lower() in particles:
            continue
        if not (w[0].isupper() and re.fullmatch(r"[^\W\d_][\w.'’\-]*", w)):
            return False
        caps += 1
    return caps >= 1


def _role_head(role: str) -> str:
    """The head noun of a role: "a Ukrainian news outlet" -> "outlet", "an MP in X's party" -> "mp"."""
    core = re.split(r",|\b(?:of|in|at|for|to|with|from|who|which|that|on)\b", role, maxsplit=1)[0]
    words = re.findall(r"[\w’'-]+", core.lower())
    return words[-1] if words else ""


def _is_org(name: str, role: str | None = None) -> bool:
    words = set(re.findall(r"[a-z]+", name.lower()))
    if words & set(ORG_WORDS):
        return True
    return bool(role) and _role_head(role or "") in ORG_HEADS


def _is_market(text: str) -> bool:
    words = set(re.findall(r"[a-z]+", text[:300].lower()))
    return len(words & set(MARKET_WORDS)) >= 1


def attribute(text: str) -> Attribution:
    """Who speaks in a statement, read from its lead-in ("Name, role, said: ...")."""
    t = squash(text)
    lead = re.split(r"[:“\"«]", t, maxsplit=1)[0]
    # "Name, role, said ..." / "Name, role said ..."
    first, sep, rest = lead.partition(", ")
    if sep and _looks_like_name(first):
        verb = SPEECH_RE.search(rest)
        if verb:
            role = rest[: verb.start()].strip(" ,")
        else:
            m = re.search(r",\s+(?=[a-z])", rest)
            role = rest[: m.start()].strip(" ,") if m else rest.strip(" ,")
        role = role or None
        name = first.strip()
        if name.startswith("The "):
            name = name[4:]
        kind = "organisation" if _is_org(name, role) else "person"
        return Attribution(name, role, kind)
    # "A senior official said ..." -> unnamed source described by the role
    m = UNNAMED_RE.match(lead)
    if m:
        desc = re.sub(r",.*$", "", squash(m["desc"]))
        return Attribution(None, desc, "unnamed")
    # "The Russian Foreign Ministry said ..." / "Kremlin said ..."
    verb = SPEECH_RE.search(lead)
    if verb and verb.start() > 0:
        subject = lead[: verb.start()].strip(" ,")
        subject_core = re.sub(r"^(?:The|the)\s+", "", subject)
        if _looks_like_name(subject_core) and _is_org(subject_core):
            return Attribution(subject_core, None, "organisation")
        if _looks_like_name(subject_core) and len(subject_core.split()) >= 2:
            return Attribution(subject_core, None, "person")
        # "... former U.S. ambassador to Russia John Sullivan said ..." (reported speech)
        rm = re.search(
            r"(?P<role>\b[a-z][\w.\- ]*?\b[A-Za-z][\w.\- ]*?)\s+(?P<name>(?:[A-Z][\w'’\-]+\s){1,2}[A-Z][\w'’\-]+)$",
            subject,
        )
        if rm and not _is_org(rm["name"]):
            role, name = squash(rm["role"]), rm["name"].split()
            # "ambassador to Russia John Sullivan": a role ending in a preposition owns the next word
            while len(name) > 2 and role.rsplit(" ", 1)[-1] in PREPOSITIONS:
                role, name = f"{role} {name[0]}", name[1:]
            return Attribution(" ".join(name), role if len(role) < 80 else None, "person")
    if _is_market(t):
        return Attribution(None, None, "market")
    return Attribution(None, None, "event")


def header_only(text: str) -> Attribution | None:
    """A bullet that only names its speaker ("Dmitry Peskov, Putin's press secretary:")."""
    t = squash(text)
    if not t.endswith(":") or len(t) > 300:
        return None
    att = attribute(t[:-1] + " said:") if SPEECH_RE.search(t) is None else attribute(t)
    if att.speaker is None and att.kind != "unnamed":
        return None
    return att


# ---------------------------------------------------------------- the document walk


@dataclass
class _Block:
    """A bullet (with its continuation lines) or a plain paragraph."""

    line: int
    indent: int
    bullet: bool
    text: str


def _decode(path: str, data: bytes) -> str:
    if not data.strip():
        raise ParseError(path, "empty file: a compilation needs a title, a date and sections")
    if b"\x00" in data[:4096] or sum(b < 9 or 13 < b < 32 for b in data[:4096]) > 8:
        raise ParseError(path, "binary data, not a plain-text compilation")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            path,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            line,
        ) from None


def _blocks(
    lines: list[str], start: int, is_country: Callable[[str], bool] = lambda _: False
) -> list[_Block]:
    blocks: list[_Block] = []
    cur: _Block | None = None
    for i in range(start, len(lines)):
        raw = lines[i].rstrip()
        if not raw.strip():
            cur = None
            continue
        m = BULLET_RE.match(raw)
        if m:
            indent = len(m["indent"].expandtabs(4).replace("\u00a0", " "))
            cur = _Block(i + 1, indent, True, m["text"].strip())
            blocks.append(cur)
        elif cur is not None and _heading_line(raw, cur, is_country):
            blocks.append(_Block(i + 1, 0, False, raw.strip()))
            cur = None  # a heading is one line: what follows starts a block of its own
        elif cur is not None:
            cur.text += " " + raw.strip()  # a wrapped line continues its block
        else:
            indent = len(raw) - len(raw.lstrip())
            cur = _Block(i + 1, indent, False, raw.strip())
            blocks.append(cur)
    return blocks


def _names_country(t: str, is_country: Callable[[str], bool]) -> bool:
    """A heading line that is a country's name, "Russia (officials)" included."""
    return is_country(t.split("(")[0].strip())


def _heading_line(raw: str, cur: _Block, is_country: Callable[[str], bool]) -> bool:
    """A country's name on a line of its own right after a finished item or paragraph: a
    heading, though no blank line sets it apart (text pasted without them)."""
    t = raw.strip().removesuffix(":").rstrip()
    return (
        raw[:1] not in " \t"
        and t[-1:] not in ("", ".", ";", ",", "!", "?", '"', "”", "’")
        and cur.text.rstrip().endswith((")", ".", "”", '"'))
        and len(t.split()) <= 6
        and _names_country(t, is_country)
    )


def _is_heading(block: _Block, nxt: _Block | None, is_country: Callable[[str], bool]) -> bool:
    """A section heading: a short capitalised line of its own, without closing punctuation.
    "Russia:" or "Russia (officials):" counts too when it is a country's name (another layout
    may write headings so; "Key reactions:" over a list stays text)."""
    t = block.text
    if block.bullet or block.indent > 0 or nxt is None:
        return False
    if t.endswith(":"):
        t = t[:-1].rstrip()
        if not (t and _names_country(t, is_country)):
            return False
    if not t or len(t) > 60 or len(t.split()) > 6 or t[-1] in '.:;,!?"”)’':
        return False
    return t[0].isalpha() and t[0].isupper()


def _heading_text(block: _Block, canonical: Callable[[str], str | None]) -> str:
    """A heading's country or group name, without a closing colon; one in capitals that is
    a country's name is written as the country table writes it (ARMENIA -> Armenia), so it
    meets the other compilations' sections."""
    t = block.text.removesuffix(":").rstrip()
    if t.isupper() and (name := canonical(t)) is not None and name.casefold() == t.casefold():
        return name
    return t


def _cited(text: str) -> bool:
    """A paragraph that cites a dated source (not a "published/updated" footer line)."""
    if PUBLISHED_RE.search(text) or UPDATED_RE.search(text):
        return False
    return any(src.date for _, srcs in split_statements(text) for src in srcs)


def split_statements(text: str) -> list[tuple[str, list[Source]]]:
    """Cut a bullet's text at each citation: text after a citation is a new statement."""
    out: list[tuple[str, list[Source]]] = []
    pos = 0
    for m in PAREN_RE.finditer(text):
        sources = parse_citation(m[1])
        if sources is None:
            continue
        body = text[pos : m.start()].strip()
        if body:
            out.append((body, sources))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + sources)
        pos = m.end()
    tail = text[pos:].strip().strip()
    if tail and re.search(r"\w", tail):
        out.append((tail, []))
    return out


def _statement_id(doc_id: str, country: str, text: str, taken: set[str]) -> str:
    base = hashlib.sha1(f"{doc_id}\n{country}\n{norm_key(text)}".encode()).hexdigest()[:10]
    sid, n = base, 1
    while sid in taken:
        n += 1
        sid = f"{base}-{n}"
    taken.add(sid)
    return sid


def parse_text(text: str, path: str = "<text>", doc_id: str | None = None) -> Parsed:
    """Parse one compilation's text; ``doc_id`` defaults to the file name's slug."""
    try:
        from index.gazetteer import country_of_text, lookup

        def country_name(name: str) -> str | None:
            c = lookup(name)
            return c.name if c is not None else None

    except ImportError:  # pragma: no cover - during bootstrap only

        def country_of_text(s: str) -> set[str]:
            return set()

        def country_name(name: str) -> str | None:
            return None

    def is_country(name: str) -> bool:
        return country_name(name) is not None

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    doc_id = doc_id or slugify(Path(path).name)

    # Header: everything before the publication date line.
    date_idx = next((i for i, ln in enumerate(lines) if FULL_DATE_RE.match(ln)), None)
    if date_idx is None:
        raise ParseError(
            path,
            "not a compilation: no publication date line such as 'November 06, 2024' "
            "under the title",
        )
    header = [squash(ln) for ln in lines[:date_idx] if ln.strip()]
    if not header:
        raise ParseError(path, "not a compilation: no title before the date line", date_idx + 1)
    title = header[-1]
    blog = header[0] if len(header) > 1 else None
    tagline = header[1] if len(header) > 2 else None
    header_notes = tuple(header[2:-1])
    published = parse_long_date(lines[date_idx])

    blocks = _blocks(lines, date_idx + 1, is_country)
    heads = [
        i
        for i, b in enumerate(blocks)
        if _is_heading(b, blocks[i + 1] if i + 1 < len(blocks) else None, is_country)
    ]
    if not heads or not any(b.bullet for b in blocks):
        raise ParseError(
            path,
            "no sections found: expected country headings followed by '•' bullet items",
            date_idx + 2,
        )
    intro = tuple(b.text for b in blocks[: heads[0]] if not b.bullet)

    statements: list[Statement] = []
    warnings: list[Warning_] = []
    taken: set[str] = set()
    footer: list[str] = []
    seen: dict[str, Statement] = {}  # norm text -> kept statement, for duplicate detection
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # (heading, citations) -> texts

    def add(
        country: str,
        body: str,
        sources: list[Source],
        line: int,
        att: Attribution,
        parent: str | None,
    ) -> Statement | None:
        body = squash(body)
        key = norm_key(body)
        group = groups.setdefault((country, tuple(s.raw for s in sources)), [])
        dup = _find_duplicate(key, group, seen)
        if dup is not None:
            warnings.append(
                Warning_(
                    path,
                    line,
                    "duplicate",
                    f"repeats the statement on line {dup.line} ({_short(dup.text)}); kept once",
                    dup.id,
                )
            )
            return dup
        st = Statement(
            id=_statement_id(doc_id, country, body, taken),
            document=doc_id,
            country=country,
            speaker=att.speaker,
            role=att.role,
            kind=att.kind,
            text=body,
            sources=tuple(sources),
            parent=parent,
            line=line,
            position=len(statements),
        )
        statements.append(st)
        seen[key] = st
        group.append(key)
        return st

    for h_pos, h in enumerate(heads):
        country = _heading_text(blocks[h], country_name)
        end = heads[h_pos + 1] if h_pos + 1 < len(heads) else len(blocks)
        section = blocks[h + 1 : end]
        last = h_pos == len(heads) - 1
        has_bullets = any(b.bullet for b in section)
        stack: list[tuple[int, Statement | None, Attribution | None]] = []  # (indent, stmt, att)
        seen_paragraph = False
        for j, b in enumerate(section):
            if not b.bullet:
                # After the last section's items come the credit and dates: paragraphs there
                # are footer, unless one carries a dated citation (a statement set as a
                # paragraph, which another compilation's layout may well have).
                if last and (has_bullets or seen_paragraph) and not _cited(b.text):
                    footer.append(b.text)
                    continue
                seen_paragraph = True
                att = (
                    Attribution(None, None, "note")
                    if NO_REMARKS_RE.search(b.text)
                    else attribute(b.text)
                )
                for body, srcs in split_statements(b.text):
                    add(country, body, srcs, b.line, att if not srcs else attribute(body), None)
                continue
            while stack and stack[-1][0] >= b.indent:
                stack.pop()
            parent = stack[-1] if stack else None
            nxt = section[j + 1] if j + 1 < len(section) else None
            head = header_only(b.text) if nxt and nxt.bullet and nxt.indent > b.indent else None
            if head is not None:
                stack.append((b.indent, None, head))
                continue
            parent_att = parent[2] if parent else None
            parent_stmt = parent[1] if parent else None
            first: Statement | None = None
            for n, (body, srcs) in enumerate(split_statements(b.text)):
                if (
                    n == 0
                    and parent_att is not None
                    and (parent_att.speaker or parent_att.kind == "unnamed")
                ):
                    att = parent_att  # nested items speak with their parent's voice
                else:
                    att = attribute(body)
                    if n > 0 and att.speaker is None and att.kind in ("event", "market"):
                        att = Attribution(None, None, "note")
                st = add(
                    country,
                    body,
                    srcs,
                    b.line,
                    att,
                    parent_stmt.id if parent_stmt and n == 0 else None,
                )
                if n == 0:
                    first = st
            stack.append(
                (
                    b.indent,
                    first,
                    parent_att
                    if parent_att and parent_att.speaker
                    else (Attribution(first.speaker, first.role, first.kind) if first else None),
                )
            )

    # Footer: credit line and publication/update dates.
    updated = None
    author = None
    notes = list(header_notes)
    for para in footer:
        um = UPDATED_RE.search(para)
        if PUBLISHED_RE.search(para) or um:
            if um:
                updated = parse_long_date(um["date"])
            if published is None:
                published = parse_long_date(para)
            notes.append(para)
        elif author is None and not para.lower().startswith("opinions"):
            author = para
        else:
            notes.append(para)

    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    document = Document(
        id=doc_id,
        path=str(path),
        title=title,
        blog=blog,
        tagline=tagline,
        published=published,
        updated=updated,
        author=author,
        intro=intro,
        notes=tuple(notes),
        sha256=sha,
    )
    warnings.extend(_check(document, statements, path, country_of_text))
    warnings.sort(key=lambda w: (w.line, w.code))
    return Parsed(document, statements, warnings)


def _short(s: str, n: int = 50) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _find_duplicate(key: str, group: list[str], seen: dict[str, Statement]) -> Statement | None:
    """The kept statement this one repeats: the same text, or nearly the same text under the
    same heading with the same citations (``group``), as with "Trump's" for "Donald Trump's"."""
    if key in seen:
        return seen[key]
    if len(key) < 40 or not group:
        return None
    from rapidfuzz import fuzz, process

    digits = re.findall(r"\d+", key)
    for cand, _score, _ in process.extract(
        key, group, scorer=fuzz.ratio, processor=None, score_cutoff=93, limit=5
    ):
        # "rose by 3.6%" and "rose by 2.6%" are different news, however alike the words.
        if re.findall(r"\d+", cand) == digits:
            return seen[cand]
    return None


def _check(
    doc: Document,
    statements: list[Statement],
    path: str,
    country_of_text: Callable[[str], set[str]],
) -> list[Warning_]:
    """Anomalies: citation dates outside the document's window, roles naming another country, no source."""
    out: list[Warning_] = []
    lo = hi = None
    if doc.published:
        pub = datetime.fromisoformat(doc.published).date()
        last = datetime.fromisoformat(doc.updated).date() if doc.updated else pub
        try:
            lo, hi = pub - WINDOW_BEFORE, last + WINDOW_AFTER
        except OverflowError:  # a date at the calendar's edge: no window to check against
            lo = hi = None
    for st in statements:
        for s in st.sources:
            if s.date is None:
                out.append(
                    Warning_(
                        path,
                        st.line,
                        "bad-date",
                        f"citation '{s.raw}' has no valid MM.DD.YY date",
                        st.id,
                    )
                )
            elif _day_first(s.raw):
                out.append(
                    Warning_(
                        path,
                        st.line,
                        "day-first",
                        f"citation '{s.raw}' is not MM.DD.YY; read day first, as {s.date}",
                        st.id,
                    )
                )
            elif lo and hi and not lo <= date.fromisoformat(s.date) <= hi:
                out.append(
                    Warning_(
                        path,
                        st.line,
                        "date-out-of-window",
                        f"citation '{s.raw}' is dated {s.date}, outside the document's window "
                        f"{lo.isoformat()}..{hi.isoformat()} (typo?)",
                        st.id,
                    )
                )
        if st.role:
            named = country_of_text(st.role)
            home = country_of_text(st.country) or {st.country}
            if named and not named & home:
                who = st.speaker or "speaker"
                out.append(
                    Warning_(
                        path,
                        st.line,
                        "role-country",
                        f"{who}'s role '{st.role}' names {', '.join(sorted(named))} "
                        f"but the item is under {st.country}",
                        st.id,
                    )
                )
        if not st.sources and st.kind != "note":
            out.append(
                Warning_(
                    path,
                    st.line,
                    "no-source",
                    f"statement without a source: {_short(st.text)}",
                    st.id,
                )
            )
    return out


def parse_file(path: Path, doc_id: str | None = None) -> Parsed:
    """Read and parse one compilation file; ParseError on anything unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return parse_text(_decode(str(path), data), str(path), doc_id)


def source_files(sources_dir: Path) -> list[Path]:
    """Compilation files in a directory, sorted (``*.txt``, hidden files skipped)."""
    if not sources_dir.is_dir():
        return []
    return sorted(
        p
        for p in sources_dir.iterdir()
        if p.is_file() and p.suffix == ".txt" and not p.name.startswith(".")
    )


def load_corpus(paths: Iterable[Path]) -> Corpus:
    """Parse every file; a broken one is reported in ``errors`` and the rest still load."""
    corpus = Corpus()
    ids: set[str] = set()
    for p in paths:
        try:
            parsed = parse_file(p)
        except ParseError as exc:
            corpus.errors.append(exc)
            continue
        doc = parsed.document
        if doc.id in ids:  # two files whose names slug the same: keep both, distinctly
            n = 2
            while f"{doc.id}-{n}" in ids:
                n += 1
            parsed = parse_file(p, f"{doc.id}-{n}")
            doc = parsed.document
        ids.add(doc.id)
        corpus.documents.append(doc)
        corpus.statements.extend(parsed.statements)
        corpus.warnings.extend(parsed.warnings)
    return corpus
