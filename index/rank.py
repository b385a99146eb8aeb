"""Stage 3, rank: a ``Query`` -> scored statement rows. Certain slots filter, uncertain ones
boost, the topic ranks what is left (dense + lexical through one ``fuse``), and the list
stops where relevance drops. Every weight and threshold lives in ``RankConfig``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.catalog import Catalog, analyze
from index.understand import Query


@dataclass(frozen=True)
class RankConfig:
    """Weights, thresholds and sizes of the ranking stage, in one place."""

    dense_weight: float = 0.6
    lexical_weight: float = 0.4
    candidates: int = 50  # taken from each retriever before fusion, on the whole archive
    reconstruct_limit: int = 4_000  # below: score every filtered row; above: FAISS with a selector
    country_boost: float = 0.15  # a country the question names but does not scope to
    event_boost: float = 0.1  # an event the question touches without naming it fully
    about_boost: float = 0.1  # statements that mention whom the question is about
    cut_ratio: float = 0.65  # results stop below this share of the best fused score
    min_dense: float = 0.25  # with no word in common, weaker than this is "nothing"
    sure_dense: float = 0.5  # confident on meaning alone
    sure_dense_with_words: float = 0.3  # confident when the words match too
    sure_coverage: float = 0.5  # share of the topic's words the best statement must hold
    sure_name: float = 85.0  # a name matched at least this well is the person meant
    k: int = 10  # topic results at most, unless the caller asks for more


def fuse(dense: np.ndarray, lexical: np.ndarray, cfg: RankConfig) -> np.ndarray:
    """The one fusion: weighted dense similarity plus max-normalised BM25."""
    top = float(lexical.max()) if lexical.size else 0.0
    lex = lexical / top if top > 0 else np.zeros_like(lexical)
    return cfg.dense_weight * dense + cfg.lexical_weight * lex


@dataclass(frozen=True)
class Ranked:
    """What the ranker found: rows best first, their scores, and how sure it is."""

    rows: np.ndarray
    scores: np.ndarray
    mode: str  # "topic" (ranked by relevance) or "list" (archive order)
    confident: bool
    empty_reason: str | None = None  # why nothing fits, in the user's terms
    relaxed: bool = False  # the topic matched nothing within the scope: the scope is shown whole


class Ranker:
    """Scores statements for a reading, over one catalog and one vector index."""

    def __init__(
        self,
        catalog: Catalog,
        faiss_index: Any,
        encode: Callable[[list[str]], np.ndarray],
        config: RankConfig | None = None,
    ) -> None:
        self.cat = catalog
        self.faiss = faiss_index
        self.encode = encode
        self.cfg = config or RankConfig()

    # ------------------------------------------------------------ scope

    def scope(self, q: Query) -> tuple[np.ndarray | None, str | None]:
        """Rows every certain slot allows (None: the whole archive), or why none does."""
        cat = self.cat
        sets: list[tuple[np.ndarray, str]] = []

        def union(arrays: Sequence[np.ndarray]) -> np.ndarray:
            arrays = [a for a in arrays if len(a)]
            return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.int64)

        if q.speakers:
            rows = union([np.asarray(cat.speakers[k].ids, np.int64) for k in q.speakers])
            sets.append((rows, "by them"))
        in_countries = union([cat.by_country[c] for c in q.countries]) if q.countries else None
        if q.roles:
            rows_r = union([cat.role_rows[r] for r in q.roles])
            if in_countries is not None:
                # "Estonian prime minister" is the role's own country, whatever the heading.
                want = set(q.countries)
                named = [cat.role_rows[r] for r in q.roles if want & cat.countries_of_role(r)]
                rows_r = union([np.intersect1d(rows_r, in_countries), *named])
                in_countries = None
            sets.append((rows_r, "by that role"))
        if in_countries is not None:
            sets.append((in_countries, "from there"))
        if q.outlets:
            sets.append((union([cat.by_outlet[o] for o in q.outlets]), "from that outlet"))
        if q.time is not None:
            rows_t = q.time.rows(cat.row_date, cat.row_date_last)
            if rows_t is not None:
                sets.append((rows_t, f"from {q.time.text}" if q.time.text else "then"))
        if q.events and q.event_certain:
            sets.append((union([cat.by_doc[d] for d in q.events]), "in that compilation"))
        if q.kinds:
            sets.append((union([cat.by_kind.get(k, np.zeros(0, np.int64)) for k in q.kinds]), ""))
        if q.about_speakers and not q.speakers:
            own = union([np.asarray(cat.speakers[k].ids, np.int64) for k in q.about_speakers])
            mentions = union([cat.text_rows(w) for w in q.about])
            sets.append((np.setdiff1d(mentions, own), "about them"))
        if not sets:
            return None, None
        rows = sets[0][0]
        for other, why in sets[1:]:
            rows = np.intersect1d(rows, other, assume_unique=True)
            if not len(rows):
                return rows, why
        return rows, (sets[0][1] if not len(rows) else None)

    # ------------------------------------------------------------ ranking

    def rank(self, q: Query, k: int | None = None) -> Ranked:
        cfg = self.cfg
        k = cfg.k if k is None else k
        empty = np.zeros(0, np.int64)
        if q.absent:
            return Ranked(empty, np.zeros(0), "list", False, "absent")
        rows, why = self.scope(q)
        if rows is not None and not len(rows):
            return Ranked(empty, np.zeros(0), "list", False, why or "scope")
        if q.time is not None and q.time.order and rows is None and not q.topic_terms:
            rows = self._newest_compilation(q.time.order)
        if not q.topic_terms:
            if rows is not None:
                return self._listed(q, rows)
            if not q.topic:  # "what did they say?"
                return Ranked(empty, np.zeros(0), "list", False, "vague")
            # Only words every statement shares ("Trump election"): rank by them all the same.
        return self._topic(q, rows, k)

    def _newest_compilation(self, order: str) -> np.ndarray:
        docs = sorted(self.cat.doc_rank.items(), key=lambda kv: kv[1])
        if not docs:
            return np.zeros(0, np.int64)
        doc = docs[0][0] if order == "newest" else docs[-1][0]
        return self.cat.by_doc[doc]

    def _listed(self, q: Query, rows: np.ndarray) -> Ranked:
        """No topic: everything in scope, grouped by compilation, newest first."""
        # A "no remarks" note answers its own country; in wider lists statements lead.
        notes_last = len(q.countries) != 1 or bool(q.regions)
        rows = self._ordered(q, self.cat.archive_order(rows, notes_last=notes_last))
        sure = not q.speakers or q.speaker_score >= self.cfg.sure_name
        return Ranked(rows, np.ones(len(rows)), "list", sure)

    def _ordered(self, q: Query, rows: np.ndarray) -> np.ndarray:
        return rows[self._order(q, rows)]

    def _order(self, q: Query, rows: np.ndarray) -> np.ndarray:
        """The permutation that puts rows newest (or oldest) first when the question asks."""
        if q.time is None or not q.time.order or not len(rows):
            return np.arange(len(rows))
        dates = self.cat.row_date[rows]
        return np.argsort(-dates if q.time.order == "newest" else dates, kind="stable")

    def _topic(self, q: Query, rows: np.ndarray | None, k: int) -> Ranked:
        cfg = self.cfg
        cat = self.cat
        # Within a scope, the topic alone is embedded ("cyberattack", not "What did Russia say").
        # Whom it is about already scoped the rows when they are people; else it is topic too.
        about = () if q.about_speakers else q.about
        focus = " ".join([q.topic, *about]) if rows is not None and q.topic else q.text
        vec = np.asarray(self.encode([focus]), dtype=np.float32)
        lex_text = " ".join([q.topic, *q.about])
        lex_all = cat.bm25.scores(lex_text)
        if rows is None:
            cand, dense = self._search_all(vec, lex_all)
        else:
            cand = rows
            dense = self._dense_for(vec, cand)
        if "note" not in q.kinds:  # a "no remarks" note never outranks a statement on a topic
            keep = np.fromiter(
                (cat.statements[int(r)].kind != "note" for r in cand), bool, len(cand)
            )
            cand, dense = cand[keep], dense[keep]
        if not len(cand):
            return self._relaxed(q, rows)
        lex = lex_all[cand]
        score = fuse(dense, lex, cfg)
        score = score + self._boosts(q, cand)
        order = np.lexsort((cand, -score))
        cand, score, dense, lex = cand[order], score[order], dense[order], lex[order]
        top_dense = float(dense.max())
        coverage = self._coverage(q, int(cand[0]))
        lexical_hit = float(lex.max()) > 0
        sure = top_dense >= cfg.sure_dense or (
            lexical_hit and top_dense >= cfg.sure_dense_with_words and coverage >= cfg.sure_coverage
        )
        if rows is not None and q.filters:
            # Within a scope the user named, the scope is sure; the topic only orders it.
            sure = sure or lexical_hit
            if not lexical_hit and top_dense < cfg.sure_dense_with_words:
                # Nothing in scope speaks of the topic: show the scope whole, closest first.
                perm = self._order(q, cand)
                return Ranked(cand[perm], score[perm], "topic", False, relaxed=True)
        elif not lexical_hit and (top_dense < cfg.min_dense or not sure):
            # Not one word in common and no close meaning: quoting the nearest statements
            # would answer "Dovhal" or "bake bread" with whatever is closest. Say so instead.
            return Ranked(np.zeros(0, np.int64), np.zeros(0), "topic", False, "nothing")
        if q.speakers and q.speaker_score < cfg.sure_name:
            sure = False
        top = float(score[0])
        cut = score >= top * cfg.cut_ratio if top > 0 else np.ones(len(score), bool)
        n = int(cut.sum())
        if q.wants_set and (q.roles or q.kinds):
            n = len(cand)  # "Which presidents …", "Which assets …": every one, most relevant first
        elif q.speakers and rows is not None and q.filters:
            n = len(cand)  # a person's statements: all of them, most relevant first
        if k:
            n = (
                min(n, max(k, 1))
                if not (q.speakers or (q.wants_set and (q.roles or q.kinds)))
                else n
            )
        keep = np.zeros(len(cand), bool)
        keep[:n] = True
        if q.mentions:  # "about Zorin": every statement that names him, after the best
            named = np.concatenate([cat.text_rows(w) for w in q.mentions])
            keep |= np.isin(cand, named)
        return Ranked(cand[keep], score[keep], "topic", sure)

    def _relaxed(self, q: Query, rows: np.ndarray | None) -> Ranked:
        """The topic matches nothing in scope: show the scope whole, and say so."""
        if rows is None or not len(rows):
            return Ranked(np.zeros(0, np.int64), np.zeros(0), "topic", False, "nothing")
        listed = self._listed(q, rows)
        return Ranked(listed.rows, listed.scores, "list", False, relaxed=True)

    def _coverage(self, q: Query, row: int) -> float:
        terms = {t for w in q.topic_terms for t in analyze(w)}
        if not terms:
            return 1.0
        st = self.cat.statements[row]
        have = set(analyze(" ".join(x for x in (st.speaker, st.role, st.text) if x)))
        return len(terms & have) / len(terms)

    def _boosts(self, q: Query, cand: np.ndarray) -> np.ndarray:
        cfg = self.cfg
        cat = self.cat
        out = np.zeros(len(cand), dtype=np.float32)
        if q.about and not q.about_speakers:  # a country spoken about: statements naming it
            mention = np.concatenate([cat.text_rows(w) for w in q.about] or [np.zeros(0, np.int64)])
            out += cfg.about_boost * np.isin(cand, mention)
        if q.events and not q.event_certain:
            docs = np.concatenate([cat.by_doc[d] for d in q.events])
            out += cfg.event_boost * np.isin(cand, docs)
        return out

    def _dense_for(self, vec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Dense similarity of the given rows: exact for a small scope, FAISS-filtered above."""
        if not len(rows) or not self.faiss.ntotal:
            return np.zeros(len(rows), dtype=np.float32)
        if len(rows) <= self.cfg.reconstruct_limit:
            mat = self.faiss.reconstruct_batch(rows.astype(np.int64))
            return (mat @ vec[0]).astype(np.float32)
        import faiss

        sel = faiss.IDSelectorBatch(rows.astype(np.int64))
        params: Any = (
            faiss.SearchParametersIVF(sel=sel, nprobe=_nprobe(self.faiss))  # type: ignore[call-arg]
            if _is_ivf(self.faiss)
            else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
        )
        kk = min(self.cfg.candidates * 4, len(rows))
        sims, ids = self.faiss.search(vec, kk, params=params)
        found = ids[0] >= 0
        sims, ids = sims[0][found], ids[0][found]
        # Rows the search did not reach rank below every row it did.
        floor = float(sims.min()) - 0.05 if len(sims) else 0.0
        out = np.full(len(rows), floor, dtype=np.float32)
        order = np.argsort(rows)
        out[order[np.searchsorted(rows[order], ids)]] = sims
        return out

    def _search_all(self, vec: np.ndarray, lex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidates from both retrievers over the whole archive, with their dense scores."""
        n = len(self.cat.statements)
        kk = min(self.cfg.candidates, n)
        dense: dict[int, float] = {}
        if kk and self.faiss.ntotal:
            sims, ids = self.faiss.search(vec, kk)
            dense = {int(i): float(s) for s, i in zip(sims[0], ids[0], strict=True) if i >= 0}
        cand = set(dense)
        if n and float(lex.max()) > 0:
            best = np.argpartition(-lex, min(kk, n - 1))[:kk] if n > kk else np.arange(n)
            cand |= {int(i) for i in best if lex[i] > 0}
        rows = np.fromiter(sorted(cand), np.int64, len(cand))
        missing = [r for r in rows if int(r) not in dense]
        if missing:
            extra = self._dense_for(vec, np.asarray(missing, np.int64))
            dense.update(zip((int(r) for r in missing), (float(x) for x in extra), strict=True))
        return rows, np.fromiter((dense[int(r)] for r in rows), np.float32, len(rows))


def _is_ivf(index: Any) -> bool:
    try:
        import faiss

        faiss.extract_index_ivf(index)
        return True
    except (ImportError, RuntimeError):
        return False


def _nprobe(index: Any) -> int:
    import faiss

    return int(faiss.extract_index_ivf(index).nprobe)
