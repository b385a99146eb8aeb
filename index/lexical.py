"""BM25 as one sparse matrix: a query is a sum of a few columns, fast at a million statements.

The matrix is three numpy arrays in compressed-sparse-column form (``Postings``), not a SciPy
matrix: importing ``scipy.sparse`` cost 0.16 s of every process start (``python -X importtime``,
bench/RESULTS.md, "Opening a million statements at a fifth"), and a query only ever adds
up a few columns."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

WORD_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def simple_stem(tok: str) -> str:
    """A light English suffix stripper so 'stocks'/'stock', 'tradeable'/'trade' meet."""
    for suf, rep in (
        ("ies", "y"),
        ("ing", ""),
        ("able", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if len(tok) > len(suf) + 3 and tok.endswith(suf):
            tok = tok[: -len(suf)] + rep
            break
    # "congratulate"/"congratulating", "trade"/"trading" meet without the final e.
    return tok[:-1] if len(tok) > 4 and tok.endswith("e") else tok


@dataclass(frozen=True)
class Postings:
    """A (rows, columns) sparse matrix in compressed-sparse-column form: column ``j``'s rows are
    ``indices[indptr[j]:indptr[j + 1]]`` (ascending, each once) and its values the same slice
    of ``data``. The arrays may be memory-mapped; nothing here copies them."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def of(
        cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
    ) -> Postings:
        """From (row, column, value) triples, no (row, column) twice."""
        order = np.lexsort((rows, cols))
        wide = len(vals) > np.iinfo(np.int32).max  # as SciPy: int32 offsets while they fit
        indptr = np.zeros(shape[1] + 1, np.int64 if wide else np.int32)
        np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
        return cls(vals[order], rows[order].astype(np.int32), indptr, shape)

    def column_sum(self, columns: Sequence[int]) -> np.ndarray:
        """The sum of the given columns, one float32 per row, added column by column in the
        order given (the float32 sums SciPy's ``matrix[:, columns].sum(axis=1)`` gives)."""
        out = np.zeros(self.shape[0], dtype=np.float32)
        for j in columns:
            a, b = int(self.indptr[j]), int(self.indptr[j + 1])
            out[self.indices[a:b]] += self.data[a:b]  # a column holds each row once
        return out


class BM25:
    """Okapi BM25 over a fixed collection, stored as a CSC matrix of per-term weights."""

    def __init__(
        self,
        docs: Sequence[str],
        analyze: Callable[[str], list[str]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.analyze = analyze
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.zeros(len(docs), dtype=np.float32)
        for i, doc in enumerate(docs):
            terms = analyze(doc)
            lengths[i] = len(terms)
            counts: dict[int, int] = {}
            for t in terms:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            rows.extend([i] * len(counts))
            cols.extend(counts.keys())
            vals.extend(counts.values())
        n = len(docs)
        shape = (n, max(len(vocab), 1))
        row = np.asarray(rows, dtype=np.int64)
        col = np.asarray(cols, dtype=np.int64)
        tf = np.asarray(vals, dtype=np.float32)
        df = np.bincount(col, minlength=shape[1]).astype(np.float32)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avgdl, 1e-9))
        w = tf * (k1 + 1) / (tf + norm[row]) * self.idf[col]
        self.matrix = Postings.of(row, col, w.astype(np.float32), shape)
        self.vocab = vocab
        self.df = df
        self.n = n

    def save(self, fh: Any) -> None:
        """Write the index as one ``.npz`` (arrays only, no pickle) to a path or binary file."""
        terms = np.empty(len(self.vocab), dtype=object)
        for t, j in self.vocab.items():
            terms[j] = t
        np.savez(
            fh,
            data=self.matrix.data,
            indices=self.matrix.indices,
            indptr=self.matrix.indptr,
            shape=np.asarray(self.matrix.shape, dtype=np.int64),
            idf=self.idf,
            df=self.df,
            terms=terms.astype(str) if len(terms) else np.zeros(0, dtype="<U1"),
        )

    @classmethod
    def load(cls, fh: Any, analyze: Callable[[str], list[str]]) -> BM25:
        """An index written by ``save``: opening costs a read, not a pass over the texts."""
        with np.load(fh, allow_pickle=False) as z:
            shape = tuple(int(x) for x in z["shape"])
            matrix = Postings(z["data"], z["indices"], z["indptr"], (shape[0], shape[1]))
            idf, df, terms = z["idf"], z["df"], z["terms"].tolist()
        self = cls.__new__(cls)
        self.analyze = analyze
        self.matrix = matrix
        self.idf = idf
        self.df = df
        self.vocab = dict(zip(terms, range(len(terms)), strict=True))
        self.n = shape[0]
        return self

    def arrays(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """The vocabulary (term by id) and the arrays ``from_arrays`` needs."""
        terms = [""] * len(self.vocab)
        for t, j in self.vocab.items():
            terms[j] = t
        return terms, {
            "data": self.matrix.data,
            "indices": self.matrix.indices,
            "indptr": self.matrix.indptr,
            "shape": np.asarray(self.matrix.shape, dtype=np.int64),
            "idf": self.idf,
            "df": self.df,
        }

    @classmethod
    def from_arrays(
        cls,
        terms: Sequence[str],
        arrays: dict[str, np.ndarray],
        analyze: Callable[[str], list[str]],
    ) -> BM25:
        """An index as ``arrays`` gave it (the arrays may be memory-mapped: nothing is copied)."""
        rows, cols = (int(x) for x in arrays["shape"])
        shape = (rows, cols)
        if len(terms) != shape[1] and not (len(terms) == 0 and shape[1] == 1):
            raise ValueError(f"{len(terms)} terms for {shape[1]} columns")
        self = cls.__new__(cls)
        self.analyze = analyze
        self.matrix = Postings(arrays["data"], arrays["indices"], arrays["indptr"], shape)
        self.idf = arrays["idf"]
        self.df = arrays["df"]
        self.vocab = dict(zip(terms, range(len(terms)), strict=True))
        self.n = shape[0]
        return self

    def term_ids(self, query: str) -> list[int]:
        """Known vocabulary ids of a query's terms (unknown terms are dropped)."""
        return sorted({self.vocab[t] for t in self.analyze(query) if t in self.vocab})

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros when no term is known)."""
        ids = self.term_ids(query)
        if not ids:
            return np.zeros(self.n, dtype=np.float32)
        return self.matrix.column_sum(ids)

    def doc_freq(self, term: str) -> float:
        """Share of documents containing an analysed term (0 when unknown)."""
        j = self.vocab.get(term)
        return float(self.df[j]) / max(self.n, 1) if j is not None else 0.0
