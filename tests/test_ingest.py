"""Adding compilations: a saved blog page or a .txt in, the same statements out, or a refusal."""

from __future__ import annotations

import dataclasses
import http.server
import importlib.util
import io
import os
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import ingest
from index.cli import main
from index.ingest import IngestError
from index.model import Statement
from index.parse import Parsed, parse_file, parse_text, squash

ROOT = Path(__file__).resolve().parent.parent
REAL_FILE = ROOT / "data" / "sources" / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
SECOND_FILE = ROOT / "tests" / "data" / "sources" / "2025-03-14-baltic-reaction-to-summit.txt"
ARCHIVE = ROOT / "data" / "eval" / "archive"
HTML_DIR = ROOT / "tests" / "data" / "html"
PAGE = HTML_DIR / "post-soviet-reaction-to-trump-win.html"
ESSAY = HTML_DIR / "essay-no-compilation.html"


def key(s: Statement) -> tuple[object, ...]:
    """What a statement says and where it sits; ``line`` is left out (layout may differ), and
    so are the sources' links (a page links its outlets, the text may not)."""
    sources = tuple((x.outlet, x.date, x.raw) for x in s.sources)
    return (s.id, s.country, s.speaker, s.role, s.kind, s.text, sources, s.parent, s.position)


def make_page_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_page", HTML_DIR / "make_page.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def html_doc(body: str, head: str = "") -> bytes:
    """A small complete page around an article body."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>"
        f"<nav><ul><li>Home</li><li>Blog</li></ul></nav>"
        f"<article>{body}</article>"
        f"<footer><p>© Site</p></footer></body></html>\n"
    ).encode()


ARTICLE = """<h1>Reaction to the Summit: Calm in Riga</h1>
<time datetime="2025-03-14">March 14, 2025</time>
<p>Leaders reacted.</p>
<h2>Latvia</h2>
<ul><li>Jānis Bērziņš, foreign minister of Latvia, said: “Fine.” (LSM, 03.14.25)</li></ul>
<p>Anna Ozola is a researcher.</p>"""


@pytest.fixture(scope="module")
def real() -> Parsed:
    return parse_file(REAL_FILE)


@pytest.fixture(scope="module")
def from_page() -> ingest.Prepared:
    return ingest.prepare(PAGE.read_bytes(), PAGE.name)


# ---------------------------------------------------------------- the page of the real compilation


def test_the_page_yields_exactly_the_statements_of_the_text(
    real: Parsed, from_page: ingest.Prepared
) -> None:
    assert from_page.format == "html"
    assert from_page.filename == REAL_FILE.name  # same name, so the same ids
    assert [key(s) for s in from_page.statements] == [key(s) for s in real.statements]
    assert len(from_page.statements) == 52


def test_the_page_keeps_the_document_metadata(real: Parsed, from_page: ingest.Prepared) -> None:
    a, b = real.document, from_page.document
    for f in ("id", "title", "blog", "tagline", "published", "updated"):
        assert getattr(b, f) == getattr(a, f), f
    assert [squash(p) for p in b.intro] == [squash(p) for p in a.intro]
    # Only the article: the caption, the author's bio, the "Originally published …" line and
    # the disclaimer with its photo credit are the page's; the update date stays, as a line.
    assert b.author is None and a.author is not None
    assert b.notes == ("Updated on November 08, 2024.",)


def test_the_page_raises_the_same_warnings_as_check(
    real: Parsed, from_page: ingest.Prepared
) -> None:
    def codes(p: Parsed | ingest.Prepared) -> list[tuple[str, str | None]]:
        return [(w.code, w.statement) for w in p.warnings]

    assert codes(from_page) == codes(real)
    assert {w.code for w in from_page.warnings} >= {"role-country", "date-out-of-window"}


def test_page_chrome_is_left_out(from_page: ingest.Prepared) -> None:
    text = from_page.text
    for chrome in (
        "We use cookies",
        "Accept",
        "Skip to content",
        "Analysis",  # the menu
        "Home",  # breadcrumbs
        "Posted on",
        "RM Staff",  # byline
        "3 Comments",
        "Share this",
        "Twitter",
        "Related",
        "Russia in Review",
        "weekly digest",
        "Subscribe",
        "Categorized as",
        "Tagged",
        "Previous post",
        "thoughts on",
        "Great compilation",
        "Leave a comment",
        "Recent Posts",
        "All rights reserved",
        "dataLayer",
        "--wp--preset",
        "Belfer Center project",
    ):
        assert chrome not in text, chrome


def test_entities_and_non_breaking_spaces_are_normalised(from_page: ingest.Prepared) -> None:
    text = from_page.text
    assert "&#" not in text and "&nbsp;" not in text and "&amp;" not in text
    assert "\u00a0" not in text
    assert "defense& will continue" in text  # &amp; decoded, the text otherwise verbatim
    assert "Trump’s Win" in text and "détente" in text  # &#8217; and &eacute;
    assert "  • A Russian government official said:" in text  # "A&nbsp; Russian"


def test_nested_lists_become_nested_bullets(from_page: ingest.Prepared) -> None:
    lines = from_page.text.split("\n")
    i = lines.index("  • Dmitry Peskov, Vladimir Putin’s press secretary:")
    assert all(ln.startswith("    • ") for ln in lines[i + 1 : i + 5])
    assert lines[i + 5].startswith("  • Vladimir Putin, president of Russia")
    peskov = [s for s in from_page.statements if s.speaker == "Dmitry Peskov"]
    assert len(peskov) == 4 and {s.role for s in peskov} == {"Vladimir Putin’s press secretary"}


def test_the_layout_starts_with_header_title_and_date(from_page: ingest.Prepared) -> None:
    head = [ln for ln in from_page.text.split("\n")[:12] if ln]
    assert head[:2] == ["In the Thick of It", "A blog on the U.S.-Russia relationship"]
    # (the figure's caption is the page's, not the compilation's: left out)
    assert head[2].startswith("Post-Soviet Reaction to Trump’s Win: Putin Says")
    assert head[3] == "November 06, 2024"
    assert head[4].startswith("After a significant wait")
    assert "Republican presidential nominee" not in from_page.text


@pytest.mark.parametrize(
    "source",
    [*sorted(ARCHIVE.glob("*.txt")), SECOND_FILE],
    ids=lambda p: p.stem,
)
def test_other_compilations_survive_the_round_trip(source: Path) -> None:
    """Each compilation rendered as a blog page converts back to the same statements."""
    mp = make_page_module()
    page = mp.page(*mp.article(source)).encode()
    prepared = ingest.prepare(page, "page.html")
    again = parse_text(prepared.text, source.name)  # under the original name: same ids
    assert [key(s) for s in again.statements] == [key(s) for s in parse_file(source).statements]


def test_the_committed_page_is_what_make_page_writes() -> None:
    mp = make_page_module()
    assert mp.page(*mp.article(REAL_FILE)) == PAGE.read_text(encoding="utf-8")


# ---------------------------------------------------------------- HTML forms blogs use


def test_heading_forms_and_unclosed_items() -> None:
    """h2, h3 and bold paragraphs are headings; unclosed <li> are siblings (HTML5)."""
    body = """<h1>Reaction to the Summit</h1><time datetime="2025-03-14">March 14, 2025</time>
    <p>Intro.</p>
    <h3>Estonia</h3><ul><li>Kaja Kallas, prime minister, said: “One.” (ERR, 03.14.25)
      <li>Margus Tsahkna, foreign minister, said: “Two.” (ERR, 03.14.25)</ul>
    <p><b>Latvia</b></p><ol><li><p>Evika Siliņa, prime minister, said:</p>
      <p>“Three.” (LSM, 03.14.25)</p></li></ol>
    <h2>Lithuania</h2><ul><li>Gabrielius Landsbergis, foreign minister, said: “Four.”<br>
      “Five.” (LRT, 03.14.25)</li></ul>"""
    p = ingest.prepare(html_doc(body), "x.html")
    got = [(s.country, s.speaker, s.parent) for s in p.statements]
    assert got == [
        ("Estonia", "Kaja Kallas", None),
        ("Estonia", "Margus Tsahkna", None),
        ("Latvia", "Evika Siliņa", None),
        ("Lithuania", "Gabrielius Landsbergis", None),
    ]
    assert p.statements[2].text == "Evika Siliņa, prime minister, said: “Three.”"
    assert p.statements[3].text.endswith("said: “Four.” “Five.”")
    assert "    “Five.” (LRT, 03.14.25)" in p.text  # a <br> continues the item's line


def test_a_title_in_a_page_level_header() -> None:
    """Some themes put the post's title and date in a <header> outside <main>."""
    page = (
        "<!DOCTYPE html><html><body><header class='site-header'><p>Blog name</p>"
        "<nav><ul><li>Home</li></ul></nav></header>"
        "<header class='entry-hero'><h1>Reaction to the Summit: Calm in Riga</h1>"
        "<span class='posted-on'>Posted on <time datetime='2025-03-14'>March 14, 2025</time>"
        "</span></header><div id='primary'><div class='entry-content'>"
        + ARTICLE.split("</time>", 1)[1]
        + "</div></div><footer><ul><li>Privacy</li></ul></footer></body></html>"
    )
    p = ingest.prepare(page.encode(), "x.html")
    assert p.text.startswith("Reaction to the Summit: Calm in Riga\n\nMarch 14, 2025\n\n")
    assert [s.speaker for s in p.statements] == ["Jānis Bērziņš"]
    for chrome in ("Blog name", "Home", "Posted on", "Privacy"):  # the site's header, footer
        assert chrome not in p.text


def test_a_list_nested_directly_in_a_list_and_an_empty_item() -> None:
    body = """<h1>Reaction</h1><time datetime="2025-03-14">March 14, 2025</time><p>Intro.</p>
    <h2>Estonia</h2><ul>
      <li>Kaja Kallas, prime minister:</li>
      <ul><li>“One.” (ERR, 03.14.25)</li><li>“Two.” (ERR, 03.14.25)</li></ul>
      <li><ul><li>Alar Karis, president, said: “Three.” (ERR, 03.14.25)</li></ul></li>
    </ul>"""
    p = ingest.prepare(html_doc(body), "x.html")
    assert [(s.speaker, s.text) for s in p.statements] == [
        ("Kaja Kallas", "“One.”"),
        ("Kaja Kallas", "“Two.”"),
        ("Alar Karis", "Alar Karis, president, said: “Three.”"),
    ]


def test_a_date_line_without_time_and_an_update_from_the_page() -> None:
    body = """<header><h1>Reaction to the Summit: Calm in Riga</h1><p class="date">March 14, 2025</p>
    <time class="updated" datetime="2025-03-16T10:00:00">Mar 16</time></header>""" + (
        ARTICLE.split("</time>", 1)[1]
    )
    p = ingest.prepare(html_doc(body), "x.html")
    assert (p.document.published, p.document.updated) == ("2025-03-14", "2025-03-16")
    assert "\nMarch 14, 2025\n" in p.text and "Mar 16" not in p.text
    assert p.text.rstrip().endswith("Updated on March 16, 2025.")
    assert any("update date" in n for n in p.notes)
    assert p.document.intro == ("Leaders reacted.",)
    # The article already says when it was updated: nothing is added.
    said = body.replace("<p>Anna", "<p>Updated on March 16, 2025.</p><p>Anna")
    p = ingest.prepare(html_doc(said), "x.html")
    assert p.document.updated == "2025-03-16" and p.text.count("Updated on") == 1
    assert "Anna Ozola" not in p.text  # the author's bio after the last section
    assert any(n.startswith("left out of the page: ") for n in p.notes)


def test_the_date_from_metadata_when_the_page_shows_none() -> None:
    body = ARTICLE.replace('<time datetime="2025-03-14">March 14, 2025</time>', "")
    head = '<meta property="article:published_time" content="2025-03-14T09:00:00+00:00">'
    p = ingest.prepare(html_doc(body, head), "x.html")
    assert p.document.published == "2025-03-14"
    assert "\nMarch 14, 2025\n" in p.text
    assert p.filename == "2025-03-14-reaction-to-summit.txt"


def test_a_page_in_a_legacy_charset() -> None:
    body = ARTICLE.replace("Jānis Bērziņš", "Janis Berzins").replace("“Fine.”", '"Хорошо."')
    page = (
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Type' "
        f"content='text/html; charset=windows-1251'></head><body><article>{body}"
        "</article></body></html>"
    ).encode("cp1251")
    p = ingest.prepare(page, "x.html")
    assert p.statements[0].text == 'Janis Berzins, foreign minister of Latvia, said: "Хорошо."'


def test_a_fragment_is_html_by_its_name_and_content_wins_over_the_name(tmp_path: Path) -> None:
    fragment = f"<article>{ARTICLE}</article>".encode()
    assert ingest.sniff(fragment, "post.html") == "html"
    assert ingest.sniff(fragment, "post.txt", "text/html; charset=utf-8") == "html"
    assert len(ingest.prepare(fragment, "post.html").statements) == 1
    assert ingest.sniff(PAGE.read_bytes(), "saved.txt") == "html"  # a page saved as .txt
    assert ingest.sniff(REAL_FILE.read_bytes(), "renamed.html") == "text"


# ---------------------------------------------------------------- refusals


def truncated_page() -> bytes:
    data = PAGE.read_bytes()
    return data[: data.index(b"Peskov dismissed the possibility") + 20]  # mid-list


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "empty.txt", "empty file"),
        (b"  \n\n\t", "blank.html", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "page.html", "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "compilation.pdf", "PDF document"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.txt", "JPEG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "compilation.docx", "ZIP archive"),
        (random.Random(8).randbytes(3000), "junk.txt", "binary data"),
        (truncated_page(), "page.html", "truncated"),
        (ESSAY.read_bytes(), "essay.html", "no compilation in this page: no sections"),
        (html_doc("<p>Hello</p>"), "hello.html", "no compilation in this page: it has no title"),
        (
            html_doc("<h1>Archive</h1><ul><li>One</li></ul>"),
            "archive.html",
            "no publication date",
        ),
        (b"Just some notes\nwithout a date line.\n", "notes.txt", "no publication date line"),
        (
            b"Blog\n\nTitle\n\nMarch 14, 2025\n\nEstonia\n\n  \xe2\x80\xa2 \xe2\x80\x94\n",
            "dashes.txt",
            "parses to no statements",
        ),
        ("Título\n\nMarch 14, 2025\n".encode("latin-1"), "latin1.txt", "not UTF-8"),
    ],
    ids=[
        "empty",
        "blank",
        "png",
        "pdf",
        "jpeg",
        "docx",
        "binary",
        "truncated",
        "essay",
        "no-h1",
        "no-date",
        "text-no-date",
        "no-statements",
        "latin1",
    ],
)
def test_refusals_say_why(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        ingest.prepare(data, name)


def test_chrome_lists_do_not_make_a_compilation() -> None:
    """The essay page has menus, related posts, comments and widgets full of <li>."""
    assert ESSAY.read_bytes().count(b"<li") > 10
    with pytest.raises(IngestError, match="no compilation"):
        ingest.prepare(ESSAY.read_bytes(), ESSAY.name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "<h1>",
                "</h1>",
                "<ul>",
                "</ul>",
                "<li>",
                "</li>",
                "<p>",
                "<h2>",
                "<br>",
                "<nav>",
                "<time datetime='2024-11-06'>",
                "November 06, 2024",
                "Estonia",
                "Kaja Kallas, prime minister, said: “x.” (ERR, 11.06.24)",
                "&nbsp;",
                "&#8217;",
                "<div class='share'>",
                "</div>",
                "<!--",
                "<script>",
                "\x00",
                "<article>",
            ]
        ),
        max_size=40,
    )
)
def test_any_tag_soup_is_converted_or_refused(parts: list[str]) -> None:
    data = ("<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>").encode()
    try:
        p = ingest.prepare(data, "soup.html")
    except IngestError:
        return
    assert p.statements and p.filename.endswith(".txt")
    assert parse_text(p.text, p.filename).statements == p.statements


# ---------------------------------------------------------------- text inputs and file names


def test_a_text_compilation_is_taken_as_it_is(real: Parsed) -> None:
    p = ingest.prepare(REAL_FILE.read_bytes(), "whatever-name.txt")
    assert p.format == "text"
    assert p.text == REAL_FILE.read_text(encoding="utf-8") + "\n"  # the file lacks a last \n
    assert p.filename == REAL_FILE.name
    assert [key(s) for s in p.statements] == [key(s) for s in real.statements]
    assert p.notes == ()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Post-Soviet Reaction to Trump’s Win: Putin Says He’s Hopeful",
            "post-soviet-reaction-to-trump-win",
        ),
        (
            "Post-Soviet Reaction to the Grain Corridor Suspension: Moscow Cites",
            "post-soviet-reaction-to-grain-corridor-suspension",
        ),
        ("Реакция на победу Трампа", "reaktsiya-na-pobedu-trampa"),
        ("Rīga’s Reaction to a Summit", "riga-reaction-to-summit"),
        ("“…”", "compilation"),
        ("A " + "very-long-word " * 12, "very-long-word-" * 3 + "very-long-word"),
    ],
)
def test_file_names_from_date_and_title(title: str, expected: str) -> None:
    name = ingest.compilation_filename("2024-11-06", title)
    assert name == f"2024-11-06-{expected}.txt"
    assert len(name) <= 60 + len("2024-11-06-.txt")


# ---------------------------------------------------------------- publishing


def test_publish_writes_atomically_and_once(tmp_path: Path, from_page: ingest.Prepared) -> None:
    sources = tmp_path / "sources"
    done = ingest.publish(from_page, sources)
    assert done == ingest.Published(sources / REAL_FILE.name, "added")
    assert done.path.read_text(encoding="utf-8") == from_page.text
    assert [p.name for p in sources.iterdir()] == [REAL_FILE.name]  # no temp file left
    assert oct(done.path.stat().st_mode & 0o777) == "0o644"
    again = ingest.publish(from_page, sources)
    assert again == ingest.Published(done.path, "unchanged")
    assert [key(s) for s in parse_file(done.path).statements] == [
        key(s) for s in from_page.statements
    ]


def test_a_name_clash_is_refused_unless_replace(tmp_path: Path) -> None:
    shutil.copy(REAL_FILE, tmp_path / REAL_FILE.name)
    before = (tmp_path / REAL_FILE.name).read_bytes()
    prepared = ingest.prepare(PAGE.read_bytes(), PAGE.name)  # same name, other layout
    with pytest.raises(IngestError, match="already in the archive with other content"):
        ingest.publish(prepared, tmp_path)
    assert (tmp_path / REAL_FILE.name).read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [REAL_FILE.name]
    done = ingest.publish(prepared, tmp_path, replace=True)
    assert done.action == "replaced"
    assert done.path.read_text(encoding="utf-8") == prepared.text


def test_the_same_compilation_under_another_name(tmp_path: Path) -> None:
    """The invented file's name is hand-made; its title gives another: still a duplicate."""
    prepared = ingest.prepare(SECOND_FILE.read_bytes(), SECOND_FILE.name)
    assert prepared.filename != SECOND_FILE.name
    shutil.copy(SECOND_FILE, tmp_path / SECOND_FILE.name)
    assert ingest.publish(prepared, tmp_path) == ingest.Published(
        tmp_path / SECOND_FILE.name, "unchanged"
    )
    edited = SECOND_FILE.read_text(encoding="utf-8").replace("Relief in Tallinn", "Relief")
    (tmp_path / SECOND_FILE.name).write_text(edited, encoding="utf-8")
    with pytest.raises(IngestError, match=f"same title and date.*{SECOND_FILE.name}"):
        ingest.publish(prepared, tmp_path)
    # The title changed only after its colon: the same file name is kept on replace.
    done = ingest.publish(prepared, tmp_path, replace=True)
    assert done == ingest.Published(tmp_path / SECOND_FILE.name, "replaced")
    assert sorted(os.listdir(tmp_path)) == [SECOND_FILE.name]


def test_nothing_is_left_behind_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_page: ingest.Prepared
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        ingest.publish(from_page, tmp_path)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- URLs (a local server only)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(HTML_DIR), **kwargs)  # type: ignore[arg-type]

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        if self.path == "/cut":  # promises more than it sends, then hangs up
            body = PAGE.read_bytes()[:5000]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE.read_bytes())))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if self.path == "/slow":
            self.server.release.wait(5)  # type: ignore[attr-defined]
            return
        if self.path == "/gzip":
            import gzip

            body = gzip.compress(PAGE.read_bytes())
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@pytest.fixture
def server() -> Iterator[str]:
    """A local http.server on 127.0.0.1 serving tests/data/html (and a few bad answers)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    httpd.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.release.set()  # type: ignore[attr-defined]
        httpd.shutdown()
        httpd.server_close()


def test_a_page_by_url(server: str, real: Parsed) -> None:
    got = ingest.read_input(f"{server}/{PAGE.name}")
    assert got.name == PAGE.name and (got.content_type or "").startswith("text/html")
    p = ingest.prepare(got.data, got.name, got.content_type)
    assert [key(s) for s in p.statements] == [key(s) for s in real.statements]
    gz = ingest.read_input(f"{server}/gzip")
    assert gz.data == PAGE.read_bytes()


@pytest.mark.parametrize(
    ("path", "kwargs", "reason"),
    [
        ("/missing.html", {}, "HTTP 404"),
        ("/cut", {}, "truncated download"),
        (f"/{PAGE.name}", {"max_bytes": 10_000}, "too large"),
        ("/slow", {"timeout": 0.3}, "no answer within 0.3 s"),
    ],
)
def test_bad_urls_are_refused(server: str, path: str, kwargs: dict, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        ingest.read_input(server + path, **kwargs)


def test_inputs_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest.read_input(str(tmp_path / "nope.html"))
    with pytest.raises(IngestError, match="a folder"):
        ingest.read_input(str(tmp_path))
    with pytest.raises(IngestError, match="only http and https"):
        ingest.read_input("ftp://127.0.0.1/page.html")
    with pytest.raises(IngestError, match="cannot fetch"):
        ingest.read_input("http://127.0.0.1:9/page.html", timeout=2)  # discard port: refused
    big = tmp_path / "big.html"
    big.write_bytes(b"<p>" + b"x" * 2000)
    with pytest.raises(IngestError, match="too large"):
        ingest.read_input(str(big), max_bytes=1000)


# ---------------------------------------------------------------- the command line


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_add_a_page_end_to_end(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    code, out, err = run("--sources", str(sources), "add", str(PAGE))
    assert (code, err) == (0, "")
    assert "Post-Soviet Reaction to Trump’s Win: Putin Says He’s Hopeful" in out
    assert "published: 2024-11-06, updated 2024-11-08" in out
    assert "52 statements from 15 countries:" in out
    assert "    Russia        25\n" in out and "    Ukraine       10\n" in out
    assert "role-country: Evika Siliņa's role 'prime minister of Estonia'" in out
    assert f"added {sources / REAL_FILE.name}" in out
    assert os.listdir(sources) == [REAL_FILE.name]
    # The archive reads it like any source: check reports the same warnings, export the rows.
    code, check_out, _ = run("--sources", str(sources), "check")
    assert code == 0 and "52 statements, 4 warning(s), 0 error(s)" in check_out
    code, out, err = run("--sources", str(sources), "add", str(PAGE))
    assert code == 0 and f"already in the archive: {sources / REAL_FILE.name}" in out


def test_cli_add_by_url_and_the_env_sources(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REACTIONS_SOURCES_DIR", str(tmp_path))
    code, out, err = run("add", f"{server}/{PAGE.name}")
    assert (code, err) == (0, "")
    assert f"{PAGE.name} (web page) -> {REAL_FILE.name}" in out
    assert os.listdir(tmp_path) == [REAL_FILE.name]


def test_cli_refuses_and_writes_nothing(tmp_path: Path) -> None:
    png = tmp_path / "shot.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    cut = tmp_path / "cut.html"
    cut.write_bytes(truncated_page())
    sources = tmp_path / "sources"
    code, out, err = run("--sources", str(sources), "add", str(PAGE), str(png), str(cut))
    assert code == 1
    assert f"refused: {png}: a PNG image" in err
    assert f"refused: {cut}: the page ends before its closing </html> tag" in err
    assert "nothing written (2 of 3 refused)" in err
    assert "52 statements" in out  # the good one is still reported
    assert not sources.exists() or os.listdir(sources) == []


def test_cli_name_clash_and_replace(tmp_path: Path) -> None:
    shutil.copy(REAL_FILE, tmp_path / REAL_FILE.name)
    code, _, err = run("--sources", str(tmp_path), "add", str(PAGE))
    assert code == 1 and "already in the archive with other content; add --replace" in err
    assert (tmp_path / REAL_FILE.name).read_bytes() == REAL_FILE.read_bytes()
    code, out, _ = run("--sources", str(tmp_path), "add", "--replace", str(PAGE))
    assert code == 0 and f"replaced {tmp_path / REAL_FILE.name}" in out


def test_cli_dry_run_and_a_text_file(tmp_path: Path) -> None:
    code, out, _ = run("--sources", str(tmp_path), "add", "--dry-run", str(SECOND_FILE))
    assert code == 0 and "dry run: nothing written" in out
    assert "(text) -> 2025-03-14-baltic-and-caucasus-reaction-to-narva-lakeside-summit.txt" in out
    assert "13 statements from 6 countries:" in out
    assert os.listdir(tmp_path) == []


def test_prepared_is_plain_data(from_page: ingest.Prepared) -> None:
    """What the bot shows editors: title, date, counts per country, warnings, file name."""
    assert dataclasses.is_dataclass(from_page)
    assert from_page.counts["Russia"] == 25
    assert list(from_page.counts)[:2] == ["Armenia", "Azerbaijan"]  # document order
    assert ingest.summary(from_page).startswith(
        f"{PAGE.name} (web page) -> {REAL_FILE.name}\n  title:"
    )


# ---------------------------------------------------------------- only the article (chrome inside it)

CHROME_PAGES = [
    HTML_DIR / "drupal-baltic-reaction-to-summit.html",
    HTML_DIR / "wordpress-baltic-reaction-to-summit.html",
]
CHROME_WORDS = (
    "Skip to",
    "navigation",
    "menu",
    "crumbs",
    "byline",
    "Written by",
    "Submitted",
    "By Kadri",
    "Kadri Lumiste",  # the author's bio and box (Kadri Mägi, a speaker, stays)
    "kadri.example",
    "Delegates pose",  # the image's caption
    "Photo",
    "Mart Kask",
    "Originally published",
    "Opinions are solely",
    "Tags",
    "tag",
    "Baltics",
    "categor",
    "Share",
    "Twitter",
    "Log in",
    "Comment",
    "Great summary",
    "Reply",
    "Related",
    "newsletter",
    "digest",
    "Subscribe",
    "footer",
    "Proudly powered",
    "Previous post",
    "thoughts on",
    "Recent Posts",
    "drupalSettings",
    "wpData",
)


@pytest.mark.parametrize("page", CHROME_PAGES, ids=lambda p: p.name.split("-")[0])
def test_only_the_article_is_kept_from_drupal_and_wordpress_pages(page: Path) -> None:
    prepared = ingest.prepare(page.read_bytes(), page.name)
    text = prepared.text
    for word in CHROME_WORDS:
        assert word not in text, word
    real = parse_file(SECOND_FILE)
    again = parse_text(text, SECOND_FILE.name)  # under the text's name: the same ids
    assert [key(s) for s in again.statements] == [key(s) for s in real.statements]
    a, b = real.document, again.document
    for f in ("title", "blog", "tagline", "published", "updated"):
        assert getattr(b, f) == getattr(a, f), f
    assert b.intro == a.intro and b.author is None
    for kept in ("Kadri Mägi", "Georgia\n\nAt the time of publication", "\nLithuania\n"):
        assert kept in text
    # The report says what was left out.
    [left] = [n for n in prepared.notes if n.startswith("left out of the page: ")]
    for kind in ("byline", "caption or photo credit", "tags and categories", "share buttons"):
        assert kind in left
    assert "related posts" in left and "newsletter box" in left
    assert "“Originally published …” line" in left
    assert "author bio or closing lines after the last section" in left


def test_the_committed_chrome_pages_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("mcp", HTML_DIR / "make_chrome_pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    p = module.parts(SECOND_FILE)
    assert module.drupal(p) == CHROME_PAGES[0].read_text(encoding="utf-8")
    assert module.wordpress(p) == CHROME_PAGES[1].read_text(encoding="utf-8")


@pytest.mark.parametrize("page", CHROME_PAGES, ids=lambda p: p.name.split("-")[0])
def test_the_export_of_an_added_page_equals_the_export_of_its_text(
    tmp_path: Path, page: Path
) -> None:
    exports = []
    for i, source in enumerate((page, SECOND_FILE)):
        folder = tmp_path / f"sources{i}"
        code, _out, err = run("--sources", str(folder), "add", str(source))
        assert (code, err) == (0, "")
        code, out, err = run("--sources", str(folder), "export")
        assert code == 0
        exports.append(out.splitlines())
    assert exports[0] == exports[1] and len(exports[0]) == 13


def test_a_cited_paragraph_after_the_last_section_stays_and_the_bio_after_it_goes() -> None:
    page = CHROME_PAGES[0].read_text(encoding="utf-8")
    cited = "<p>Lithuania’s president later said: “We agree.” (LRT Fictional, 03.15.25)</p>"
    at = page.index("<p>Kadri Lumiste is")
    prepared = ingest.prepare((page[:at] + cited + "\n" + page[at:]).encode(), "x.html")
    assert "said: “We agree.” (LRT Fictional, 03.15.25)" in prepared.text
    assert "Kadri Lumiste" not in prepared.text
    assert prepared.statements[-1].text.startswith("Lithuania’s president later said")


def test_a_last_section_of_only_a_no_remarks_note_is_not_taken_for_a_bio() -> None:
    body = ARTICLE.replace(
        "<p>Anna Ozola is a researcher.</p>",
        "<h2>Georgia</h2><p>At the time of publication, no remarks were available from "
        "Georgian officials.</p><p>Anna Ozola is a researcher.</p>",
    )
    prepared = ingest.prepare(html_doc(body), "x.html")
    assert "no remarks were available" in prepared.text and "Anna Ozola" not in prepared.text
    assert [s.kind for s in prepared.statements] == ["person", "note"]
