"""The engine's façade: one object the bot and the CLI talk to. A question goes through the
stages in order — understand (``understand.Reader``), rank (``rank.Ranker``), answer
(``answer.Answerer``) — over an archive the build stage (``build``) loaded or built."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index import config
from index.answer import MAX_KEY_BYTES, Answerer
from index.answer import message as answer_message
from index.build import Parts, build, embed_text, enable_reconstruct, load_or_build
from index.catalog import Catalog, Speaker, analyze
from index.crosslingual import Grains
from index.model import Answer, Document, Statement, Why
from index.query import Query, clean
from index.rank import MULTILINGUAL, RankConfig, Ranker, Route
from index.tables import Tables
from index.understand import Reader

log = logging.getLogger(__name__)

__all__ = [
    "MAX_KEY_BYTES",
    "Engine",
    "Parts",
    "Speaker",
    "analyze",
    "build",
    "embed_text",
]
READING_CACHE = 4096  # questions whose reading is kept (the bot sees the same ones often)


class Engine:
    """Answers questions over an archive of compilations; see ``open``."""

    def __init__(
        self,
        statements: Sequence[Statement],
        documents: Sequence[Document],
        faiss_index: Any,
        encode: Callable[[list[str]], np.ndarray],
        *,
        manifest: dict[str, Any] | None = None,
        problems: Sequence[str] = (),
        rank_config: RankConfig | None = None,
        lexical_cache: Path | None = None,
        tables: Tables | None = None,
        multilingual_index: Any = None,
        multilingual_encode: Callable[[list[str]], np.ndarray] | None = None,
        grains: Grains | None = None,
    ) -> None:
        self.catalog = Catalog(statements, documents, tables=tables, lexical_cache=lexical_cache)
        self.statements = self.catalog.statements
        self.faiss = faiss_index
        enable_reconstruct(faiss_index)
        self._encode = encode
        self.manifest = manifest or {}
        self.problems = list(problems)  # files that failed to load, as messages
        self.reader = Reader(self.catalog)
        # The multilingual route: Cyrillic topics against the statements' multilingual vectors.
        multilingual = None
        if multilingual_index is not None and multilingual_encode is not None:
            enable_reconstruct(multilingual_index)
            multilingual = Route(MULTILINGUAL, multilingual_index, multilingual_encode, grains)
        self._encode_multilingual = multilingual_encode if multilingual else None
        self.ranker = Ranker(
            self.catalog, faiss_index, encode, rank_config, multilingual=multilingual
        )
        self.answerer = Answerer(self.catalog)
        self._read = lru_cache(maxsize=READING_CACHE)(self.reader.read)

    @classmethod
    def open(
        cls,
        sources_dir: Path | str | None = None,
        index_dir: Path | str | None = None,
        model: str | None = None,
        *,
        rebuild: bool = False,
        progress: bool = False,
        multilingual: str | None = None,
    ) -> Engine:
        """Load the index, building it first when missing, stale or broken.

        ``multilingual`` (auto, on, off; None: ``$REACTIONS_MULTILINGUAL``) says whether the
        statements are also embedded by the multilingual model, for questions in Cyrillic."""
        from index.embed import held_encoder, multilingual_setting
        from index.parse import source_files
        from index.store import source_hashes

        src = config.sources_dir(sources_dir)
        idx = config.index_dir(index_dir)
        files = source_files(src)
        setting = multilingual_setting(multilingual)  # a bad value fails before any work
        encoder = held_encoder(model, cache_dir=config.cache_dir())  # once a process
        hashes = source_hashes(files)
        parts, problems = load_or_build(
            idx, files, hashes, encoder, model, rebuild, progress, multilingual=setting
        )
        ml_encode = None
        if parts.multilingual is not None:
            from index.embed import held_multilingual

            ml_encode = held_multilingual().query
        return cls(
            parts.statements,
            parts.documents,
            parts.index,
            lambda texts: encoder.encode(texts),
            manifest=parts.manifest,
            problems=problems,
            lexical_cache=config.cache_dir() / "lexical",
            tables=parts.tables,
            multilingual_index=parts.multilingual,
            multilingual_encode=ml_encode,
            grains=parts.grains,
        )

    @property
    def multilingual_pending(self) -> bool:
        """Whether some compilations still wait for their multilingual vectors (a quick reload,
        ``index.build.deferred_multilingual``): the next open embeds them."""
        return bool((self.manifest.get("multilingual") or {}).get("pending"))

    @property
    def multilingual(self) -> bool:
        """Whether questions in Cyrillic have the multilingual route (else names, countries
        and words only)."""
        return self.ranker.multilingual is not None

    def encode_multilingual(self, texts: list[str]) -> np.ndarray:
        """Questions embedded by the multilingual model (for evaluation and benches)."""
        if self._encode_multilingual is None:
            raise RuntimeError("this archive was built without the multilingual route")
        return self._encode_multilingual(texts)

    def clear_caches(self) -> None:
        """Forget every per-question cache, so the next ask costs what a new question costs."""
        self._read.cache_clear()
        self.catalog.clear_caches()
        self.ranker.clear_caches()

    # ------------------------------------------------------------ lookups

    @property
    def bm25(self) -> Any:
        return self.catalog.bm25

    @property
    def names(self) -> Any:
        return self.catalog.names

    @property
    def speakers(self) -> Mapping[str, Speaker]:
        return self.catalog.speakers

    def documents(self) -> list[Document]:
        """Every loaded compilation, newest first."""
        cat = self.catalog
        return sorted(cat.documents.values(), key=lambda d: cat.doc_rank.get(d.id, 0))

    def document(self, doc_id: str) -> Document | None:
        return self.catalog.documents.get(doc_id)

    def get(self, statement_id: str) -> Statement | None:
        row = self.catalog.row(statement_id)
        return None if row is None else self.statements[row]

    def countries(self) -> list[tuple[str, int]]:
        """(country, statement count), alphabetical."""
        return sorted((c, len(rows)) for c, rows in self.catalog.by_country.items())

    def statements_in(self, documents: Collection[str]) -> list[Statement]:
        """The statements of these compilations, in archive order (only those parsed)."""
        parts = [self.catalog.rows_of(d) for d in documents]
        rows = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        return [self.statements[int(r)] for r in rows]

    def statement_ids(self) -> list[str]:
        """Every statement's id (sorted; from the tables, without parsing a statement)."""
        return [i.decode("utf-8") for i in self.catalog.tables.ids.tolist()]

    def counts_by_document(self) -> dict[str, int]:
        """Statements per compilation id."""
        return {d: len(rows) for d, rows in self.catalog.by_doc.items()}

    def outlets(self) -> list[tuple[str, int]]:
        """(outlet, citations), most cited first."""
        return list(self.catalog.tables.outlet_counts)

    # ------------------------------------------------------------ questions

    def read(self, question: str) -> Query:
        """How a question is understood (``ask --explain``)."""
        return self._read(clean(question))

    def ask(self, query: str, k: int = 10) -> Answer:
        """Answer a free question: any mix of person, role, place, outlet, time, event, topic."""
        q = self.read(query)
        return self.answerer.answer(query, q, self.ranker.rank(q, k))

    def country(self, name: str) -> Answer:
        """All statements of the country named (fuzzy), newest compilation first."""
        text = clean(name)
        if not text:
            return self.answerer.empty(name)
        cm = self.catalog.countries_matcher
        found = [m.country for m in cm.match(text)]
        if not found:
            found = [m.country for m in cm.suggest(text, limit=1) if m.score >= 80]
        if not found:
            return self._closest(name, text, Why("no_country", name=text), "country")
        q = Query(text, countries=(found[0],))
        return self.answerer.answer(name, q, self.ranker.rank(q))

    def who(self, name: str) -> Answer:
        """A person's statements (any spelling), or a role's, grouped by compilation."""
        text = clean(name)
        if not text:
            return self.answerer.empty(name)
        read = self.reader.read(text, loose=True)
        people = read.speakers or read.about_speakers
        q: Query | None
        if people:
            score = read.speaker_score or 100.0
            q = Query(text, speakers=people, speaker_score=score, time=read.time)
        elif read.roles:
            q = Query(text, roles=read.roles, role_words=read.role_words, countries=read.countries)
        else:
            q = self._speaker_from_topic(text)
        if q is None:
            return self._closest(name, text, Why("no_person", name=text), "person")
        return self.answerer.answer(name, q, self.ranker.rank(q))

    def _closest(self, asked: str, text: str, why: Why, kind: str) -> Answer:
        """``/country X`` or ``/who X`` for what the archive lacks: said so, with the quotes
        that speak of it (never confidently), or nothing when none does."""
        near = self.ask(text)
        if not near.hits:
            return self.answerer.nothing(asked, None, (why,), kind=kind)
        whys = (why, Why("closest", "absent"))
        return replace(
            near,
            query=asked,
            confident=False,
            why=whys,
            message=answer_message(whys),
            suggestions=self.answerer.suggest(text, kind),
        )

    def _speaker_from_topic(self, text: str) -> Query | None:
        """ "Kremlin spokesman": no role says so, but what they said does; take its speaker."""
        topic = self.ask(text, k=3)
        if not (topic.confident and topic.hits):
            return None
        row = self.catalog.row(topic.hits[0].statement.id)
        key = None if row is None else self.catalog.speaker_of(row)
        if key is None:
            return None
        return Query(text, speakers=(key,), speaker_score=90.0, role_words=(text,))

    def by_key(self, key: str) -> Answer:
        """Reproduce an answer from an ``Intent.key`` or ``Suggestion.key``."""
        kind, _, value = key.partition(":")
        cat = self.catalog
        if kind == "c" and value in cat.by_country:
            q = Query(value, countries=(value,))
            return self.answerer.answer(value, q, self.ranker.rank(q))
        if kind == "s" and value in cat.speakers:
            sp = cat.speakers[value]
            q = Query(sp.label, speakers=(value,), speaker_score=100.0)
            return self.answerer.answer(sp.label, q, self.ranker.rank(q))
        if kind == "q":
            return self.ask(value)
        return self.ask(key)
