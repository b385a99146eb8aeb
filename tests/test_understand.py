"""The question reader: every slot of a ``Query``, read from questions as users ask them."""

from __future__ import annotations

import pytest

from index.claims import Strength
from index.model import Why
from index.search import Engine
from index.understand import clean


def label(engine: Engine, keys: tuple[str, ...]) -> set[str]:
    return {engine.speakers[k].label for k in keys}


def test_a_person_and_a_topic(engine: Engine) -> None:
    q = engine.read("What did Medvedev say about money for the war?")
    assert label(engine, q.speakers) == {"Dmitry Medvedev"}
    assert "money" in q.topic_terms and "war" in q.topic_terms
    assert not q.countries and not q.about_speakers


@pytest.mark.parametrize(
    "question",
    ["What did others say about Putin's silence?", "Who commented on Putin?"],
)
def test_a_person_spoken_about_is_not_the_speaker(engine: Engine, question: str) -> None:
    q = engine.read(question)
    assert not q.speakers
    assert label(engine, q.about_speakers) == {"Vladimir Putin"}


def test_a_person_spoken_about_is_found_as_the_archive_spells_them(engine: Engine) -> None:
    """ "Zelensky" typed, "Zelenskyy" written: the mentions are found by the archive's spelling."""
    q = engine.read("What did others say about Zelensky?")
    assert q.about == ("Zelenskyy",)
    a = engine.ask(q.text)
    assert a.hits and all("Zelenskyy" in h.statement.text for h in a.hits)
    assert all(h.statement.speaker != "Volodymyr Zelenskyy" for h in a.hits)


def test_others_are_not_the_person_they_talk_about(engine: Engine) -> None:
    a = engine.ask("What did others say about Putin's silence?")
    assert a.hits and all(h.statement.speaker != "Vladimir Putin" for h in a.hits)
    assert all("Putin" in h.statement.text for h in a.hits)


@pytest.mark.parametrize(
    "question",
    [
        "What did others say about Putin's silence?",
        "Что другие говорили о молчании Путина?",
        "Що інші казали про мовчання Путіна?",
    ],
)
def test_someones_silence_is_told_by_negation(engine: Engine, question: str) -> None:
    """Silence has no words of its own in a quote ("knew nothing about", "chose not to"):
    quotes about the person that hold a negation lead."""
    q = engine.read(question)
    assert q.silence and "note" not in q.kinds
    told = engine.ranker.rank(q)
    assert engine.catalog.tells_absence(told.rows[:1])[0]
    assert "Putin" in engine.statements[int(told.rows[0])].text


def test_a_silence_word_without_a_person_still_asks_for_notes(engine: Engine) -> None:
    q = engine.read("Who was silent?")
    assert q.kinds == ("note",)


def test_a_possessive_before_a_speech_word_is_the_speaker(engine: Engine) -> None:
    q = engine.read("Peskov's latest statement")
    assert label(engine, q.speakers) == {"Dmitry Peskov"}
    assert q.time is not None and q.time.order == "newest"


def test_where_the_speakers_are_and_what_they_talk_about(engine: Engine) -> None:
    q = engine.read("What did Russian experts say about China?")
    assert q.countries == ("Russia",)
    assert "china" in q.topic_terms and not q.missing  # China has no heading: a topic, not a gap


def test_a_country_the_archive_lacks_is_absent(engine: Engine) -> None:
    q = engine.read("How did Germany react?")
    assert [(c.slot, c.text) for c in q.missing] == [("country", "Germany")]
    a = engine.ask("How did Germany react?")
    assert not a.confident and "Germany" in (a.message or "")
    assert a.why[0] == Why("absent", "country", "Germany")


@pytest.mark.parametrize(
    ("question", "region", "countries"),
    [
        ("Baltic reactions", "Baltic states", {"Estonia", "Latvia", "Lithuania"}),
        (
            "What did the Caucasus countries say?",
            "South Caucasus",
            {"Armenia", "Azerbaijan", "Georgia"},
        ),
        ("Что сказали в Прибалтике?", "Baltic states", {"Estonia", "Latvia", "Lithuania"}),
        (
            "Центральна Азія",
            "Central Asia",
            {"Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"},
        ),
    ],
)
def test_regions_in_three_languages(
    engine: Engine, question: str, region: str, countries: set[str]
) -> None:
    q = engine.read(question)
    assert q.regions == (region,) and set(q.countries) == countries
    a = engine.ask(question)
    assert {h.statement.country for h in a.hits} == countries


@pytest.mark.parametrize(
    ("question", "outlet"),
    [
        ("What did the Financial Times report?", "ft"),
        ("FT quotes", "ft"),
        ("What did the New York Times report?", "nyt"),
        ("Washington Post", "wp"),
        ("Интерфакс", "interfax"),
        ("RFE/RL", "rfe rl"),
    ],
)
def test_outlets_by_any_alias(engine: Engine, question: str, outlet: str) -> None:
    q = engine.read(question)
    assert outlet in q.outlets
    a = engine.ask(question)
    assert a.hits and all(
        any(
            outlet in " ".join(s.outlet.casefold().replace("/", " ").split())
            for s in h.statement.sources
        )
        for h in a.hits
    )


def test_an_outlet_is_what_cites_it_and_what_it_says_itself(archive: Engine) -> None:
    """Ukrainska Pravda is cited as a source in three compilations and quoted as a speaker
    in one ("Ukrainska Pravda, a Ukrainian news outlet, wrote ..."): its scope is both."""
    a = archive.ask("What did Ukrainska Pravda report?")
    cited = [h for h in a.hits if any(s.outlet == "Ukrainska Pravda" for s in h.statement.sources)]
    spoken = [h for h in a.hits if h.statement.speaker == "Ukrainska Pravda"]
    assert cited and spoken and len(cited) + len(spoken) >= len(a.hits)
    # An outlet quoted as nobody's speaker is its citations alone, as before.
    interfax = archive.ask("What did Interfax report?")
    assert all(h.statement.speaker != "Interfax" for h in interfax.hits)


def test_an_outlet_never_cited_finds_nothing(engine: Engine) -> None:
    a = engine.ask("What did Reuters report?")
    assert not a.hits and not a.confident


@pytest.mark.parametrize(
    ("question", "month_day", "start"),
    [
        ("statements from November 7", 1107, 0),
        ("what was said on Nov. 7?", 1107, 0),
        ("заявления 7 ноября", 1107, 0),
        ("statements from November 7, 2024", 0, 20241107),
    ],
)
def test_days(engine: Engine, question: str, month_day: int, start: int) -> None:
    q = engine.read(question)
    assert q.time is not None and q.time.month_day == month_day and q.time.start == start
    a = engine.ask(question)
    assert a.hits and all(
        any((s.date or "").endswith("-11-07") for s in h.statement.sources) for h in a.hits
    )


@pytest.mark.parametrize(
    ("question", "days", "period"),
    [
        ("what did russia say on feb 27-28", (227, 228), (0, 0)),
        ("заявления 27–28 февраля", (227, 228), (0, 0)),
        ("reactions from 16 - 17 July", (716, 717), (0, 0)),
        ("statements from February 27-28, 2031", (0, 0), (20310227, 20310228)),
        ("statements from July 16, 2029", (0, 0), (20290716, 20290716)),
        ("what was said on July 16", (716, 716), (0, 0)),
    ],
)
def test_a_range_of_days_is_one_period(
    archive: Engine, question: str, days: tuple[int, int], period: tuple[int, int]
) -> None:
    """Two days joined by a dash are one period, with or without a year; a lone day stays a
    day. Every answer is cited within the period."""
    q = archive.read(question)
    assert q.time is not None
    assert (q.time.month_day, q.time.month_day_end) == days
    assert (q.time.start, q.time.end) == period
    first, last = days if days[0] else (period[0] % 10000, period[1] % 10000)
    a = archive.ask(question)
    assert a.hits
    for h in a.hits:
        cited = {int(s.date[5:7] + s.date[8:10]) for s in h.statement.sources if s.date}
        assert any(first <= d <= last for d in cited), h.statement.sources


def test_a_time_word_beside_the_events_words_names_no_topic(archive: Engine) -> None:
    """A time word beside the event's word ("the day of the suspension"): the event is the scope
    and nothing is left to rank by, so all of Russia's statements of July 16 are listed."""
    question = "what did moscow say on july 16, the day of the suspension"
    q = archive.read(question)
    assert q.event_certain and not q.topic_terms and q.countries == ("Russia",)
    speakers = {h.statement.speaker for h in archive.ask(question).hits}
    assert {"Dmitry Peskov", "Yevgeny Stolyarov"} <= speakers


@pytest.mark.parametrize(
    "question",
    ["who said Europe may not be up to that task", "Who said the March was peaceful?"],
)
def test_may_and_march_alone_are_no_dates(engine: Engine, question: str) -> None:
    assert engine.read(question).time is None


def test_a_set_question_with_a_role(engine: Engine) -> None:
    q = engine.read("Which foreign ministers commented?")
    assert q.wants_set and q.roles
    a = engine.ask("Which foreign ministers commented?")
    assert a.hits and all("foreign minister" in (h.statement.role or "").lower() for h in a.hits)


def test_markets(engine: Engine) -> None:
    q = engine.read("How did markets react?")
    assert q.kinds == ("market",)
    a = engine.ask("Which assets rallied after the election?")
    assert a.hits and all(h.statement.kind == "market" for h in a.hits)


@pytest.mark.parametrize(
    "question",
    ["Who was silent?", "Кто промолчал?", "Какие страны промолчали?", "Які країни промовчали?"],
)
def test_a_silence_word_asks_for_the_no_remarks_notes(engine: Engine, question: str) -> None:
    """ "silent", "промолчали" need no negation beside them ("no remarks" does)."""
    assert engine.read(question).kinds == ("note",)
    a = engine.ask(question)
    assert a.confident and a.hits and all(h.statement.kind == "note" for h in a.hits)
    assert engine.read("What remarks did Peskov make?").kinds == ()


def test_make_is_no_topic(engine: Engine) -> None:
    """ "What remarks did X make?" asks for X's statements, not for ones about making."""
    q = engine.read("What statements did Zakharova make?")
    assert q.speakers and not q.topic_terms
    assert engine.ask("What statements did Zakharova make?").confident


def test_explain_prints_every_slot(engine: Engine) -> None:
    text = engine.read("What did Latvia say about NATO on November 6?").explain(engine.catalog)
    assert "countries: ('Latvia',)" in text and "topic_terms: ('nato',)" in text
    assert "'month_day': 1106" in text


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "?!", "…"])
def test_nothing_to_read(engine: Engine, raw: str) -> None:
    assert clean(raw) == ""
    assert engine.read(raw).text == ""
    assert engine.ask(raw).intent.kind == "empty"


# ---------------------------------------------------------------- over an archive


def test_events_by_their_title_words(archive: Engine) -> None:
    q = archive.read("What did Peskov say about the grain corridor suspension?")
    assert q.event_certain and len(q.events) == 1
    assert "2029" in q.events[0] and label(archive, q.speakers) == {"Dmitry Peskov"}
    a = archive.ask("What did Peskov say about the grain corridor suspension?")
    assert a.hits and {h.statement.document for h in a.hits} == set(q.events)


def test_two_events_each_named_by_words_of_their_own_are_both_the_scope(
    archive: Engine,
) -> None:
    question = (
        "What did Kazakhstan say about the grain corridor suspension and the Druzhba shutdown?"
    )
    q = archive.read(question)
    assert q.event_certain and len(q.events) == 2
    docs = {h.statement.document for h in archive.ask(question).hits}
    assert docs == set(q.events)
    # One event named, as before.
    assert len(archive.read("reactions to the grain corridor suspension").events) == 1


def test_a_year(archive: Engine) -> None:
    q = archive.read("What did Estonia say in 2031?")
    assert q.time is not None and (q.time.start, q.time.end) == (20310101, 20311231)
    a = archive.ask("What did Estonia say in 2031?")
    assert a.hits and {h.statement.document[:4] for h in a.hits} == {"2031"}
    assert {h.statement.country for h in a.hits} == {"Estonia"}


def test_a_year_with_no_compilation_is_dropped_and_said(archive: Engine) -> None:
    a = archive.ask("What did Latvia say in 2030?")
    assert not a.confident and a.why[0] == Why("dropped", "time", "2030")
    assert {h.statement.country for h in a.hits} == {"Latvia"}


def test_capitals_stand_for_their_countries(archive: Engine) -> None:
    q = archive.read("Kyiv's reaction to the grain deal")
    assert q.countries == ("Ukraine",)
    assert archive.read("What did Moscow say?").countries == ("Russia",)


def test_a_set_of_a_role_lists_every_holder_most_relevant_first(engine: Engine) -> None:
    a = engine.ask("Which presidents congratulated Trump?")
    assert a.intent.kind == "role" and len({h.statement.speaker for h in a.hits}) >= 8
    assert all("president" in (h.statement.role or "").lower() for h in a.hits)


def test_nothing_says_what_did_not_fit(archive: Engine) -> None:
    a = archive.ask("What did Kharaishvili say about the Druzhba pipeline shutdown?")
    assert not a.confident and "Druzhba" in (a.message or "")
    assert (a.message or "").startswith("Nothing in Druzhba pipeline shutdown fits.")


def test_a_latin_spelling_the_quotes_write_otherwise_is_no_unknown_name(archive: Engine) -> None:
    """Transliterations differ (ts/tz/c, w/v, French ch/ou): a name only mentioned in the quotes,
    asked in another spelling, is found as they write it instead of reported absent."""
    q = archive.read("Who talked about Solntsew?")
    assert "solntsev" in q.spelled
    assert not any(c.rule == "person.unknown" for c in q.claims)
    a = archive.ask("Who talked about Solntsew?")
    assert a.hits and "Solntsev" in a.hits[0].statement.text
    # A word the archive lacks in every spelling stays unknown.
    assert any(c.rule == "person.unknown" for c in archive.read("What did Macron say?").claims)


def test_a_market_word_is_read_only_in_the_forms_its_list_spells(engine: Engine) -> None:
    """ "securities" asks for market items; "security" (guarantees) does not, though the
    stemmer makes one of the other."""
    assert engine.read("Which securities rallied?").kinds == ("market",)
    assert engine.read("security guarantees for Ukraine").kinds == ()
    assert engine.read("Who shared Zelenskyy's hopes?").kinds == ()


def test_a_set_of_traded_things_is_market_items_ranked_by_them(archive: Engine) -> None:
    """A set whose noun is a traded thing ("Which currencies fell?", market_words instruments):
    the set is market items, and the noun stays a topic word that ranks them. A traded
    thing that is only the topic of a set of people ("which ministers talked about the
    ruble") keeps its people."""
    q = archive.read("which currencies fell")
    assert q.kinds == ("market",) and "currencies" in q.topic_terms
    assert "kind.market-set" in {c.rule for c in q.claims}
    hits = archive.ask("which currencies fell").hits
    assert {h.statement.kind for h in hits} == {"market"}
    top = " ".join(h.statement.text for h in hits[:5])
    assert all(word in top for word in ("tenge fell", "hryvnia weakened", "ruble weakened"))
    assert archive.read("which ministers talked about the ruble").kinds == ()


def test_a_seat_of_power_in_cyrillic_names_its_holder(engine: Engine) -> None:
    """ "Кремля" is the Kremlin, whose spokesman is Putin's press secretary, in Russian and
    Ukrainian as in English."""
    for question in ("Що казав прес-секретар Кремля?", "Что говорил пресс-секретарь Кремля?"):
        q = engine.read(question)
        assert q.roles == ("Vladimir Putin’s press secretary",), question


def test_every_negated_form_asks_for_the_notes(engine: Engine) -> None:
    """One list of negations (vocabulary.json) for every reader: "haven't commented" and
    "didn't congratulate" ask who stayed silent, as "did not comment" does."""
    for question in (
        "Which Central Asian leaders haven't commented?",
        "who hasn't reacted yet",
        "Which countries didn't congratulate Trump?",
        "кто так и не поздравил Трампа",
    ):
        q = engine.read(question)
        assert q.kinds == ("note",), question
        assert engine.ask(question).hits[0].statement.kind == "note", question
    # Asked of someone, the same words are what that person did not do, not the notes.
    assert engine.read("Why didn't Putin congratulate Trump?").kinds == ()


def test_a_cyrillic_role_run_needs_a_word_the_dictionaries_read(engine: Engine) -> None:
    """Words no role dictionary knows ("колишні", former) before a country are no role of
    their own: the role is the run after them that a dictionary reads ("міністри")."""
    q = engine.read("Які колишні українські міністри висловилися?")
    assert "a former Ukrainian economy minister" in q.roles


def test_the_result_of_the_event_is_no_topic(engine: Engine) -> None:
    """ "the result", "the outcome", "итоги": what every statement reacts to. Asked of a
    country, they ask for all its statements, not those that hold the word."""
    latvia = {s.id for s in engine.statements if s.country == "Latvia"}
    for question in ("How did Latvia react to the election outcome?", "Латвия об итогах выборов"):
        a = engine.ask(question)
        assert {h.statement.id for h in a.hits} == latvia, question


def test_ministries_by_their_russian_and_ukrainian_short_names(archive: Engine) -> None:
    """ "Минобороны", "Міноборони": the defence ministry, as "МИД" is the foreign one."""
    for question in ("Что заявляло Минобороны России?", "Що заявляло Міноборони Росії?"):
        q = archive.read(question)
        assert q.roles == ("Russian Defense Ministry",), question


def test_a_date_something_began_on_only_leans(engine: Engine) -> None:
    """ "since 6 November", "с 6 ноября": when something began, not the day it was said; the
    date leans the ranking and never narrows it. "statements from 6 November" still does."""
    for question in ("What has changed since 6 November?", "Что изменилось с 6 ноября?"):
        (claim,) = [c for c in engine.read(question).claims if c.slot == "time"]
        assert claim.strength == Strength.LATENT, question
    (claim,) = [c for c in engine.read("statements from 6 November").claims if c.slot == "time"]
    assert claim.strength == Strength.LIKELY


def test_why_someone_did_not_act_is_asked_of_others(engine: Engine) -> None:
    """ "Why didn't Putin congratulate Trump?", "Почему Путин не поздравил Трампа?": Putin is
    spoken of (forms.json about.why-not-*), and the answer is what others said of it, not
    his own words and not the countries that stayed silent."""
    for question in ("Why didn't Putin congratulate Trump?", "Почему Путин не поздравил Трампа?"):
        q = engine.read(question)
        assert q.about_speakers and not q.speakers and q.kinds == (), question
        top = engine.ask(question).hits[0].statement
        assert top.speaker != "Vladimir Putin" and top.kind != "note", question
