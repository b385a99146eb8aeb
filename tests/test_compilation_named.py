"""Answers name their compilation (title and date) whenever the archive holds several, even
when every hit comes from one: private answers, inline results, the console (real engine)."""

from __future__ import annotations

import io

from bot import commands, render
from bot.commands import Chat
from bot.console import Console
from bot.render import to_plain
from index.model import Answer, Document, Hit, Intent, Source, Statement

PRIVATE = Chat("private", "ReactionsTestBot", 500)
ASTANA = "Post-Soviet Reaction to the Astana Summit"
ASTANA_DATE = "12 Oct 2033"


def test_a_private_answer_from_one_of_several_compilations_names_it(archive: object) -> None:
    answer = archive.ask("Lusine Avetisyan")  # type: ignore[attr-defined]
    assert len(answer.documents) == 1 and answer.archive == 4
    text = to_plain(commands.question(archive, "Lusine Avetisyan", PRIVATE).html)  # type: ignore[arg-type]
    assert f"📰 {ASTANA} · {ASTANA_DATE}" in text.splitlines()[1]


def test_inline_results_name_their_compilation(archive: object) -> None:
    page = commands.inline(archive, "Lusine Avetisyan", "")  # type: ignore[arg-type]
    assert page.entries
    first = page.entries[0]
    assert to_plain(first.html).startswith(f"📰 {ASTANA} · {ASTANA_DATE}\n")
    assert ASTANA in first.description and ASTANA_DATE in first.description
    empty = commands.inline(archive, "", "")  # type: ignore[arg-type]
    assert empty.entries and all(ASTANA in to_plain(e.html) for e in empty.entries)


def test_the_console_names_the_compilation(archive: object) -> None:
    out = io.StringIO()
    console = Console(archive, out)  # type: ignore[arg-type]
    console.show(console.handle("Lusine Avetisyan"))
    assert f"{ASTANA} · {ASTANA_DATE}" in out.getvalue()


def test_an_archive_of_one_compilation_goes_without_naming_it(engine: object) -> None:
    text = to_plain(commands.question(engine, "What did Peskov say?", PRIVATE).html)  # type: ignore[arg-type]
    assert "📰" not in text
    page = commands.inline(engine, "Peskov", "")  # type: ignore[arg-type]
    assert page.entries and "📰" not in page.entries[0].html


def test_render_names_the_one_compilation_only_when_the_archive_has_more() -> None:
    doc = Document("d", "d.txt", "Title: subtitle", published="2024-11-06")
    st = Statement("s", "d", "Georgia", "A B", None, "person", "Q", (Source("X", None, "X"),))
    one = Answer("A B", Intent("person", "A B"), (Hit(st, 1.0),), True, documents=(doc,), archive=1)
    assert "📰" not in render.render_answer(one).html
    many = Answer(
        "A B", Intent("person", "A B"), (Hit(st, 1.0),), True, documents=(doc,), archive=2
    )
    assert "📰 <b>Title</b> · 6 Nov 2024" in render.render_answer(many).html
    hits = tuple(Hit(st, 1.0) for _ in range(12))  # three pages: each says which compilation
    long = Answer("A B", Intent("person", "A B"), hits, True, documents=(doc,), archive=2)
    pages = render.answer_pages(long)
    assert len(pages) == 3 and all("📰 <b>Title</b> · 6 Nov 2024" in p for p in pages)
