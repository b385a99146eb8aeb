"""Properties of the scope over every eval set: an answerable question never gets an empty
answer, an unanswerable one never a confident one, and an answer that dropped a claim says
which. Plus the relaxing itself on questions of each kind (a bare number, a month alone, a
place spoken of, a date the archive lacks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index import config
from index.claims import Strength
from index.search import Engine

EVAL = config.ROOT / "data" / "eval"
REAL_SETS = (
    "questions.jsonl",
    "compound.jsonl",
    "questions_ru.jsonl",
    "questions_uk.jsonl",
    "blind_real.jsonl",
    "blind2_real.jsonl",
    "blind3_real.jsonl",
    "dev_real.jsonl",
    "dev3_real.jsonl",
)
ARCHIVE_SETS = (
    "archive.jsonl",
    "archive_ru.jsonl",
    "archive_uk.jsonl",
    "blind_archive.jsonl",
    "blind2_archive.jsonl",
    "blind3_archive.jsonl",
    "dev_archive.jsonl",
    "dev3_archive.jsonl",
)


def _questions(names: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for name in names:
        for line in Path(EVAL / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def _check(engine: Engine, questions: list[dict[str, Any]]) -> list[str]:
    bad = []
    for item in questions:
        question = item["question"]
        answer = engine.ask(question)
        if item["match"] == "none":
            if answer.hits and answer.confident:
                bad.append(f"confident answer to an unanswerable question: {question!r}")
            continue
        if not answer.hits:
            bad.append(f"empty answer: {question!r} ({answer.message})")
        ranked = engine.ranker.rank(engine.read(question))
        told = {(w.code, w.name) for w in answer.why}
        for claim in ranked.dropped:
            if not any(code in ("absent", "dropped") for code, _ in told):
                bad.append(f"dropped {claim.slot} {claim.text!r} unsaid: {question!r}")
            if answer.confident:
                bad.append(f"confident after dropping {claim.text!r}: {question!r}")
    return bad


def test_no_answerable_question_of_the_real_sets_gets_an_empty_answer(engine: Engine) -> None:
    assert _check(engine, _questions(REAL_SETS)) == []


def test_no_answerable_question_of_the_archive_sets_gets_an_empty_answer(
    archive: Engine,
) -> None:
    assert _check(archive, _questions(ARCHIVE_SETS)) == []


def test_a_bare_number_is_a_latent_year_that_never_filters(engine: Engine) -> None:
    q = engine.read("Who mentioned the 2025 budget?")
    (claim,) = [c for c in q.claims if c.slot == "time"]
    assert claim.strength == Strength.LATENT and q.time is None
    assert "2025" in q.topic_terms


def test_a_year_nothing_is_dated_is_dropped_and_said(engine: Engine) -> None:
    a = engine.ask("price of the ruble in 1999")
    assert a.hits and not a.confident
    assert "ruble" in a.hits[0].statement.text
    assert a.why[0].code == "dropped" and a.why[0].name == "1999"
    assert a.message and a.message.startswith("Nothing dated 1999.")


def test_a_month_alone_is_latent_and_no_name(engine: Engine) -> None:
    q = engine.read("Georgia March ruble")
    assert not q.missing
    assert [c.strength for c in q.claims if c.slot == "time"] in ([], [Strength.LATENT])
    assert engine.ask("Georgia March ruble").hits


def test_a_country_after_who_and_a_verb_is_spoken_of(engine: Engine) -> None:
    for question in ("Who criticised America?", "who mentioned US aid"):
        q = engine.read(question)
        assert not q.countries and not q.missing, question
        assert engine.ask(question).hits, question


def test_someones_silence_is_quotes_not_the_no_remarks_notes(engine: Engine) -> None:
    a = engine.ask("Putin's silence")
    assert a.hits and all(h.statement.kind != "note" for h in a.hits)
    b = engine.ask("Tajikistan's silence")
    assert b.hits[0].statement.kind == "note"


def test_a_country_the_archive_lacks_as_the_whole_question_says_so(engine: Engine) -> None:
    a = engine.ask("What did Germany say?")
    assert not a.confident and a.why[0].code == "absent"


def test_a_certain_speaker_keeps_filtering(engine: Engine) -> None:
    q = engine.read("What did Peskov say?")
    assert [(c.slot, c.strength) for c in q.claims] == [("speaker", Strength.CERTAIN)]
    a = engine.ask("What did Peskov say?")
    assert a.confident and {h.statement.speaker for h in a.hits} == {"Dmitry Peskov"}


def test_claims_show_in_the_json_reading(engine: Engine) -> None:
    reading = engine.ask("What did Latvia say about NATO in 2024?").reading or {}
    rules = {c["rule"] for c in reading["claims"]}
    assert "time.year-after-preposition" in rules
    assert all(c["strength"] in ("certain", "likely", "latent") for c in reading["claims"])


def test_a_country_command_for_a_country_only_spoken_of_shows_what_speaks_of_it(
    engine: Engine,
) -> None:
    a = engine.country("China")
    assert a.hits and not a.confident
    assert [w.code for w in a.why] == ["no_country", "closest"]
    assert all("China" in h.statement.text for h in a.hits)


def test_a_persons_statements_about_a_place_lead_with_those_that_name_it(engine: Engine) -> None:
    a = engine.ask("What did Peskov say about Ukraine?")
    assert {h.statement.speaker for h in a.hits} == {"Dmitry Peskov"}
    assert "Ukraine" in a.hits[0].statement.text
    assert len(a.hits) == len(engine.ask("What did Peskov say?").hits)  # all of them, ordered


def test_leaders_are_heads_and_officials_anyone_in_every_language(engine: Engine) -> None:
    """ "leaders", "лідерів" are the presidents and prime ministers (roles.json people_roles)
    in every language; "officials", "чиновники" are anyone."""
    heads = {"president of Latvia", "president of Lithuania", "prime minister of Estonia"}
    for question in ("Which Baltic leaders spoke?", "Хто з балтійських лідерів висловився?"):
        q = engine.read(question)
        assert set(q.roles) == heads and q.regions == ("Baltic states",), question
    for question in ("Which Baltic officials spoke?", "Какие чиновники Балтии высказались?"):
        q = engine.read(question)
        assert not q.roles and q.regions == ("Baltic states",), question


def test_a_topic_follow_never_pushes_from_outside_the_new_compilations(archive: Engine) -> None:
    """The new compilations are a certain scope: a name the topic holds that they lack is
    what gets dropped, never they."""
    from index.relevance import topic_scores

    grain = next(d.id for d in archive.documents() if "grain" in d.title.lower())
    for topic in ("Medvedev", "Zakharova", "Peskov", "sanctions"):
        for st, _ in topic_scores(archive, topic, [grain]):
            assert st.document == grain, (topic, st.id)


def test_a_name_only_spoken_of_is_said_to_be_unquoted(engine: Engine) -> None:
    """ "What did Kamala Harris say?": the compilation quotes others on her, never her. The
    answer says so and shows the quotes that speak of her, unsure."""
    question = "What did Kamala Harris say?"
    (claim,) = [c for c in engine.read(question).claims if c.slot == "speaker"]
    assert claim.missing and claim.rule == "person.unquoted"
    a = engine.ask(question)
    assert a.hits and not a.confident
    assert "Harris" in a.hits[0].statement.text
    assert a.why[0].code == "absent" and a.why[0].slot == "speaker"
    assert a.message and a.message.startswith("Kamala Harris is not quoted in the archive.")
    # Someone quoted is read as ever.
    assert not any(c.missing for c in engine.read("What did Peskov say?").claims)


def test_a_name_typed_in_lower_case_is_read_by_how_the_quotes_write_it(archive: Engine) -> None:
    """ "what did vice admiral zorin himself say": lower case, with a reflexive, yet the
    quotes write "Vice Admiral Zorin" and never quote him: not quoted, said so, unsure."""
    q = archive.read("what did vice admiral zorin himself say")
    (claim,) = [c for c in q.claims if c.slot == "speaker"]
    assert claim.rule == "person.unquoted" and claim.text == "vice admiral zorin"
    assert not archive.ask("what did vice admiral zorin himself say").confident
    # A common lower-case word is no name: "what did the experts say" claims no one.
    assert not [c for c in archive.read("what did the experts say").claims if c.missing]


@pytest.mark.parametrize(
    ("question", "said"),
    [("Что ответил Зорин на обвинения Киева?", "Зорин"), ("Що казав Зорін?", "Зорін")],
)
def test_a_cyrillic_name_beside_a_speech_verb_only_spoken_of_is_unquoted(
    archive: Engine, question: str, said: str
) -> None:
    """The Cyrillic speaker's place (beside a speech verb) is read as the Latin one is: a
    name the quotes hold but nobody quoted is not quoted, said so, and the answer unsure.
    Someone quoted ("что сказал Песков") is their statements, as ever."""
    (claim,) = [c for c in archive.read(question).claims if c.slot == "speaker"]
    assert claim.rule == "person.unquoted" and claim.text == said and claim.missing
    a = archive.ask(question)
    assert a.hits and not a.confident and a.why[0].code == "absent"
    peskov = archive.read("что сказал Песков")
    assert not any(c.missing for c in peskov.claims) and peskov.speakers


def test_a_place_spoken_of_is_no_evidence_for_a_cyrillic_topic(archive: Engine) -> None:
    """Ціни на газ в Україні після саміту: no quote of the summit speaks of gas prices,
    but every Ukrainian one holds "Ukraine", the place the question is about. Its spelling
    ranks them (Ukraine's quotes first) but no longer makes the answer sure."""
    question = "ціни на газ в Україні після саміту в Астані"
    q = archive.read(question)
    assert "ukrain" in q.about_spelled and "ukrain" not in q.spelled
    a = archive.ask(question)
    assert a.hits and not a.confident
    assert a.hits[0].statement.country == "Ukraine"


def test_words_every_statement_shares_never_make_an_answer_sure_by_meaning(
    engine: Engine,
) -> None:
    """Nobody in the compilation speaks of an envoy: "Who will Trump appoint as his envoy to
    Ukraine?" is near every Ukrainian quote only through "Trump" and "Ukraine". Sure by
    meaning alone needs the best quote near the question without the event's words and the
    place spoken of; here it is not, so the answer is unsure. A question the quotes answer in
    its own words stays sure."""
    q = engine.read("Who will Trump appoint as his envoy to Ukraine?")
    assert {c.slot for c in q.claims} >= {"event", "about"}
    a = engine.ask("Who will Trump appoint as his envoy to Ukraine?")
    assert a.hits and not a.confident
    assert engine.ask("Who talked about socialism?").confident


def test_a_country_never_quoted_named_in_cyrillic_ranks_by_its_english_names(
    archive: Engine,
) -> None:
    """Turkey speaks nowhere in the archive, but quotes speak of it ("without a Turkish
    escort"). Named in Cyrillic after an about word, it is what the question speaks of, and
    its English names (turkey, turkish) rank the quotes, as an English question's words do.
    An English name stays a topic word as before."""
    q = archive.read("Что говорили о Турции?")
    (claim,) = [c for c in q.claims if c.slot == "about"]
    assert claim.rule == "about.unquoted-country" and claim.value == "Turkey"
    assert {"turkey", "turkish"} <= set(q.about_spelled)
    top = archive.ask("що казали про Туреччину і турецький супровід суден").hits[0]
    assert "Turkish" in top.statement.text
    english = archive.read("What did Latvia say about Turkey?")
    assert "about.unquoted-country" not in {c.rule for c in english.claims}


def test_a_role_gives_way_to_a_kind_of_statement_that_has_none(engine: Engine) -> None:
    """ "Which Central Asian leaders didn't congratulate Trump?": the notes of no remarks are
    the answer and hold no speaker's role, so the kind is tried first and the role, which
    would leave nothing with it, is the claim dropped (and said)."""
    question = "which central asian leaders didnt congratulate trump"
    a = engine.ask(question)
    assert {h.statement.country for h in a.hits} == {"Tajikistan", "Turkmenistan"}
    assert all(h.statement.kind == "note" for h in a.hits)
    assert ("dropped", "role") in {(w.code, w.slot) for w in a.why}
