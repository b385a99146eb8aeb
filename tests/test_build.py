"""The build stage: vectors are kept per compilation, so a new compilation embeds only its own
statements, and a damaged vector cache is only a missed shortcut."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from index.search import Engine
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE, ROOT

EMBEDDED = re.compile(r"embedded (\d+) statements of (\d+) compilations; (\d+) compilations from")


def embedded(caplog: pytest.LogCaptureFixture) -> tuple[int, int, int]:
    found = [EMBEDDED.search(r.getMessage()) for r in caplog.records]
    m = [x for x in found if x][-1]
    return int(m[1]), int(m[2]), int(m[3])


@pytest.fixture
def src(tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sources folder with the real compilation, and a vector cache of this test's own."""
    monkeypatch.setenv("REACTIONS_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(REAL_FILE, folder)
    caplog.set_level(logging.INFO, logger="index.build")
    return folder


def test_adding_a_compilation_embeds_only_its_statements(
    tmp_path: Path, src: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Engine.open(src, tmp_path / "index")
    assert embedded(caplog) == (len(first.statements), 1, 0)

    grain = next(ARCHIVE_SOURCES.glob("2029-*.txt"))
    shutil.copy(grain, src)
    second = Engine.open(src, tmp_path / "index")
    added = len(second.statements) - len(first.statements)
    assert added > 0 and embedded(caplog) == (added, 1, 1)
    # The reused vectors are the same vectors: the seed's answers do not change.
    assert [
        h.statement.id for h in second.ask("Peskov").hits if "2024" in h.statement.document
    ] == [h.statement.id for h in first.ask("Peskov").hits]

    (src / grain.name).unlink()
    third = Engine.open(src, tmp_path / "index")
    assert embedded(caplog) == (0, 0, 1) and len(third.statements) == len(first.statements)


def test_a_damaged_vector_cache_is_rebuilt(
    tmp_path: Path, src: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Engine.open(src, tmp_path / "index")
    for f in (tmp_path / "cache" / "vectors").glob("*.npz"):
        f.write_bytes(b"\x00garbage" * 100)
    again = Engine.open(src, tmp_path / "index", rebuild=True)
    assert embedded(caplog) == (len(again.statements), 1, 0)
    assert "ignoring the vector cache" in caplog.text
    assert again.ask("Peskov").confident


def test_the_lexical_index_is_kept_and_a_damaged_one_rebuilt(
    tmp_path: Path, src: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Engine.open(src, tmp_path / "index")
    kept = list((tmp_path / "cache" / "lexical").glob("bm25-*.npz"))
    assert len(kept) == 1
    again = Engine.open(src, tmp_path / "index")  # loads it: same scores, no analysis pass
    q = "ruble tradeable"
    assert (again.bm25.scores(q) == first.bm25.scores(q)).all()
    kept[0].write_bytes(b"garbage")
    caplog.set_level(logging.WARNING, logger="index.tables")
    third = Engine.open(src, tmp_path / "index", rebuild=True)  # opening reads the bundle's
    assert "rebuilding the lexical index" in caplog.text
    assert (third.bm25.scores(q) == first.bm25.scores(q)).all()
    assert third.ask("is the ruble tradeable now?").hits


def test_statement_vectors_of_the_onnx_path_match_the_torch_path(
    tmp_path: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a publish embeds with the held ONNX encoder is what sentence-transformers gives."""
    from index.build import VectorCache, embed_corpus
    from index.embed import held_encoder
    from index.parse import load_corpus

    corpus = load_corpus(sorted(src.glob("*.txt")))
    encoder = held_encoder(cache_dir=tmp_path / "cache")
    got = {}
    for builder in ("query", "torch"):
        monkeypatch.setenv("REACTIONS_BUILD_ENCODER", builder)
        cache = VectorCache(tmp_path / builder, encoder.model_id)
        got[builder] = embed_corpus(
            corpus.statements, corpus.documents, cache, encoder, None, False
        )
    cosines = (got["query"] * got["torch"]).sum(axis=1)
    assert len(cosines) == len(corpus.statements) and cosines.min() >= 0.999


PUBLISH = """
import logging, shutil, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(message)s")
from index import embed
from index.search import Engine
src, index, new = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
first = Engine.open(src, index)  # the bundle exists: opening it loads no torch
assert "torch" not in sys.modules, "torch at open"
held = embed.held_encoder(cache_dir=embed.Path(sys.argv[4]))
shutil.copy(new, src)
second = Engine.open(src, index)  # a publish: only the new compilation is embedded
assert embed.held_encoder(cache_dir=embed.Path(sys.argv[4])) is held
print("torch:", "torch" in sys.modules, "sentence_transformers" in sys.modules)
print("statements:", len(first.statements), len(second.statements))
"""


def test_a_publish_embeds_with_the_encoder_the_process_holds_not_torch(
    tmp_path: Path, src: Path
) -> None:
    import os
    import subprocess
    import sys

    Engine.open(src, tmp_path / "index")  # built (and the model exported) beforehand
    grain = next(ARCHIVE_SOURCES.glob("2029-*.txt"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "REACTIONS_MULTILINGUAL": "off"}
    args = [str(src), str(tmp_path / "index"), str(grain), str(tmp_path / "cache")]
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "torch: False False" in done.stdout
    assert "(embedded by query)" in done.stderr
