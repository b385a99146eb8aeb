"""``python -m index``: the engine's command line."""

from __future__ import annotations

from index.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
