"""What the query stages know of an archive: rows by country, compilation, outlet, date and
kind; speakers merged across spellings; roles as each compilation states them."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from index.atomic import write_atomic
from index.gazetteer import CountryMatcher
from index.lexical import BM25, simple_stem
from index.model import Document, Statement
from index.names import NameMatcher, skeleton
from index.textnorm import STOPWORDS, fold, tokens

log = logging.getLogger(__name__)

# The lexical index's layout and analysis: change it when analyze() or the indexed fields change,
# and every kept index is rebuilt.
LEXICAL_FORMAT = "bm25-v1: speaker role text; analyze = fold, stopwords, simple_stem"
LEXICAL_KEEP = 3  # lexical indexes kept in the cache: this archive's and a couple before it
# Two spellings under one surname key in one country are one person when their given names
# are this alike (0-100, on transliteration-blind keys): Oleksandr ~ Aleksandr, Dmitry ~ Dmytro.
SAME_PERSON_GIVEN = 70.0


@cache
def load_data(name: str) -> Any:
    """One of the JSON word lists and tables in ``index/data/``."""
    return json.loads(resources.files("index").joinpath("data", name).read_text("utf-8"))


def short_hash(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:8]


def analyze(text: str) -> list[str]:
    """Lexical terms: folded, stemmed tokens without stopwords."""
    return [t for word in text.split() for t in _analyze_word(word)]


@lru_cache(maxsize=200_000)
def _analyze_word(word: str) -> tuple[str, ...]:
    # Text is mostly the same few thousand words: analyse each once (halves BM25 builds).
    return tuple(
        simple_stem(t) for t in tokens(word) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())
    )


def stems(text: str) -> list[str]:
    """Stemmed folded tokens, stopwords kept (role phrases are short and every word counts)."""
    return [simple_stem(t) for t in tokens(text)]


def date_number(iso: str | None) -> int:
    """2024-11-06 -> 20241106; 0 when unknown."""
    if not iso or len(iso) < 10:
        return 0
    try:
        return int(iso[:4]) * 10000 + int(iso[5:7]) * 100 + int(iso[8:10])
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Speaker:
    """Everyone quoted: a person (every spelling), an organisation, or an unnamed source's role."""

    key: str
    name: str | None
    role: str | None
    countries: tuple[str, ...]
    ids: tuple[int, ...]  # statement rows, archive order
    spellings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or (self.role or "unnamed source")


def _rows(groups: dict[str, list[int]]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}


class Catalog:
    """Indexes over the statements that the question reader and the ranker look things up in."""

    def __init__(
        self,
        statements: Sequence[Statement],
        documents: Iterable[Document],
        *,
        lexical_cache: Path | None = None,
    ) -> None:
        self.statements = list(statements)
        self.documents = {d.id: d for d in documents}
        n = len(self.statements)
        self.row_of = {s.id: i for i, s in enumerate(self.statements)}
        # Compilations newest first: the order answers without a topic are grouped in.
        docs = sorted(self.documents.values(), key=lambda d: (d.published or "", d.id))
        self.doc_rank = {d.id: r for r, d in enumerate(reversed(docs))}
        self.doc_by_rank = list(reversed(docs))
        self.doc_of_row = np.fromiter(
            (self.doc_rank.get(s.document, len(docs)) for s in self.statements), np.int32, n
        )
        self.position = np.fromiter((s.position for s in self.statements), np.int64, n)
        doc_date = {d.id: date_number(d.published) for d in docs}
        # A statement's dates: its first and last dated citations, else its compilation's date.
        first, last = [], []
        for s in self.statements:
            dates = [v for src in s.sources if (v := date_number(src.date))]
            fallback = doc_date.get(s.document, 0)
            first.append(min(dates, default=fallback))
            last.append(max(dates, default=fallback))
        self.row_date = np.asarray(first, dtype=np.int64)
        self.row_date_last = np.asarray(last, dtype=np.int64)
        by_country: dict[str, list[int]] = defaultdict(list)
        by_doc: dict[str, list[int]] = defaultdict(list)
        by_kind: dict[str, list[int]] = defaultdict(list)
        by_outlet: dict[str, list[int]] = defaultdict(list)
        self.outlet_label: dict[str, str] = {}
        for i, s in enumerate(self.statements):
            by_country[s.country].append(i)
            by_doc[s.document].append(i)
            by_kind[s.kind].append(i)
            for key in {k for src in s.sources for k in _outlet_keys(src.outlet)}:
                by_outlet[key].append(i)
            for src in s.sources:
                self.outlet_label.setdefault(outlet_key(src.outlet), src.outlet)
        self.is_note = np.fromiter((s.kind == "note" for s in self.statements), bool, n)
        self.by_country = _rows(by_country)
        self.by_doc = _rows(by_doc)
        self.by_kind = _rows(by_kind)
        self.by_outlet = _rows(by_outlet)
        self.countries_matcher = CountryMatcher(by_country)
        self.bm25 = self._lexical(lexical_cache)
        self._build_speakers()
        self._build_roles()
        self._text_rows = lru_cache(maxsize=1024)(self._text_rows_uncached)

    def clear_caches(self) -> None:
        """Forget per-question lookups (benchmarks measure questions never seen before)."""
        self._text_rows.cache_clear()

    def _lexical(self, cache: Path | None) -> BM25:
        """BM25 over speaker, role and text; kept in ``cache`` by the statements' ids (content
        hashes), so a process opening a large archive reads it instead of analysing every text
        again (30 s of a 42 s open at 1M statements, bench/RESULTS.md)."""
        path = None
        if cache is not None and self.statements:
            digest = hashlib.sha1(LEXICAL_FORMAT.encode())
            for s in self.statements:
                digest.update(s.id.encode())
            path = cache / f"bm25-{digest.hexdigest()[:24]}.npz"
            try:
                return BM25.load(path, analyze)
            except FileNotFoundError:
                pass
            except Exception as exc:  # a damaged cache file is only a missed shortcut
                log.warning("rebuilding the lexical index (%s unreadable: %s)", path.name, exc)
        bm25 = BM25(
            [" ".join(x for x in (s.speaker, s.role, s.text) if x) for s in self.statements],
            analyze,
        )
        if path is not None:
            buf = io.BytesIO()
            bm25.save(buf)
            try:
                write_atomic(path, buf.getvalue())
                _keep_newest(path.parent, "bm25-*.npz", LEXICAL_KEEP)
            except OSError as exc:
                log.warning("could not keep the lexical index in %s: %s", path.parent, exc)
        return bm25

    # ------------------------------------------------------------ speakers

    def _build_speakers(self) -> None:
        groups: dict[str, list[int]] = defaultdict(list)
        spellings: dict[str, list[str]] = defaultdict(list)
        person_key: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        known: dict[tuple[str, str, bool], str] = {}  # each spelling is looked at once
        for i, s in enumerate(self.statements):
            if s.speaker:
                seen = (s.country, s.speaker, s.kind == "person")
                gkey = known.get(seen)
                if gkey is None:
                    gkey = "n:" + fold(s.speaker)
                    if s.kind == "person":
                        gkey = self._same_person(person_key, s.country, s.speaker, gkey)
                    known[seen] = gkey
                groups[gkey].append(i)
                if s.speaker not in spellings[gkey]:
                    spellings[gkey].append(s.speaker)
            elif s.kind == "unnamed" and s.role:
                groups["r:" + s.country + ":" + fold(s.role)].append(i)
        self.speakers: dict[str, Speaker] = {}
        for gkey, rows in groups.items():
            first = self.statements[rows[0]]
            sid = short_hash(gkey)
            self.speakers[sid] = Speaker(
                key=sid,
                name=first.speaker,
                role=first.role,
                countries=tuple(dict.fromkeys(self.statements[r].country for r in rows)),
                ids=tuple(rows),
                spellings=tuple(spellings.get(gkey, ())),
            )
        self.speaker_of_row = {r: sp.key for sp in self.speakers.values() for r in sp.ids}
        # People by every spelling; organisations ("Russian Foreign Ministry") are found by
        # their words through the roles, so "Russian stocks" does not summon a ministry.
        named = [
            (sp.key, spelling)
            for sp in self.speakers.values()
            if sp.name and self.statements[sp.ids[0]].kind == "person"
            for spelling in sp.spellings
        ]
        self.names = NameMatcher(named)

    @staticmethod
    def _same_person(
        seen: dict[tuple[str, str], list[tuple[str, str]]], country: str, name: str, gkey: str
    ) -> str:
        """The group key of an earlier spelling of this person, or ``gkey`` for someone new."""
        parts = tokens(name)
        if not parts:
            return gkey
        # Ukrainian г is h, Russian г is g: Dovhal and Dovgal are one surname here.
        surname = (country, skeleton(parts[-1]).replace("H", "g"))
        given = " ".join(skeleton(p) for p in parts[:-1])
        for other_given, other_key in seen[surname]:
            if other_key == gkey or not given or not other_given:
                return other_key
            if fuzz.ratio(given, other_given, processor=None) >= SAME_PERSON_GIVEN:
                return other_key
        seen[surname].append((given, gkey))
        return gkey

    # ------------------------------------------------------------ roles

    def _build_roles(self) -> None:
        """Roles as each statement states them: a promotion shows in the later compilation."""
        role_rows: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.statements):
            role = s.role
            if s.kind == "organisation" and s.speaker:  # an organisation: its name is its role
                role = " ".join(x for x in (s.speaker, s.role) if x)
            if role:
                role_rows[role].append(i)
        self.role_rows = _rows(role_rows)
        # role -> country -> who held it there: "Nepali foreign minister" counts Nepal's only.
        self.role_holders: dict[str, dict[str, set[str]]] = {}
        for role, rows_ in role_rows.items():
            held: dict[str, set[str]] = defaultdict(set)
            for r in rows_:
                held[self.statements[r].country].add(self.speaker_of_row.get(r, f"row{r}"))
            self.role_holders[role] = dict(held)
        self.role_words: dict[str, set[str]] = defaultdict(set)  # stem -> roles
        for role in self.role_rows:
            for w in stems(role):
                self.role_words[w].add(role)
        self.role_countries: dict[str, frozenset[str]] = {}

    def roles_with(self, word_sets: Sequence[Sequence[Sequence[str]]]) -> list[str]:
        """Roles holding, for each asked word, every stem of one of its phrases."""
        cand: set[str] | None = None
        for alternatives in word_sets:
            ok: set[str] = set()
            for phrase in alternatives:
                sets = [self.role_words.get(w) for w in phrase]
                if sets and all(sets):
                    ok |= set.intersection(*sets)  # type: ignore[arg-type]
            cand = ok if cand is None else cand & ok
            if not cand:
                return []
        return sorted(cand or ())

    def countries_of_role(self, role: str) -> frozenset[str]:
        """Countries a role names ("Estonian foreign minister"); computed once per role."""
        got = self.role_countries.get(role)
        if got is None:
            got = frozenset(m.country for m in self.countries_matcher.match(role))
            self.role_countries[role] = got
        return got

    # ------------------------------------------------------------ lookups

    def term_rows(self, word: str) -> np.ndarray:
        """Rows whose speaker, role or text holds the word (any analysed form)."""
        out: list[np.ndarray] = []
        for t in analyze(word):
            j = self.bm25.vocab.get(t)
            if j is not None:
                col = self.bm25.matrix.indices[
                    self.bm25.matrix.indptr[j] : self.bm25.matrix.indptr[j + 1]
                ]
                out.append(col.astype(np.int64))
        return np.unique(np.concatenate(out)) if out else np.zeros(0, np.int64)

    def text_rows(self, word: str) -> np.ndarray:
        """Rows whose quote itself (not the speaker's name or role) holds the word (cached)."""
        return self._text_rows(word)

    def _text_rows_uncached(self, word: str) -> np.ndarray:
        """Rows whose quote itself (not the speaker's name or role) holds the word."""
        terms = set(analyze(word))
        rows = self.term_rows(word)
        keep = [r for r in rows if terms & set(analyze(self.statements[int(r)].text))]
        return np.asarray(keep, dtype=np.int64)

    def archive_order(self, rows: np.ndarray, *, notes_last: bool = False) -> np.ndarray:
        """Rows grouped by compilation, newest compilation first, document order within;
        ``notes_last``: "no remarks" notes after the statements of their compilation."""
        if len(rows) == 0:
            return rows
        note = self.is_note[rows] if notes_last else np.zeros(len(rows), bool)
        order = np.lexsort((self.position[rows], note, self.doc_of_row[rows]))
        return rows[order]


@lru_cache(maxsize=65_536)  # a few hundred outlets cite a million statements
def _keep_newest(folder: Path, pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` newest files matching ``pattern`` (older archives' indexes)."""
    files = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def outlet_key(name: str) -> str:
    """An outlet name's folded words: "The Financial Times" and "financial times" agree."""
    words = tokens(name)
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def _outlet_keys(outlet: str) -> set[str]:
    """An outlet as cited and each of its parts ("VP/MT", "RG.ru/Russia in Global Affairs")."""
    parts = [outlet, *outlet.split("/")] if "/" in outlet else [outlet]
    return {k for p in parts if (k := outlet_key(p))}
