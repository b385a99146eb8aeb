"""Command logic, console, rate limit and log redaction, on the FakeEngine seam."""

from __future__ import annotations

import io
import logging
import os
from dataclasses import replace

import pytest

from bot import commands, logs
from bot.commands import Chat
from bot.console import Console, run_console
from bot.ratelimit import RateLimiter
from bot.render import to_plain
from bot.settings import Settings
from tests.bot_fakes import STATEMENTS, FakeEngine

PRIVATE = Chat("private", "ReactionsTestBot", 500)


@pytest.fixture
def engine() -> FakeEngine:
    """Overrides the session's real engine: these tests need only the seam."""
    return FakeEngine()


def test_dispatch_answers_commands_and_questions(engine: FakeEngine) -> None:
    georgia = to_plain(commands.dispatch(engine, "/country Georgia", PRIVATE).html)  # type: ignore[union-attr]
    assert "Georgia — 3 statements" in georgia and "Kobakhidze" in georgia
    peskov = to_plain(commands.dispatch(engine, "What did Peskov say?", PRIVATE).html)  # type: ignore[union-attr]
    assert "Dmitry Peskov — 2 statements" in peskov and "— TASS, 11.06.24" in peskov
    mine = commands.dispatch(engine, "/who@ReactionsTestBot Peskov", PRIVATE)
    assert mine is not None and "Peskov" in mine.html
    assert commands.dispatch(engine, "/who@SomeOtherBot Peskov", PRIVATE) is None
    unknown = commands.dispatch(engine, "/frobnicate", PRIVATE)
    assert unknown is not None and "/help" in unknown.html


def test_country_without_a_name_offers_every_country(engine: FakeEngine) -> None:
    reply = commands.country(engine, "  ", PRIVATE)
    datas = [b.data for row in reply.buttons for b in row]
    assert datas == [f"c|{c}" for c, _ in engine.countries()]
    listed = to_plain(commands.countries(engine).html)
    assert "Tajikistan — no remarks" in listed  # its only entry is the note
    assert "Russia — 4 statements" in listed


def test_input_is_cleaned_and_capped(engine: FakeEngine) -> None:
    assert commands.clean_query("  Pes\x00kov\u202e \n\t said ") == "Peskov said"
    assert commands.clean_query("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # emoji joiners stay
    long = commands.question(engine, "x" * 10_000, PRIVATE)
    assert "10,000 characters" in long.html and "500" in long.html
    assert engine.calls == []  # refused before the engine sees it
    empty = commands.question(engine, " \x00 ", PRIVATE)
    assert "Ask me about" in empty.html
    html_like = commands.question(engine, "<b>hi</b> & <script>", PRIVATE)
    assert "<script>" not in html_like.html


def test_buttons_carry_their_state(engine: FakeEngine) -> None:
    many = FakeEngine([replace(STATEMENTS[0], id=f"g{i}", text="x " * 900) for i in range(9)])
    first = commands.country(many, "Georgia", PRIVATE)
    [nxt], [follow] = first.buttons
    assert nxt.data == "p|1|c:Georgia" and follow.data == "fa|c:Georgia"
    second = commands.button(many, nxt.data)
    assert second is not None and "Page 2 of" in second.html
    assert commands.button(engine, "c|Georgia") is not None
    assert commands.button(engine, "k|s:Dmitry Peskov") is not None
    assert commands.button(engine, "garbage") is None
    assert commands.button(engine, "p|x|c:Georgia") is None


def test_deep_links_open_answers(engine: FakeEngine) -> None:
    assert "Georgia — 3 statements" in to_plain(
        commands.start(engine, "country-Georgia", PRIVATE).html
    )
    assert "Dmitry Peskov" in commands.start(engine, "who-Dmitry_Peskov", PRIVATE).html
    assert "👋" in commands.start(engine, "", PRIVATE).html
    assert commands.deep_link_payload("who", "Edgars Rinkēvičs") == "who-Edgars_Rinkevics"


def test_help_depends_on_where_it_is_asked(engine: FakeEngine) -> None:
    group = commands.help_text(engine, "", Chat("group", "ReactionsTestBot", 500)).html
    private = commands.help_text(engine, "", PRIVATE).html
    assert "/ask" in group and "replies to my messages" in group
    assert "Just type a question" in private


def test_inline_pages_are_50_each_with_stable_ids() -> None:
    many = FakeEngine(
        [replace(STATEMENTS[0], id=f"id{i:03}", text=f"peace word {i}") for i in range(120)]
    )
    pages = []
    offset = ""
    while True:
        page = commands.inline(many, "peace", offset)
        pages.append(page)
        if not page.next_offset:
            break
        offset = page.next_offset
    assert [len(p.entries) for p in pages] == [50, 50, 20]
    ids = [e.id for p in pages for e in p.entries]
    assert len(set(ids)) == 120
    again = commands.inline(many, "peace", "50")
    assert [e.id for e in again.entries] == [e.id for e in pages[1].entries]
    assert commands.inline(many, "peace", "[]").entries == pages[0].entries


UNICODE_DIGITS = ["²", "①", "١٢", "５０"]  # str.isdigit() says yes to each
ODD_NUMBERS = [*UNICODE_DIGITS, "-1", "+50", " 50", "50 ", "5_0", "1e3", "0x10", "10001", "9" * 40]


@pytest.mark.parametrize("offset", ODD_NUMBERS)
def test_odd_inline_offsets_give_the_first_page(offset: str) -> None:
    many = FakeEngine(
        [replace(STATEMENTS[0], id=f"id{i:03}", text=f"peace word {i}") for i in range(120)]
    )
    first = commands.inline(many, "peace", "")
    page = commands.inline(many, "peace", offset)  # "²".isdigit() is True, int("²") raises
    assert page == first and page.next_offset == "50"


def test_numbers_from_clients_are_ascii_and_bounded() -> None:
    assert [commands.parse_number(t) for t in ("0", "50", "007", "10000")] == [0, 50, 7, 10_000]
    assert all(commands.parse_number(t) is None for t in ODD_NUMBERS)
    assert commands.parse_number("") is None


def test_odd_page_numbers_in_buttons_and_the_console_are_ignored(engine: FakeEngine) -> None:
    for odd in ("²", "①", "١"):
        assert commands.button(engine, f"p|{odd}|c:Georgia") is None
        assert commands.button(engine, f"q|{odd}|peace") is None
    out = io.StringIO()
    console = Console(engine, out)
    console.show(console.handle("/countries"))
    console.show(console.handle("²"))  # a question, not the second button
    assert "Traceback" not in out.getvalue()


def test_empty_inline_query_gets_one_quote_per_country(engine: FakeEngine) -> None:
    page = commands.inline(engine, "", "")
    assert [e.id for e in page.entries] == ["ge1", "ru1", "tj1", "ua1", "kg1"]
    assert page.next_offset == ""


def test_stats_is_a_png_with_a_caption(engine: FakeEngine) -> None:
    reply = commands.stats(engine)
    assert reply.photo is not None and reply.photo.startswith(b"\x89PNG")
    assert "9 statements from 4 countries (1 more with no remarks)" in to_plain(reply.html)


def test_rate_limiter_warns_once_then_stays_quiet_until_refilled() -> None:
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(5)] == ["ok", "ok", "ok", "warn", "silent"]
    assert limiter.check(2) == "ok"  # per user
    assert limiter.retry_after(1) == pytest.approx(20.0)
    now[0] += 20.0
    assert limiter.check(1) == "ok"
    assert RateLimiter(0).check(1) == "ok"


def test_console_pages_and_presses_buttons(engine: FakeEngine) -> None:
    out = io.StringIO()
    many = FakeEngine([replace(STATEMENTS[0], id=f"g{i}", text="x " * 900) for i in range(9)])
    console = Console(many, out)
    console.show(console.handle("/country Georgia"))
    console.show(console.handle("n"))
    assert "Page 2 of" in out.getvalue()
    console.show(console.handle("/countries"))
    console.show(console.handle("1"))
    assert out.getvalue().count("Georgia — 9 statements") >= 2


def test_console_reads_piped_input_until_eof(engine: FakeEngine) -> None:
    stdin = io.StringIO("/country Georgia\nWhat did Peskov say?\n/stats\n")
    out = io.StringIO()
    settings = Settings(database_url=os.environ["DATABASE_URL"])
    assert run_console(settings, lambda: engine, stdin, out) == 0
    text = out.getvalue()
    assert "no TELEGRAM_BOT_TOKEN" in text
    assert "Kobakhidze" in text and "I still know nothing" in text
    assert "[chart saved to" in text


def test_the_token_is_redacted_from_messages_args_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "987654:SECRET-token-value"
    logs.protect(token)
    log = logging.getLogger("test.redaction")
    with caplog.at_level(logging.INFO):
        log.info("POST https://api.telegram.org/bot%s/getMe", token)
        log.info(f"inline {token}")
        try:
            raise ValueError(f"The token `{token}` was rejected")
        except ValueError:
            log.exception("failed")
        log.info("url-encoded %s", token.replace(":", "%3A"))
    assert token not in caplog.text and "SECRET-token" not in caplog.text
    assert caplog.text.count(logs.REDACTED) == 4
    assert all(r.exc_info is None for r in caplog.records)
    logs.protect()  # forget the test secret
