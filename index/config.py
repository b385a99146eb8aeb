"""Where the engine finds its compilations, index and model: flags, then env, then defaults."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources_dir(flag: str | os.PathLike[str] | None = None) -> Path:
    """Compilations: ``--sources`` flag, ``REACTIONS_SOURCES_DIR``, else ``data/sources``."""
    value = flag or os.environ.get("REACTIONS_SOURCES_DIR")
    return Path(value).expanduser() if value else ROOT / "data" / "sources"


def index_dir(flag: str | os.PathLike[str] | None = None) -> Path:
    """The built index: ``--index-dir`` flag, ``REACTIONS_INDEX_DIR``, else ``data/index``."""
    value = flag or os.environ.get("REACTIONS_INDEX_DIR")
    return Path(value).expanduser() if value else ROOT / "data" / "index"


def cache_dir() -> Path:
    """Derived artefacts that outlive index rebuilds (the ONNX export): ``REACTIONS_CACHE_DIR``."""
    value = os.environ.get("REACTIONS_CACHE_DIR")
    return Path(value).expanduser() if value else ROOT / "data" / "cache"
