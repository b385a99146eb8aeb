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
def isolated_env(
    monkeypatch: pytest.MonkeyPatch, session_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """No test sees the developer's token, webhook, database or paths; all use the session's
    dirs, and each test an SQLite database of its own (DATABASE_URL)."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name in ("PORT", "LOG_LEVEL", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'isolated-bot.db'}")
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


# --- databases --------------------------------------------------------------------------------

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A throwaway PostgreSQL server for the session (tests/postgres.py), or why there is none."""
    from tests.postgres import Cluster, Unavailable

    try:
        cluster = Cluster().start()
    except Unavailable as exc:
        yield exc
        return
    try:
        yield cluster
    finally:
        cluster.stop()


def _postgres_url(postgres: object) -> str:
    from tests.postgres import Cluster

    if not isinstance(postgres, Cluster):
        # In CI a PostgreSQL run that cannot start is a failure, never a quiet skip.
        (pytest.fail if IN_CI else pytest.skip)(f"no PostgreSQL server: {postgres}")
        raise AssertionError("unreachable")
    return postgres.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: an SQLite file, then a PostgreSQL database (same tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return _postgres_url(request.getfixturevalue("postgres"))


@pytest.fixture
def postgres_url(postgres: object) -> str:
    """A fresh PostgreSQL database (tests that need a server two processes share)."""
    return _postgres_url(postgres)
