"""The entry point: what ``python -m bot`` refuses before it opens the engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.__main__ as entry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Opening the engine fails the test; the working directory has no .env."""

    def refuse() -> None:
        raise AssertionError("the engine was opened")

    monkeypatch.setattr(entry, "open_engine", refuse)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("token", [None, "123456:TEST-token-abcdef"])
@pytest.mark.parametrize("state", ["empty", "missing", "only other files"])
def test_no_compilations_is_an_error_that_says_what_to_do(
    no_engine: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    state: str,
    token: str | None,
) -> None:
    folder = tmp_path / "sources"
    if state != "missing":
        folder.mkdir()
    if state == "only other files":
        (folder / "notes.md").write_text("not a compilation")
        (folder / ".hidden.txt").write_text("skipped, as the engine skips it")
    monkeypatch.setenv("REACTIONS_SOURCES_DIR", str(folder))
    if token:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)  # polling mode: refused just the same
    assert entry.main([]) == 2
    err = capsys.readouterr().err
    assert str(folder) in err
    assert "REACTIONS_SOURCES_DIR" in err and "data/sources/" in err
    assert ("does not exist" if state == "missing" else "no compilations") in err


def test_sources_are_checked_where_the_engine_looks(tmp_path: Path) -> None:
    assert entry.sources_problem(tmp_path) is not None
    (tmp_path / "compilation.txt").write_text("Title\n")
    assert entry.sources_problem(tmp_path) is None


def test_the_console_exits_2_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["REACTIONS_SOURCES_DIR"] = str(tmp_path / "nowhere")
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        input="Georgia\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "REACTIONS_SOURCES_DIR" in done.stderr and "data/sources/" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
