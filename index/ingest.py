"""Add a compilation to the archive from its plain text or from the blog's web page.

``prepare`` reads one input (a ``.txt`` in the compilation layout or a saved article page),
turns a page into that layout, parses it and says what it found or why it refuses it;
``publish`` writes the text atomically into the sources folder. The plain text stays the
source of truth: a page is converted once, and the ``.txt`` is what the index reads.

The page is read with selectolax (Lexbor, an HTML5 parser: the tree a browser builds, so
unclosed ``<li>`` and ``<p>`` nest as the editor saw them). Only the article is kept:
title (``h1``), date, intro, headings, list items (nested lists one level deeper), credit
and dates at the end; menus, headers, footers, sidebars, share buttons, related posts,
comments, forms, scripts and styles are page chrome and are dropped.
"""

from __future__ import annotations

import codecs
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import Message
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from index.atomic import FileAppeared, write_atomic
from index.model import Document, Statement
from index.parse import (
    CITE_DATE_RE,
    FULL_DATE_RE,
    PAREN_RE,
    UPDATED_RE,
    Parsed,
    ParseError,
    Warning_,
    link_token,
    parse_citation,
    parse_long_date,
    parse_text,
    source_files,
)
from index.textnorm import fold

MAX_BYTES = 10 * 1024 * 1024  # a compilation page is ~50-300 KB; anything past this is not one
TIMEOUT_S = 30.0
USER_AGENT = "reactions-bot-ingest/0.1 (python-urllib)"

# (leading bytes, what they are): files that are neither text nor HTML, refused by name.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (a Word, OpenDocument or EPUB file?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"{\\rtf", "an RTF document"),
    (b"%!PS", "a PostScript document"),
    (b"\x7fELF", "a program"),
)
# What the WHATWG MIME sniffing algorithm takes for the start of an HTML document.
HTML_STARTS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<br",
    b"<p",
    b"<!--",
    b"<meta",
    b"<article",
    b"<main",
    b"<section",
    b"<header",
)
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx")

# ---------------------------------------------------------------- page chrome

SKIP_TAGS = frozenset(
    {
        "head", "script", "style", "noscript", "template", "svg", "math", "canvas",
        "iframe", "object", "embed", "video", "audio", "img", "picture", "map",
        "form", "button", "input", "select", "textarea", "label", "dialog",
        "nav", "aside", "menu",
    }
)  # fmt: skip
SKIP_ROLES = frozenset(
    {
        "navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog",
        "search", "menu", "menubar", "toolbar", "form",
    }
)  # fmt: skip
# Parts of class and id names that mark chrome inside or around an article (WordPress,
# Jetpack, common themes and plugins); a match on an element holding the title or most of
# the article's text is ignored (a wrapper like "post has-share-bar" is not chrome).
CHROME_HINTS = (
    "share", "sharing", "social", "related", "comment", "respond", "cookie", "consent",
    "gdpr", "newsletter", "subscribe", "signup", "sign-up", "advert", "sponsor", "promo",
    "widget", "sidebar", "breadcrumb", "navigation", "nav-links", "menu", "skip-link",
    "screen-reader", "sr-only", "visually-hidden", "cat-links", "tags-links", "tag-links",
    "post-tags", "byline", "author-box", "author-bio", "popup", "modal", "toolbar",
    "print-only", "read-more", "readmore",
    # Drupal: the submitted line, author and taxonomy fields, node links, the comment section
    "node__submitted", "node__meta", "field--name-uid", "field--name-field-author",
    "field--name-field-tags", "field--name-field-category", "field--name-field-topics",
    "taxonomy", "node__links", "links--inline", "field--name-comment", "comment-section",
    "about-author", "author-info", "entry-footer", "post-footer", "credit", "photo-credit",
    "mailchimp", "addtoany", "recommended",
)  # fmt: skip
# What a chrome element is, for the editor's report ("left out of the page: …"): the first
# kind whose class or id hint (or tag, or role) matches.
CHROME_KINDS = (
    ("navigation", ("nav", "menu", "breadcrumb", "navigation", "skip-link", "pager")),
    ("author bio", ("author-bio", "author-box", "about-author", "author-info", "bio")),
    ("byline", ("byline", "author", "submitted", "posted-on", "entry-meta", "node__meta")),
    ("caption or photo credit", ("caption", "credit", "figcaption")),
    ("tags and categories", ("tag", "categor", "taxonomy", "terms", "cat-links", "topics")),
    ("related posts", ("related", "read-more", "readmore", "recommended")),
    ("comments", ("comment", "respond", "disqus", "node__links")),
    ("share buttons", ("share", "sharing", "social", "addtoany", "sd-")),
    ("newsletter box", ("newsletter", "subscribe", "signup", "sign-up", "mailchimp")),
    ("footer", ("footer", "contentinfo", "copyright")),
)
SECTIONING = frozenset({"article", "main", "section", "aside", "nav"})
# Lines of page chrome that themes write as plain paragraphs: bylines, "Originally published
# on …" lines, tags, photo credits (judged only on short paragraphs without a citation).
BYLINE_RE = re.compile(r"^(?:by|posted by|written by|submitted by)\s+\S", re.I)
TAGS_RE = re.compile(
    r"^(?:tags?|tagged(?: with)?|categor(?:y|ies)|categorized as|filed under|topics?)\s*:", re.I
)
CREDIT_RE = re.compile(
    r"^(?:\(?\s*(?:photo|image|picture|credit|photograph)s?\b[^()]*\)?"
    r"|\([A-Z][\w .&-]{0,40} Photo/[^()]*\))$",
    re.I,
)
CHROME_LINE_MAX = 200  # a longer paragraph is the article's text
BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "body", "center", "dd", "details", "div", "dl",
        "dt", "fieldset", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "main", "p", "pre", "section", "summary", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "caption",
    }
)  # fmt: skip
CONTENT_TAGS = frozenset({"p", "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "blockquote"})
LIST_TAGS = frozenset({"ul", "ol"})

# Spaces a browser shows as a space; characters it shows as nothing.
SPACES = str.maketrans(
    {
        c: " "
        for c in "\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
    }
    | {c: None for c in "\u200b\u200c\u2060\ufeff\u00ad"}
)
WS_RE = re.compile(r"[ \t\n\r\f\v]+")  # HTML's whitespace, collapsed as a browser does


class IngestError(Exception):
    """An input refused: the message says why, for the editor."""


@dataclass(frozen=True)
class Page:
    """A page turned into the compilation layout, with what the conversion had to decide."""

    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """One input read, converted if it was a page, parsed: what the editor is shown."""

    origin: str  # the file name or URL it came from
    format: str  # "html" or "text"
    text: str  # the compilation in the plain-text layout, as it will be written
    filename: str  # YYYY-MM-DD-slug.txt
    parsed: Parsed
    notes: tuple[str, ...] = ()  # what the conversion did that an editor should know

    @property
    def document(self) -> Document:
        return self.parsed.document

    @property
    def statements(self) -> list[Statement]:
        return self.parsed.statements

    @property
    def warnings(self) -> list[Warning_]:
        """The anomalies ``python -m index check`` reports for this file."""
        return self.parsed.warnings

    @property
    def counts(self) -> dict[str, int]:
        """Statements per country, in document order."""
        return dict(Counter(s.country for s in self.statements))

    @property
    def links(self) -> tuple[int, int]:
        """(sources that carry a link to the outlet's page, sources), over all statements."""
        sources = [src for st in self.statements for src in st.sources]
        return sum(1 for src in sources if src.url), len(sources)


@dataclass(frozen=True)
class Published:
    """Where a compilation went: ``added``, ``replaced`` or ``unchanged`` (already there)."""

    path: Path
    action: str


# ---------------------------------------------------------------- reading inputs


@dataclass(frozen=True)
class Fetched:
    data: bytes
    name: str
    content_type: str | None = None


def read_input(source: str, *, timeout: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> Fetched:
    """The bytes of a local file or of an http(s) URL; IngestError when they cannot be had."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return fetch(source, timeout=timeout, max_bytes=max_bytes)
    if "://" in source:
        raise IngestError(f"only http and https URLs can be fetched, not {scheme}:")
    path = Path(source).expanduser()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IngestError("a folder, not a file")
        if size > max_bytes:
            raise IngestError(f"{_mb(size)}: too large for a compilation (limit {_mb(max_bytes)})")
        return Fetched(path.read_bytes(), path.name)
    except FileNotFoundError:
        raise IngestError("no such file") from None
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}") from None


def fetch(url: str, *, timeout: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET a page with a timeout and a size cap (standard library only)."""
    req = urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "identity",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            headers: Message = resp.headers
            length = headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise IngestError(
                    f"the server announces {_mb(int(length))}: too large for a compilation "
                    f"(limit {_mb(max_bytes)})"
                )
            data = resp.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise IngestError(f"more than {_mb(max_bytes)}: too large for a compilation")
            if length and length.isdigit() and len(data) < int(length):
                raise IngestError(
                    f"truncated download: {len(data)} of {length} bytes arrived; try again"
                )
            data = _decompress(data, headers.get("Content-Encoding"), max_bytes)
            final = resp.geturl() or url
            return Fetched(data, _url_name(final), headers.get("Content-Type"))
    except IngestError:
        raise
    except urllib.error.HTTPError as exc:
        raise IngestError(f"the server answered HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        raise IngestError(
            f"truncated download: the connection closed after {len(exc.partial)} bytes; try again"
        ) from None
    except TimeoutError:
        raise IngestError(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise IngestError(f"no answer within {timeout:g} s") from None
        raise IngestError(f"cannot fetch: {reason}") from None
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise IngestError(f"cannot fetch: {exc}") from None


def _decompress(data: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """A body the server compressed although asked not to, inflated within the cap."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return data
    if enc not in ("gzip", "x-gzip", "deflate"):
        raise IngestError(f"the server sent the page {enc}-encoded, which cannot be read")
    d = zlib.decompressobj(wbits=47 if enc != "deflate" else 15)  # 47: gzip or zlib header
    try:
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise IngestError(f"the server's {enc} data is broken: {exc}") from None
    if len(out) > max_bytes:
        raise IngestError(f"more than {_mb(max_bytes)} once uncompressed: too large")
    return out


def _url_name(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return urllib.parse.unquote(segments[-1]) if segments else parts.netloc or url


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


# ---------------------------------------------------------------- what the bytes are


def sniff(data: bytes, name: str = "", content_type: str | None = None) -> str:
    """Whether the bytes are "html" or "text", from the content (the name and Content-Type only break ties);
    IngestError for an empty file, binary data, a PDF, an image, an archive."""
    if not data.strip():
        raise IngestError("empty file: nothing to add")
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise IngestError(f"{what}, not a plain-text compilation or a web page")
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        raise IngestError("a WebP image, not a plain-text compilation or a web page")
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = data[:4096]
        if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > 8:
            raise IngestError("binary data, not a plain-text compilation or a web page")
    head_text = _head_ascii(data)
    if any(_tag_start(head_text, s) for s in HTML_STARTS) or head_text.startswith(b"<?xml"):
        return "html"
    mime = (content_type or "").split(";")[0].strip().lower()
    if head_text.startswith(b"<") and (
        mime in ("text/html", "application/xhtml+xml") or name.lower().endswith(HTML_SUFFIXES)
    ):
        return "html"  # a fragment such as <article>…: the name or server says HTML
    return "text"


def _head_ascii(data: bytes) -> bytes:
    """The first bytes, BOM and leading whitespace dropped, lower-cased, as ASCII."""
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            data = (
                data[len(bom) : len(bom) + 1024].decode(enc, "replace").encode("ascii", "replace")
            )
            break
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    return data[:1024].lstrip(b" \t\n\r\x0c").lower()


def _tag_start(head: bytes, start: bytes) -> bool:
    """``head`` opens with ``start`` followed by a tag-terminating byte (space or '>')."""
    if not head.startswith(start):
        return False
    nxt = head[len(start) : len(start) + 1]
    return start == b"<!--" or nxt in (b" ", b">", b"\t", b"\n", b"\r", b"\x0c", b"/")


def decode_text(data: bytes) -> str:
    """A text file as UTF-8 (or UTF-16 with a BOM); IngestError names the bad line."""
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(enc)
            except UnicodeDecodeError:
                raise IngestError(f"broken {enc.upper()} text") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save the file as UTF-8"
        ) from None


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """A page's text by BOM, the server's charset, valid UTF-8, the page's own
    ``<meta charset>``, else windows-1252 (what browsers assume); with a note when guessed."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, "replace"), None
    declared = _charset_param(content_type)
    if declared and _codec(declared):
        return data.decode(_codec(declared) or "utf-8", "replace"), None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    meta = _meta_charset(data)
    if meta and _codec(meta) and _codec(meta) != "utf-8":
        return data.decode(_codec(meta) or "cp1252", "replace"), None
    note = "the page is not valid UTF-8" + (f" although it declares {meta}" if meta else "")
    return data.decode("cp1252", "replace"), f"{note}; read as windows-1252"


def _charset_param(content_type: str | None) -> str | None:
    if not content_type:
        return None
    msg = Message()
    msg["Content-Type"] = content_type
    value = msg.get_param("charset")
    return value.strip().strip('"') if isinstance(value, str) else None


def _meta_charset(data: bytes) -> str | None:
    """The charset a page declares in ``<meta charset>`` or ``http-equiv`` (first 8 KB)."""
    tree = LexborHTMLParser(data[:8192].decode("latin-1"))
    for meta in tree.css("meta"):
        attrs = meta.attributes
        if attrs.get("charset"):
            return (attrs.get("charset") or "").strip()
        if (attrs.get("http-equiv") or "").lower() == "content-type":
            cs = _charset_param(attrs.get("content"))
            if cs:
                return cs
    return None


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # WHATWG: pages labelled latin-1 or ascii are decoded as windows-1252.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


# ---------------------------------------------------------------- HTML -> layout


def html_to_text(markup: str) -> Page:
    """The article of a saved blog page in the compilation layout (IngestError if none)."""
    if _truncated(markup):
        raise IngestError(
            "the page ends before its closing </html> tag: it looks truncated (an interrupted "
            "download or save); save or fetch the whole page again"
        )
    tree = LexborHTMLParser(markup)
    body = tree.body
    if body is None:
        raise IngestError("no compilation in this page: it has no body")
    try:
        return _Article(tree, body).render()
    except RecursionError:
        raise IngestError("the page is nested too deeply to read") from None


def _truncated(markup: str) -> bool:
    """A full document (doctype or <html>) whose text stops before </html> or </body>.

    Checked on the tail of the text (comments after </html> allowed, as caching plugins add
    them): an HTML5 parser closes every open element at the end of input, so the tree of a
    page cut mid-list looks whole.
    """
    head = markup[:1024].lstrip("\ufeff \t\r\n\x0c").lower()
    if not head.startswith(("<!doctype", "<html", "<?xml")):
        return False  # a fragment has no end to check
    tail = markup.rstrip()
    while tail.endswith("-->") and "<!--" in tail:
        tail = tail[: tail.rfind("<!--")].rstrip()
    tail = tail[-16:].lower()
    return not (tail.endswith("</html>") or tail.endswith("</body>"))


def clean(s: str) -> str:
    """Entities are already decoded; non-breaking and odd spaces become spaces, invisible
    characters go, whitespace runs collapse; line breaks from <br> survive as newlines."""
    lines = [WS_RE.sub(" ", ln.translate(SPACES)).strip() for ln in s.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _one_line(s: str) -> str:
    return " ".join(clean(s).split())


@dataclass
class _Block:
    kind: str  # "para", "item", "caption", "title", "date"
    text: str
    depth: int = 0


@dataclass
class _Walk:
    """State while walking the article: the inline text gathered for the current block."""

    blocks: list[_Block] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    item_depth: int | None = None  # depth of the <li> being read, None outside lists
    item_has_text: bool = False


class _Article:
    """Finds the article in a page and walks it into blocks, skipping the chrome."""

    def __init__(self, tree: LexborHTMLParser, body: LexborNode) -> None:
        self.tree = tree
        self.body = body
        self.notes: list[str] = []
        self.title_path: set[int] = set()
        self.title = self._title()
        self.root = self._root(self.title)
        self.root_chars = len(_one_line(self.root.text(deep=True)))
        self.title_path = _ancestor_ids(self.title)
        self.date_text = ""
        self.skip: set[int] = set()  # meta lines of update dates: their date is used, not shown
        self.left: Counter[str] = Counter()  # chrome left out, by kind, for the editor
        self.published, self.updated, self.date_block = self._dates()

    # -- finding things

    def _title(self) -> LexborNode:
        # Structure only here (tags, roles, hidden, the site's header): class names are
        # judged against the article, which is not known yet.
        h1s = [h for h in self.body.css("h1") if _one_line(h.text(deep=True))]
        found = [h for h in h1s if not self._in_chrome(h, self.body, hints=False)]
        if not found:  # a theme that puts the post's title in a page-level <header>
            found = [h for h in h1s if not self._in_chrome(h, self.body, False, banner=False)]
        if not found:
            raise IngestError("no compilation in this page: it has no title (h1)")

        def rank(h: LexborNode) -> int:
            tags = {a.tag for a in _ancestors(h)}
            return 0 if "article" in tags else 1 if "main" in tags else 2

        return min(found, key=rank)

    def _root(self, title: LexborNode) -> LexborNode:
        """The nearest article or main around the title, else the body."""
        for a in _ancestors(title):
            attrs = a.attributes
            if a.tag in ("article", "main") or (attrs.get("role") or "").lower() == "main":
                return a
            if a.mem_id == self.body.mem_id:
                break
        return self.body

    def _in_chrome(
        self, node: LexborNode, stop: LexborNode, hints: bool = True, banner: bool = True
    ) -> bool:
        """Whether node or one of its ancestors below ``stop`` is chrome."""
        n: LexborNode | None = node
        while n is not None and n.mem_id not in (stop.mem_id, self.body.mem_id):
            if self._is_chrome(n, hints, banner):
                return True
            n = n.parent
        return False

    def _is_chrome(self, node: LexborNode, hints: bool = True, banner: bool = True) -> bool:
        """Page chrome by tag, role, hiding, position (the site's header and footer) and,
        with ``hints``, class or id names; never the title or an element holding it."""
        tag = node.tag or ""
        if tag in SKIP_TAGS:
            return True
        if node.mem_id in self.title_path:
            return False
        attrs = node.attributes
        if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
            return True
        style = (attrs.get("style") or "").replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
        if (attrs.get("role") or "").lower() in SKIP_ROLES:
            return True
        if (
            banner
            and tag in ("header", "footer")
            and not any(a.tag in SECTIONING for a in _ancestors(node))
        ):
            return True  # the site's banner or footer, not an article's own header
        if not hints:
            return False
        names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if not any(h in names for h in CHROME_HINTS):
            return False
        # A wrapper named like chrome that holds most of the article's text is not chrome.
        return len(_one_line(node.text(deep=True))) < 0.5 * self.root_chars

    def _dates(self) -> tuple[str | None, str | None, LexborNode | None]:
        """The publication date (and update) from <time> elements of the article's meta
        line; the element whose block is that meta line is rendered as the date line."""
        published = updated = None
        block: LexborNode | None = None
        for t in self.root.css("time"):
            if self._in_chrome(t, self.root):
                continue
            meta = self._meta_block(t)
            if meta is None:
                continue  # a date inside a sentence is text, not the page's date
            iso = _time_iso(t)
            if iso is None:
                continue
            names = " ".join((t.attributes.get(k) or "") for k in ("class", "itemprop")).lower()
            if "updated" in names or "modified" in names:
                updated = updated or iso
                self.skip.add(meta.mem_id)
            elif published is None:
                published, block = iso, meta
                text = _one_line(t.text(deep=True))
                self.date_text = text if FULL_DATE_RE.match(text) else ""
        return published, updated, block

    def _meta_block(self, t: LexborNode) -> LexborNode | None:
        """The largest block around a <time> that holds no content and not the title
        ("Posted on <time> by <author>"), or None when the time sits in running text."""
        best: LexborNode = t
        for a in _ancestors(t):
            if a.mem_id == self.root.mem_id or a.mem_id in self.title_path:
                break
            if a.tag in CONTENT_TAGS:
                if a.tag == "p" and len(_one_line(a.text(deep=True))) <= 120:
                    best = a  # <p class="date">Posted November 6, 2024</p>
                    break
                return None
            if any(a.css_first(c) for c in CONTENT_TAGS):
                break
            best = a
        return best if len(_one_line(best.text(deep=True))) <= 200 else None

    def _meta_date(self) -> str | None:
        for sel in (
            'meta[property="article:published_time"]',
            'meta[itemprop="datePublished"]',
            'meta[name="date"]',
        ):
            m = self.tree.css_first(sel)
            if m is not None:
                iso = _iso_prefix(m.attributes.get("content") or "")
                if iso:
                    self.notes.append("the date comes from the page's metadata")
                    return iso
        return None

    # -- walking

    def render(self) -> Page:
        w = _Walk()
        self._walk(self.root, w)
        self._flush(w)
        return self._layout(w.blocks)

    def _flush(self, w: _Walk) -> None:
        text = _links(clean("".join(w.buf)))
        w.buf = []
        if not text:
            return
        if w.item_depth is None:
            w.blocks.append(_Block("para", text))
        else:
            w.blocks.append(_Block("item", re.sub(r"\n+", "\n", text), w.item_depth))
            w.item_has_text = True

    def _walk(self, node: LexborNode, w: _Walk) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                w.buf.append(WS_RE.sub(" ", child.text_content or ""))
            elif tag.startswith("-") or tag.startswith("_"):
                continue  # comments, doctype
            elif child.mem_id == self.title.mem_id:
                self._flush(w)
                w.blocks.append(_Block("title", self._inline(child)))
            elif self.date_block is not None and child.mem_id == self.date_block.mem_id:
                self._flush(w)
                w.blocks.append(_Block("date", self.date_text))
            elif child.mem_id in self.skip:
                continue
            elif self._is_chrome(child):
                self._left_out(child)
                continue
            elif tag == "br":
                w.buf.append("\n")
            elif tag == "a" and (href := _http_url(child.attributes.get("href"))):
                # Marked, and resolved when the block is done (``_links``): a link inside a
                # citation is kept as its outlet's URL, any other link only as its text.
                w.buf.append(LINK_OPEN)
                self._walk(child, w)
                w.buf.append(LINK_MID + href + LINK_CLOSE)
            elif tag == "figcaption" or _is_caption(child):
                self._left_out(child, "caption or photo credit")  # a caption is no compilation's
            elif tag in LIST_TAGS:
                self._list(child, w)
            elif tag == "li":
                self._item(child, w, 0 if w.item_depth is None else w.item_depth + 1)
            elif tag in BLOCK_TAGS:
                if w.item_depth is not None:  # <li><p>…</p></li>: one item
                    w.buf.append(" ")
                    self._walk(child, w)
                    w.buf.append(" ")
                else:
                    self._flush(w)
                    self._walk(child, w)
                    self._flush(w)
            else:
                self._walk(child, w)  # inline: a, strong, em, span, sup, …

    def _left_out(self, node: LexborNode, kind: str | None = None) -> None:
        """Count a chrome element that had text (empty wrappers and scripts go unsaid)."""
        if (node.tag or "") in ("script", "style", "template", "noscript", "svg", "head"):
            return
        if _one_line(node.text(deep=True)):
            self.left[kind or _chrome_kind(node)] += 1

    def _inline(self, node: LexborNode) -> str:
        """A title's or caption's text on one line (a <br> is a space, chrome skipped)."""
        w = _Walk()
        self._walk(node, w)
        self._flush(w)
        return " ".join(" ".join(b.text.split()) for b in w.blocks)

    def _list(self, node: LexborNode, w: _Walk) -> None:
        self._flush(w)
        # Nested under the item being read; beside it when that item had no text of its own.
        depth = 0 if w.item_depth is None else w.item_depth + int(w.item_has_text)
        for child in node.iter(include_text=False):
            tag = child.tag or ""
            if tag.startswith(("-", "_")) or self._is_chrome(child):
                continue
            if tag == "li":
                self._item(child, w, depth)
            elif tag in LIST_TAGS:  # <ul><li>a</li><ul>…</ul></ul>: nested under a
                saved = (w.item_depth, w.item_has_text)
                w.item_depth, w.item_has_text = depth, True
                self._list(child, w)
                w.item_depth, w.item_has_text = saved
            else:
                self._item(child, w, depth)

    def _item(self, li: LexborNode, w: _Walk, depth: int) -> None:
        self._flush(w)
        saved = (w.item_depth, w.item_has_text)
        w.item_depth, w.item_has_text = depth, False
        self._walk(li, w)
        self._flush(w)
        w.item_depth, w.item_has_text = saved

    # -- the layout

    def _layout(self, blocks: list[_Block]) -> Page:
        t = next((i for i, b in enumerate(blocks) if b.kind == "title"), 0)
        before, after = blocks[:t], blocks[t + 1 :]
        published = self.published
        if not any(b.kind == "date" for b in blocks):
            # No <time>: a date written as its own line near the title is the date line.
            for b in before[-2:] + after[:3]:
                if b.kind == "para" and len(b.text) <= 40 and parse_long_date(b.text):
                    published = parse_long_date(b.text)
                    b.kind = "date"
                    b.text = b.text if FULL_DATE_RE.match(b.text) else ""
                    break
        published = published or self._meta_date()
        if published is None:
            raise IngestError(
                "no compilation in this page: no publication date (no <time> element or "
                "date line under the title)"
            )
        date_block = next((b for b in blocks if b.kind == "date"), None)
        date_line = (date_block.text if date_block else "") or _long_date(published)
        title = blocks[t].text
        header = [b.text.replace("\n", " ") for b in before if b.kind in ("para", "item")]
        header = [h for h in header if not FULL_DATE_RE.match(h) and not self._chrome_line(h)]
        body = [
            b
            for b in after
            if b.kind == "item" or (b.kind == "para" and not self._chrome_line(b.text))
        ]
        if not body:
            raise IngestError("no compilation in this page: nothing follows the title")

        def compose(blocks: list[_Block]) -> str:
            lines: list[str] = []

            def blank() -> None:
                if lines and lines[-1]:
                    lines.append("")

            for line in [*header, title, date_line]:
                blank()
                lines.append(line)
            prev = ""
            for b in blocks:
                if b.kind == "item":
                    if prev != "item":
                        blank()
                    pad = "  " * (b.depth + 1)
                    first, *rest = b.text.split("\n")
                    lines.append(f"{pad}• {first}")
                    lines += [f"{pad}  {r}" for r in rest]  # a <br> inside an item
                else:
                    blank()
                    lines += b.text.split("\n")
                prev = b.kind
            return "\n".join(lines) + "\n"

        body = self._without_closing_lines(body, compose)
        text = compose(body)
        if (
            self.updated
            and self.updated != published
            and not any(b.kind == "para" and UPDATED_RE.search(b.text) for b in body)
        ):
            text += f"\nUpdated on {_long_date(self.updated)}.\n"
            self.notes.append(f"the page's update date ({self.updated}) was added as a last line")
        if self.root.mem_id != self.body.mem_id:
            self.left["everything around the article (site header, menus, sidebar, footer)"] += 1
        if self.left:
            parts = [k if n == 1 else f"{k} ({n})" for k, n in self.left.items()]
            self.notes.append("left out of the page: " + "; ".join(parts))
        return Page(text, tuple(self.notes))

    def _chrome_line(self, text: str) -> bool:
        """A paragraph that is page chrome by its words: a byline, an "Originally published
        on …, updated on …" line (its update date is kept), tags, a photo credit."""
        line = " ".join(text.split())
        if len(line) > CHROME_LINE_MAX or _cited(line):
            return False
        if ORIGINALLY_RE.match(line):
            if (m := UPDATED_RE.search(line)) and (iso := parse_long_date(m["date"])):
                self.updated = max(self.updated or iso, iso)
            self.left["“Originally published …” line"] += 1
            return True
        for kind, pattern in (
            ("byline", BYLINE_RE),
            ("tags and categories", TAGS_RE),
            ("caption or photo credit", CREDIT_RE),
        ):
            if pattern.match(line):
                self.left[kind] += 1
                return True
        return False

    def _without_closing_lines(
        self, body: list[_Block], compose: Callable[[list[_Block]], str]
    ) -> list[_Block]:
        """Drop the paragraphs after the last section's items that quote nobody (an author's
        bio, an author box, a disclaimer, a theme's closing line), one at a time from the
        end, while what each takes away is only uncited text (never a cited statement or a
        "no remarks" note); a cited paragraph there is the article's and stays."""
        if not (body and body[-1].kind == "para" and not _cited(body[-1].text)):
            return body  # ends with items or a cited paragraph: nothing to try (no parse)
        try:
            keys = _statement_keys(compose(body))
        except ParseError:
            return body
        dropped = 0
        while body and body[-1].kind == "para" and dropped < CLOSING_LINES_MAX:
            if _cited(body[-1].text):
                break
            trial = body[:-1]
            try:
                left = _statement_keys(compose(trial))
            except ParseError:
                break
            gone = [k for k in keys if k not in left]
            if any(k not in keys for k in left) or any(k[7] or k[5] == "note" for k in gone):
                break
            body, keys, dropped = trial, left, dropped + 1
        if dropped:
            self.left["author bio or closing lines after the last section"] += dropped
        return body


# Private-use characters around a link while a block is read: OPEN text MID url CLOSE.
LINK_OPEN, LINK_MID, LINK_CLOSE = "\ue000", "\ue001", "\ue002"
MARKED_LINK_RE = re.compile("\ue000([^\ue000-\ue002]*)\ue001([^\ue000-\ue002]*)\ue002")
GROUP_RE = re.compile(r"\([^()]*\)")


def _http_url(href: str | None) -> str | None:
    """An absolute http(s) link, its parentheses and spaces escaped; None for anything else
    (relative links, mailto:, javascript:)."""
    url = (href or "").strip()
    if not re.match(r"https?://[^\s/<>]+", url, re.I) or len(url) > 2000:
        return None
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _links(text: str) -> str:
    """Resolve the marked links of a block: inside a citation an outlet keeps its link in
    the layout's form, ``(Interfax <https://…>, 11.06.24)``; elsewhere only the text stays."""

    def plain(m: re.Match[str]) -> str:
        return m[1]

    def group(g: re.Match[str]) -> str:
        inner = g[0]
        if LINK_OPEN not in inner or parse_citation(MARKED_LINK_RE.sub(plain, inner)[1:-1]) is None:
            return inner

        def kept(m: re.Match[str]) -> str:
            name, url = m[1], m[2]
            date = CITE_DATE_RE.search(name)
            if date is not None:  # <a>Interfax, 11.06.24</a>: the link goes after the name
                head = name[: date.start()].rstrip(" ,;")
                return head + link_token(url) + name[len(head) :] if head.strip() else name
            return name + link_token(url) if name.strip() else name

        return MARKED_LINK_RE.sub(kept, inner)

    if LINK_OPEN not in text:
        return text
    text = GROUP_RE.sub(group, text)
    text = MARKED_LINK_RE.sub(plain, text)
    text = re.sub("\ue001[^\ue002]*\ue002", "", text)  # nested or broken marks: text only
    return text.replace(LINK_OPEN, "")


CLOSING_LINES_MAX = 12  # paragraphs after the last section tried for removal
ORIGINALLY_RE = re.compile(
    r"^(?:this (?:post|article|piece) was )?(?:originally |first )?published\b|^(?:last )?updated\b",
    re.I,
)


def _cited(text: str) -> bool:
    """Whether a paragraph cites a source: ``(Interfax, 11.06.24)``."""
    return any(CITE_DATE_RE.search(g) for g in PAREN_RE.findall(text))


def _statement_keys(text: str) -> list[tuple[object, ...]]:
    """What the parser reads as statements in a layout (ParseError when it reads none):
    (id, country, speaker, role, text, kind, parent, sources) — position and line left out,
    as they shift when a line goes."""
    return [
        (s.id, s.country, s.speaker, s.role, s.text, s.kind, s.parent, s.sources)
        for s in parse_text(text, "page.txt").statements
    ]


def _chrome_kind(node: LexborNode) -> str:
    """What a chrome element is, for the editor: navigation, byline, comments, …"""
    attrs = node.attributes
    names = " ".join(
        [node.tag or "", attrs.get("class") or "", attrs.get("id") or "", attrs.get("role") or ""]
    ).lower()
    for kind, hints in CHROME_KINDS:
        if any(h in names for h in hints):
            return kind
    return "other page parts"


def _ancestors(node: LexborNode) -> list[LexborNode]:
    """Element ancestors, nearest first (the document node excluded)."""
    out = []
    n = node.parent
    while n is not None and n.is_element_node:
        out.append(n)
        n = n.parent
    return out


def _ancestor_ids(node: LexborNode) -> set[int]:
    return {a.mem_id for a in _ancestors(node)} | {node.mem_id}


def _is_caption(node: LexborNode) -> bool:
    names = (node.attributes.get("class") or "").lower()
    return "caption" in names and node.tag in ("p", "div", "span")


def _time_iso(t: LexborNode) -> str | None:
    text = _one_line(t.text(deep=True))
    return parse_long_date(text) or _iso_prefix(t.attributes.get("datetime") or "")


def _iso_prefix(s: str) -> str | None:
    try:
        return date.fromisoformat(s.strip()[:10]).isoformat()
    except ValueError:
        return None


def _long_date(iso: str) -> str:
    """The blog's own date line: ``November 06, 2024``."""
    d = date.fromisoformat(iso)
    return f"{d:%B} {d.day:02d}, {d.year}"


# ---------------------------------------------------------------- prepare and publish


def compilation_filename(published: str, title: str) -> str:
    """``YYYY-MM-DD-slug.txt``: the title before its colon, folded to ASCII, without
    possessives and articles ("Post-Soviet Reaction to Trump’s Win: …" ->
    ``post-soviet-reaction-to-trump-win``)."""
    main = title.split(":", 1)[0]
    words = re.findall(r"[a-z0-9]+", re.sub(r"['’]s\b", "", fold(main)))
    words = [w for w in words if w not in ("the", "a", "an")] or ["compilation"]
    slug = ""
    for w in words:
        if len(slug) + len(w) + 1 > 60 and slug:
            break
        slug = f"{slug}-{w}" if slug else w
    return f"{published}-{slug}.txt"


def prepare(data: bytes, name: str, content_type: str | None = None) -> Prepared:
    """Read one input (the text layout or a web page), parse it, and say what it holds.

    Raises IngestError, with the reason, for an empty, binary, PDF or image file, a page
    with no compilation in it, a truncated page, and a file with no statements.
    """
    kind = sniff(data, name, content_type)
    notes: tuple[str, ...] = ()
    if kind == "html":
        markup, note = decode_html(data, content_type)
        page = html_to_text(markup)
        text, notes = page.text, page.notes + ((note,) if note else ())
    else:
        text = decode_text(data)
    what = "no compilation in this page: " if kind == "html" else ""
    try:
        first = parse_text(text, name)
    except ParseError as exc:
        raise IngestError(what + _reason(exc, kind)) from None
    doc = first.document
    if not doc.published:
        raise IngestError(what + "the date line under the title is not a real date")
    filename = compilation_filename(doc.published, doc.title)
    parsed = parse_text(text, filename)  # statement ids come from the file name it will have
    if not parsed.statements:
        raise IngestError(what + "it parses to no statements")
    if not text.endswith("\n"):
        text += "\n"
    return Prepared(name, kind, text, filename, parsed, notes)


def _reason(exc: ParseError, kind: str) -> str:
    where = f"{exc.path}:{exc.line}" if exc.line else exc.path
    msg = str(exc)[len(where) + 2 :]
    return msg if kind == "html" or not exc.line else f"line {exc.line}: {msg}"


def summary(prepared: Prepared) -> str:
    """The report an editor reads before a compilation goes in (plain text)."""
    doc = prepared.document
    what = "web page" if prepared.format == "html" else "text"
    lines = [
        f"{prepared.origin} ({what}) -> {prepared.filename}",
        f"  title:     {doc.title}",
        f"  published: {doc.published}" + (f", updated {doc.updated}" if doc.updated else ""),
    ]
    if doc.author:
        lines.append(f"  credit:    {doc.author}")
    counts = prepared.counts
    lines.append(f"  {len(prepared.statements)} statements from {len(counts)} countries:")
    width = max(len(c) for c in counts)
    lines += [f"    {c.ljust(width)}  {n}" for c, n in counts.items()]
    linked, cited = prepared.links
    lines.append(f"  links:     {linked} of {cited} sources link to the outlet's page")
    for note in prepared.notes:
        lines.append(f"  note: {note}")
    if prepared.warnings:
        lines.append(f"  {len(prepared.warnings)} warning(s):")
        lines += [f"    {w}" for w in prepared.warnings]
    return "\n".join(lines) + "\n"


def _same_text(a: str, b: str) -> bool:
    """Equal once a BOM, Windows line ends and trailing whitespace are set aside."""

    def norm(s: str) -> str:
        return s.replace("\r\n", "\n").lstrip("\ufeff").rstrip()

    return norm(a) == norm(b)


def _derived_name(text: str) -> str | None:
    """The file name a compilation's own title and date give it (its identity: a subtitle
    edit after the colon keeps it), read as the parser reads the header."""
    lines = text.replace("\r\n", "\n").split("\n")
    idx = next((i for i, ln in enumerate(lines) if FULL_DATE_RE.match(ln)), None)
    if idx is None:
        return None
    head = [ln.strip() for ln in lines[:idx] if ln.strip()]
    published = parse_long_date(lines[idx])
    return (
        compilation_filename(published, " ".join(head[-1].split())) if head and published else None
    )


def plan(prepared: Prepared, sources_dir: Path, replace: bool = False) -> Published:
    """Where ``publish`` would write and what it would do; IngestError on a clash."""
    target = sources_dir / prepared.filename
    same_doc: Path | None = None
    for p in source_files(sources_dir):
        try:
            existing = p.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if _same_text(existing, prepared.text):
            return Published(p, "unchanged")
        if p.name != target.name and _derived_name(existing) == prepared.filename:
            same_doc = same_doc or p
    if target.exists():
        if not replace:
            raise IngestError(
                f"{target.name} is already in the archive with other content; "
                "add --replace to overwrite it"
            )
        return Published(target, "replaced")
    if same_doc is not None:
        if not replace:
            raise IngestError(
                f"the archive already has this compilation (same title and date) as "
                f"{same_doc.name}; add --replace to replace that file"
            )
        return Published(same_doc, "replaced")
    return Published(target, "added")


def publish(prepared: Prepared, sources_dir: Path, replace: bool = False) -> Published:
    """Write the compilation into the sources folder: temp file, fsync, rename.

    Never overwrites a different file unless ``replace``; the same content already there
    is ``unchanged``. The index notices the new source and rebuilds on its next open.
    """
    sources_dir.mkdir(parents=True, exist_ok=True)
    result = plan(prepared, sources_dir, replace)
    if result.action == "unchanged":
        return result
    _write_atomic(result.path, prepared.text.encode("utf-8"), overwrite=result.action == "replaced")
    return result


def _write_atomic(path: Path, data: bytes, overwrite: bool) -> None:
    try:
        write_atomic(path, data, overwrite=overwrite)
    except FileAppeared:
        raise IngestError(f"{path.name} appeared in the archive meanwhile") from None
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
