"""HTML parsers on a compilation page: parse + walk the article with each installed library.

    .venv/bin/python bench/bench_html.py

selectolax is the project's dependency; lxml and beautifulsoup4 (+ html5lib) are timed only
when installed (for instance in a scratch venv), to show what choosing among them costs.
Also times the project's own page -> layout conversion and ``ingest.prepare``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from measure import ROOT, header_block, table

PAGE = ROOT / "tests" / "data" / "html" / "post-soviet-reaction-to-trump-win.html"
SKIP = ("script", "style", "nav")


def walk_selectolax(data: bytes) -> int:
    from selectolax.lexbor import LexborHTMLParser

    out: list[str] = []

    def walk(n: Any) -> None:
        for c in n.iter(include_text=True):
            if c.tag == "-text":
                out.append(c.text_content or "")
            elif c.tag not in SKIP:
                out.append(c.tag)
                walk(c)

    for a in LexborHTMLParser(data).css("article"):
        walk(a)
    return len(out)


def walk_lxml(data: bytes) -> int:
    import lxml.html

    out: list[str] = []

    def walk(n: Any) -> None:
        if n.text:
            out.append(n.text)
        for c in n:
            if isinstance(c.tag, str) and c.tag not in SKIP:
                out.append(c.tag)
                walk(c)
            if c.tail:
                out.append(c.tail)

    for a in lxml.html.fromstring(data).iter("article"):
        walk(a)
    return len(out)


def walk_bs4(parser: str) -> Callable[[bytes], int]:
    def run(data: bytes) -> int:
        from bs4 import BeautifulSoup, NavigableString, Tag

        out: list[str] = []

        def walk(n: Any) -> None:
            for c in n.children:
                if isinstance(c, Tag):
                    if c.name not in SKIP:
                        out.append(c.name)
                        walk(c)
                elif isinstance(c, NavigableString):
                    out.append(str(c))

        for a in BeautifulSoup(data, parser).find_all("article"):
            walk(a)
        return len(out)

    return run


def convert(data: bytes) -> int:
    from index import ingest

    return len(ingest.html_to_text(data.decode("utf-8")).text)


def prepare(data: bytes) -> int:
    from index import ingest

    return len(ingest.prepare(data, PAGE.name).statements)


def median_ms(fn: Callable[[bytes], int], data: bytes, n: int) -> float | None:
    try:
        fn(data)
    except ImportError:
        return None
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    page = PAGE.read_bytes()
    start, end = page.index(b"<article"), page.index(b"</article>") + len(b"</article>")
    big = page.replace(b"</main>", page[start:end] * 9 + b"</main>")  # ten articles
    rows: list[tuple[str, Callable[[bytes], int], int]] = [
        ("selectolax (Lexbor)", walk_selectolax, 15),
        ("lxml (libxml2)", walk_lxml, 15),
        ("beautifulsoup4 + html.parser", walk_bs4("html.parser"), 15),
        ("beautifulsoup4 + lxml", walk_bs4("lxml"), 15),
        ("beautifulsoup4 + html5lib", walk_bs4("html5lib"), 3),
        ("ingest.html_to_text (selectolax)", convert, 15),
        ("ingest.prepare (convert + parse twice)", prepare, 5),
    ]
    out = []
    for name, fn, n in rows:
        cells = []
        for data in (page, big):
            ms = None if fn is prepare and data is big else median_ms(fn, data, n)
            cells.append(
                "—"
                if fn is prepare and data is big
                else "not installed"
                if ms is None
                else f"{ms:.2f} ms"
            )
        out.append((name, *cells))
    print(header_block("HTML parsers", " ".join(["python", *sys.argv])))
    print()
    print(
        table(
            (
                "median of parse + walk",
                f"{len(page) // 1024} KB page",
                f"{len(big) // 1024} KB (10 articles)",
            ),
            out,
        )
    )


if __name__ == "__main__":
    main()
