"""Rendering: escaping, paging under Telegram's limits, callback data, suggestions as buttons."""

from __future__ import annotations

import html

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.render import CALLBACK_LIMIT, MESSAGE_LIMIT, Reply, tg_len
from index.model import Answer, Hit, Hits, Intent, Source, Statement, Suggestion
from tests.bot_fakes import STATEMENTS
from tests.fakebotapi import parse_html

NASTY = "<b>bold</b> & <script>alert('x')</script> \"quoted\" &amp; </blockquote> <i"


def statement(**overrides: object) -> Statement:
    base: dict[str, object] = {
        "id": "s1",
        "document": "doc",
        "country": "Georgia",
        "speaker": "Irakli Kobakhidze",
        "role": "prime minister",
        "kind": "person",
        "text": "We are confident.",
        "sources": (Source("Interfax", "2024-11-06", "Interfax, 11.06.24"),),
    }
    base.update(overrides)
    return Statement(**base)  # type: ignore[arg-type]


def telegram_text(message_html: str) -> str:
    """What the user sees, parsed the way the Bot API parses HTML (raises on bad markup)."""
    text, _entities = parse_html(message_html)
    return text


def all_buttons(reply: Reply) -> list[render.Button]:
    return [b for row in reply.buttons for b in row]


# --- escaping ---------------------------------------------------------------------------------


def test_data_that_looks_like_html_is_shown_as_text() -> None:
    st_ = statement(
        speaker="Maria <Zakharova> & Co",
        role='Foreign Ministry "spokeswoman" <i>',
        text=NASTY,
        sources=(Source("Meduza & <Friends>", "2024-11-06", "Meduza & <Friends>, 11.06.24"),),
    )
    out = render.statement_html(st_)
    seen = telegram_text(out)
    assert "Maria <Zakharova> & Co" in seen
    assert 'Foreign Ministry "spokeswoman" <i>' in seen
    assert NASTY in seen
    assert "Meduza & <Friends>, 11.06.24" in seen
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_plain_text_for_the_console_round_trips_quotes_and_ampersands() -> None:
    out = render.statement_html(statement(text=NASTY, speaker="A & B", role="'role'"))
    plain = render.to_plain(out)
    assert NASTY in plain
    assert "A & B, 'role'" in plain
    assert "<b>" not in plain.replace(NASTY, "")


def test_sources_are_deduplicated_and_joined() -> None:
    srcs = (
        Source("Istories", "2024-11-06", "Istories, 11.06.24"),
        Source("FT", "2024-11-06", "FT, 11.06.24"),
        Source("FT", "2024-11-06", "FT, 11.06.24"),
        Source("FT", "2024-11-06", "FT 11.06.24"),
    )
    out = telegram_text(render.statement_html(statement(sources=srcs)))
    assert out.endswith("— Istories, 11.06.24 · FT, 11.06.24")


def test_a_statement_without_sources_says_so() -> None:
    assert "no source cited" in render.statement_html(statement(sources=()))


def test_country_answers_name_the_country_once_with_its_count() -> None:
    hits = tuple(Hit(s, 1.0) for s in STATEMENTS if s.country == "Georgia")
    answer = Answer("Georgia", Intent("country", "Georgia", "c:Georgia"), hits, confident=True)
    text = telegram_text(render.render_answer(answer).html)
    assert text.splitlines()[0].endswith("Georgia — 3 statements")
    assert "· Georgia" not in text  # the header already says which country


def test_person_answer_header_and_quotes() -> None:
    hits = tuple(Hit(s, 1.0) for s in STATEMENTS if s.speaker == "Dmitry Peskov")
    answer = Answer("Peskov", Intent("person", "Dmitry Peskov", "s:x"), hits, confident=True)
    text = telegram_text(render.render_answer(answer).html)
    assert text.startswith("Dmitry Peskov — 2 statements")
    assert "— TASS, 11.06.24" in text and "Russia" in text


def test_a_no_remarks_country_says_so() -> None:
    note = next(s for s in STATEMENTS if s.kind == "note")
    answer = Answer("tj", Intent("country", "Tajikistan", "c:Tajikistan"), (Hit(note, 1.0),), True)
    text = telegram_text(render.render_answer(answer).html)
    assert "Tajikistan — no remarks" in text
    assert note.text in text


def test_low_confidence_answers_say_so() -> None:
    answer = Answer("peace", Intent("topic", None, "q:peace"), (Hit(STATEMENTS[0], 0.2),))
    text = telegram_text(render.render_answer(answer).html)
    assert text.startswith("Top matches for “peace”")
    assert "not sure" in text


def test_no_results_offer_suggestions_as_buttons() -> None:
    answer = Answer(
        "Gorgia",
        Intent("none", None, "q:Gorgia"),
        (),
        suggestions=(Suggestion("Georgia", "c:Georgia"), Suggestion("Peskov", "s:abc")),
        message="No country called “Gorgia” in the compilations.",
    )
    reply = render.render_answer(answer)
    assert "Did you mean" in reply.html
    assert [(b.text, b.data) for b in all_buttons(reply)] == [
        ("Georgia", "k|c:Georgia"),
        ("Peskov", "k|s:abc"),
    ]


def test_no_results_without_suggestions_still_helps() -> None:
    answer = Answer("zzz", Intent("none", None, "q:zzz"), (), message=None)
    text = telegram_text(render.render_answer(answer).html)
    assert "I found nothing for “zzz”" in text and "/countries" in text


# --- paging and limits ------------------------------------------------------------------------


def test_long_answers_are_paged_with_working_navigation() -> None:
    many = tuple(Hit(statement(id=f"s{i}", text="word " * 300), 1.0) for i in range(12))
    answer = Answer("Georgia", Intent("country", "Georgia", "c:Georgia"), many, confident=True)
    pages = render.answer_pages(answer)
    assert len(pages) > 1
    first, last = render.render_answer(answer, 0), render.render_answer(answer, len(pages) - 1)
    assert [b.text for b in all_buttons(first)] == ["Next ›", "🔔 Follow Georgia"]
    assert all_buttons(first)[0].data == "p|1|c:Georgia"
    assert all_buttons(first)[1].data == "fa|c:Georgia"  # a country answer can be followed
    assert [b.text for b in all_buttons(last)] == ["‹ Prev", "🔔 Follow Georgia"]
    assert f"Page {len(pages)} of {len(pages)}" in last.html
    # every statement is on exactly one page
    assert sum(p.count("<blockquote>") for p in pages) == 12


def test_a_huge_statement_is_cut_with_an_ellipsis() -> None:
    huge = statement(text="&<" * 5000 + "end")
    answer = Answer("x", Intent("person", "X", "s:x"), (Hit(huge, 1.0),), confident=True)
    reply = render.render_answer(answer)
    assert tg_len(reply.html) <= MESSAGE_LIMIT
    text = telegram_text(reply.html)
    assert "…" in text and "end" not in text and "— Interfax, 11.06.24" in text


sources_st = st.lists(
    st.builds(
        lambda outlet, date: Source(outlet, date, f"{outlet}, 11.06.24"),
        st.text(min_size=1, max_size=30),
        st.sampled_from(["2024-11-06", None]),
    ),
    max_size=4,
)
text_st = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="<>&\"'/ab ", max_size=300),
    # huge statements: a short random pattern repeated (cheap to generate, 1-20k characters)
    st.tuples(
        st.text(alphabet="<>&😀👨‍👩‍👧 Жж\nab", min_size=1, max_size=20), st.integers(50, 1000)
    ).map(lambda t: t[0] * t[1]),
)
statement_st = st.builds(
    Statement,
    id=st.text(alphabet="0123456789abcdef", min_size=1, max_size=80),
    document=st.just("doc"),
    country=st.text(max_size=40),
    speaker=st.one_of(st.none(), st.text(max_size=300)),
    role=st.one_of(st.none(), st.text(max_size=600)),
    kind=st.sampled_from(["person", "organisation", "unnamed", "market", "event", "note"]),
    text=text_st,
    sources=sources_st.map(tuple),
)
key_st = st.one_of(
    st.just(""), st.text(max_size=48).map(lambda s: s.encode()[:48].decode("utf-8", "ignore"))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    statements=st.lists(statement_st, min_size=0, max_size=10),
    kind=st.sampled_from(["country", "person", "role", "topic", "none", "empty"]),
    value=st.one_of(st.none(), st.text(max_size=60)),
    query=st.one_of(st.text(max_size=100), st.text(alphabet="Жж<&", max_size=600)),
    key=key_st,
    confident=st.booleans(),
    suggestions=st.lists(
        st.builds(Suggestion, st.text(max_size=80), key_st.filter(bool)), max_size=10
    ),
)
def test_every_page_is_valid_telegram_html_within_limits(
    statements: list[Statement],
    kind: str,
    value: str | None,
    query: str,
    key: str,
    confident: bool,
    suggestions: list[Suggestion],
) -> None:
    answer = Answer(
        query,
        Intent(kind, value, key),
        tuple(Hit(s, 1.0) for s in statements),
        confident,
        tuple(suggestions),
        message=None,
    )
    pages = max(1, len(render.answer_pages(answer)) if statements else 1)
    shown = 0
    for page in range(pages):
        reply = render.render_answer(answer, page)
        assert tg_len(reply.html) <= MESSAGE_LIMIT
        text = telegram_text(reply.html)  # balanced tags, valid entities
        assert text
        shown += reply.html.count("<blockquote>")
        for button in all_buttons(reply):
            assert 1 <= len(button.data.encode()) <= CALLBACK_LIMIT
            assert button.text
    assert shown == sum(1 for s in statements if s.kind != "note")


@settings(deadline=None)  # timing belongs in bench/, not tests: a busy CI box must not fail this
@given(st.text(max_size=200), st.integers(min_value=0, max_value=999))
def test_callback_data_fits_64_bytes_for_any_query(query: str, page: int) -> None:
    cyrillic = "Что сказал Песков о выборах в США? " * 5 + query
    answer = Answer(cyrillic, Intent("topic", None, ""), (Hit(STATEMENTS[0], 1.0),) * 40)
    pages = render.answer_pages(answer)
    for p in {0, min(page, len(pages) - 1)}:
        for button in all_buttons(render.render_answer(answer, p)):
            data = button.data.encode()
            assert len(data) <= CALLBACK_LIMIT
            data.decode("utf-8")  # never cut inside a character
            assert button.data.startswith("q|")


def test_callback_helper_cuts_at_a_character_boundary() -> None:
    data = render.callback("p|12|", "ж" * 40)
    assert len(data.encode()) <= CALLBACK_LIMIT
    assert data == "p|12|" + "ж" * 29


@settings(deadline=None)
@given(st.text(max_size=5000), st.integers(min_value=1, max_value=400))
def test_clip_escaped_never_splits_an_entity(text: str, budget: int) -> None:
    out = render.clip_escaped(text, budget)
    assert tg_len(out) <= budget or out == ""
    plain = html.unescape(out)
    assert plain.removesuffix("…").rstrip() in text or not plain


def test_inline_entries_are_plain_titles_and_html_messages() -> None:
    st_ = statement(speaker="A & <B>", text=NASTY)
    entry = render.inline_entry(st_)
    assert entry.id == "s1"
    assert entry.title == "A & <B> — Georgia"  # titles are plain text, not HTML
    assert NASTY[:40] in entry.description
    assert NASTY in telegram_text(entry.html)
    long_id = render.inline_entry(statement(id="x" * 100)).id
    assert len(long_id.encode()) <= 64


def test_countries_keyboard_has_one_button_per_country() -> None:
    reply = render.render_countries([("Georgia", 3), ("Tajikistan", 0), ("Кыргызстан", 1)])
    assert [b.data for b in all_buttons(reply)] == ["c|Georgia", "c|Tajikistan", "c|Кыргызстан"]
    text = telegram_text(reply.html)
    assert "Tajikistan — no remarks" in text and "Georgia — 3 statements" in text


def test_a_huge_answer_pages_through_the_first_200_and_says_how_many_more() -> None:
    first = STATEMENTS[0]
    answer = Answer(
        "Azerbaijan",
        Intent("country", first.country, "c:" + first.country),
        Hits([first] * 5000, list(range(5000)), [1.0] * 5000),
        confident=True,
    )
    pages = render.answer_pages(answer)
    assert len(pages) == render.MAX_SHOWN // render.PAGE_SIZE
    assert "4,800 more" in pages[-1] and "5,000 statements" in pages[0]
