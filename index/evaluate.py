"""Retrieval quality: the engine beside three peers built the usual way, on one question set."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.model import Statement

Retriever = Callable[[str], list[str]]  # question -> result texts, best first


def norm(s: str) -> str:
    """The scoring rule's normal form: case-, accent-, quote- and whitespace-insensitive."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    for a, b in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u0131", "i"),
    ):
        s = s.replace(a, b)
    return re.sub(r"\s+", " ", s).lower().strip()


@dataclass(frozen=True)
class Score:
    n: int
    top1: float
    recall: float
    mrr: float
    misses: tuple[str, ...]


def load_questions(path: Path) -> list[dict[str, Any]]:
    """One JSON question a line (``question``, ``expect``, ``match``)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(
    questions: Sequence[dict[str, Any]],
    answers: Sequence[list[str]],
    confident: Sequence[bool] | None = None,
) -> Score:
    """Top-1, recall and MRR by the shared rule (see data/eval/README.md); ``confident`` is
    each answer's flag (a retriever without one is always sure of itself)."""
    top1 = recall = rr = 0.0
    misses = []
    sure = list(confident) if confident is not None else [True] * len(answers)
    for q, texts, is_sure in zip(questions, answers, sure, strict=True):
        if q.get("match") == "none":  # unanswerable: right when nothing comes back, or unsure
            ok = not texts or not is_sure
            top1 += ok
            recall += ok
            rr += ok
            if not ok:
                misses.append(f"{q.get('id', '?')}: {q['question']!r} (answered confidently)")
            continue
        got = [norm(t) for t in texts]
        exp = [norm(e) for e in q["expect"]]
        rank = next((i + 1 for i, t in enumerate(got[:10]) if any(e in t for e in exp)), None)
        first = rank == 1
        if q.get("match") == "all":
            window = got[: len(exp) + 2]
            rec = all(any(e in t for t in window) for e in exp)
        else:
            rec = rank is not None and rank <= 3
        top1 += first
        recall += rec
        rr += 1 / rank if rank else 0.0
        if not (first and rec):
            misses.append(f"{q.get('id', '?')}: {q['question']!r}")
    n = max(len(questions), 1)
    return Score(len(questions), top1 / n, recall / n, rr / n, tuple(misses))


def _words(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


class Bm25Peer:
    """Peer 1: one chunk per bullet, Okapi BM25 on lower-cased words (no stemming, no names)."""

    def __init__(self, chunks: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = list(chunks)
        self.docs = [_words(c) for c in chunks]
        self.avgdl = sum(map(len, self.docs)) / max(len(self.docs), 1)
        df: dict[str, int] = {}
        for d in self.docs:
            for w in set(d):
                df[w] = df.get(w, 0) + 1
        n = len(self.docs)
        self.idf = {w: math.log((n - f + 0.5) / (f + 0.5) + 1) for w, f in df.items()}
        self.k1, self.b = k1, b

    def rank(self, q: str) -> list[int]:
        qs = _words(q)
        scores = []
        for i, d in enumerate(self.docs):
            s = 0.0
            for w in qs:
                tf = d.count(w)
                if tf:
                    s += (
                        self.idf[w]
                        * tf
                        * (self.k1 + 1)
                        / (tf + self.k1 * (1 - self.b + self.b * len(d) / self.avgdl))
                    )
            scores.append((s, i))
        return [i for s, i in sorted(scores, key=lambda x: (-x[0], x[1]))]


class DensePeer:
    """Peer 2: the same model over the same chunks, exact FAISS inner product. ``encode``
    embeds the chunks, and the questions too unless ``encode_query`` is given (models such as
    e5 embed questions and passages differently)."""

    def __init__(
        self,
        chunks: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        encode_query: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        import faiss

        self.encode = encode_query or encode
        vecs = np.ascontiguousarray(encode(list(chunks)), dtype=np.float32)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(vecs)

    def rank(self, q: str) -> list[int]:
        _, ids = self.index.search(
            np.asarray(self.encode([q]), dtype=np.float32), self.index.ntotal
        )
        return [int(i) for i in ids[0] if i >= 0]


def rrf(*rankings: list[int], k: int = 60) -> list[int]:
    """Peer 3: reciprocal-rank fusion of the two."""
    score: dict[int, float] = {}
    for ranking in rankings:
        for r, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1 / (k + r + 1)
    return sorted(score, key=lambda i: (-score[i], i))


def peer_chunks(statements: Sequence[Statement]) -> list[str]:
    """The usual chunking: each bullet's text with its citation, nothing else."""
    return [
        s.text + (" (" + ", ".join(src.raw for src in s.sources) + ")" if s.sources else "")
        for s in statements
    ]
