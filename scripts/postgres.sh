#!/usr/bin/env bash
# The tests run the storage and notification tests on a real PostgreSQL server that they start
# themselves (tests/postgres.py); this makes sure its binaries are installed. As root (CI, the
# developers' machines) it installs Debian's postgresql package when they are missing;
# otherwise it says what to run. Quick when they are there.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL for the tests (apt-get install postgresql)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    exit 0
fi
echo "PostgreSQL is not installed: the PostgreSQL half of the tests will be skipped" >&2
echo "(and fail in CI). Install it with: sudo apt-get install postgresql" >&2
