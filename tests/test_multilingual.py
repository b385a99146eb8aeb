"""Questions in Russian and Ukrainian: the multilingual route (multilingual-e5-small on its own
vectors), its setting, and the reading of Cyrillic questions; quality gates per language."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import embed, evaluate, store
from index.lexicon import spelled_as
from index.rank import ENGLISH, ENGLISH_SCALE, MULTILINGUAL, DenseScale, RankConfig
from index.search import Engine
from index.textnorm import fold, fold_forms
from index.understand import Words
from tests.conftest import ROOT, TEST_SOURCES

EVAL = ROOT / "data" / "eval"
TARGET_TOP1 = 0.90  # per language and set (issue 10); English keeps its own gates


def run(engine: Engine, path: Path) -> evaluate.Score:
    qs = evaluate.load_questions(path)
    answers = [engine.ask(q["question"]) for q in qs]
    return evaluate.score(
        qs, [[h.statement.text for h in a.hits] for a in answers], [a.confident for a in answers]
    )


# ---------------------------------------------------------------- quality gates


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_public_and_compound_questions_in_russian_and_ukrainian(engine: Engine, lang: str) -> None:
    """The 40 public and 32 compound questions as a native speaker asks them."""
    s = run(engine, EVAL / f"questions_{lang}.jsonl")
    assert s.top1 >= TARGET_TOP1 and s.recall >= TARGET_TOP1, s.misses


@pytest.mark.parametrize(("lang", "top1"), [("ru", 0.9), ("uk", 0.75)])
def test_heldout_questions_in_russian_and_ukrainian(
    archive: Engine, lang: str, top1: float
) -> None:
    """30 questions a language, written apart and never tuned on (measured when they were
    written: ru 0.933 / 0.900, uk 0.800 / 0.900 top-1 / recall): a regression guard, not a
    target."""
    s = run(archive, ROOT / "tests" / "data" / f"archive_heldout_{lang}.jsonl")
    assert s.top1 >= top1 and s.recall >= 0.85, s.misses


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_archive_questions_in_russian_and_ukrainian(archive: Engine, lang: str) -> None:
    """80 of the 100 archive questions, every kind (people, roles, events, dates, outlets, ...)."""
    s = run(archive, EVAL / f"archive_{lang}.jsonl")
    assert s.top1 >= TARGET_TOP1 and s.recall >= TARGET_TOP1, s.misses


def test_off_topic_questions_in_russian_and_ukrainian_get_no_confident_quote(
    engine: Engine,
) -> None:
    s = run(engine, EVAL / "offtopic_ru_uk.jsonl")
    assert s.top1 == 1.0, s.misses


# ---------------------------------------------------------------- the route


def test_the_archive_has_the_multilingual_route(engine: Engine) -> None:
    assert engine.multilingual
    ml = engine.manifest[store.MULTILINGUAL]
    assert ml["model"] == embed.multilingual_model_id() and ml["dim"] == 384


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("Кто говорил о социализме?", MULTILINGUAL),
        ("Хто сумнівався, що війна швидко закінчиться?", MULTILINGUAL),
        ("Что Латвия говорила о НАТО?", MULTILINGUAL),
        ("Who talked about socialism?", ENGLISH),
        ("What did Грузия say about traditional values?", ENGLISH),  # the topic is English
    ],
)
def test_a_topic_in_cyrillic_takes_the_multilingual_route(
    engine: Engine, question: str, route: str
) -> None:
    assert engine.ranker.rank(engine.read(question)).route == route


def test_names_and_countries_alone_need_no_dense_route(engine: Engine) -> None:
    for question in ("Что сказал Песков?", "Грузия", "Що сказала Литва?"):
        ranked = engine.ranker.rank(engine.read(question))
        assert ranked.route == "" and ranked.mode == "list" and ranked.confident


def test_a_whole_question_in_russian_finds_the_english_quote(
    engine: Engine, archive: Engine
) -> None:
    a = engine.ask("Как отреагировали облигации Украины?")
    assert "dollar bonds" in a.hits[0].statement.text
    # A compound market word is one too ("єврооблігації": Eurobonds, vocabulary.json).
    for question in ("як відреагували українські єврооблігації", "как вели себя еврооблигации"):
        assert engine.read(question).kinds == ("market",), question
    a = engine.ask("Хто сумнівався, що війна швидко закінчиться?")
    assert a.hits[0].statement.speaker == "Tymofiy Mylovanov"
    a = archive.ask("Кто говорил о санкциях?")
    assert a.confident and "Sanctions were discussed" in a.hits[0].statement.text


def test_dictionary_words_join_a_cyrillic_topic_when_they_stand_for_enough_of_it(
    engine: Engine, archive: Engine
) -> None:
    """Role words and event words have English forms in the data; a topic made of them is
    found by its words too, a longer one only by its meaning."""
    q = engine.read("Что говорили о пресс-секретаре Кремля?")
    assert {"spokesman", "kremlin"} <= set(q.spelled)
    assert "the Kremlin spokesman" in engine.ask(q.text).hits[0].statement.text
    # Where a speaker stands, the same words are the role they name (roles.json seats).
    assert engine.read("Что сказал пресс-секретарь Кремля?").roles == (
        "Vladimir Putin’s press secretary",
    )
    q = archive.read("Кого беспокоили грузовики с зерном на молдавских дорогах?")
    assert "grain" not in q.spelled  # one word of six: its quotes would drown the meaning


def test_english_questions_keep_the_english_encoder_and_scale(engine: Engine) -> None:
    """English ranking is today's: MiniLM on its own vectors, with its own thresholds."""
    assert RankConfig().english == ENGLISH_SCALE == DenseScale()
    assert engine.ranker.route(engine.read("Who talked about socialism?")).index is engine.faiss
    a = engine.ask("Who talked about socialism?")
    assert "socialism" in a.hits[0].statement.text


def test_scales_are_fitted_per_encoder() -> None:
    cfg = RankConfig()
    en, ml = cfg.scale(ENGLISH), cfg.scale(MULTILINGUAL)
    assert en is cfg.english and ml is cfg.multilingual
    # e5 puts unrelated texts near 0.72: a MiniLM threshold would answer anything confidently.
    assert ml.floor > 0.5 and ml.min_dense > en.sure_dense
    assert ml.min_dense <= ml.sure_dense_with_words <= ml.sure_dense
    np.testing.assert_allclose(ml.spread(np.array([ml.floor, 1.0])), [0.0, 1.0])
    np.testing.assert_array_equal(en.spread(np.array([-0.2, 0.3])), [-0.2, 0.3])


# ---------------------------------------------------------------- the setting


def test_setting_values() -> None:
    assert embed.multilingual_setting("") == "auto"
    assert embed.multilingual_setting(" ON ") == "on"
    with pytest.raises(ValueError, match="REACTIONS_MULTILINGUAL='maybe'"):
        embed.multilingual_setting("maybe")
    limit = embed.MULTILINGUAL_AUTO_LIMIT
    assert embed.multilingual_wanted(limit - 1, "auto")
    assert not embed.multilingual_wanted(limit, "auto")
    assert embed.multilingual_wanted(limit * 10, "on")
    assert not embed.multilingual_wanted(1, "off")


def test_a_bad_setting_fails_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(embed.ENV_MULTILINGUAL, "sometimes")
    with pytest.raises(ValueError, match="REACTIONS_MULTILINGUAL"):
        Engine.open(TEST_SOURCES, tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_off_builds_english_only_and_names_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off: no second index; a Cyrillic question keeps its names, countries and words."""
    monkeypatch.setenv(embed.ENV_MULTILINGUAL, "off")
    idx = tmp_path / "index"
    e = Engine.open(ROOT / "data" / "sources", idx)
    assert not e.multilingual and store.MULTILINGUAL not in e.manifest
    assert not (idx / store.MULTILINGUAL_VECTORS).exists()
    assert e.ranker.rank(e.read("Кто говорил о санкциях?")).route == ENGLISH
    assert e.ask("Что сказал Песков?").hits[0].statement.speaker == "Dmitry Peskov"
    assert e.ask("Грузия").intent.value == "Georgia"
    with pytest.raises(RuntimeError, match="without the multilingual route"):
        e.encode_multilingual(["Кто?"])
    # Turned on, the bundle is stale and rebuilt with its second index.
    monkeypatch.setenv(embed.ENV_MULTILINGUAL, "on")
    again = Engine.open(ROOT / "data" / "sources", idx)
    assert again.multilingual and (idx / store.MULTILINGUAL_VECTORS).is_file()
    assert store.load_bundle(idx).multilingual is not None


def test_multilingual_vectors_are_kept_per_compilation(
    tmp_path: Path, session_dirs: dict[str, Path]
) -> None:
    """Like the English ones: a rebuild embeds nothing again (VectorCache by model id)."""
    Engine.open(TEST_SOURCES, tmp_path / "a", multilingual="on")
    cached = {p.name for p in (session_dirs["cache"] / "vectors").glob("*-passage.npz")}
    assert cached
    e = Engine.open(TEST_SOURCES, tmp_path / "b", multilingual="on", rebuild=True)
    assert e.multilingual
    assert {p.name for p in (session_dirs["cache"] / "vectors").glob("*-passage.npz")} == cached


# ---------------------------------------------------------------- the encoder


def test_the_multilingual_encoder_reads_questions_across_languages() -> None:
    enc = embed.MultilingualEncoder()
    passages = enc.encode(
        [
            "Ukraine's dollar bonds were among the best emerging market performers.",
            "A recipe for pancakes with blueberries.",
        ]
    )
    assert passages.shape == (2, 384) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    for question in ("Как отреагировали облигации Украины?", "Як відреагували облігації України?"):
        q = enc.query([question])[0]
        assert q @ passages[0] > q @ passages[1]
    assert enc.query([]).shape == (0, 384)
    with pytest.raises(TypeError):
        enc.encode("a bare string")


# ---------------------------------------------------------------- reading


def test_cyrillic_word_list_entries_are_folded_by_both_schemes() -> None:
    w = Words()
    assert fold_forms("сказали") == {"skazali", "skazaly"} <= w.ask
    assert {"kto", "khto"} <= w.set_words
    assert {"o", "ob", "pro", "shchodo"} <= w.about
    assert {"drugiye", "inshi"} <= w.others
    assert w.kinds.cyrillic.match(["obligatsiyami"]) == (1, "market")
    assert w.role_translations.match(["inostrannykh", "del"]) == (2, (("foreign",),))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "министр иностранных дел Эстонии",
            {"roles": {"Estonian foreign minister", "Estonian deputy foreign minister"}},
        ),
        ("міністр закордонних справ Естонії", {"countries": ("Estonia",)}),
        (
            "Кто был министром иностранных дел Эстонии в 2029 году?",
            {"time": (20290101, 20291231), "asks_speaker": False, "topic": ""},
        ),
        (
            "Какие министры иностранных дел высказались о саммите в Астане?",
            {"wants_set": True, "event_certain": True},
        ),
        ("Как рынки отреагировали на остановку «Дружбы»?", {"kinds": ("market",)}),
        ("Що казали анонімні джерела про саміт в Астані?", {"kinds": ("unnamed",)}),
        ("что писал ринкевич", {"kinds": ()}),  # a name, not a market (ринок)
        ("заявления от 3 марта 2031 года", {"time": (20310303, 20310303), "topic": ""}),
        ("Что сообщал ТАСС?", {"outlets": ("tass",), "topic": ""}),
        ("Що повідомив Інтерфакс?", {"outlets": ("interfax",)}),
        ("Реакция Прибалтики на остановку «Дружбы»", {"regions": ("Baltic states",)}),
        ("последнее заявление Столярова", {"order": "newest", "topic": ""}),
        ("перша заява Курилович в архіві", {"order": "oldest", "speakers": 1}),
        ("найперший коментар Довгаля", {"order": "oldest", "speakers": 1}),
        (
            "Что другие говорили о вице-адмирале Зорине?",
            {"others": True, "mentions": ("zorin",)},
        ),
        ("Кто говорил о санкциях?", {"asks_speaker": True, "cyrillic": True}),
        ("Яка країна витрачає на оборону понад 3%?", {"countries": ()}),  # країна: no typo
        ("Таджикистан о саммите в Астане", {"countries": ("Tajikistan",), "event_certain": True}),
    ],
)
def test_reading_russian_and_ukrainian(archive: Engine, question: str, expected: dict) -> None:
    q = archive.read(question)
    got = {
        "roles": set(q.roles),
        "countries": q.countries,
        "time": (q.time.start, q.time.end) if q.time else None,
        "order": q.time.order if q.time else None,
        "asks_speaker": q.asks_speaker,
        "wants_set": q.wants_set,
        "event_certain": q.event_certain,
        "kinds": q.kinds,
        "outlets": q.outlets,
        "regions": q.regions,
        "topic": q.topic,
        "speakers": len(q.speakers),
        "others": q.others,
        "mentions": q.mentions,
        "cyrillic": q.cyrillic,
    }
    for key, want in expected.items():
        if key == "roles":
            assert want <= got[key], q.explain(archive.catalog)
        else:
            assert got[key] == want, q.explain(archive.catalog)


def test_dates_in_russian_and_ukrainian(engine: Engine) -> None:
    assert engine.read("заявления от 6 ноября").time.month_day == 1106  # type: ignore[union-attr]
    assert engine.read("що казали 7 листопада").time.month_day == 1107  # type: ignore[union-attr]
    t = engine.read("Что говорили в 2032 году?").time
    assert t is not None and (t.start, t.end) == (20320101, 20321231)
    assert engine.read("Яка остання заява Пєскова?").time.order == "newest"  # type: ignore[union-attr]
    a = engine.ask("заявления от 6 ноября")
    assert a.hits and a.confident


def test_a_declined_name_is_the_person(archive: Engine) -> None:
    for question, speaker in [
        ("Что сказал Александр Довгаль?", "Dov"),  # Dovgal = Dovhal
        ("Яка остання заява Пєскова?", "Peskov"),
        ("Высказывания Галины Мороз", "Moroz"),
    ]:
        a = archive.ask(question)
        assert a.hits and speaker in (a.hits[0].statement.speaker or ""), question


@pytest.mark.parametrize(
    "question",
    [
        "What did Putin's press secretary say?",
        "Что сказал пресс-секретарь Путина?",  # the owner after the role, in the genitive
        "Що сказав речник Путіна?",
    ],
)
def test_a_person_named_with_a_role_is_whose_role_it_is(engine: Engine, question: str) -> None:
    """ "Putin's press secretary" is Peskov, every statement of his: Putin is neither the
    speaker (nothing fits both) nor a filter on what the statements mention."""
    q = engine.read(question)
    assert q.roles == ("Vladimir Putin’s press secretary",)
    assert not q.speakers and not q.about_speakers
    answer = engine.ask(question)
    assert answer.confident
    assert [h.statement.speaker for h in answer.hits] == ["Dmitry Peskov"] * 4


@pytest.mark.parametrize(
    ("latin", "cyrillic", "same"),
    [
        ("trump", "Трампа", True),  # a vowel Cyrillic writes otherwise, and a case ending
        ("trump", "Трампом", True),
        ("transneft", "Транснафти", True),  # Ukrainian writes the e as a
        ("tallinn", "Таллине", True),
        ("transit", "Транснафти", False),
        ("grain", "гранты", False),  # too few consonants to go by them alone
        ("trump", "тромбы", False),
    ],
)
def test_a_name_is_found_under_the_vowels_cyrillic_gives_it(
    latin: str, cyrillic: str, same: bool
) -> None:
    assert spelled_as(latin, fold(cyrillic)) is same


def test_a_name_most_statements_hold_is_no_topic_word(engine: Engine) -> None:
    """ "Трампа" is Trump; in his election's compilation nearly every statement names him, so
    it joins the event's title words, not the topic's lexical side (where it would rank any
    statement naming him first)."""
    q = engine.read("Что говорили в Грузии о победе Трампа?")
    assert q.countries == ("Georgia",) and q.event_certain
    assert "trump" not in q.spelled
    answer = engine.ask("Что говорили в Грузии о победе Трампа?")
    assert {h.statement.country for h in answer.hits} == {"Georgia"} and len(answer.hits) == 3


@pytest.mark.parametrize(
    "question", ["What did the Kremlin spokesman say?", "what did the kremlin's spokesman say"]
)
def test_a_seat_of_power_stands_for_its_office(engine: Engine, question: str) -> None:
    """The Kremlin's spokesman is the Russian president's press secretary (roles.json, seats);
    the Kremlin alone names no role."""
    assert engine.read(question).roles == ("Vladimir Putin’s press secretary",)
    assert [h.statement.speaker for h in engine.ask(question).hits] == ["Dmitry Peskov"] * 4
    assert not engine.read("What did the Kremlin say?").roles


def test_a_lower_case_word_joins_the_lexical_side_only_by_the_same_spelling(
    archive: Engine,
) -> None:
    """ "гривня" is written "hryvnia" in the quotes: a loanword, found by its spelling; a
    lower-case word is never matched by its consonants alone (those are for names)."""
    assert "hryvnia" in archive.read("Як гривня відреагувала на призупинення?").spelled
    assert "trump" not in archive.read("Как изменилась трамповская политика?").spelled
