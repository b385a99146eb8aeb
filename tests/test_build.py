"""The build stage: vectors are kept per compilation, so a new compilation embeds only its own
statements, and a damaged vector cache is only a missed shortcut."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from index.search import Engine
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE

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
