"""The multilingual route's finer grains, embedded by the multilingual model at build beside
the statements' own vectors (``build.build``; stored in the bundle as ``store.ML_GRAINS``):

- **pieces**, each statement's sentences. A Russian or Ukrainian question that quotes a
  phrase ("традиционные ценности") is close to one sentence of a long statement, not to the
  whole, whose other sentences pull its vector away. The route's dense score of a statement
  is mixed with its best sentence's (``DenseScale.piece_weight``).
- a **glossary**, the archive's English words, each embedded alone. A Cyrillic topic word
  whose vector lies close to one English word of the archive, and clearly closer than to any
  word of another stem ("традиционные": traditional, "океану": ocean, "санкции": sanctions
  though "sanctioned" is as close), lends that word to the lexical side
  (``DenseScale.gloss_similarity``, ``gloss_margin``): BM25 then finds the quotes that say it.
  A word most statements hold is not lent (``Catalog.generic``).

Both are embedded once per compilation and kept in the vector cache like the statements.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Any

import numpy as np

from index.catalog import analyze
from index.model import Document, Statement

# A sentence ends at . ! ? … ; or : and the closing quote after it, before white space.
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])[\"”’»]?\s+")
PIECE_MIN_WORDS = 3  # shorter sentences ("he said.") are no piece of their own
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")
GLOSS_MIN_LETTERS = 3  # shorter English words are not glossed
CYRILLIC_MIN_LETTERS = 4  # shorter Cyrillic words ("для", "про") are not looked up
PIECES_BUILDER = "passage-pieces"  # vector cache tags (index.build.VectorCache)
WORDS_BUILDER = "query-words"


def pieces(text: str) -> list[str]:
    """A statement's sentences of ``PIECE_MIN_WORDS`` words or more; none for a statement of
    one sentence (its own vector is that sentence's)."""
    parts = [p for p in _SENTENCE_END.split(text) if len(p.split()) >= PIECE_MIN_WORDS]
    return parts if len(parts) > 1 else []


def glossary_words(statements: Sequence[Statement]) -> list[str]:
    """The English words of these statements that are lexical terms (no stopwords), lower
    case, each once, in the order they first occur."""
    seen: dict[str, None] = {}
    for st in statements:
        for m in _LATIN_WORD.finditer(st.text):
            word = m.group().lower()
            if len(word) >= GLOSS_MIN_LETTERS and word not in seen and analyze(word):
                seen[word] = None
    return list(seen)


@dataclass(frozen=True)
class Grains:
    """Piece vectors (``owner[i]``: the statement row of piece ``i``) and glossary vectors
    (``words[j]``: the English word of row ``j``), all unit rows of one model."""

    owner: np.ndarray  # int64, one statement row per piece
    pieces: np.ndarray  # float32 (pieces, dim)
    words: tuple[str, ...]
    glossary: np.ndarray  # float32 (words, dim)

    def summary(self) -> dict[str, int]:
        """How many pieces and glossary words: the bundle manifest's ``grains`` field."""
        return {"pieces": len(self.owner), "words": len(self.words)}

    def best_piece(self, vec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each row's best piece similarity to ``vec`` (-inf for a row without pieces)."""
        best = np.full(len(rows), -np.inf, dtype=np.float32)
        if not len(self.owner) or not len(rows):
            return best
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        lo = np.searchsorted(sorted_rows, self.owner, side="left")
        hi = np.searchsorted(sorted_rows, self.owner, side="right")
        mine = np.flatnonzero(hi > lo)  # pieces of the asked rows (each row once)
        if len(mine):
            sims = np.einsum("ij,j->i", self.pieces[mine], vec).astype(np.float32)
            np.maximum.at(best, order[lo[mine]], sims)
        return best

    def rows_near(self, vec: np.ndarray, k: int) -> np.ndarray:
        """Statement rows of the ``k`` pieces nearest ``vec``."""
        if not len(self.owner) or k <= 0:
            return np.zeros(0, np.int64)
        sims = np.einsum("ij,j->i", self.pieces, vec)
        top = np.argpartition(-sims, k - 1)[:k] if len(sims) > k else np.arange(len(sims))
        return np.unique(self.owner[top])

    def gloss(self, vectors: np.ndarray, similarity: float, margin: float) -> list[str | None]:
        """For each word vector, the English word it is nearest when at least ``similarity``
        close and ``margin`` closer than to the next word of another stem ("sanctions" and
        "sanctioned" are one term to the lexical side, so neither is the other's rival), else
        None."""
        out: list[str | None] = []
        if len(self.words) < 2:
            return [None] * len(vectors)
        stems = self._stems
        sims = vectors @ self.glossary.T
        for row in sims:
            first = int(np.argmax(row))
            rivals = row[stems != stems[first]]
            second = float(rivals.max()) if len(rivals) else -np.inf
            good = row[first] >= similarity and row[first] - second >= margin
            out.append(self.words[first] if good else None)
        return out

    @cached_property
    def _stems(self) -> np.ndarray:
        """Each glossary word's lexical terms as one number: words of one stem share it."""
        ids: dict[str, int] = {}
        return np.asarray(
            [ids.setdefault(" ".join(analyze(w)), len(ids)) for w in self.words], dtype=np.int32
        )

    def save(self, fh: IO[bytes]) -> None:
        """As one ``.npz`` (no pickle)."""
        np.savez(
            fh,
            owner=self.owner.astype(np.int64),
            pieces=self.pieces.astype(np.float32),
            words=np.asarray(self.words, dtype=str),
            glossary=self.glossary.astype(np.float32),
        )

    @classmethod
    def load(cls, fh: IO[bytes], rows: int, dim: int) -> Grains:
        """From ``save``'s bytes, checked against the bundle (ValueError when they disagree)."""
        with np.load(io.BytesIO(fh.read()), allow_pickle=False) as z:
            owner = np.asarray(z["owner"], dtype=np.int64)
            vecs = np.asarray(z["pieces"], dtype=np.float32)
            words = tuple(str(w) for w in z["words"].tolist())
            glossary = np.asarray(z["glossary"], dtype=np.float32)
        if vecs.shape != (len(owner), dim) or glossary.shape != (len(words), dim):
            raise ValueError("its vectors do not have the multilingual model's dimension")
        if len(owner) and (owner.min() < 0 or owner.max() >= rows):
            raise ValueError(f"a piece belongs to no statement of {rows}")
        if not (np.isfinite(vecs).all() and np.isfinite(glossary).all()):
            raise ValueError("it holds a vector that is not finite")
        return cls(owner, vecs, words, glossary)


def embed_grains(
    statements: Sequence[Statement],
    documents: Sequence[Document],
    cached: Callable[[Document, str, list[str]], np.ndarray | None],
    keep: Callable[[Document, str, list[str], np.ndarray], None],
    encoder: Any,
    skip: frozenset[str] = frozenset(),
) -> Grains:
    """The pieces and glossary of every compilation but those in ``skip`` (their statements
    wait for their vectors: ``build.deferred_multilingual``), a compilation's from the cache
    (``cached``) when it has them, else embedded by ``encoder`` and kept (``keep``)."""
    rows: dict[str, list[int]] = {}
    for i, st in enumerate(statements):
        rows.setdefault(st.document, []).append(i)
    owner: list[int] = []
    piece_vecs: list[np.ndarray] = []
    words: dict[str, np.ndarray] = {}
    for doc in documents:
        if doc.id in skip or not rows.get(doc.id):
            continue
        doc_rows = rows[doc.id]
        found = [(r, p) for r in doc_rows for p in pieces(statements[r].text)]
        ids = [f"{statements[r].id}#{n}" for n, (r, _) in enumerate(found)]
        got = _vectors(doc, PIECES_BUILDER, ids, [p for _, p in found], cached, keep, encoder)
        owner += [r for r, _ in found]
        piece_vecs.append(got)
        vocab = glossary_words([statements[r] for r in doc_rows])
        vocab_vecs = _vectors(doc, WORDS_BUILDER, vocab, vocab, cached, keep, encoder, True)
        for word, vec in zip(vocab, vocab_vecs, strict=True):
            words.setdefault(word, vec)
    dim = int(encoder.dim)
    return Grains(
        np.asarray(owner, dtype=np.int64),
        np.concatenate(piece_vecs) if piece_vecs else np.zeros((0, dim), np.float32),
        tuple(words),
        np.stack(list(words.values())) if words else np.zeros((0, dim), np.float32),
    )


def _vectors(
    doc: Document,
    builder: str,
    ids: list[str],
    texts: list[str],
    cached: Callable[[Document, str, list[str]], np.ndarray | None],
    keep: Callable[[Document, str, list[str], np.ndarray], None],
    encoder: Any,
    as_query: bool = False,
) -> np.ndarray:
    """One compilation's vectors of ``texts`` (named ``ids``), cached or embedded and kept.
    Glossary words are embedded as questions are (``query: ``), since questions' words are
    what they are compared with."""
    dim = int(encoder.dim)
    if not texts:
        return np.zeros((0, dim), np.float32)
    got = cached(doc, builder, ids) if doc.sha256 else None
    if got is not None and got.shape == (len(ids), dim):
        return got
    vecs = np.asarray(encoder.query(texts) if as_query else encoder.encode(texts), np.float32)
    if doc.sha256:
        keep(doc, builder, ids, vecs)
    return vecs
