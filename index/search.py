"""The engine: understand a question (country, person, role, topic) and rank sourced statements."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from index import config
from index.gazetteer import CountryMatcher
from index.lexical import BM25, simple_stem
from index.model import Answer, Document, Hit, Intent, Statement, Suggestion
from index.names import NameMatcher
from index.textnorm import STOPWORDS, fold, tokens

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000  # longer questions are cut here: nobody's question is a novel
MAX_KEY_BYTES = 48
# Words that say "tell me what they said" rather than what about: they carry no topic.
ASK_WORDS = frozenset(
    [
        "say",
        "said",
        "says",
        "saying",
        "tell",
        "told",
        "react",
        "reacted",
        "reaction",
        "reactions",
        "respond",
        "responded",
        "response",
        "comment",
        "comments",
        "commented",
        "think",
        "thought",
        "view",
        "views",
        "statement",
        "statements",
        "position",
        "stance",
        "opinion",
        "opinions",
        "write",
        "wrote",
        "written",
        "message",
        "messages",
        "answer",
        "answered",
        "speak",
        "spoke",
        "remarks",
        "quote",
        "quotes",
        "quoted",
        "words",
        "feel",
        "felt",
        "about",
        "on",
        "of",
        "regarding",
        "re",
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "how",
        "did",
        "does",
        "do",
        "is",
        "was",
        "were",
        "are",
        "the",
        "a",
        "an",
        "to",
        "in",
        "and",
        "or",
        "any",
        "anything",
        "everything",
        "something",
        "please",
        "me",
        "us",
        "you",
        "your",
        "show",
        "give",
        "find",
        "tell",
        "list",
        "all",
    ]
)
# Role words that mean the same job, so "Kremlin spokesman" meets "press secretary".
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "spokesman": ("spokeswoman", "spokesperson", "press secretary", "spokesman"),
    "spokeswoman": ("spokesman", "spokesperson", "spokeswoman"),
    "spokesperson": ("spokesman", "spokeswoman", "press secretary", "spokesperson"),
    "pm": ("prime minister",),
    "premier": ("prime minister",),
    "fm": ("foreign minister",),
    "mp": ("mp", "lawmaker", "deputy", "parliament"),
    "lawmaker": ("mp", "lawmaker", "deputy"),
    "head": ("head", "chairman", "leader", "director", "president"),
    "leader": ("leader", "head", "chairman"),
    "chief": ("head", "chief", "director"),
    "boss": ("head", "chief", "director", "leader"),
    "speaker": ("speaker", "chairman", "chairwoman"),
    "chair": ("chairman", "chairwoman", "speaker", "chair"),
}
SPEAKER_QUESTION_WORDS = frozenset({"who", "whom", "which", "kto", "khto"})
TOPIC_K = 50  # candidates taken from each retriever before fusion
DENSE_W, LEX_W = 0.6, 0.4


def _strip_controls(s: str) -> str:
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in s)


def _short_hash(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:8]


def _cap_bytes(s: str, limit: int) -> str:
    """Cut a string to at most ``limit`` UTF-8 bytes without splitting a character."""
    b = s.encode("utf-8")
    return s if len(b) <= limit else b[:limit].decode("utf-8", "ignore").rstrip()


def analyze(text: str) -> list[str]:
    """Lexical terms: folded, stemmed tokens without stopwords."""
    return [t for word in text.split() for t in _analyze_word(word)]


@lru_cache(maxsize=200_000)
def _analyze_word(word: str) -> tuple[str, ...]:
    # Text is mostly the same few thousand words: analyse each once (halves BM25 builds).
    return tuple(
        simple_stem(t) for t in tokens(word) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())
    )


def embed_text(st: Statement) -> str:
    """What gets embedded: the quote with its speaker, role and country as context."""
    who = ", ".join(x for x in (st.speaker, st.role) if x)
    return f"{who} ({st.country}): {st.text}" if who else f"({st.country}) {st.text}"


@dataclass(frozen=True)
class Speaker:
    """Everyone quoted: a named person or organisation, or an unnamed source by its role."""

    key: str
    name: str | None
    role: str | None
    countries: tuple[str, ...]
    ids: tuple[int, ...]  # statement rows, document order

    @property
    def label(self) -> str:
        return self.name or (self.role or "unnamed source")


@dataclass
class _Parts:
    statements: list[Statement]
    documents: list[Document]
    index: Any  # faiss.Index
    manifest: dict[str, Any] = field(default_factory=dict)


class Engine:
    """Answers questions over a corpus of statements; see ``open``."""

    def __init__(
        self,
        statements: Sequence[Statement],
        documents: Sequence[Document],
        faiss_index: Any,
        encode: Callable[[list[str]], np.ndarray],
        *,
        manifest: dict[str, Any] | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        self.statements = list(statements)
        self._documents = {d.id: d for d in documents}
        self.faiss = faiss_index
        _enable_reconstruct(faiss_index)
        self._encode = encode
        self.manifest = manifest or {}
        self.problems = list(problems)  # files that failed to load, as messages
        self._row = {s.id: i for i, s in enumerate(self.statements)}
        self.bm25 = BM25(
            [" ".join(x for x in (s.speaker, s.role, s.text) if x) for s in self.statements],
            analyze,
        )
        self._build_speakers()
        self._by_country: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.statements):
            self._by_country[s.country].append(i)
        self.countries_matcher = CountryMatcher(self._by_country)
        # One question is looked at several times (person? role? country? topic?): match once.
        self._countries_in = lru_cache(maxsize=4096)(self.countries_matcher.match)
        self._names_in = lru_cache(maxsize=4096)(partial(self.names.match, limit=8))

    # ------------------------------------------------------------ construction

    @classmethod
    def open(
        cls,
        sources_dir: Path | str | None = None,
        index_dir: Path | str | None = None,
        model: str | None = None,
        *,
        rebuild: bool = False,
        progress: bool = False,
    ) -> Engine:
        """Load the index, building it first when missing, stale or broken."""
        from index.embed import load_encoder
        from index.parse import source_files
        from index.store import source_hashes

        src = config.sources_dir(sources_dir)
        idx = config.index_dir(index_dir)
        files = source_files(src)
        encoder = load_encoder(model, cache_dir=config.cache_dir())
        hashes = source_hashes(files)
        parts, problems = _load_or_build(idx, files, hashes, encoder, model, rebuild, progress)
        return cls(
            parts.statements,
            parts.documents,
            parts.index,
            lambda texts: encoder.encode(texts),
            manifest=parts.manifest,
            problems=problems,
        )

    def _build_speakers(self) -> None:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.statements):
            if s.speaker:
                groups["n:" + fold(s.speaker)].append(i)
            elif s.kind == "unnamed" and s.role:
                groups["r:" + s.country + ":" + fold(s.role)].append(i)
        self.speakers: dict[str, Speaker] = {}
        for gkey, rows in groups.items():
            first = self.statements[rows[0]]
            sid = _short_hash(gkey)
            self.speakers[sid] = Speaker(
                key=sid,
                name=first.speaker,
                role=first.role,
                countries=tuple(dict.fromkeys(self.statements[r].country for r in rows)),
                ids=tuple(rows),
            )
        # People by name; organisations ("Russian Foreign Ministry") are found by their words
        # through the role documents, so "Russian stocks" does not summon a ministry.
        self._speaker_by_row = {r: sp.key for sp in self.speakers.values() for r in sp.ids}
        named = [
            (sp.key, sp.name)
            for sp in self.speakers.values()
            if sp.name and self.statements[sp.ids[0]].kind == "person"
        ]
        self.names = NameMatcher(named)
        self._roles: dict[str, tuple[str, ...]] = {}
        self._role_country: dict[str, frozenset[str]] = {}
        # Role words of each speaker, inverted, for "Georgian president" or "LDPR leader".
        self._role_index: dict[str, set[str]] = defaultdict(set)
        self._speaker_order = {key: n for n, key in enumerate(self.speakers)}
        for sp in self.speakers.values():
            words: set[str] = set()
            for role in self._roles_of(sp):
                words |= {simple_stem(t) for t in tokens(role)}
            if sp.name and sp.role is None:  # an organisation: its name is its role
                words |= {simple_stem(t) for t in tokens(sp.name)}
            for w in words:
                self._role_index[w].add(sp.key)

    # ------------------------------------------------------------ public API

    def documents(self) -> list[Document]:
        """Every loaded compilation."""
        return list(self._documents.values())

    def document(self, doc_id: str) -> Document | None:
        return self._documents.get(doc_id)

    def get(self, statement_id: str) -> Statement | None:
        row = self._row.get(statement_id)
        return None if row is None else self.statements[row]

    def countries(self) -> list[tuple[str, int]]:
        """(country, statement count), alphabetical."""
        return sorted((c, len(rows)) for c, rows in self._by_country.items())

    def outlets(self) -> list[tuple[str, int]]:
        """(outlet, citations), most cited first."""
        c = Counter(src.outlet for s in self.statements for src in s.sources)
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0].casefold()))

    def ask(self, query: str, k: int = 10) -> Answer:
        """Answer a free question: a country, a person, a role or a topic."""
        q = _clean(query)
        if not q:
            return self._empty(query)
        if self._asks_for_speaker(q):  # "Who said Putin ...?": names there are the topic
            return self._topic_answer(query, q, k, boost_countries=self._match_countries(q))
        people = self._match_people(q)
        if people:
            return self._people_answer(query, q, people, k)
        role = self._match_role(q)
        if role:
            return self._people_answer(query, q, role, k, kind="role")
        countries = self._match_countries(q)
        if countries and not self._content_terms(q, countries):
            return self._country_answer(query, countries)
        return self._topic_answer(query, q, k, boost_countries=countries)

    def country(self, name: str) -> Answer:
        """All statements of the country named (fuzzy), in document order."""
        q = _clean(name)
        if not q:
            return self._empty(name)
        countries = self._match_countries(q, loose=True)
        if countries:
            return self._country_answer(name, countries[:1])
        return self._nothing(name, "country", f"No country called “{q}” in the compilations.")

    def who(self, name: str) -> Answer:
        """All statements of the person (any spelling) or role phrase named."""
        q = _clean(name)
        if not q:
            return self._empty(name)
        people = self._match_people(q, loose=True)
        if people:
            return self._people_answer(name, q, people, k=0)
        role = self._match_role(q)
        if role:
            return self._people_answer(name, q, role, k=0, kind="role")
        # "Kremlin spokesman": no role says so, but what they said does; take its speaker.
        topic = self._topic_answer(name, q, 3)
        if topic.confident and topic.hits:
            sp = self._speaker_of(topic.hits[0].statement)
            if sp is not None:
                return self._people_answer(name, q, [(sp, 90.0)], k=0, kind="role")
        return self._nothing(name, "person", f"Nobody called “{q}” is quoted in the compilations.")

    def by_key(self, key: str) -> Answer:
        """Reproduce an answer from an ``Intent.key`` or ``Suggestion.key``."""
        kind, _, value = key.partition(":")
        if kind == "c" and value in self._by_country:
            return self._country_answer(value, [value])
        if kind == "s" and value in self.speakers:
            sp = self.speakers[value]
            return self._people_answer(sp.label, sp.label, [(sp, 100.0)], k=0)
        if kind == "q":
            return self.ask(value)
        return self.ask(key)

    def _speaker_of(self, st: Statement) -> Speaker | None:
        sid = self._speaker_by_row.get(self._row[st.id])
        return None if sid is None else self.speakers[sid]

    # ------------------------------------------------------------ understanding

    def _match_people(self, q: str, *, loose: bool = False) -> list[tuple[Speaker, float]]:
        cutoff = 70.0 if loose else 80.0
        # A word that names a country exactly ("Russia", "Jordan") is not a misspelt surname.
        country_words = {
            t for m in self._countries_in(q) if m.how != "fuzzy" for t in tokens(m.text)
        }
        found: dict[str, float] = {}
        for m in self._names_in(q):
            if m.score < cutoff:
                continue
            words = {t for w in m.tokens for t in tokens(w)}
            if m.score < 100 and words and words <= country_words:
                continue
            found[m.key] = max(found.get(m.key, 0.0), float(m.score))
        if not found:
            return []
        best = max(found.values())
        return [(self.speakers[k], s) for k, s in found.items() if s >= best - 5]

    def _match_countries(self, q: str, *, loose: bool = False) -> list[str]:
        matches = self._countries_in(q)
        if not matches and loose:
            b = self.countries_matcher.suggest(q, limit=1)
            matches = [m for m in b if m.score >= 80]
        out: list[str] = []
        for m in sorted(matches, key=lambda m: -m.score):
            if m.country not in out:
                out.append(m.country)
        return out

    def _country_terms(self, q: str, countries: Sequence[str]) -> set[str]:
        """Query tokens that refer to the matched countries (names, adjectives, typos)."""
        out: set[str] = set()
        for m in self._countries_in(q):
            if m.country in countries:
                out |= set(tokens(m.text))
        return out

    @staticmethod
    def _asks_for_speaker(q: str) -> bool:
        """'Who said …?', 'Which country spends …?': the answer is a speaker, not a name given."""
        toks = tokens(q)
        return len(toks) > 3 and toks[0] in SPEAKER_QUESTION_WORDS and toks[1] not in ("is", "was")

    def _content_terms(
        self, q: str, countries: Sequence[str] = (), *, keep_generic: bool = False
    ) -> list[str]:
        """What a question is about, beyond whom: tokens that are not ask-words or generic."""
        skip = self._country_terms(q, countries) if countries else set()
        out = []
        for t in tokens(q):
            if t in ASK_WORDS or t in STOPWORDS or t in skip or len(t) < 2:
                continue
            # A word most statements contain (the event itself: "Trump", "election") says nothing.
            if not keep_generic and self.bm25.doc_freq(simple_stem(t)) > 0.3:
                continue
            out.append(t)
        return out

    def _match_role(self, q: str) -> list[tuple[Speaker, float]]:
        """Speakers whose role holds every word of the question (synonyms too), in its country."""
        countries = self._match_countries(q)
        words = [t for t in self._content_terms(q, countries, keep_generic=True) if not t.isdigit()]
        if not words:
            return []
        cand: set[str] | None = None
        for w in words:  # an inverted index: a million statements cost what a few do
            ok: set[str] = set()
            for alt in ROLE_SYNONYMS.get(w, (w,)):
                sets = [self._role_index.get(simple_stem(p)) for p in alt.split()]
                if all(sets):
                    ok |= set.intersection(*sets)  # type: ignore[arg-type]
            cand = ok if cand is None else cand & ok
            if not cand:
                return []
        want = set(countries)
        best: list[tuple[Speaker, float]] = []
        for key in sorted(cand or (), key=self._speaker_order.__getitem__):
            sp = self.speakers[key]
            if (
                want
                and not want & set(sp.countries)
                and not any(want & self._role_countries(role) for role in self._roles_of(sp))
            ):
                continue
            best.append((sp, 100.0))
            if len(best) > 3:  # a role is specific only when it picks out few speakers
                return []
        return best

    def _roles_of(self, sp: Speaker) -> tuple[str, ...]:
        roles = self._roles.get(sp.key)
        if roles is None:
            roles = tuple(dict.fromkeys(r for i in sp.ids if (r := self.statements[i].role)))
            self._roles[sp.key] = roles
        return roles

    def _role_countries(self, role: str) -> frozenset[str]:
        """Countries a role names; lives as long as the engine (roles do not change)."""
        got = self._role_country.get(role)
        if got is None:
            got = frozenset(m.country for m in self.countries_matcher.match(role))
            self._role_country[role] = got
        return got

    # ------------------------------------------------------------ answers

    def _rows_hits(self, rows: Iterable[int], score: float) -> tuple[Hit, ...]:
        return tuple(Hit(self.statements[r], round(score, 4)) for r in rows)

    def _country_answer(self, query: str, countries: Sequence[str]) -> Answer:
        rows = [r for c in countries for r in self._by_country.get(c, ())]
        country = countries[0]
        intent = Intent("country", country, self._key("c", country))
        return Answer(query, intent, self._rows_hits(rows, 1.0), confident=True)

    def _people_answer(
        self,
        query: str,
        q: str,
        people: Sequence[tuple[Speaker, float]],
        k: int,
        *,
        kind: str = "person",
    ) -> Answer:
        rows: list[int] = []
        scores: dict[int, float] = {}
        for sp, s in people:
            for r in sp.ids:
                if r not in scores:
                    rows.append(r)
                scores[r] = max(scores.get(r, 0.0), s / 100.0)
        content: list[str] = []
        if kind == "person":  # words beside the name: "Peskov on Ukraine"
            named = {t for m in self._names_in(q) for w in m.tokens for t in tokens(w)}
            content = [t for t in self._content_terms(q) if t not in named]
        if content and len(rows) > 1:  # "Peskov on Ukraine": their statements, most relevant first
            rel = self._relevance(q, rows)
            rows.sort(key=lambda r: -rel.get(r, 0.0))
        first = people[0][0]
        if len(people) == 1:
            intent = Intent(kind, first.label, self._key("s", first.key))
        else:
            intent = Intent(kind, " / ".join(sp.label for sp, _ in people), self._key("q", q))
        hits = tuple(Hit(self.statements[r], round(scores[r], 4)) for r in rows)
        return Answer(query, intent, hits, confident=min(s for _, s in people) >= 85)

    def _relevance(self, q: str, rows: Sequence[int]) -> dict[int, float]:
        vec = self._encode([q])[0]
        lex = self.bm25.scores(q)
        top = float(lex[list(rows)].max()) if rows else 0.0
        out = {}
        for r in rows:
            dense = float(self.faiss.reconstruct(r) @ vec) if self.faiss.ntotal else 0.0
            out[r] = DENSE_W * dense + LEX_W * (float(lex[r]) / top if top > 0 else 0.0)
        return out

    def _topic_answer(
        self, query: str, q: str, k: int, *, boost_countries: Sequence[str] = ()
    ) -> Answer:
        vec = self._encode([q]).astype(np.float32)
        n = len(self.statements)
        kk = min(max(TOPIC_K, k), n)
        dense: dict[int, float] = {}
        if kk:
            sims, ids = self.faiss.search(vec, kk)
            dense = {int(i): float(s) for s, i in zip(sims[0], ids[0], strict=True) if i >= 0}
        lex = self.bm25.scores(q)
        lex_top = float(lex.max()) if n else 0.0
        cand = set(dense)
        if lex_top > 0:
            best = np.argpartition(-lex, min(kk, n - 1))[:kk] if n > kk else np.arange(n)
            cand |= {int(i) for i in best if lex[i] > 0}
        boost = set()
        for c in boost_countries:
            boost |= set(self._by_country.get(c, ()))
        scored = []
        for r in cand:
            d = dense.get(r)
            if d is None:
                d = float(self.faiss.reconstruct(r) @ vec[0]) if r < self.faiss.ntotal else 0.0
            s = DENSE_W * d + LEX_W * (float(lex[r]) / lex_top if lex_top > 0 else 0.0)
            if r in boost:
                s += 0.15
            scored.append((s, d, r))
        scored.sort(key=lambda x: (-x[0], x[2]))
        top_dense = max((d for _, d, _ in scored), default=0.0)
        confident = (lex_top > 0 and top_dense >= 0.35) or top_dense >= 0.5
        if not scored or (lex_top == 0 and top_dense < 0.25):
            return self._nothing(query, "topic", "Nothing in the compilations matches that well.")
        hits = tuple(Hit(self.statements[r], round(s, 4)) for s, _, r in scored[: k or 10])
        intent = Intent("topic", None, self._key("q", q))
        sugg = () if confident else self._suggest(q)
        return Answer(query, intent, hits, confident=confident, suggestions=sugg)

    def _suggest(self, q: str, kind: str = "topic") -> tuple[Suggestion, ...]:
        out: list[Suggestion] = []
        if kind != "person":
            for m in self.countries_matcher.suggest(q, limit=3 if kind == "country" else 2):
                out.append(Suggestion(m.country, self._key("c", m.country)))
        for nm in self.names.suggest(q, limit=3) if kind != "country" else ():
            sp = self.speakers[nm.key]
            out.append(Suggestion(sp.label, self._key("s", sp.key)))
        return tuple(dict.fromkeys(out))[:5]

    def _nothing(self, query: str, kind: str, message: str) -> Answer:
        q = _clean(query)
        return Answer(
            query,
            Intent("none", None, self._key("q", q)),
            (),
            confident=False,
            suggestions=self._suggest(q, kind) if q else (),
            message=message,
        )

    def _empty(self, query: str) -> Answer:
        return Answer(
            query,
            Intent("empty", None, ""),
            (),
            message="Ask about a country, a person or a topic — e.g. “Georgia”, “Peskov”, "
            "“Who talked about socialism?”",
        )

    @staticmethod
    def _key(kind: str, value: str) -> str:
        key = f"{kind}:{value}"
        if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
            return key
        if kind == "q":
            return _cap_bytes(key, MAX_KEY_BYTES)
        return f"{kind}:{_short_hash(value)}"


def _enable_reconstruct(index: Any) -> None:
    """IVF indexes reconstruct stored vectors (for re-scoring lexical hits) only with a direct map."""
    try:
        import faiss

        ivf = faiss.extract_index_ivf(index)
    except (ImportError, RuntimeError):  # a flat index: reconstruct works as is
        return
    ivf.make_direct_map()


def _clean(query: str) -> str:
    """Drop control characters, collapse space and cut to a sane length."""
    q = _strip_controls(query or "")[:MAX_QUERY_CHARS]
    q = re.sub(r"\s+", " ", q).strip()
    return q if re.search(r"[^\W_]", q) else ""


def _load_or_build(
    idx: Path,
    files: list[Path],
    hashes: dict[str, str],
    encoder: Any,
    model: str | None,
    rebuild: bool,
    progress: bool,
) -> tuple[_Parts, list[str]]:
    from index import store

    expect = {
        "format": store.FORMAT_VERSION,
        "model": encoder.model_id,
        "dim": encoder.dim,
        "sources": hashes,
    }
    problems: list[str] = []
    if not rebuild:
        try:
            b = store.load_bundle(idx, expect=expect)
            problems = list(b.manifest.get("problems", []))
            return _Parts(b.statements, b.documents, b.index, b.manifest), problems
        except store.IndexMissing:
            log.info("no index at %s yet: building it", idx)
        except store.IndexStale as exc:
            log.info("index is out of date (%s): rebuilding", exc)
        except store.IndexCorrupt as exc:
            log.warning("index is broken (%s): rebuilding", exc)
    return build(idx, files, hashes, encoder, model, progress=progress)


def build(
    idx: Path,
    files: list[Path],
    hashes: dict[str, str],
    encoder: Any,
    model: str | None = None,
    *,
    progress: bool = False,
) -> tuple[_Parts, list[str]]:
    """Parse every compilation, embed its statements and write the index atomically."""
    from index import store
    from index.parse import load_corpus

    corpus = load_corpus(files)
    problems = [str(e) for e in corpus.errors]
    for p in problems:
        log.warning("skipped: %s", p)
    texts = [embed_text(s) for s in corpus.statements]
    builder = _build_encoder(encoder, model)
    vectors = (
        builder.encode(texts, progress=progress or len(texts) > 2000)
        if texts
        else np.zeros((0, encoder.dim), dtype=np.float32)
    )
    index = store.make_faiss_index(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest = {
        "format": store.FORMAT_VERSION,
        "model": encoder.model_id,
        "dim": int(encoder.dim),
        "count": len(corpus.statements),
        "sources": hashes,
        "problems": problems,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        store.save_bundle(
            idx,
            index=index,
            statements=corpus.statements,
            documents=corpus.documents,
            manifest=manifest,
        )
        manifest = {**manifest, **store.describe_index(index)}
    except OSError as exc:  # a read-only disk still answers, from memory
        log.warning("could not save the index to %s: %s", idx, exc)
    return _Parts(corpus.statements, corpus.documents, index, manifest), problems


def _build_encoder(encoder: Any, model: str | None) -> Any:
    """Statements are embedded with sentence-transformers when it is there (the query side may
    use the ONNX export of the same model: same vectors, cosine >= 0.999)."""
    if os.environ.get("REACTIONS_BUILD_ENCODER", "torch") == "torch":
        try:
            from index.embed import TorchEncoder

            return TorchEncoder(model)
        except Exception as exc:
            log.warning("sentence-transformers unavailable (%s): embedding with %s", exc, encoder)
    return encoder
