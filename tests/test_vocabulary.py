"""One vocabulary: the parser and the question reader read the same word lists
(index/data/vocabulary.json), so a verb that introduces a speaker in a compilation is one a
question can ask with, and a statement filed as a market item is one "markets" asks for."""

from __future__ import annotations

import json

from index import config, parse, vocabulary
from index.textnorm import fold_forms, words
from index.understand import Words


def test_the_parsers_speech_verbs_are_the_readers() -> None:
    reader = Words().speech_verbs
    assert set(parse.SPEECH_VERBS) <= reader
    assert {"said", "wrote", "told", "warned", "congratulated"} <= set(parse.SPEECH_VERBS)


def test_the_parser_never_takes_a_noun_for_a_speech_verb() -> None:
    """'state', 'note', 'post' stand in compilations' leads as nouns ("Russia's state
    pipeline company"): questions ask with them, the parser does not find speakers by them."""
    assert not {"state", "note", "post", "say"} & set(parse.SPEECH_VERBS)
    st = parse.attribute("Transneft, Russia’s state pipeline company, said in a statement: “x”")
    assert st.speaker == "Transneft" and st.kind == "organisation"


def test_what_a_question_calls_markets_the_parser_files_as_markets() -> None:
    english = [w for w in vocabulary.market_collective() if w.isascii()]
    assert english and set(english) <= set(parse.MARKET_WORDS)
    reader = Words()
    for w in english:
        assert reader.kinds.get(words(w)[0]) == "market", w


def test_no_word_list_is_kept_twice() -> None:
    data = config.ROOT / "index" / "data"
    words = json.loads((data / "words.json").read_text(encoding="utf-8"))
    kinds = json.loads((data / "kinds.json").read_text(encoding="utf-8"))
    acts = json.loads((data / "acts.json").read_text(encoding="utf-8"))
    assert "speech_verbs" not in words and "market" not in kinds["kinds"]
    # A question's negations: one list (vocabulary.json), read by the kinds and the acts.
    assert "negations" not in kinds["kind_triggers"] and "question_negations" not in acts
    negations = set(vocabulary.negations())
    assert not negations & set(kinds["kind_triggers"]["note_needs"])
    folded = {f for w in vocabulary.speech_verbs() for f in fold_forms(w)}
    assert "сказал" not in folded and "skazal" in folded
