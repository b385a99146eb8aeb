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
