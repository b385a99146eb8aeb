"""The bot's languages: choosing one, the catalogs (complete, current, well-formed), the text
they give, the stored choice, the console's --lang and the chart."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot import chart, commands, i18n, render
from bot.__main__ import parse_args
from bot.commands import Chat
from bot.console import Console
from bot.storage import Follow, Store
from index.model import Answer, Intent, Why
from tests.bot_fakes import FakeEngine

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "count": (1, 2)}  # as `make messages` extracts
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


# --- choosing the language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("ru", "ru"),
        ("uk", "uk"),
        ("en", "en"),
        ("ru-RU", "ru"),
        ("uk-UA", "uk"),
        ("RU", "ru"),
        ("uk_UA", "uk"),
        ("en-GB", "en"),
        ("be", "en"),  # Belarusian: not spoken, so English (not Russian)
        ("pt-br", "en"),
        ("", "en"),
        (None, "en"),
        ("ukr", "en"),  # a three-letter code is not Ukrainian's two-letter one
    ],
)
def test_telegram_language_codes_map_to_a_language_the_bot_speaks(
    code: str | None, language: str
) -> None:
    assert i18n.resolve(code) == language


@pytest.mark.parametrize(
    ("typed", "language"),
    [("ru", "ru"), (" UK ", "uk"), ("Русский", "ru"), ("українська", "uk"), ("English", "en")],
)
def test_language_command_words(typed: str, language: str) -> None:
    assert i18n.parse(typed) == language


def test_unknown_language_words_are_refused() -> None:
    assert i18n.parse("klingon") is None
    assert i18n.parse("") is None


def test_the_language_is_scoped_to_its_block() -> None:
    assert i18n.current() == "en"
    with i18n.use("uk"):
        assert i18n.current() == "uk"
        with i18n.use("xx"):  # unknown: English, never an error
            assert i18n.current() == "en"
        assert i18n.current() == "uk"
    assert i18n.current() == "en"


# --- the catalogs -----------------------------------------------------------------------------


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> (singular, plural?) as pybabel extracts them from bot/ now."""
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms
    return found


@pytest.fixture(scope="module")
def code_messages() -> dict[str, tuple[str, ...]]:
    return extracted()


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_message_in_the_code_is_translated(
    language: str, code_messages: dict[str, tuple[str, ...]]
) -> None:
    """Fails when a .po is out of date: run `make messages`, then translate what it lists."""
    with i18n.catalog_path(language).open("rb") as f:
        catalog = read_po(f, locale=language)
    assert catalog.num_plurals == 3
    assert catalog.plural_expr.startswith("n % 10 == 1 && n % 100 != 11 ? 0")
    entries = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    missing = sorted(set(code_messages) - set(entries))
    assert not missing, f"{language}: not in the catalog (make messages): {missing}"
    stale = sorted(set(entries) - set(code_messages))
    assert not stale, f"{language}: in the catalog but no longer in the code: {stale}"
    for msgid, forms in code_messages.items():
        m = entries[msgid]
        assert not m.fuzzy, f"{language}: fuzzy: {msgid!r}"
        strings = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        assert len(forms) == (2 if len(strings) > 1 else 1), f"{language}: plural? {msgid!r}"
        if len(forms) == 2:
            assert len(strings) == 3, f"{language}: three plural forms for {msgid!r}"
        for s in strings:
            assert s.strip(), f"{language}: untranslated: {msgid!r}"
            assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(msgid)), (
                f"{language}: placeholders differ in {msgid!r}: {s!r}"
            )
            assert s.count("<") == s.count(">"), f"{language}: broken tag in {s!r}"
            assert sorted(re.findall(r"</?[a-z]+>", s)) == sorted(re.findall(r"</?[a-z]+>", msgid))
    assert not [m.id for m in catalog.obsolete.values()]


def test_the_catalogs_are_compiled_in_memory() -> None:
    i18n.load_all()
    with i18n.use("ru"):
        assert i18n._("Top matches") == "Лучшие совпадения"
    with i18n.use("uk"):
        assert i18n._("Top matches") == "Найкращі збіги"
    assert i18n._("Top matches") == "Top matches"


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("en", {1: "1 statement", 3: "3 statements", 5: "5 statements", 21: "21 statements"}),
        (
            "ru",
            {
                1: "1 высказывание",
                3: "3 высказывания",
                5: "5 высказываний",
                11: "11 высказываний",
                21: "21 высказывание",
                22: "22 высказывания",
            },
        ),
        (
            "uk",
            {
                1: "1 висловлювання",
                4: "4 висловлювання",
                12: "12 висловлювань",
                101: "101 висловлювання",
            },
        ),
    ],
)
def test_plural_forms_follow_the_language(language: str, counts: dict[int, str]) -> None:
    with i18n.use(language):
        for n, text in counts.items():
            assert render.statements_count(n) == text


def test_numbers_dates_and_countries_in_the_language() -> None:
    with i18n.use("ru"):
        assert i18n.date("2024-11-06") == "6 нояб. 2024"
        assert i18n.country("Georgia") == "Грузия"
        assert i18n.country("United States") == "Соединенные Штаты"
        assert i18n.place("Moscow") == "Moscow"  # a capital in a scope is not its country
        assert i18n.country("Atlantis") == "Atlantis"
    with i18n.use("uk"):
        assert i18n.country("Russia") == "Росія"
        assert i18n.number(1234) == "1\xa0234"
    assert i18n.date("2024-11-06") == "6 Nov 2024"
    assert i18n.country("Georgia") == "Georgia"


# --- what users read --------------------------------------------------------------------------


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def test_a_russian_answer_is_russian_around_verbatim_english_quotes(engine: FakeEngine) -> None:
    with i18n.use("ru"):
        reply = commands.country(engine, "Georgia", Chat())
    text = reply.plain
    assert text.splitlines()[0] == "🇬🇪 Грузия — 3 высказывания"
    assert "Цитаты приводятся дословно, на английском." in text
    assert "I am confident that President Trump’s leadership will promote peace." in text
    labels = [b.text for row in reply.buttons for b in row]
    assert "🔔 Следить: Грузия" in labels
    # The button still carries the archive's English name (any replica, any language).
    assert all(len(b.data.encode()) <= render.CALLBACK_LIMIT for row in reply.buttons for b in row)
    assert any(b.data == "fa|c:Georgia" for row in reply.buttons for b in row)


def test_ukrainian_help_and_country_list(engine: FakeEngine) -> None:
    with i18n.use("uk"):
        help_text = commands.help_text(engine, "", Chat(bot_username="ReactBot")).plain
        countries = commands.countries(engine)
    assert help_text.startswith("Просто напишіть запитання")
    assert "/language — мова: English, Русский або Українська" in help_text
    assert "@ReactBot Зеленський" in help_text
    assert "Грузія — 3 висловлювання" in countries.plain
    assert any(
        b.text.startswith("🇬🇪 Грузія") and b.data == "c|Georgia" for b in countries.buttons[0]
    )


def test_the_engines_reasons_are_translated() -> None:
    cases = {
        Why("absent", "country", "Germany"): "Германия: в архиве нет высказываний оттуда.",
        Why("absent", "region", "Balkans"): "Balkans: в архиве нет высказываний оттуда.",
        Why("no_country", name="Atlantis"): "В подборках нет страны «Atlantis».",
        Why("no_person", name="Smith"): "В подборках никто по имени «Smith» не цитируется.",
        Why("nothing"): "В подборках нет ничего достаточно близкого.",
        Why("scope", name="Peskov · Georgia · 2031"): (
            "В архиве нет ничего, что подходит под всё сразу: Peskov · Грузия · 2031."
        ),
        Why("dropped", "time", "1999"): "Ничего не датировано 1999.",
    }
    with i18n.use("ru"):
        for why, russian in cases.items():
            assert render.why_text([why]) == russian
    assert render.why_text([Why("nothing", "scope")]) == "Nothing fits."


def test_every_reason_the_engine_gives_is_in_the_table() -> None:
    """Every code the engine (index/) explains an answer with has the bot's sentence, and it
    is translated: a new code there shows up here."""
    from index import answer as engine_answers

    assert set(engine_answers.SENTENCES) == set(render.WHY_TEXT)
    for lang in ("ru", "uk"):
        with i18n.use(lang):
            for code, slot in engine_answers.SENTENCES:
                why = Why(code, slot, "Georgia")
                with i18n.use("en"):
                    english = render.why_text([why])
                assert english == engine_answers.sentence(why)
                assert render.why_text([why]) != english, (lang, code, slot)


def test_an_empty_answer_in_ukrainian(engine: FakeEngine) -> None:
    with i18n.use("uk"):
        reply = render.render_answer(Answer("Атлантида", Intent("none"), message=None))
    assert reply.plain.startswith("За запитом «Атлантида» нічого не знайшлося.")


def test_slow_down_and_apology_in_russian() -> None:
    with i18n.use("ru"):
        assert render.slow_down(21, 3.2) == (
            "Вы спрашиваете быстрее, чем я успеваю отвечать (21 вопрос в минуту). "
            "Попробуйте снова через 3 с."
        )
        assert i18n._(render.APOLOGY).startswith("Извините")


def test_a_digest_in_ukrainian(engine: FakeEngine) -> None:
    pairs = [(st, "Georgia") for st in engine.statements[:2]]
    with i18n.use("uk"):
        reply = render.render_digest(7, pairs, engine.documents())
    assert reply is not None
    assert reply.plain.startswith("🔔 2 нові цитати за вашими підписками")


def test_stats_chart_and_caption_in_russian(engine: FakeEngine) -> None:
    english = commands.stats(engine)
    with i18n.use("ru"):
        russian = commands.stats(engine)
    assert "9 высказываний из 4 стран (и ещё 1 — без комментариев)" in russian.plain
    assert russian.photo is not None and russian.photo.startswith(b"\x89PNG")
    assert russian.photo != english.photo
    assert chart.bar_chart_png((("Georgia", 3),), "ru") != chart.bar_chart_png((("Georgia", 3),))


# --- the stored choice ------------------------------------------------------------------------


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url)
    yield s
    s.close()


def test_a_chosen_language_is_stored_and_wins_over_the_apps(store: Store) -> None:
    assert store.language_of(1) is None
    store.set_language(1, "ru", chosen=False)  # the app's, seen when following
    assert store.language_of(1) == ("ru", False)
    store.set_language(1, "uk", chosen=True)  # /language
    store.set_language(1, "en", chosen=False)  # a later follow from an English app
    assert store.language_of(1) == ("uk", True)
    store.set_language(1, "en", chosen=True)
    assert store.language_of(1) == ("en", True)
    assert store.about(1)["language"] == 1


def test_forget_deletes_the_language(store: Store) -> None:
    store.set_language(5, "uk", chosen=True)
    store.follow(5, Follow("country", "Georgia", "Georgia"))
    gone = store.forget(5)
    assert gone["language"] == 1 and gone["follows"] == 1
    assert store.language_of(5) is None
    assert store.about(5) == {"follows": 0, "digests": 0, "items": 0, "language": 0}


# --- the console ------------------------------------------------------------------------------


def test_console_speaks_the_language_it_was_started_in(engine: FakeEngine) -> None:
    out = io.StringIO()
    console = Console(engine, out, language="uk")
    console.show(console.handle("/country Georgia"))
    assert "🇬🇪 Грузія — 3 висловлювання" in out.getvalue()
    console.show(console.handle("/language ru"))
    console.show(console.handle("/countries"))
    text = out.getvalue()
    assert "Готово: язык бота — Русский." in text
    assert "Грузия — 3 высказывания" in text
    assert i18n.current() == "en"  # the console's language does not leak out of it


def test_console_language_buttons(engine: FakeEngine) -> None:
    out = io.StringIO()
    console = Console(engine, out)
    console.show(console.handle("/language"))
    assert "[1] English  [2] Русский  [3] Українська" in out.getvalue()
    console.show(console.handle("3"))
    assert "Готово: мова бота — Українська." in out.getvalue()
    assert console.language == "uk"


def test_lang_flag() -> None:
    assert parse_args(["--lang", "uk"]).lang == "uk"
    assert parse_args([]).lang == "en"
    with pytest.raises(SystemExit):
        parse_args(["--lang", "de"])
