"""Every source a link where the page gives one: ``(<a href=…>Interfax</a>, 11.06.24)`` keeps
its URL through the page's conversion, the parser, the bundle and the export; the bot shows
the outlet as a link (Telegram HTML, escaped) in answers, inline results and digests; the
preview counts the links; old bundles and texts without links work as before."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

from bot import commands, render
from index import ingest
from index.cli import main
from index.model import Source, statement_from_dict
from index.parse import link_token, parse_citation, parse_text
from tests.fakebotapi import FakeBotApi, parse_html
from tests.test_bot_e2e import USER, run_bot, to_chat, wait

ROOT = Path(__file__).resolve().parent.parent
BALTIC = ROOT / "tests" / "data" / "sources" / "2025-03-14-baltic-reaction-to-summit.txt"
LRT = "https://lrt.example/news/grid?id=7&lang=en"
DELFI = "https://delfi.example/a(2025)/11.06.24"  # parentheses and a date in the URL


def linked_text() -> str:
    """The Baltic test compilation with two of Šimonytė's outlets linked, in the layout."""
    text = BALTIC.read_text(encoding="utf-8")
    text = text.replace("(LRT Fictional, 03.13.25,", f"(LRT Fictional{link_token(LRT)}, 03.13.25,")
    return text.replace(
        "Delfi Imaginary, 03.14.25.)", f"Delfi Imaginary{link_token(DELFI)}, 03.14.25.)"
    )


def test_the_layout_carries_an_outlets_link_in_angle_brackets() -> None:
    [src] = parse_citation("Interfax <https://www.interfax.ru/russia/1>, 11.06.24") or []
    assert src == Source(
        "Interfax", "2024-11-06", "Interfax, 11.06.24", "https://www.interfax.ru/russia/1"
    )
    # A date inside the URL is no citation date; parentheses in a URL are written escaped.
    assert link_token(DELFI) == " <https://delfi.example/a%282025%29/11.06.24>"
    two = parse_citation(f"TASS, 11.06.24; FT{link_token(LRT)}, 11.07.24") or []
    assert [(s.outlet, s.url) for s in two] == [("TASS", None), ("FT", LRT)]
    parsed = parse_text(linked_text(), BALTIC.name)
    simonyte = [s for s in parsed.statements if s.speaker == "Agnė Šimonytė"]
    urls = [(x.outlet, x.url) for s in simonyte for x in s.sources]
    assert ("LRT Fictional", LRT) in urls
    assert ("Delfi Imaginary", "https://delfi.example/a%282025%29/11.06.24") in urls
    assert all("<http" not in s.text and "<http" not in x.raw for s in simonyte for x in s.sources)
    # Everything else reads as it did without the links.
    plain = parse_text(BALTIC.read_text(encoding="utf-8"), BALTIC.name)
    strip = [
        (s.id, s.text, [(x.outlet, x.date, x.raw) for x in s.sources]) for s in parsed.statements
    ]
    assert strip == [
        (s.id, s.text, [(x.outlet, x.date, x.raw) for x in s.sources]) for s in plain.statements
    ]


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><article>
<h1>Reaction to the Summit: Calm in Riga</h1><time datetime="2025-03-14">March 14, 2025</time>
<p>Leaders <a href="https://example.org/summit">reacted</a>.</p>
<h2>Latvia</h2><ul>
<li>Jānis Bērziņš, foreign minister of Latvia, said: “Fine.” (<a href="https://lsm.example/a?b=1&amp;c=2">LSM</a>, 03.14.25)</li>
<li>Anna Ozola, mayor of Riga, said: “Good.” (<a href="https://delfi.example/x">Delfi, 03.14.25</a>; <a href="/relative">TV3</a>, 03.15.25)</li>
<li>Inese Lībiņa, an MP, said the deal was <a href="https://example.org/deal">a good one</a>. (Diena, 03.14.25)</li>
</ul></article></body></html>"""


def test_a_pages_citation_links_are_kept_and_other_links_are_only_text() -> None:
    prepared = ingest.prepare(PAGE.encode(), "page.html")
    text = prepared.text
    assert "(LSM <https://lsm.example/a?b=1&c=2>, 03.14.25)" in text
    assert "(Delfi <https://delfi.example/x>, 03.14.25; TV3, 03.15.25)" in text  # relative: none
    assert "Leaders reacted." in text and "was a good one." in text  # links in the text: text
    sources = [x for s in prepared.statements for x in s.sources]
    assert [x.url for x in sources] == [
        "https://lsm.example/a?b=1&c=2",
        "https://delfi.example/x",
        None,
        None,
    ]
    assert prepared.links == (2, 4)
    report = ingest.summary(prepared)
    assert "links:     2 of 4 sources link to the outlet's page" in report


def test_the_preview_counts_the_links() -> None:
    prepared = ingest.prepare(PAGE.encode(), "page.html")
    reply = render.upload_report(prepared, "0123456789abcdef", "added", prepared.filename)
    assert "🔗 2 of 4 sources link to the outlet’s page" in render.to_plain(reply.html)


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue()


def test_links_go_through_the_bundle_and_the_export(tmp_path: Path, monkeypatch: Any) -> None:
    from index.search import Engine

    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / BALTIC.name).write_text(linked_text(), encoding="utf-8")
    code, out = run("--sources", str(sources), "export")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {
        "outlet": "LRT Fictional",
        "date": "2025-03-13",
        "raw": "LRT Fictional, 03.13.25",
        "url": LRT,
    } in [src for row in rows for src in row["sources"]]
    code, csv_out = run("--sources", str(sources), "export", "--format", "csv")
    assert code == 0 and f"LRT Fictional, 03.13.25 <{LRT}>" in csv_out
    monkeypatch.setenv("REACTIONS_MULTILINGUAL", "off")
    Engine.open(sources, tmp_path / "index")  # built
    again = Engine.open(sources, tmp_path / "index")  # read from the bundle
    found = [x for st in again.statements for x in st.sources if x.url]
    assert {x.url for x in found} == {LRT, "https://delfi.example/a%282025%29/11.06.24"}


def test_an_old_bundles_statements_without_links_still_load_and_render() -> None:
    old = {
        "id": "s1", "document": "d", "country": "Latvia", "speaker": "A B", "role": None,
        "kind": "person", "text": "Fine.",
        "sources": [{"outlet": "LSM", "date": "2025-03-14", "raw": "LSM, 03.14.25"}],
    }  # fmt: skip
    st = statement_from_dict(old)
    assert st.sources[0].url is None
    html = render.statement_html(st)
    assert html.endswith("— LSM, 03.14.25") and "<a " not in html


def test_the_bot_shows_outlets_as_escaped_links() -> None:
    st = statement_from_dict(
        {
            "id": "s1", "document": "d", "country": "Latvia", "speaker": "A <B>", "role": None,
            "kind": "person", "text": "Fine & dandy.",
            "sources": [
                {"outlet": "L&S \"M\"", "date": None, "raw": "L&S \"M\", 03.14.25",
                 "url": 'https://lsm.example/a?b=1&c="2"<x>'},
                {"outlet": "Bad", "date": None, "raw": "Bad, 03.14.25", "url": "javascript:alert(1)"},
            ],
        }
    )  # fmt: skip
    html = render.statement_html(st)
    text, entities = parse_html(html)  # the markup Telegram would accept, or raise
    assert text.endswith('— L&S "M", 03.14.25 · Bad, 03.14.25')
    links = [e for e in entities if e["type"] == "text_link"]
    assert [e["url"] for e in links] == ['https://lsm.example/a?b=1&c="2"<x>']
    assert html.count("<a ") == 1  # javascript: is no link
    digest = render.digest_pages([(st, "Latvia")], [])
    assert 'href="https://lsm.example/a?b=1&amp;c=&quot;2&quot;&lt;x&gt;"' in digest[0]


def test_answers_and_inline_results_link_the_outlets(api: FakeBotApi, tmp_path: Path) -> None:
    from tests.conftest import live_engine

    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / BALTIC.name).write_text(linked_text(), encoding="utf-8")
    shutil.copy(
        ROOT / "data" / "sources" / "2024-11-06-post-soviet-reaction-to-trump-win.txt", folder
    )
    live = live_engine(folder)
    page = commands.inline(live.snapshot(), "Šimonytė", "")
    assert any(f'<a href="{render.esc(LRT)}">LRT Fictional</a>' in e.html for e in page.entries)

    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("What did Šimonytė say?")
        call = await wait(api, "sendMessage", to_chat(USER))
        assert call.params["parse_mode"] == "HTML"
        message = api.message(call.result["chat"]["id"], call.result["message_id"])
        urls = [e.get("url") for e in message.get("entities", []) if e["type"] == "text_link"]
        assert LRT in urls

    run_bot(api, live, scenario)
