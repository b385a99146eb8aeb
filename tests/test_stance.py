"""Stance: a question that asks for an act leads with who performed it, not with who denied
it or asked about it (index/stance.py, index/data/acts.json)."""

from __future__ import annotations

import pytest

from index.search import Engine
from index.stance import DENIES, PERFORMS, SILENT, Acts
from index.textnorm import words


@pytest.fixture(scope="module")
def acts() -> Acts:
    return Acts()


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Putin congratulated Donald Trump on his victory.", PERFORMS),
        ('"Congratulations on your election, Mr. President."', PERFORMS),
        ("I still know nothing about Putin's intention to congratulate Trump.", DENIES),
        ("Putin's decision not to immediately congratulate him as other leaders had.", DENIES),
        ("No news items on whether the leadership has already congratulated Trump.", DENIES),
        # a negation in another clause does not reach the act
        (
            "Armenia receives no oil through Druzhba, but warned that fuel prices would rise.",
            PERFORMS,
        ),
        ("The minister spoke about grain.", SILENT),
    ],
)
def test_a_statement_performs_denies_or_is_silent(acts: Acts, text: str, want: int) -> None:
    verb = "warn" if "warned" in text else "congratulate"
    assert acts.stance(text, (verb,)) == want


@pytest.mark.parametrize(
    ("question", "act", "negated"),
    [
        ("Who congratulated Trump?", "congratulate", False),
        ("Кто поздравил Трампа?", "congratulate", False),
        ("Хто привітав Трампа?", "congratulate", False),
        ("Who did not congratulate Trump?", "congratulate", True),
        ("Кто не поздравил Трампа?", "congratulate", True),
        ("Who warned about fuel prices?", "warn", False),
        ("Хто сумнівався, що війна швидко закінчиться?", "doubt", False),
    ],
)
def test_a_question_names_its_act_in_three_languages(
    acts: Acts, question: str, act: str, negated: bool
) -> None:
    asked = acts.asked(words(question))
    assert asked is not None and act in asked.acts and asked.negated == negated


@pytest.mark.parametrize("question", ["Who congratulated Trump?", "Кто поздравил Трампа?"])
def test_who_congratulated_leads_with_a_congratulation(engine: Engine, question: str) -> None:
    a = engine.ask(question)
    first = a.hits[0].statement
    assert first.speaker != "Dmitry Peskov", first.text[:80]
    assert Acts().stance(first.text, ("congratulate",)) == PERFORMS, first.text[:80]
    claims = (a.reading or {}).get("claims", [])
    assert any(c["slot"] == "act" and c["strength"] == "latent" for c in claims)


@pytest.mark.parametrize(
    "question",
    [
        "Кто назвал оскорблением то, что Путин не поздравил Трампа?",
        "What did Peskov say about congratulating Trump?",
        "Что сказал Песков про поздравление Трампа?",
    ],
)
def test_an_act_someone_said_is_no_act_asked_for(acts: Acts, question: str) -> None:
    assert acts.asked(words(question)) is None


@pytest.mark.parametrize(
    "question", ["Кто поздравил Трампа с победой?", "Хто привітав Трампа з перемогою?"]
)
def test_a_cyrillic_act_is_looked_for_in_the_archives_words(engine: Engine, question: str) -> None:
    """The quotes are English: "поздравил" finds them by their words for the act too
    (congratulate, congratulations), as "congratulated" does in English."""
    spelled = engine.read(question).spelled
    assert any(t.startswith("congratulat") for t in spelled)
    negated = question.replace("поздравил", "не поздравил").replace("привітав", "не привітав")
    assert not any(t.startswith("congratulat") for t in engine.read(negated).spelled)


@pytest.mark.parametrize(
    "question", ["Who criticised Transneft?", "Хто критикував голову «Транснафти»?"]
)
def test_who_spoke_of_someone_is_not_answered_by_them(archive: Engine, question: str) -> None:
    """ "Who criticised Transneft?" asks who spoke of it: its own statements, which name it,
    rank below the others' (RankConfig.self_penalty)."""
    q = archive.read(question)
    assert q.asks_speaker and "transneft" in q.mentions
    hits = archive.ask(question).hits
    assert hits and hits[0].statement.speaker != "Transneft"
    own = [i for i, h in enumerate(hits) if h.statement.speaker == "Transneft"]
    assert all(i > 2 for i in own)
