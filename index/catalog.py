"""What the query stages know of an archive: rows by country, compilation, outlet, date and
kind; speakers merged across spellings; roles as each compilation states them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from index.columns import Groups, StatementTable
from index.gazetteer import CountryMatcher
from index.lexical import simple_stem
from index.model import Document, Statement
from index.tables import (
    NO_SPEAKER,
    Tables,
    derive,
    documents_newest_first,
    outlet_key,
    stems,
)
from index.textnorm import STOPWORDS, fold_forms, tokens

__all__ = ["Catalog", "Speaker", "analyze", "stems"]


@cache
def load_data(name: str) -> Any:
    """One of the JSON word lists and tables in ``index/data/``."""
    return json.loads(resources.files("index").joinpath("data", name).read_text("utf-8"))


HOLDS_SAMPLE = 200  # rows of a stem read to find the word itself (a name is in its first rows)
GENERIC_SHARE = 0.3  # a term in more than this share of statements says nothing ("Trump")
OUTLET_SPEAKER_SAMPLE = 2_000  # rows holding an outlet's name read to find those it speaks


@cache
def _absence_markers() -> frozenset[str]:
    return frozenset(
        f for w in load_data("kinds.json")["absence_markers"]["words"] for f in fold_forms(w)
    )


def analyze(text: str) -> list[str]:
    """Lexical terms: folded, stemmed tokens without stopwords."""
    return [t for word in text.split() for t in _analyze_word(word)]


@lru_cache(maxsize=200_000)
def _analyze_word(word: str) -> tuple[str, ...]:
    # Text is mostly the same few thousand words: analyse each once (halves BM25 builds).
    return tuple(
        simple_stem(t) for t in tokens(word) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())
    )


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


class Speakers(Mapping[str, Speaker]):
    """Speaker key -> Speaker, each made when first asked for (a million-statement archive
    has a hundred thousand; a question looks at a few)."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables
        self._made: dict[str, Speaker] = {}

    def __getitem__(self, key: str) -> Speaker:
        sp = self._made.get(key)
        if sp is None:
            i = self._t.speakers.index(key)
            if i is None:
                raise KeyError(key)
            name, role, countries, spellings = self._t.speaker_info[i]
            rows = self._t.speakers.at(i)
            sp = Speaker(key, name, role, tuple(countries), tuple(rows.tolist()), tuple(spellings))
            self._made[key] = sp
        return sp

    def __contains__(self, key: object) -> bool:
        return key in self._t.speakers

    def __iter__(self) -> Iterator[str]:
        return iter(self._t.speakers)

    def __len__(self) -> int:
        return len(self._t.speakers)


class RoleWords(Mapping[str, frozenset[str]]):
    """Stem -> the roles holding it, as the tables keep it (stemmed at build); each stem's
    set is made on its first lookup."""

    def __init__(self, role_stems: Groups, roles: Sequence[str]) -> None:
        self._stems = role_stems
        self._roles = roles
        self._made: dict[str, frozenset[str]] = {}

    def __getitem__(self, stem: str) -> frozenset[str]:
        got = self._made.get(stem)
        if got is None:
            got = frozenset(self._roles[i] for i in self._stems[stem].tolist())
            self._made[stem] = got
        return got

    def __contains__(self, stem: object) -> bool:
        return stem in self._stems

    def __iter__(self) -> Iterator[str]:
        return iter(self._stems)

    def __len__(self) -> int:
        return len(self._stems)


class Catalog:
    """Indexes over the statements that the question reader and the ranker look things up in.

    The per-row work lives in ``index.tables``: computed there at build (``derive``) or read
    from the bundle (``tables``), never redone at open."""

    def __init__(
        self,
        statements: Sequence[Statement],
        documents: Iterable[Document],
        *,
        tables: Tables | None = None,
        lexical_cache: Path | None = None,
    ) -> None:
        self.statements = statements if isinstance(statements, StatementTable) else list(statements)
        self.documents = {d.id: d for d in documents}
        t = tables or derive(
            self.statements, self.documents.values(), analyze, lexical_cache=lexical_cache
        )
        if len(t.doc_of_row) != len(self.statements):
            raise ValueError(
                f"tables of {len(t.doc_of_row)} rows for {len(self.statements)} statements"
            )
        self.tables = t
        self.doc_by_rank = documents_newest_first(self.documents.values())
        self.doc_rank = {d.id: r for r, d in enumerate(self.doc_by_rank)}
        self.doc_of_row = t.doc_of_row
        self.position = t.position
        self.row_date = t.row_date
        self.row_date_last = t.row_date_last
        self.is_note = t.is_note
        self.by_country: Mapping[str, np.ndarray] = t.by_country
        self.by_doc: Mapping[str, np.ndarray] = t.by_doc
        self.by_kind: Mapping[str, np.ndarray] = t.by_kind
        self.by_outlet: Mapping[str, np.ndarray] = t.by_outlet
        self.outlet_label = t.outlet_label
        self.countries_matcher = CountryMatcher(t.by_country.keys_)
        self.bm25 = t.bm25
        self.speakers = Speakers(t)
        self.names = t.names
        self.role_rows: Mapping[str, np.ndarray] = t.by_role
        self.role_words = RoleWords(t.role_stems, t.by_role.keys_)  # stem -> roles
        self.role_countries: dict[str, frozenset[str]] = {}
        self._text_rows = lru_cache(maxsize=1024)(self._text_rows_uncached)
        self._holds = lru_cache(maxsize=1024)(self._holds_uncached)
        self._spoken_by_outlet = lru_cache(maxsize=256)(self._spoken_by_outlet_uncached)

    def clear_caches(self) -> None:
        """Forget per-question lookups (benchmarks measure questions never seen before): the
        words' rows and the parsed statements. What is derived from the archive once and kept
        (a speaker made on first use, the countries a role names) stays, as the tables do."""
        self._text_rows.cache_clear()
        self._holds.cache_clear()
        self._spoken_by_outlet.cache_clear()
        if isinstance(self.statements, StatementTable):
            self.statements.cache_clear()

    def row(self, statement_id: str) -> int | None:
        """The row of a statement id, None when the archive lacks it."""
        return self.tables.row(statement_id)

    def speaker_of(self, row: int) -> str | None:
        """The key of the row's speaker (None for statements without one)."""
        i = int(self.tables.speaker_of_row[row])
        return None if i == NO_SPEAKER else self.tables.speakers.keys_[i]

    def rows_of(self, doc_id: str) -> np.ndarray:
        """A compilation's rows in document order (empty when it is not loaded)."""
        return self.by_doc.get(doc_id, np.zeros(0, np.int64))

    def roles_with(self, word_sets: Sequence[Sequence[Sequence[str]]]) -> list[str]:
        """Roles holding, for each asked word, every stem of one of its phrases."""
        cand: set[str] | None = None
        for alternatives in word_sets:
            ok: set[str] = set()
            for phrase in alternatives:
                sets = [self.role_words.get(w, frozenset()) for w in phrase]
                if sets and all(sets):
                    ok |= sets[0].intersection(*sets[1:])
            cand = ok if cand is None else cand & ok
            if not cand:
                return []
        return sorted(cand or ())

    def role_held_in(self, role: str) -> set[str]:
        """The countries where someone held the role."""
        codes = np.unique(self.tables.country_of_row[self.role_rows[role]])
        keys = self.tables.by_country.keys_
        return {keys[c] for c in codes.tolist()}

    def role_holders(self, role: str, countries: Iterable[str] | None = None) -> np.ndarray:
        """Who held the role (in ``countries``, or anywhere), one code per statement: the
        speaker's number, or -1 - row for a statement without a speaker; np.unique counts
        them. A role held in a million rows costs numpy passes, not a Python loop."""
        t = self.tables
        rows = self.role_rows[role]
        if countries is not None:
            codes = [i for c in countries if (i := t.by_country.index(c)) is not None]
            rows = rows[np.isin(t.country_of_row[rows], codes)]
        who = t.speaker_of_row[rows].astype(np.int64)
        return np.where(who != NO_SPEAKER, who, -1 - rows.astype(np.int64))

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

    def generic(self, word: str) -> bool:
        """Whether an English word's terms are in more than ``GENERIC_SHARE`` of the
        statements, so that it tells no statement from another ("Trump" in his election's)."""
        return any(self.generic_term(t) for t in analyze(word))

    def generic_term(self, term: str) -> bool:
        """``generic`` for one lexical term (already analysed)."""
        return self.bm25.doc_freq(term) > GENERIC_SHARE

    def rows_holding_all(self, words: Sequence[str]) -> np.ndarray:
        """Rows whose speaker, role or text holds every one of the words (``term_rows``
        intersected); none for no words."""
        if not words:
            return np.zeros(0, np.int64)
        rows = self.term_rows(words[0])
        for w in words[1:]:
            rows = np.intersect1d(rows, self.term_rows(w), assume_unique=True)
        return rows

    def holds(self, word: str) -> bool:
        """Whether some statement (quote, speaker or role) holds the folded word itself or
        its plural, not just a word of the same stem ("Welle" is not "well"; "Ukrainians" is
        "Ukrainian"). Looks at the first ``HOLDS_SAMPLE`` rows of its stem (cached)."""
        return self._holds(word)

    def _holds_uncached(self, word: str) -> bool:
        forms = {word, word + "s", word + "es", word.removesuffix("s"), word.removesuffix("es")}
        for r in self.term_rows(word)[:HOLDS_SAMPLE]:
            st = self.statements[int(r)]
            said = " ".join(x for x in (st.speaker, st.role, st.text) if x)
            if not forms.isdisjoint(tokens(said)):
                return True
        return False

    def tells_absence(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row's quote says someone did not speak or act: it holds a word of
        ``absence_markers`` (kinds.json), a negation BM25 drops as a stopword."""
        markers = _absence_markers()
        return np.fromiter(
            (not markers.isdisjoint(tokens(self.statements[int(r)].text)) for r in rows),
            bool,
            len(rows),
        )

    def text_rows(self, word: str) -> np.ndarray:
        """Rows whose quote itself (not the speaker's name or role) holds the word (cached)."""
        return self._text_rows(word)

    def _text_rows_uncached(self, word: str) -> np.ndarray:
        """Rows whose quote itself (not the speaker's name or role) holds the word."""
        terms = set(analyze(word))
        rows = self.term_rows(word)
        keep = [r for r in rows if terms & set(analyze(self.statements[int(r)].text))]
        return np.asarray(keep, dtype=np.int64)

    def spoken_by_outlet(self, key: str) -> np.ndarray:
        """Rows the outlet speaks itself ("Ukrainska Pravda, a Ukrainian news outlet, wrote"),
        beside those that cite it (``by_outlet``): its name's words pick the candidates from
        the lexical postings, and a row counts when its speaker's name is the outlet's key."""
        return self._spoken_by_outlet(key)

    def _spoken_by_outlet_uncached(self, key: str) -> np.ndarray:
        rows = self.rows_holding_all(key.split())
        keep = [
            r
            for r in rows[:OUTLET_SPEAKER_SAMPLE].tolist()
            if (name := self.statements[r].speaker) and outlet_key(name) == key
        ]
        return np.asarray(keep, dtype=np.int64)

    def archive_order(self, rows: np.ndarray, *, notes_last: bool = False) -> np.ndarray:
        """Rows grouped by compilation, newest compilation first, document order within;
        ``notes_last``: "no remarks" notes after the statements of their compilation."""
        if len(rows) == 0:
            return rows
        note = self.is_note[rows] if notes_last else np.zeros(len(rows), bool)
        order = np.lexsort((self.position[rows], note, self.doc_of_row[rows]))
        return rows[order]
