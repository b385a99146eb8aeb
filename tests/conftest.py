"""Shared fixtures: an isolated environment, the real corpus and one real engine per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from index.live import LiveEngine

ROOT = Path(__file__).resolve().parent.parent
REAL_SOURCES = ROOT / "data" / "sources"
REAL_FILE = REAL_SOURCES / "2024-11-06-post-soviet-reaction-to-trump-win.txt"
TEST_SOURCES = ROOT / "tests" / "data" / "sources"
QUESTIONS = ROOT / "data" / "eval" / "questions.jsonl"

_ISOLATED_PREFIXES = ("TELEGRAM_", "WEBHOOK_", "REACTIONS_", "BOT_")


@pytest.fixture(scope="session")
def session_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One ONNX cache and one index for the whole run: exporting and embedding happen once."""
    base = tmp_path_factory.mktemp("reactions")
    return {"cache": base / "cache", "index": base / "index"}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, session_dirs: dict[str, Path]) -> None:
    """No test sees the developer's token, webhook or paths; all use the session's dirs."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name in ("PORT", "LOG_LEVEL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REACTIONS_CACHE_DIR", str(session_dirs["cache"]))
    monkeypatch.setenv("REACTIONS_INDEX_DIR", str(session_dirs["index"]))
    monkeypatch.setenv("REACTIONS_SOURCES_DIR", str(REAL_SOURCES))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def engine(session_dirs: dict[str, Path]) -> Iterator[object]:
    """The real engine on the real corpus: real model, real FAISS."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["REACTIONS_CACHE_DIR"] = str(session_dirs["cache"])
    from index.search import Engine

    yield Engine.open(REAL_SOURCES, session_dirs["index"])


ARCHIVE_SOURCES = ROOT / "data" / "eval" / "archive"


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory, session_dirs: dict[str, Path]) -> object:
    """The real engine over an archive: the seed compilation and three invented ones."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["REACTIONS_CACHE_DIR"] = str(session_dirs["cache"])
    from index.search import Engine

    return Engine.open(ARCHIVE_SOURCES, tmp_path_factory.mktemp("archive-index"))


@pytest.fixture
def api() -> Iterator[object]:
    """A started local Bot API server (tests/fakebotapi.py)."""
    from tests.fakebotapi import FakeBotApi

    with FakeBotApi() as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A sources folder of its own holding the real compilation (a living archive's tests)."""
    src = tmp_path / "sources"
    src.mkdir()
    shutil.copy(REAL_FILE, src)
    return src


def live_engine(folder: Path) -> LiveEngine:
    """A LiveEngine over ``folder``, its index beside it (``index.live``)."""
    from index.live import LiveEngine
    from index.search import Engine

    index_dir = folder.parent / "index"
    return LiveEngine(lambda: Engine.open(folder, index_dir), folder)
