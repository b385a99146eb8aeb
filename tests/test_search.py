"""The engine on the real corpus and on the invented one: intents, golden answers, quality gate."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import evaluate
from index.catalog import analyze
from index.search import MAX_KEY_BYTES, Engine
from tests.conftest import QUESTIONS, REAL_SOURCES, ROOT, TEST_SOURCES

HELDOUT = ROOT / "tests" / "data" / "questions_heldout.jsonl"


def texts(answer: object) -> list[str]:
    return [h.statement.text for h in answer.hits]  # type: ignore[attr-defined]


def speakers(answer: object) -> list[str | None]:
    return [h.statement.speaker for h in answer.hits]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- quality gate


def test_public_questions_meet_the_target(engine: Engine) -> None:
    """The shared 40 questions: top-1 >= 0.97 and recall >= 0.99 (a regression fails CI)."""
    qs = evaluate.load_questions(QUESTIONS)
    s = evaluate.score(qs, [texts(engine.ask(q["question"])) for q in qs])
    assert s.top1 >= 0.97 and s.recall >= 0.99, s.misses


def test_heldout_questions_of_the_same_kinds(engine: Engine) -> None:
    """Questions written apart from the public set (Cyrillic, old names, other spellings)."""
    qs = evaluate.load_questions(HELDOUT)
    s = evaluate.score(qs, [texts(engine.ask(q["question"])) for q in qs])
    assert s.top1 >= 0.95 and s.recall >= 0.95, s.misses


def test_engine_beats_the_peers_on_the_public_set(engine: Engine) -> None:
    qs = evaluate.load_questions(QUESTIONS)
    chunks = evaluate.peer_chunks(engine.statements)
    bm25 = evaluate.Bm25Peer(chunks)
    peer = evaluate.score(qs, [[chunks[i] for i in bm25.rank(q["question"])[:10]] for q in qs])
    ours = evaluate.score(qs, [texts(engine.ask(q["question"])) for q in qs])
    assert ours.top1 > peer.top1 and ours.mrr > peer.mrr


# ---------------------------------------------------------------- understanding


@pytest.mark.parametrize(
    ("question", "country"),
    [
        ("what did Lithuania say?", "Lithuania"),
        ("How did Belarus react?", "Belarus"),
        ("Lithuanian reaction", "Lithuania"),
        ("Kyrgystan", "Kyrgyzstan"),
        ("Belorussia", "Belarus"),
        ("Moldavia", "Moldova"),
        ("Kirghizia", "Kyrgyzstan"),
        ("Грузия", "Georgia"),
    ],
)
def test_country_questions_return_all_statements_in_document_order(
    engine: Engine, question: str, country: str
) -> None:
    a = engine.ask(question)
    assert a.intent.kind == "country" and a.intent.value == country
    rows = [h.statement for h in a.hits]
    assert {s.country for s in rows} == {country}
    assert len(rows) == dict(engine.countries())[country]
    assert [s.position for s in rows] == sorted(s.position for s in rows)


def test_a_country_with_no_remarks_answers_with_its_note(engine: Engine) -> None:
    a = engine.ask("Did Turkmenistan congratulate Trump?")
    assert a.hits[0].statement.kind == "note"
    assert "no remarks" in a.hits[0].statement.text


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("Zelensky", "Volodymyr Zelenskyy"),
        ("Zelenskiy", "Volodymyr Zelenskyy"),
        ("Зеленський", "Volodymyr Zelenskyy"),
        ("Nauseda", "Gitanas Nausėda"),
        ("Rinkevics", "Edgars Rinkēvičs"),
        ("Silina", "Evika Siliņa"),
        ("Tsikhanovskaya", "Sviatlana Tsikhanouskaya"),
        ("Lukashenka", "Alexander Lukashenko"),
        ("Лукашенко", "Alexander Lukashenko"),
        ("Tokaev", "Kassym-Jomart Tokayev"),
        ("Aliev", "Ilham Aliyev"),
        ("Pashinian", "Nikol Pashinyan"),
        ("Zhaparov", "Sadyr Japarov"),
        ("Песков", "Dmitry Peskov"),
        ("what did PESKOV say", "Dmitry Peskov"),
    ],
)
def test_people_in_any_spelling(engine: Engine, question: str, speaker: str) -> None:
    a = engine.ask(question)
    assert a.intent.kind == "person"
    assert set(speakers(a)) == {speaker}


def test_all_four_peskov_items_in_document_order(engine: Engine) -> None:
    a = engine.who("Peskov")
    assert len(a.hits) == 4
    assert "nothing about Putin's intention" in a.hits[0].statement.text


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("Georgian president", "Salome Zourabichvili"),
        ("Estonian foreign minister", "Margus Tsahkna"),
        ("LDPR leader", "Leonid Slutsky"),
        ("the Federation Council speaker", "Valentina Matviyenko"),
        ("What did the Kazakh president say?", "Kassym-Jomart Tokayev"),
    ],
)
def test_roles_find_their_speaker(engine: Engine, question: str, speaker: str) -> None:
    assert engine.ask(question).hits[0].statement.speaker == speaker


@pytest.mark.parametrize(
    ("question", "snippet"),
    [
        ("Who talked about socialism?", "ardent capitalist"),
        ("is the ruble tradeable now?", "whether the ruble is now tradeable"),
        ("How did Russian stocks react?", "Moscow Exchange Index rose by 3.6%"),
        ("Who said Putin not congratulating Trump was an insult?", "actually an insult"),
    ],
)
def test_topics(engine: Engine, question: str, snippet: str) -> None:
    a = engine.ask(question)
    assert any(snippet in t for t in texts(a)[:3])
    assert a.intent.kind in ("topic", "country")


@pytest.mark.parametrize(
    ("question", "countries"),
    [
        (
            "How did Central Asia react to Trump's victory?",
            {"Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"},
        ),
        ("Baltic reactions to Trump's win", {"Estonia", "Latvia", "Lithuania"}),
    ],
)
def test_the_event_in_other_words_is_no_topic(
    engine: Engine, question: str, countries: set[str]
) -> None:
    """The compilation is about Trump's win: within it, "Trump's victory" narrows nothing, so
    the region's reactions come whole, not only those that say "victory"."""
    q = engine.read(question)
    assert q.event_certain and not q.topic_terms
    a = engine.ask(question)
    assert {h.statement.country for h in a.hits} == countries
    assert len(a.hits) == sum(n for c, n in engine.countries() if c in countries)


@pytest.mark.parametrize(
    "question",
    [
        "Central Asia congratulations to Trump",
        "Центральная Азия поздравления Трампу",
        "Центральна Азія привітання Трампа",
    ],
)
def test_a_question_on_several_places_hears_from_each(engine: Engine, question: str) -> None:
    """Only Mirziyoyev says "congratulat"; Tokayev and Japarov wrote Trump letters. The
    relevance cut kept Mirziyoyev alone: each place asked about now answers with its closest
    quote (RankConfig.member_ratio), and the best still leads."""
    a = engine.ask(question)
    speakers = [h.statement.speaker for h in a.hits]
    assert speakers[0] == "Shavkat Mirziyoyev"
    assert {"Kassym-Jomart Tokayev", "Sadyr Japarov"} <= set(speakers)
    assert {h.statement.country for h in a.hits} <= {"Kazakhstan", "Kyrgyzstan", "Uzbekistan"}


def test_a_who_question_lists_every_quote_in_its_own_words(engine: Engine) -> None:
    """The relevance cut keeps the few quotes that say it most; a set question ("Who …")
    also lists every other statement that says it in the question's words."""
    a = engine.ask("Who congratulated Trump?")
    word = analyze("congratulated")[0]  # "congratulate", "congratulating" too
    saying = {s.id for s in engine.statements if word in analyze(s.text) and s.kind != "note"}
    assert len(saying) > 4 and saying <= {h.statement.id for h in a.hits}


def test_the_kremlin_spokesman_is_peskov(engine: Engine) -> None:
    assert engine.ask("What did the Kremlin spokesman say?").hits[0].statement.speaker == (
        "Dmitry Peskov"
    )


def test_sullivan_is_not_zakharova(engine: Engine) -> None:
    assert all("Belfer" not in t for t in texts(engine.who("Zakharova")))
    assert any("Belfer" in t for t in texts(engine.who("John Sullivan")))


def test_answers_carry_scores_and_sources(engine: Engine) -> None:
    a = engine.ask("What did Peskov say?")
    assert a.confident
    assert all(0 < h.score <= 1.0 for h in a.hits)
    assert a.hits[0].statement.sources[0].outlet == "TASS"


def test_nothing_found_says_so_with_suggestions(engine: Engine) -> None:
    a = engine.country("Narnia")
    assert not a.hits and a.message and a.intent.kind == "none"
    b = engine.who("Peskof")
    assert b.hits and b.hits[0].statement.speaker == "Dmitry Peskov"
    c = engine.ask("qwzx vvbnm")
    assert not c.confident and c.message


def test_did_you_mean_for_a_near_miss(engine: Engine) -> None:
    a = engine.country("Latvija Estija")
    labels = [s.label for s in a.suggestions] + [h.statement.country for h in a.hits]
    assert "Latvia" in labels or "Estonia" in labels


# ---------------------------------------------------------------- keys and listings


@pytest.mark.parametrize(
    "question",
    ["Georgia", "Peskov", "Georgian president", "who quoted a psalm", "что сказал Песков " * 9],
)
def test_keys_are_short_and_reproduce_the_answer(engine: Engine, question: str) -> None:
    a = engine.ask(question)
    assert 0 < len(a.intent.key.encode("utf-8")) <= MAX_KEY_BYTES
    b = engine.by_key(a.intent.key)
    assert texts(b)[:3] == texts(a)[:3]
    for s in a.suggestions:
        assert len(s.key.encode("utf-8")) <= MAX_KEY_BYTES


def test_listings(engine: Engine) -> None:
    countries = dict(engine.countries())
    assert countries["Russia"] == 25 and countries["Tajikistan"] == 1
    outlets = dict(engine.outlets())
    assert outlets["Interfax"] >= 10
    (doc,) = engine.documents()
    assert doc.published == "2024-11-06"
    st0 = engine.statements[0]
    assert engine.get(st0.id) == st0 and engine.get("nope") is None


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "?!...;;",
        "🙂🙂🙂",
        "<b>hi</b> & <script>alert(1)</script>",
        "'; DROP TABLE statements; --",
        "x" * 10_000,
        "Peskov " * 2000,
        "\ud800",
    ],
)
def test_bad_input_gets_an_answer_not_a_traceback(engine: Engine, question: str) -> None:
    a = engine.ask(question)
    assert a.hits or a.message


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_is_answered(engine: Engine, question: str) -> None:
    a = engine.ask(question)
    assert a.hits or a.message
    engine.country(question)
    engine.who(question)
    engine.by_key(question)


# ---------------------------------------------------------------- another compilation


@pytest.fixture(scope="module")
def invented(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine.open(TEST_SOURCES, tmp_path_factory.mktemp("invented-index"))


def test_the_invented_compilation_is_searchable(invented: Engine) -> None:
    assert invented.ask("Tonisson").hits[0].statement.speaker == "Jüri Tõnisson"
    assert invented.ask("Talibov").hits[0].statement.speaker == "Ruslan Talıbov"
    assert invented.ask("Simonyte").hits[0].statement.speaker == "Agnė Šimonytė"
    g = invented.ask("Georgia")
    assert g.hits[0].statement.kind == "note"
    assert any("napkin" in t for t in texts(invented.ask("rail link drawing on a napkin"))[:3])


# ---------------------------------------------------------------- the index on disk


def test_a_broken_index_is_reported_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    idx = tmp_path / "index"
    first = Engine.open(TEST_SOURCES, idx)
    (idx / "vectors.faiss").write_bytes(b"garbage")
    with caplog.at_level(logging.INFO):
        again = Engine.open(TEST_SOURCES, idx)
    assert "rebuild" in caplog.text
    assert len(again.statements) == len(first.statements)
    assert Engine.open(TEST_SOURCES, idx).manifest["count"] == len(first.statements)


def test_changed_sources_trigger_a_rebuild(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    text = next(TEST_SOURCES.glob("*.txt")).read_bytes()
    (src / "a.txt").write_bytes(text)
    e1 = Engine.open(src, tmp_path / "idx")
    (src / "b.txt").write_bytes((REAL_SOURCES / next(REAL_SOURCES.glob("*.txt")).name).read_bytes())
    e2 = Engine.open(src, tmp_path / "idx")
    assert len(e2.statements) > len(e1.statements)
    assert len(e2.documents()) == 2


def test_a_broken_source_file_does_not_stop_the_others(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_bytes(next(TEST_SOURCES.glob("*.txt")).read_bytes())
    (src / "junk.txt").write_bytes(b"\x00\xff" * 100)
    e = Engine.open(src, tmp_path / "idx")
    assert e.statements and any("junk.txt" in p for p in e.problems)


# ---------------------------------------------------------------- the CLI contract


def test_ask_reads_stdin_and_writes_one_json_line_per_question(engine: Engine) -> None:
    questions = ["Georgia", "", "Peskov", "<b>", "is the ruble tradeable now?"]
    p = subprocess.run(
        [sys.executable, "-m", "index", "ask", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [x["query"] for x in lines] == questions
    first = lines[0]
    assert set(first) >= {"query", "intent", "results", "suggestions"}
    assert set(first["results"][0]) >= {
        "id",
        "document",
        "country",
        "speaker",
        "role",
        "kind",
        "text",
        "sources",
        "score",
    }
    assert first["results"][0]["sources"][0].keys() == {"outlet", "date", "raw", "url"}
    assert "Traceback" not in p.stderr


def test_an_approximate_index_answers_like_the_exact_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """Past the size threshold the index is IVF; re-scoring lexical hits must still work."""
    monkeypatch.setenv("REACTIONS_EXACT_THRESHOLD", "10")
    ivf = Engine.open(REAL_SOURCES, tmp_path / "ivf")
    assert ivf.manifest["index_type"].startswith("IVF")
    for q in ("Who talked about socialism?", "is the ruble tradeable now?", "Peskov on Ukraine"):
        assert texts(ivf.ask(q))[0] == texts(engine.ask(q))[0]


@pytest.mark.parametrize(
    ("phrase", "speaker"),
    [
        ("Kremlin spokesman", "Dmitry Peskov"),
        ("Federation Council speaker", "Valentina Matviyenko"),
    ],
)
def test_who_takes_role_phrases(engine: Engine, phrase: str, speaker: str) -> None:
    a = engine.who(phrase)
    assert a.intent.kind == "role" and {h.statement.speaker for h in a.hits} == {speaker}


def test_an_exact_country_beats_a_surname_one_typo_away() -> None:
    """At scale some surname is always a typo away from a country: 'Russia' vs 'Rusia'."""
    import faiss
    import numpy as np

    from index.model import Statement

    rows = [
        Statement("a1", "d", "Russia", "Ivan Rusia", "analyst", "person", "Ivan Rusia said: “x.”"),
        Statement(
            "a2", "d", "Russia", "Olga Petrova", "minister", "person", "Olga Petrova said: “y.”"
        ),
        Statement(
            "a3", "d", "Latvia", "Anna Berzina", "mayor", "person", "Anna Berzina said: “z.”"
        ),
    ]
    vecs = np.eye(3, 8, dtype=np.float32)
    index = faiss.IndexFlatIP(8)
    index.add(vecs)
    e = Engine(rows, [], index, lambda texts: np.tile(vecs[2], (len(texts), 1)))
    a = e.ask("What did Russia say?")
    assert a.intent.kind == "country" and len(a.hits) == 2
    assert e.ask("Rusia").intent.kind == "person"  # the surname itself still finds its person


def test_a_quote_that_writes_the_topics_words_side_by_side_ranks_higher(engine: Engine) -> None:
    """Term proximity: "strategic alliance" asks for the words together; a quote that writes
    them so gets the phrase boost, one that has "strategic" elsewhere gets none."""
    q = engine.read("strategic alliance")
    assert len(q.phrases) == 1
    texts = [s.text.lower() for s in engine.statements]
    together = [i for i, t in enumerate(texts) if "strategic alliance" in t]
    apart = [i for i, t in enumerate(texts) if "strategic" in t and "strategic alliance" not in t]
    assert together and apart
    cand = np.asarray(together + apart, np.int64)
    boost = engine.ranker._phrased(cand, np.zeros(len(cand)), q.phrases)
    assert list(boost) == [engine.ranker.cfg.phrase_boost] * len(together) + [0.0] * len(apart)
    assert not engine.read("Что сказали о стратегическом альянсе?").phrases  # English only


def test_a_role_of_one_person_lists_all_their_statements(engine: Engine) -> None:
    """A role that names one person is asked as the person is: every statement of theirs,
    the most relevant to the topic first."""
    peskov = [s for s in engine.statements if s.speaker == "Dmitry Peskov"]
    a = engine.ask("What did the Kremlin spokesman say about the war?")
    assert len(a.hits) == len(peskov) >= 3
    assert {h.statement.id for h in a.hits} == {s.id for s in peskov}


def test_the_events_name_alone_makes_no_answer_sure(engine: Engine) -> None:
    """Every statement of a compilation about Trump is near "Trump": a name the archive lacks
    beside it ("Навальная о Трампе") is no sure answer by meaning alone."""
    for question in ("Навальная о Трампе", "Юлия Навальная про Трампа"):
        a = engine.ask(question)
        assert not a.confident, question


def test_a_region_and_a_kind_rank_by_their_own_words_too(engine: Engine) -> None:
    """ "Eastern Europe", "stocks rallied" scope the question to the region's market items;
    within them, the item that says those words comes first (RankConfig.scope_word_slots)."""
    question = "Russian stocks rallying in eastern Europe?"
    q = engine.read(question)
    assert q.regions == ("Eastern Europe",) and q.kinds == ("market",)
    assert {"eastern", "stocks"} <= set(engine.ranker._scope_words(q))
    top = engine.ask(question).hits[0].statement.text
    assert "rallied" in top and "eastern Europe" in top
    # A country's name is no such word: its statements do not need to say it.
    assert engine.ranker._scope_words(engine.read("What did Georgia say?")) == []


@pytest.mark.parametrize(
    ("question", "speakers"),
    [
        ("what did the baltic presidents say", {"Edgars Rinkēvičs", "Gitanas Nausėda"}),
        ("Що казали президенти країн Балтії?", {"Edgars Rinkēvičs", "Gitanas Nausėda"}),
        (
            "what did the prime ministers say",
            {"Nikol Pashinyan", "Irakli Kobakhidze", "Evika Siliņa", "Olha Stefanishyna"},
        ),
    ],
)
def test_a_role_said_in_the_plural_asks_for_every_holder(
    engine: Engine, question: str, speakers: set[str]
) -> None:
    """A plural role head ("presidents", "президенти") wants everyone who holds the role, as
    "Which ..." does, however many they are, and within a region's countries where one is
    named. The singular still picks out few ("the Georgian president")."""
    q = engine.read(question)
    assert q.wants_set and {c.rule for c in q.claims} >= {"role.plural", "shape.plural-role"}
    assert {h.statement.speaker for h in engine.ask(question).hits} == speakers
    single = engine.read("what did the Georgian president say")
    assert not single.wants_set and "role.phrase" in {c.rule for c in single.claims}


def test_a_body_the_roles_name_then_people_is_whoever_holds_a_role_there(
    archive: Engine,
) -> None:
    """The Valdai Club people: no head word, but the roles name the club and people follow,
    so the answer is everyone with a role there (not "Valdai Club is not quoted", which
    was false). People alone ("the people") name no body."""
    q = archive.read("what did the valdai club people say")
    assert q.wants_set and not any(c.missing for c in q.claims)
    assert "role.plural" in {c.rule for c in q.claims}
    speakers = {
        h.statement.speaker for h in archive.ask("what did the valdai club people say").hits
    }
    assert "Timofey Bordachev" in speakers and speakers <= {
        "Timofey Bordachev",
        "Gleb Matveyev",
        "Gleb Matveev",
    }
    assert not archive.read("what did the people say").roles


@pytest.mark.parametrize(
    "question",
    [
        "which russian think tank experts commented on the election",
        "Что российские эксперты говорили о выборах?",
        "які російські аналітики коментували вибори",
    ],
)
def test_experts_are_whoever_holds_a_role_at_an_institute_or_a_club(
    engine: Engine, question: str
) -> None:
    """ "Experts", "аналітики" are people in general and a kind of role too (roles.json
    people_roles): the Russian ones are the institute's, the club's, the council's and the
    research university's people, not the president or the Kremlin's spokesman."""
    q = engine.read(question)
    assert "role.plural" in {c.rule for c in q.claims}
    speakers = {h.statement.speaker for h in engine.ask(question).hits}
    assert speakers == {"Fyodor Lukyanov", "Alexander Dynkin", "Timofey Bordachev", "Dmitry Suslov"}


def test_a_role_joined_to_a_word_for_anyone_narrows_to_no_role(archive: Engine) -> None:
    """ "officials and experts" are anyone: the role narrows nothing (the Russian officials
    who spoke of the summit are no experts). Two role words joined stay a role."""
    q = archive.read("which russian officials and experts commented on the astana summit")
    assert not q.roles and q.countries == ("Russia",)
    assert not archive.read("What did Russian politicians and analysts say?").roles
    assert archive.read("which experts and analysts spoke about China").roles


def test_a_country_right_after_a_role_is_where_the_role_must_be(engine: Engine) -> None:
    """Trump's new ambassador to Georgia: the archive's one ambassador is the former one to
    Russia, so the role does not fit and the answer is no sure list of him; "the former
    ambassador to Russia" is still John Sullivan."""
    q = engine.read("who is Trump's new ambassador to Georgia")
    assert not q.roles
    assert not engine.ask("who is Trump's new ambassador to Georgia").confident
    a = engine.ask("What did the former ambassador to Russia say?")
    assert a.confident and {h.statement.speaker for h in a.hits} == {"John Sullivan"}
