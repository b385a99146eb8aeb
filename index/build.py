"""Stage 1, build: sources -> parse -> embed -> store; load the stored bundle, or rebuild it
when it is missing, stale or broken. The query stages never import the parser."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.model import Document, Statement

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """What a built or loaded index holds."""

    statements: list[Statement]
    documents: list[Document]
    index: Any  # faiss.Index
    manifest: dict[str, Any] = field(default_factory=dict)


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
) -> tuple[Parts, list[str]]:
    """The stored bundle when it matches the sources and model, else a fresh build."""
    from index import store

    expect = {
        "format": store.FORMAT_VERSION,
        "model": encoder.model_id,
        "dim": encoder.dim,
        "sources": hashes,
    }
    if not rebuild:
        try:
            b = store.load_bundle(idx, expect=expect)
            problems = list(b.manifest.get("problems", []))
            return Parts(b.statements, b.documents, b.index, b.manifest), problems
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
) -> tuple[Parts, list[str]]:
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
    return Parts(corpus.statements, corpus.documents, index, manifest), problems


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


def enable_reconstruct(index: Any) -> None:
    """IVF indexes reconstruct stored vectors (for re-scoring lexical hits) only with a direct map."""
    try:
        import faiss

        ivf = faiss.extract_index_ivf(index)
    except (ImportError, RuntimeError):  # a flat index: reconstruct works as is
        return
    ivf.make_direct_map()
