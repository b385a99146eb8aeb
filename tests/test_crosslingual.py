"""The multilingual route's grains (index/crosslingual.py): sentence pieces and a glossary of
the archive's English words, their arithmetic, and what they do for questions in Cyrillic."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from index.catalog import load_data
from index.crosslingual import Grains, glossary_words, pieces
from index.lexicon import Lexicon, Words
from index.model import Statement
from index.search import Engine


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_a_statement_is_cut_into_its_sentences() -> None:
    text = 'He said: "We should not hope. The war will go on." Nothing else followed, he added.'
    # The two-word lead-in is no piece; a closing quote stays with its sentence's end.
    assert pieces(text) == [
        '"We should not hope.',
        "The war will go on.",
        "Nothing else followed, he added.",
    ]


def test_a_statement_of_one_sentence_has_no_pieces() -> None:
    assert pieces("Trump's leadership will promote peace globally and in our region.") == []
    assert pieces("") == []


def test_the_glossary_holds_each_english_term_once_without_stopwords() -> None:
    st = [
        Statement("a", "d", "X", None, None, "person", "Traditional values win; the values."),
        Statement("b", "d", "X", None, None, "person", "An ocean of values — и по-русски."),
    ]
    words = glossary_words(st)
    assert words[:3] == ["traditional", "values", "win"]
    assert "the" not in words and "of" not in words and words.count("values") == 1
    assert "ocean" in words and not any("русски" in w for w in words)


def _grains(rng: np.random.Generator) -> Grains:
    owner = np.array([0, 0, 2, 2, 2, 7], dtype=np.int64)
    return Grains(
        owner,
        _unit(rng.standard_normal((len(owner), 8))),
        ("alpha", "beta", "gamma"),
        _unit(rng.standard_normal((3, 8))),
    )


def test_best_piece_is_each_rows_highest_piece_similarity() -> None:
    rng = np.random.default_rng(0)
    g = _grains(rng)
    vec = _unit(rng.standard_normal((1, 8)))[0]
    rows = np.array([7, 1, 2, 0], dtype=np.int64)
    got = g.best_piece(vec, rows)
    sims = g.pieces @ vec
    want = [sims[5], -np.inf, sims[2:5].max(), sims[:2].max()]
    np.testing.assert_allclose(got, np.asarray(want, np.float32), rtol=1e-6)
    assert g.best_piece(vec, np.zeros(0, np.int64)).shape == (0,)


def test_rows_near_are_the_owners_of_the_nearest_pieces() -> None:
    rng = np.random.default_rng(1)
    g = _grains(rng)
    vec = g.pieces[3]  # piece 3 belongs to row 2
    assert 2 in g.rows_near(vec, 1).tolist() and len(g.rows_near(vec, 1)) == 1
    assert sorted(g.rows_near(vec, 100).tolist()) == [0, 2, 7]


def test_a_word_is_glossed_only_when_close_and_clearly_closest() -> None:
    e = np.eye(4, dtype=np.float32)
    g = Grains(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), ("a", "b", "c"), e[:3])
    near_a = _unit(np.array([[0.95, 0.1, 0.0, 0.0]]))  # close to a, far from b
    between = _unit(np.array([[0.7, 0.7, 0.0, 0.0]]))  # as close to a as to b
    nowhere = e[3:4]
    assert g.gloss(np.vstack([near_a, between, nowhere]), 0.9, 0.03) == ["a", None, None]


def test_words_of_one_stem_are_no_rivals_to_each_other() -> None:
    """ "sanctions" and "sanctioned" are one term to BM25: a word as close to both is still
    glossed, by the nearer; a word of another stem as close still blocks it."""
    e = np.eye(4, dtype=np.float32)
    words = ("sanctions", "sanctioned", "ocean")
    g = Grains(np.zeros(0, np.int64), np.zeros((0, 4), np.float32), words, e[:3])
    both = _unit(np.array([[0.72, 0.69, 0.0, 0.0]]))  # as close to the two inflections
    rival = _unit(np.array([[0.72, 0.0, 0.71, 0.0]]))  # as close to another word
    assert g.gloss(np.vstack([both, rival]), 0.6, 0.03) == ["sanctions", None]


def test_grains_survive_saving_and_refuse_pieces_of_no_statement() -> None:
    g = _grains(np.random.default_rng(2))
    buf = io.BytesIO()
    g.save(buf)
    back = Grains.load(io.BytesIO(buf.getvalue()), rows=8, dim=8)
    assert back.words == g.words and np.array_equal(back.owner, g.owner)
    with pytest.raises(ValueError, match="no statement"):
        Grains.load(io.BytesIO(buf.getvalue()), rows=5, dim=8)
    with pytest.raises(ValueError, match="dimension"):
        Grains.load(io.BytesIO(buf.getvalue()), rows=8, dim=16)


def test_the_real_archive_has_pieces_and_a_glossary(engine: Engine) -> None:
    route = engine.ranker.multilingual
    assert route is not None and route.grains is not None
    grains = route.grains
    assert len(grains.owner) > len(engine.statements) // 2 and "ocean" in grains.words
    # Each piece is a sentence of its own statement.
    for i in (0, len(grains.owner) // 2, len(grains.owner) - 1):
        st = engine.statements[int(grains.owner[i])]
        assert len(pieces(st.text)) >= 2


def test_a_cyrillic_topic_word_borrows_the_archives_english_word(engine: Engine) -> None:
    question = "Кто говорил о традиционных ценностях?"  # no dictionary reads these words
    ranked = engine.ranker.rank(engine.read(question))
    assert "traditional" in ranked.glossed
    assert "traditional" in engine.statements[int(ranked.rows[0])].text.lower()
    # The answer's reading says so (ask --json, and --explain without ranking again).
    assert "traditional" in (engine.ask(question).reading or {})["glossed"]
    # Glossed words rank but never make an answer sure on their own.
    assert not engine.ranker.rank(engine.read("Какая завтра погода в Москве?")).confident


def test_an_inflected_word_is_glossed_but_not_one_most_statements_hold(
    engine: Engine, archive: Engine
) -> None:
    """The archive says "sanctions" and "sanctioned": "санкции" is glossed all the same.
    "выборы" is glossed "elections", a word of most of the real compilation's statements,
    which would rank them all alike: it is not lent."""
    scale = engine.ranker.cfg.multilingual
    in_archive = archive.ranker.multilingual
    assert in_archive is not None and in_archive.grains is not None
    vec = np.asarray(in_archive.encode(["санкции"]), np.float32)
    got = in_archive.grains.gloss(vec, scale.gloss_similarity, scale.gloss_margin)
    assert got == ["sanctions"] and "sanctioned" in in_archive.grains.words
    route = engine.ranker.multilingual
    assert route is not None and route.grains is not None
    vec = np.asarray(route.encode(["выборы"]), np.float32)
    assert route.grains.gloss(vec, scale.gloss_similarity, scale.gloss_margin) == ["elections"]
    assert engine.catalog.generic("elections") and not engine.catalog.generic("sanctions")
    engine.ranker.clear_caches()
    assert engine.ranker._glossed(route, ["выборы"], ["выборы"], vec) == ()


def test_a_word_is_looked_up_once(engine: Engine) -> None:
    route = engine.ranker.multilingual
    assert route is not None
    seen: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return route.encode(texts)

    engine.ranker.multilingual = replace(route, encode=counting)
    try:
        engine.ranker.clear_caches()
        first = engine.ranker.rank(engine.read("Кто говорил об океане?")).glossed
        second = engine.ranker.rank(engine.read("Что сказали про океане и Трампа?")).glossed
    finally:
        engine.ranker.multilingual = route
    assert first == ("ocean",) and "ocean" in second
    assert "океане" in seen[0] and "океане" not in seen[1]


def test_a_quoted_phrase_is_found_among_the_sentences_on_its_own(archive: Engine) -> None:
    """The quoted «дипломатія через голови українців» renders one sentence of a long quote
    ("Diplomacy over the heads of Ukrainians is not"): the phrase alone is matched against
    the sentence pieces, and the word "українців" inside it scopes to no country. A name
    quoted whole is still a name: «Нью-Йорк таймс» is the outlet."""
    question = "хто сказав «дипломатія через голови українців — ні»"
    q = archive.read(question)
    assert q.quoted == ("дипломатія через голови українців — ні",) and not q.countries
    assert archive.ask(question).hits[0].statement.speaker == "Jānis Kalniņš"
    nyt = archive.read("цитаты из «Нью-Йорк таймс»")
    assert nyt.outlets == ("nyt",) and nyt.quoted == ()


def _scan(lexicon: Lexicon[Any], norms: list[str]) -> tuple[int, Any] | None:
    """Lexicon.match as a scan of every phrase in order (what its index must agree with)."""
    for phrase, value in lexicon.phrases:
        if len(phrase) <= len(norms) and all(
            n.startswith(t) if star else n == t for (t, star), n in zip(phrase, norms, strict=False)
        ):
            return len(phrase), value
    return None


def test_a_lexicons_index_finds_what_a_scan_of_every_phrase_finds() -> None:
    """The dictionaries are indexed by their first word's first letters (thousands of news
    words): every entry, inflected, two-word or cut short, matches as a full scan would."""
    words = Words()
    for lexicon in (words.english, words.news, words.role_translations, words.glosses):
        tried = 0
        for phrase, _ in lexicon.phrases:
            stem = [t for t, _ in phrase]
            for norms in (stem, [stem[0] + "ami", *stem[1:]], [stem[0][:2]], [*stem, "x"]):
                assert lexicon.match(norms) == _scan(lexicon, norms), norms
                tried += 1
        assert tried >= 4 * len(lexicon.phrases)
    assert words.news.match(["perezavantazhennya"]) == (1, ("reset",))


def test_the_news_glossary_is_specific() -> None:
    """Each stem has four letters at least before its "*" (no "газ*" that is also "газета"),
    each value is English words, and no key repeats the curated glosses (words.json)."""
    data = load_data("news_glossary.json")
    curated = set(load_data("words.json")["glosses"])
    entries = {k: v for k, v in data.items() if not k.startswith("_")}
    assert len(entries) > 1000
    for key, values in entries.items():
        for word in key.split():
            assert not word.endswith("*") or len(word) >= 5, key
        assert values and all(re.fullmatch(r"[a-z]+(-[a-z]+)*", v) for v in values), key
        assert key not in curated, key


def test_the_news_glossary_ranks_and_never_makes_an_answer_sure(engine: Engine) -> None:
    """ "перезавантаження відносин": reset, relations find Dmitriev's "resetting relations";
    "цена на нефть" finds a price of something, which makes no answer sure. A negated act
    ("не поздравил") lends no words for the act: the stance weighs it."""
    q = engine.read("хто говорив про перезавантаження відносин Росії та США")
    assert {"reset", "relations"} <= set(q.lent)
    a = engine.ask(q.text)
    assert any("resetting relations" in h.statement.text for h in a.hits[:3])
    assert not engine.ask("Как изменилась цена на нефть после победы Трампа?").confident
    insult = engine.read("Кто назвал оскорблением то, что Путин не поздравил Трампа?")
    assert not any(w.startswith("congratulat") for w in (*insult.lent, *insult.spelled))


def test_a_cyrillic_topics_english_words_rank_as_one_bag(engine: Engine) -> None:
    """ "риск большой войны": the dictionaries give risks, war; the English model reads the
    bag near Dynkin's "reduced likelihood of a general war", which leads. The bag only
    ranks: with or without it, every answer is as sure as the e5 cosines say."""
    question = "снижает ли победа Трампа риск большой войны?"
    assert "reduced likelihood of a general war" in engine.ask(question).hits[0].statement.text
    shipped = engine.ranker.cfg
    questions = [
        question,
        "хто говорив про перезавантаження відносин Росії та США",
        "Как изменилась цена на нефть после победы Трампа?",
        "Кто говорил о санкциях?",
    ]
    with_bag = [engine.ranker.rank(engine.read(q)).confident for q in questions]
    engine.ranker.cfg = replace(shipped, translation_weight=0.0)
    try:
        without = [engine.ranker.rank(engine.read(q)).confident for q in questions]
        assert "reduced likelihood" not in engine.ask(question).hits[0].statement.text
    finally:
        engine.ranker.cfg = shipped
    assert with_bag == without


def test_a_word_a_dictionary_read_is_not_looked_up_in_the_glossary(engine: Engine) -> None:
    """ "перезавантаження відносин": the news dictionary gives reset, relations; the e5
    glossary is asked only for the words no dictionary read (each costs a pass)."""
    q = engine.read("хто говорив про перезавантаження відносин Росії та США")
    assert set(q.translated) == {"перезавантаження", "відносин"}
    route = engine.ranker.multilingual
    assert route is not None
    asked = engine.ranker._to_gloss(q, route)
    assert asked and not set(asked) & set(q.translated)
