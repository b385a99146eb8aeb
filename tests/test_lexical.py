"""BM25 saved and loaded: the same scores without a pass over the texts."""

from __future__ import annotations

import io

import numpy as np
import pytest

from index.catalog import analyze
from index.lexical import BM25


@pytest.mark.parametrize(
    "docs",
    [
        ["the ruble is tradeable now", "Peskov said nothing about Putin's plans", "", "Трамп"],
        [],
    ],
)
def test_a_saved_index_scores_as_the_built_one(docs: list[str]) -> None:
    built = BM25(docs, analyze)
    buf = io.BytesIO()
    built.save(buf)
    buf.seek(0)
    loaded = BM25.load(buf, analyze)
    for q in ["ruble tradeable", "Putin", "nothing at all", "zzz", "Трамп", ""]:
        assert np.array_equal(built.scores(q), loaded.scores(q)), q
    assert loaded.n == built.n and loaded.vocab == built.vocab
    assert loaded.doc_freq("putin") == built.doc_freq("putin")


def test_a_damaged_file_is_refused() -> None:
    with pytest.raises(Exception):  # noqa: B017 - numpy raises several kinds for bad bytes
        BM25.load(io.BytesIO(b"not an npz"), analyze)


@pytest.mark.parametrize("question", ["US aid", "U.S. aid", "USA aid"])
def test_the_us_abbreviation_is_a_term_and_the_pronoun_a_stopword(question: str) -> None:
    """The abbreviation "U.S." folds to the pronoun "us": as a stopword it could never be
    asked for. Written as an abbreviation it is the term usa (index/data/abbreviations.txt) in
    quotes and questions alike; "us" in lower case stays a stopword and matches nothing."""
    docs = ["Kyiv fears U.S. aid will stop", "Give us more aid, the mayor said", "aid"]
    bm25 = BM25(docs, analyze)
    scores = bm25.scores(question)
    assert scores[0] > 2 * max(scores[1], scores[2])
    assert "usa" not in analyze("tell us") and analyze("America and the USA") == [
        "america",
        "usa",
    ]
