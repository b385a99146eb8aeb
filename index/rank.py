"""Stage 3, rank: a ``Query`` -> scored statement rows. Certain slots filter, uncertain ones
boost, the topic ranks what is left (dense + lexical through one ``fuse``), and the list
stops where relevance drops. Every weight and threshold lives in ``RankConfig``; the dense
ones per encoder (``DenseScale``), since each model's cosines live on a scale of their own.

Two dense routes: English questions go to the English model (MiniLM) and its vectors; a
question whose topic is written in Cyrillic goes to the multilingual model (e5) and its
vectors, when the archive was built with them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from index.catalog import Catalog, analyze
from index.claims import Claim
from index.crosslingual import CYRILLIC_MIN_LETTERS, Grains
from index.model import Statement
from index.query import NUMBER, Query
from index.scope import Narrowed, Scope
from index.stance import DENIES, PERFORMS, shared_acts
from index.textnorm import is_cyrillic, tokens, words


@dataclass(frozen=True)
class DenseScale:
    """How one encoder's cosine similarities read, and how much they weigh beside BM25.

    Fitted on that encoder's own scores, never shared: MiniLM puts unrelated texts near 0,
    multilingual-e5 near 0.7, so a threshold that means "nothing" for one means "sure" for the
    other. ``floor`` is where this encoder's unrelated texts sit; fusion reads the cosine from
    there up (``spread``), so the weights mean the same for every encoder. The thresholds are
    on raw cosines."""

    dense_weight: float = 0.6
    lexical_weight: float = 0.4
    floor: float = 0.0  # cosine of unrelated texts: fusion reads similarity from here up
    cut_ratio: float = 0.65  # results stop below this share of the best fused score
    min_dense: float = 0.25  # with no word in common, weaker than this is "nothing"
    sure_dense: float = 0.5  # confident on meaning alone
    sure_dense_with_words: float = 0.3  # confident when the words match too
    # Within a scope, embed the whole question (True) or only its topic (False): MiniLM is
    # led astray by "What did Russia say", e5 reads a question as the query it was trained on.
    whole_question: bool = False
    # The route's grains (index.crosslingual), where its bundle has them: a statement's dense
    # score is (1 - piece_weight) x its own + piece_weight x its best sentence's (when that is
    # higher); a Cyrillic topic word lends the lexical side the archive's English word its
    # vector is at least gloss_similarity close to, gloss_margin closer than to the next.
    piece_weight: float = 0.0
    # A phrase the question quotes is looked for among the sentence pieces on its own; a
    # statement's dense score is (1 - quote_weight) x its score + quote_weight x its best
    # piece's similarity to the phrase (when that is higher).
    quote_weight: float = 0.0
    gloss_similarity: float = 1.0
    gloss_margin: float = 0.0
    gloss_words: int = 4  # the topic's first Cyrillic words looked up, at most
    # Sure by meaning alone only if still so without the words naming the archive's event
    # and what the question speaks of (RankConfig.contrast_slots; Ranker._sure_without_event:
    # one more encoding, only where meaning alone would make the answer sure). On for both
    # encoders: "who will be Trump's special envoy for Ukraine" read sure on MiniLM through
    # "Trump" and "Ukraine" alone (bench/RESULTS.md, "Contrast").
    event_contrast: bool = True

    def spread(self, dense: np.ndarray) -> np.ndarray:
        """Cosines read from this encoder's floor up (unchanged for a floor of 0)."""
        if not self.floor:
            return dense
        return (dense - self.floor) / (1.0 - self.floor)


# all-MiniLM-L6-v2 (English questions): the values the English question sets were tuned with.
ENGLISH_SCALE = DenseScale()
# multilingual-e5-small at 4 bits (Cyrillic questions), fitted on the Russian and Ukrainian
# question sets and off-topic questions by bench/fit_dense_scale.py (its docstring says how,
# bench/RESULTS.md has the run).
MULTILINGUAL_SCALE = DenseScale(
    dense_weight=0.7,
    lexical_weight=0.3,
    floor=0.72,
    cut_ratio=0.8,
    min_dense=0.766,
    sure_dense=0.816,
    sure_dense_with_words=0.766,
    whole_question=True,
    # bench/RESULTS.md, "Sentence pieces and a glossary": 0.3 was the simulated best; the
    # glossary's pairs at 0.92 / 0.03 were right but for about one word in twenty.
    piece_weight=0.3,
    # bench/RESULTS.md, "Quoted phrases": 0.7 was the lowest of the best on the read sets.
    quote_weight=0.7,
    gloss_similarity=0.92,
    gloss_margin=0.03,
)


@dataclass(frozen=True)
class RankConfig:
    """Weights, thresholds and sizes of the ranking stage, in one place."""

    english: DenseScale = ENGLISH_SCALE  # the English route's encoder (MiniLM)
    multilingual: DenseScale = MULTILINGUAL_SCALE  # the multilingual route's encoder (e5)
    candidates: int = 50  # taken from each retriever before fusion, on the whole archive
    reconstruct_limit: int = 4_000  # below: score every filtered row; above: FAISS with a selector
    country_boost: float = 0.15  # a country the question names but does not scope to
    event_boost: float = 0.1  # an event the question touches without naming it fully
    about_boost: float = 0.1  # statements that mention whom the question is about
    silence_boost: float = 0.2  # "Putin's silence": quotes that tell of it by a negation
    latent_boost: float = 0.05  # what a latent claim points at (a bare year's statements)
    stance_boost: float = 0.2  # a statement that performs the act asked for ("congratulated")
    stance_penalty: float = 0.3  # one that only denies it or asks about it
    phrase_boost: float = 0.1  # a quote that writes the topic's words side by side, as asked
    self_penalty: float = 0.3  # "Who criticised Transneft?": Transneft's own statements
    sure_coverage: float = 0.5  # share of the topic's words the best statement must hold
    sure_name: float = 85.0  # a name matched at least this well is the person meant
    # A question on several places (a region, "Georgia and Armenia"): each place's best quote
    # is shown, past the relevance cut, when its score is at least this share of the best.
    member_ratio: float = 0.2
    # A Cyrillic topic's English words (translation_words of them at least) also rank by the
    # English model's similarity of the bag to each candidate, times this (Ranker._english_bag;
    # 0.5-0.7 were best on the read sets, bench/RESULTS.md "Translated words").
    translation_weight: float = 0.5
    translation_words: int = 2
    k: int = 10  # topic results at most, unless the caller asks for more
    # Claims whose own words also rank, as the question says them (see Ranker._scope_words).
    scope_word_slots: tuple[str, ...] = ("region", "kind")
    # Claims whose words a sure-by-meaning answer must do without (DenseScale.event_contrast).
    contrast_slots: tuple[str, ...] = ("event", "about")

    def scale(self, route: str) -> DenseScale:
        """The dense scale of a route ("english" or "multilingual")."""
        return self.multilingual if route == MULTILINGUAL else self.english


GLOSS_MEMO = 20_000  # glossary lookups a ranker remembers

ENGLISH = "english"
MULTILINGUAL = "multilingual"


@dataclass(frozen=True)
class Route:
    """One dense retriever: an encoder's question vectors against its own statement vectors."""

    name: str  # ENGLISH or MULTILINGUAL: which DenseScale reads its scores
    index: Any  # faiss.Index, row i = statement i
    encode: Callable[[list[str]], np.ndarray]
    grains: Grains | None = None  # sentence pieces and glossary (the multilingual route)


def _mixed(dense: np.ndarray, piece: np.ndarray, weight: float) -> np.ndarray:
    """A statement's dense score with a sentence piece's mixed in: (1 - weight) x its own +
    weight x the piece's, where the piece is the nearer (a farther piece changes nothing)."""
    return ((1.0 - weight) * dense + weight * np.maximum(piece, dense)).astype(np.float32)


def fuse(dense: np.ndarray, lexical: np.ndarray, scale: DenseScale) -> np.ndarray:
    """The one fusion: weighted dense similarity (from the encoder's floor up) plus
    max-normalised BM25."""
    top = float(lexical.max()) if lexical.size else 0.0
    lex = lexical / top if top > 0 else np.zeros_like(lexical)
    return scale.dense_weight * scale.spread(dense) + scale.lexical_weight * lex


@dataclass(frozen=True)
class Ranked:
    """What the ranker found: rows best first, their scores, and how sure it is."""

    rows: np.ndarray
    scores: np.ndarray
    mode: str  # "topic" (ranked by relevance) or "list" (archive order)
    confident: bool
    empty_reason: str | None = None  # why nothing fits: "vague", "scope" or "nothing"
    relaxed: bool = False  # the topic matched nothing within the scope: the scope is shown whole
    # How the topic was ranked (bench/fit_dense_scale.py fits the thresholds on these):
    route: str = ""  # the dense route, ENGLISH or MULTILINGUAL ("" without a topic)
    dense_top: float = 0.0  # the best dense score among the candidates
    lexical_hit: bool = False  # some candidate shares a word with the topic
    dropped: tuple[Claim, ...] = ()  # claims the scope dropped (or on what the archive lacks)
    glossed: tuple[str, ...] = ()  # English words the glossary lent a Cyrillic topic


@dataclass(frozen=True)
class _How:
    """How a topic was ranked, stamped on what the ranking returns."""

    route: str
    dense_top: float
    lexical_hit: bool
    glossed: tuple[str, ...] = ()

    def __call__(self, ranked: Ranked) -> Ranked:
        return replace(
            ranked,
            route=self.route,
            dense_top=self.dense_top,
            lexical_hit=self.lexical_hit,
            glossed=self.glossed,
        )


class Ranker:
    """Scores statements for a reading, over one catalog and one vector index."""

    def __init__(
        self,
        catalog: Catalog,
        faiss_index: Any,
        encode: Callable[[list[str]], np.ndarray],
        config: RankConfig | None = None,
        *,
        multilingual: Route | None = None,
    ) -> None:
        self.cat = catalog
        self.faiss = faiss_index
        self.encode = encode
        self.cfg = config or RankConfig()
        self.english = Route(ENGLISH, faiss_index, encode)
        self.multilingual = multilingual  # None: Cyrillic topics take the English route too
        self.scoper = Scope(catalog)
        # Glossary lookups by (route, word): a word's English word does not change, and
        # looking it up costs an e5 pass. Emptied when it holds GLOSS_MEMO words.
        self._glosses: dict[tuple[str, str], str | None] = {}
        self.acts = shared_acts()

    def route(self, q: Query) -> Route:
        """The multilingual route for a topic in Cyrillic (when built), else the English one."""
        if q.cyrillic and self.multilingual is not None:
            return self.multilingual
        return self.english

    def scope(self, q: Query) -> Narrowed:
        """What the question's claims allow (``scope.Scope``: certain filter, likely relax)."""
        return self.scoper.narrow(q)

    # ------------------------------------------------------------ ranking

    def rank(self, q: Query, k: int | None = None) -> Ranked:
        """Rank what the scope allows. A claim the scope dropped (or one on what the archive
        lacks) never empties the answer, but the answer is then not confident and says so."""
        narrowed = self.scope(q)
        ranked = self._rank(narrowed, k)
        if narrowed.dropped:
            ranked = replace(ranked, confident=False)
        return replace(ranked, dropped=narrowed.dropped)

    def _rank(self, narrowed: Narrowed, k: int | None) -> Ranked:
        cfg = self.cfg
        k = cfg.k if k is None else k
        empty = np.zeros(0, np.int64)
        q, rows = narrowed.query, narrowed.rows
        if rows is not None and not len(rows):
            return Ranked(empty, np.zeros(0), "list", False, "scope")
        if q.time is not None and q.time.order and rows is None and not q.topic_terms:
            rows = self._newest_compilation(q.time.order)
        if not q.topic_terms:
            if rows is not None and not (q.about and not q.about_speakers):
                return self._listed(q, rows)
            if rows is not None:  # "What did Peskov say about Ukraine?": the place ranks them
                return self._topic(replace(q, topic=" ".join(q.about)), rows, k, narrowed.latent)
            if not q.topic:  # "what did they say?"
                return Ranked(empty, np.zeros(0), "list", False, "vague")
            # Only words every statement shares ("Trump election"): rank by them all the same.
        return self._topic(q, rows, k, narrowed.latent)

    def _newest_compilation(self, order: str) -> np.ndarray:
        docs = self.cat.doc_by_rank  # newest first
        if not docs:
            return np.zeros(0, np.int64)
        doc = docs[0] if order == "newest" else docs[-1]
        return self.cat.by_doc.get(doc.id, np.zeros(0, np.int64))

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

    def _topic(
        self, q: Query, rows: np.ndarray | None, k: int, latent: Sequence[np.ndarray] = ()
    ) -> Ranked:
        cfg = self.cfg
        cat = self.cat
        route = self.route(q)
        scale = cfg.scale(route.name)
        # Within a scope, the topic alone is embedded ("cyberattack", not "What did Russia say").
        # Whom it is about already scoped the rows when they are people; else it is topic too.
        about = () if q.about_speakers else q.about
        focus = q.text
        if rows is not None and q.topic and not scale.whole_question:
            focus = " ".join([q.topic, *about])
        # The topic's Cyrillic words not yet glossed are embedded with it, in one call.
        to_gloss = self._to_gloss(q, route)
        glossing = [w for w in to_gloss if (route.name, w) not in self._glosses]
        quoted = list(q.quoted) if scale.quote_weight and route.grains is not None else []
        vecs = np.asarray(route.encode([focus, *glossing, *quoted]), dtype=np.float32)
        vec = vecs[:1]
        glossed = self._glossed(route, to_gloss, glossing, vecs[1 : 1 + len(glossing)])
        quote_vecs = vecs[1 + len(glossing) :]
        # A Cyrillic topic shares only names with the statements; people spoken about scope
        # the rows ("о молчании Путина": every row names Putin), so there their names are no
        # evidence. (The English route keeps them: its weights were fitted with them.)
        scoped_about = q.about_speakers and rows is not None and route.name == MULTILINGUAL
        about_names = () if scoped_about else q.about
        beside = [*about_names, *q.spelled, *self._scope_words(q)]
        lex_text = " ".join([q.topic, *beside])
        # Glossed words, the news dictionary's and a Cyrillic question's place spoken of ("в
        # Україні") rank, but never make the answer sure: only the topic's own words do.
        lend = [*glossed, *q.about_spelled, *q.lent]
        if q.about_spelled:
            places = {w for a in q.about for w in a.split()}
            topic = " ".join(w for w in q.topic.split() if w not in places)
            own_text = " ".join([topic, *beside])
        else:
            own_text = lex_text
        lex_own = cat.bm25.scores(own_text)
        # One scoring of every word (a word said twice counts once).
        lex_all = cat.bm25.scores(" ".join([lex_text, *lend])) if lend else lex_own
        if rows is None:
            cand, own = self._search_all(route, vec, lex_all, quote_vecs)
        else:
            cand = rows
            own = self._dense_for(route.index, vec, cand)
        if "note" not in q.kinds:  # a "no remarks" note never outranks a statement on a topic
            keep = ~cat.is_note[cand]
            cand, own = cand[keep], own[keep]
        # Ranked with the best sentence mixed in; judged (sure or not) by the statements' own
        # cosines, on which the route's thresholds were fitted: a piece is one sentence, near
        # more questions than its statement, and must not make an answer sure on its own.
        dense = self._with_pieces(route, vec, cand, own)
        dense = self._quoted(route, quote_vecs, cand, dense)
        if not len(cand):
            return replace(self._relaxed(q, rows), route=route.name)
        lex = lex_all[cand]
        score = fuse(dense, lex, scale)
        if route.name == MULTILINGUAL:
            score = score + self._english_bag(q, [*glossed, *q.lent], cand)
        # Candidates in the compilations the question touches without naming them fully.
        in_event = (
            np.isin(cand, np.concatenate([cat.by_doc[d] for d in q.events]))
            if q.events and not q.event_certain
            else None
        )
        score = score + self._boosts(q, cand, in_event, latent)
        if q.silence and "note" not in q.kinds:
            score = score + self._silence(cand, score)
        if q.acts and not q.act_negated:
            score = score + self._stance(cand, score, q.acts)
        if q.phrases:
            score = score + self._phrased(cand, score, q.phrases)
        if q.asks_speaker and q.mentions:
            score = score + self._themselves(cand, score, q.mentions)
        order = np.lexsort((cand, -score))
        cand, score, own, lex = cand[order], score[order], own[order], lex[order]
        in_event = in_event[order] if in_event is not None else None
        top_dense = float(own.max())
        coverage = self._coverage(q, int(cand[0]))
        lexical_hit = float(lex_own[cand].max()) > 0
        how = _How(route.name, top_dense, lexical_hit, glossed)
        by_words = (
            lexical_hit
            and top_dense >= scale.sure_dense_with_words
            and coverage >= cfg.sure_coverage
        )
        sure = by_words or (
            top_dense >= scale.sure_dense
            and (not scale.event_contrast or self._sure_without_event(q, route, int(cand[0])))
        )
        if sure and not self._states_numbers(q, int(cand[0])):
            sure = False  # "who mentioned 4 grain trains": the best quote gives no such figure
        if rows is not None and q.filters:
            # Within a scope the user named, the scope is sure; the topic only orders it.
            sure = sure or lexical_hit
            if not lexical_hit and top_dense < scale.sure_dense_with_words:
                # Nothing in scope speaks of the topic: show the scope whole, closest first.
                perm = self._order(q, cand)
                return how(Ranked(cand[perm], score[perm], "topic", False, relaxed=True))
        elif not lexical_hit and (
            top_dense < scale.min_dense or (not sure and route.name == ENGLISH)
        ):
            # Not one word in common and no close meaning: quoting the nearest statements
            # would answer "Dovhal" or "bake bread" with whatever is closest. Say so instead.
            # (A Cyrillic question shares no words with English quotes: the multilingual
            # route keeps its unsure band, marked not confident.)
            return how(Ranked(np.zeros(0, np.int64), np.zeros(0), "topic", False, "nothing"))
        if q.speakers and q.speaker_score < cfg.sure_name:
            sure = False
        top = float(score[0])
        cut = score >= top * scale.cut_ratio if top > 0 else np.ones(len(score), bool)
        n = int(cut.sum())
        # "Which presidents …", "Which assets …": every one, most relevant first. So are a
        # person's statements, and those of the few people a role names ("the Lithuanian
        # transport minister").
        every = bool(q.wants_set and (q.roles or q.kinds)) or bool(
            (q.speakers or q.roles) and rows is not None and q.filters
        )
        if every:
            n = len(cand)
        elif k and not q.speakers:
            n = min(n, max(k, 1))
        keep = np.zeros(len(cand), bool)
        keep[:n] = True
        # "Which ministers spoke about the grain deal?": the set is that event's, when the
        # event the question touches has any (the boost already put them first).
        in_set = q.wants_set and (q.roles or q.kinds)
        if in_set and in_event is not None and (keep & in_event).any():
            keep &= in_event
        if len(q.countries) > 1 and rows is not None and top > 0:
            # "Central Asia congratulations to Trump": each of the places asked about answers
            # with its closest quote, unless that says next to nothing on the topic.
            keep |= self._each_country(q, cand, score >= top * cfg.member_ratio)
        if q.mentions:  # "about Zorin": every statement that names him, after the best
            named = np.concatenate([cat.text_rows(w) for w in q.mentions])
            keep |= np.isin(cand, named)
        if q.wants_set and q.topic_terms and not q.cyrillic and lexical_hit:
            # "Who congratulated Trump?": every quote that says so in the question's own words,
            # after the best (the relevance cut keeps the few that say it most).
            keep |= self._saying(q, cand, keep)
        return how(Ranked(cand[keep], score[keep], "topic", sure))

    def _english_bag(self, q: Query, lent: Sequence[str], cand: np.ndarray) -> np.ndarray:
        """A Cyrillic topic's English words (the dictionaries', the glossary's, the names the
        archive spells), as one bag embedded by the English model: its similarity to each
        candidate, times ``translation_weight``, where there are ``translation_words`` of
        them at least. Ranks only: the answer is judged sure or not by the e5 cosines."""
        cfg = self.cfg
        english = list(dict.fromkeys([*q.spelled, *lent, *q.about_spelled]))
        if (
            not cfg.translation_weight
            or not q.cyrillic
            or len(english) < cfg.translation_words
            or not len(cand)
        ):
            return np.zeros(len(cand), np.float32)
        vec = np.asarray(self.english.encode([" ".join(english)]), dtype=np.float32)
        sims = self._dense_for(self.english.index, vec, cand)
        return (cfg.translation_weight * np.clip(sims, 0.0, None)).astype(np.float32)

    def _each_country(self, q: Query, cand: np.ndarray, enough: np.ndarray) -> np.ndarray:
        """Each asked country's first candidate (``cand`` is best first) among those
        ``enough``: one pass a country, not a sort of a scope that may hold 100,000 rows."""
        out = np.zeros(len(cand), bool)
        where = np.flatnonzero(enough)
        codes = self.cat.tables.country_of_row[cand[where]]
        by_country = self.cat.tables.by_country
        for country in q.countries:
            code = by_country.index(country)
            if code is not None and (at := np.flatnonzero(codes == code)).size:
                out[where[at[0]]] = True
        return out

    def _saying(self, q: Query, cand: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Candidates past the cut whose quote holds every topic term. The BM25 postings pick
        them (no quote is read for that); at most ``candidates`` of them, best first, are read
        to check the words are in the quote itself, not only in the speaker's role."""
        cat = self.cat
        holding = cat.rows_holding_all(q.topic_terms)
        out = np.zeros(len(cand), bool)
        terms = {a for t in q.topic_terms for a in analyze(t)}
        for i in np.flatnonzero(~keep & np.isin(cand, holding))[: self.cfg.candidates]:
            out[i] = terms <= set(analyze(cat.statements[int(cand[i])].text))
        return out

    def _relaxed(self, q: Query, rows: np.ndarray | None) -> Ranked:
        """The topic matches nothing in scope: show the scope whole, and say so."""
        if rows is None or not len(rows):
            return Ranked(np.zeros(0, np.int64), np.zeros(0), "topic", False, "nothing")
        listed = self._listed(q, rows)
        return Ranked(listed.rows, listed.scores, "list", False, relaxed=True)

    def _states_numbers(self, q: Query, row: int) -> bool:
        """Whether the statement holds every figure the topic names ("4", "3.5", "61"): a
        number is a fact a quote states or not, never a near meaning."""
        if not q.numbers:
            return True
        have = set(NUMBER.findall(self.cat.statements[row].text))
        return all(n in have for n in q.numbers)

    def _coverage(self, q: Query, row: int) -> float:
        terms = {t for w in q.topic_terms for t in analyze(w)}
        if not terms:
            return 1.0
        st = self.cat.statements[row]
        have = set(analyze(" ".join(x for x in (st.speaker, st.role, st.text) if x)))
        return len(terms & have) / len(terms)

    def _boosts(
        self,
        q: Query,
        cand: np.ndarray,
        in_event: np.ndarray | None,
        latent: Sequence[np.ndarray] = (),
    ) -> np.ndarray:
        cfg = self.cfg
        cat = self.cat
        out = np.zeros(len(cand), dtype=np.float32)
        if q.about and not q.about_speakers:  # a country spoken about: statements naming it
            mention = np.concatenate([cat.text_rows(w) for w in q.about] or [np.zeros(0, np.int64)])
            out += cfg.about_boost * np.isin(cand, mention)
        if in_event is not None:
            out += cfg.event_boost * in_event
        for rows in latent:  # "the 2025 budget": statements of 2025 a little higher
            out += cfg.latent_boost * np.isin(cand, rows)
        return out

    def _best(self, score: np.ndarray) -> np.ndarray:
        """Positions of the best-scored candidates: the only ones whose quotes are read to be
        judged (only they can reach the top, and a quote is read from the bundle)."""
        return np.argsort(-score, kind="stable")[: self.cfg.candidates]

    def _judged(
        self, cand: np.ndarray, score: np.ndarray, judge: Callable[[Statement], float]
    ) -> np.ndarray:
        """``judge``'s boost (or penalty) for each of the best-scored candidates' statements."""
        out = np.zeros(len(cand), dtype=np.float32)
        for i in self._best(score):
            out[i] = judge(self.cat.statements[int(cand[i])])
        return out

    def _silence(self, cand: np.ndarray, score: np.ndarray) -> np.ndarray:
        """The silence boost for the best-scored candidates whose quote holds a negation."""
        out = np.zeros(len(cand), dtype=np.float32)
        best = self._best(score)
        out[best] = self.cfg.silence_boost * self.cat.tells_absence(cand[best])
        return out

    def _stance(self, cand: np.ndarray, score: np.ndarray, acts: Sequence[str]) -> np.ndarray:
        """Among the best-scored candidates, statements that perform the act the question asks
        for rank higher, those that only deny it or ask about it lower (``index/stance.py``)."""
        cfg = self.cfg
        weight = {PERFORMS: cfg.stance_boost, DENIES: -cfg.stance_penalty}
        return self._judged(cand, score, lambda st: weight.get(self.acts.stance(st.text, acts), 0))

    def _phrased(
        self, cand: np.ndarray, score: np.ndarray, phrases: Sequence[tuple[str, str]]
    ) -> np.ndarray:
        """Among the best-scored candidates, the phrase boost times the share of the
        question's word pairs ("Victory Plan") a quote writes side by side too (each word
        by its stem, any ending; a space or a hyphen between them)."""
        patterns = [_pair_pattern(a, b) for a, b in dict.fromkeys(phrases)]
        boost = self.cfg.phrase_boost
        return self._judged(
            cand,
            score,
            lambda st: boost * sum(1 for p in patterns if p.search(st.text)) / len(patterns),
        )

    def _themselves(
        self, cand: np.ndarray, score: np.ndarray, mentions: Sequence[str]
    ) -> np.ndarray:
        """ "Who criticised Transneft?" asks who spoke of it: among the best-scored candidates,
        the statements the named one makes itself (its name in the speaker's) rank lower."""
        named = set(mentions)
        penalty = -self.cfg.self_penalty
        return self._judged(
            cand,
            score,
            lambda st: penalty if st.speaker and named & set(tokens(st.speaker)) else 0.0,
        )

    def _dense_for(self, index: Any, vec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Dense similarity of the given rows: exact for a small scope, FAISS-filtered above."""
        if not len(rows) or not index.ntotal:
            return np.zeros(len(rows), dtype=np.float32)
        if len(rows) <= self.cfg.reconstruct_limit:
            mat = index.reconstruct_batch(rows.astype(np.int64))
            # einsum, not ``mat @ v``: a matrix-vector product goes to OpenBLAS, whose threads
            # spin against the process's other work; on two busy cores a 3,000-row product
            # took 8 ms that way and 0.1 ms here (bench/RESULTS.md, "Opening").
            return np.einsum("ij,j->i", mat, vec[0]).astype(np.float32)
        import faiss

        sel = faiss.IDSelectorBatch(rows.astype(np.int64))
        params: Any = (
            faiss.SearchParametersIVF(sel=sel, nprobe=_nprobe(index))  # type: ignore[call-arg]
            if _is_ivf(index)
            else faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]
        )
        kk = min(self.cfg.candidates * 4, len(rows))
        sims, ids = index.search(vec, kk, params=params)
        found = ids[0] >= 0
        sims, ids = sims[0][found], ids[0][found]
        # Rows the search did not reach rank below every row it did.
        floor = float(sims.min()) - 0.05 if len(sims) else 0.0
        out = np.full(len(rows), floor, dtype=np.float32)
        order = np.argsort(rows)
        out[order[np.searchsorted(rows[order], ids)]] = sims
        return out

    def _search_all(
        self, route: Route, vec: np.ndarray, lex: np.ndarray, quote_vecs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidates from both retrievers over the whole archive (and the statements of the
        sentence pieces nearest the question and the phrases it quotes, where the route has
        pieces), with their own dense scores."""
        index = route.index
        n = len(self.cat.statements)
        kk = min(self.cfg.candidates, n)
        dense: dict[int, float] = {}
        if kk and index.ntotal:
            sims, ids = index.search(vec, kk)
            dense = {int(i): float(s) for s, i in zip(sims[0], ids[0], strict=True) if i >= 0}
        cand = set(dense)
        if n and float(lex.max()) > 0:
            best = np.argpartition(-lex, min(kk, n - 1))[:kk] if n > kk else np.arange(n)
            cand |= {int(i) for i in best if lex[i] > 0}
        if route.grains is not None and self.cfg.scale(route.name).piece_weight:
            cand |= set(route.grains.rows_near(vec[0], kk).tolist())
        if route.grains is not None and quote_vecs is not None:
            for qv in quote_vecs:
                cand |= set(route.grains.rows_near(qv, kk).tolist())
        rows = np.fromiter(sorted(cand), np.int64, len(cand))
        missing = [r for r in rows if int(r) not in dense]
        if missing:
            extra = self._dense_for(index, vec, np.asarray(missing, np.int64))
            dense.update(zip((int(r) for r in missing), (float(x) for x in extra), strict=True))
        return rows, np.fromiter((dense[int(r)] for r in rows), np.float32, len(rows))

    def _with_pieces(
        self, route: Route, vec: np.ndarray, rows: np.ndarray, dense: np.ndarray
    ) -> np.ndarray:
        """Dense scores mixed with each statement's best sentence piece (``piece_weight``):
        a phrase asked for is near one sentence of a long quote, not near the whole."""
        weight = self.cfg.scale(route.name).piece_weight
        if not weight or route.grains is None or not len(rows):
            return dense
        return _mixed(dense, route.grains.best_piece(vec[0], rows), weight)

    def _quoted(
        self, route: Route, quote_vecs: np.ndarray, rows: np.ndarray, dense: np.ndarray
    ) -> np.ndarray:
        """Dense scores mixed with each statement's best piece for the phrases the question
        quotes (``quote_weight``): «дипломатія через голови українців» is one sentence of a
        long quote, and nearer it alone than the question around it is."""
        weight = self.cfg.scale(route.name).quote_weight
        if not weight or route.grains is None or not len(quote_vecs) or not len(rows):
            return dense
        best = np.max([route.grains.best_piece(qv, rows) for qv in quote_vecs], axis=0)
        return _mixed(dense, best, weight)

    def _scope_words(self, q: Query) -> list[str]:
        """The specific words of the claims that scope the question by a region or a kind
        ("eastern Europe", "stocks rallied"): within the scope they filter, quotes that say
        them rank first (``RankConfig.scope_word_slots``)."""
        return [
            w
            for c in q.claims
            if c.slot in self.cfg.scope_word_slots and not c.missing
            for w in c.words
        ]

    def _sure_without_event(self, q: Query, route: Route, row: int) -> bool:
        """Whether the best statement is still near enough in meaning to be sure of without
        the words that name the archive's event and what the question speaks of ("Кличко про
        Трампа", "Trump's special envoy for Ukraine"): in a compilation about Trump every
        statement is near "Trump", and a Ukrainian one near "Ukraine", so a question of a
        name or a thing the archive lacks plus such words reads as close to them all. A topic
        of those words alone is asked as it is. One more encoding, only where meaning alone
        would make the answer sure."""
        slots = self.cfg.contrast_slots
        spans = [c.span for c in q.claims if c.slot in slots and c.span[1] > c.span[0]]
        if not spans:
            return True
        named = {w.norm for c in q.claims if c.slot in slots for w in words(c.text)}
        if all(w.norm in named for w in words(q.topic)):
            return True  # the event's words are the whole topic ("о санкциях"): that is asked
        rest = " ".join(
            w.text for i, w in enumerate(words(q.text)) if not any(a <= i < b for a, b in spans)
        )
        if not rest:
            return True
        vec = np.asarray(route.encode([rest]), dtype=np.float32)
        own = self._dense_for(route.index, vec, np.array([row], np.int64))
        return float(own[0]) >= self.cfg.scale(route.name).sure_dense

    def _to_gloss(self, q: Query, route: Route) -> list[str]:
        """The topic's Cyrillic words to look up in the route's glossary (``gloss_words`` at
        most: each costs the e5 model a pass, ~10 ms), but for those a dictionary read."""
        if route.grains is None or not q.cyrillic or not len(route.grains.words):
            return []
        letters = re.findall(r"[^\W\d_]+", q.topic)
        skip = set(q.translated)  # a dictionary already gave their English words
        found = dict.fromkeys(
            w.lower()
            for w in letters
            if len(w) >= CYRILLIC_MIN_LETTERS and is_cyrillic(w) and w.lower() not in skip
        )
        return list(found)[: self.cfg.scale(route.name).gloss_words]

    def _glossed(
        self, route: Route, asked: list[str], new: list[str], vectors: np.ndarray
    ) -> tuple[str, ...]:
        """The archive's English words the glossary gives the topic's Cyrillic words
        (``asked``): ``new`` ones by their ``vectors``, the others as remembered
        (``_glosses``)."""
        if new:
            assert route.grains is not None
            scale = self.cfg.scale(route.name)
            got = route.grains.gloss(vectors, scale.gloss_similarity, scale.gloss_margin)
            if len(self._glosses) + len(new) > GLOSS_MEMO:
                self._glosses.clear()
            self._glosses.update(((route.name, w), g) for w, g in zip(new, got, strict=True))
        english = (self._glosses.get((route.name, w)) for w in asked)
        # A word most statements hold ("выборы": elections) would rank them all alike, as an
        # English topic's does (Reader._terms).
        return tuple(dict.fromkeys(w for w in english if w and not self.cat.generic(w)))

    def clear_caches(self) -> None:
        """Forget the glossary lookups (benches: the next question costs a novel one's)."""
        self._glosses.clear()


@lru_cache(maxsize=1024)
def _pair_pattern(first: str, second: str) -> re.Pattern[str]:
    """Two stems written side by side, in any case and with any endings ("victory plans",
    "policies" for the stem "policy")."""

    def stem(s: str) -> str:
        return re.escape(s[:-1]) + "(?:y|ie)" if s.endswith("y") else re.escape(s)

    return re.compile(rf"\b{stem(first)}[\w'’]*[\s-]+{stem(second)}", re.IGNORECASE)


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
