"""A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster in a temp folder,
on a free port of 127.0.0.1 (and a socket in that folder), gone when the tests end.

``scripts/postgres.sh`` (which ``make test`` runs) installs the ``postgresql`` package when
the binaries are missing. As root, initdb refuses to run, so the cluster belongs to the
``postgres`` system user (the package creates it; created here if not).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"
OWNER = "postgres"


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why and what to do."""


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(
        (p for p in Path("/").glob(BIN_GLOB.lstrip("/")) if (p / "initdb").is_file()),
        key=lambda p: _version(p.parent.name),
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in name.split(".") if x.isdigit()) or (0,)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """initdb + pg_ctl in a temp folder; ``url(name)`` gives a fresh database's URL."""

    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise Unavailable(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run "
                "scripts/postgres.sh (as root it installs Debian's postgresql package) or "
                "apt-get install postgresql"
            )
        self.root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="reactions-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._started = False

    def _run(self, args: Sequence[str]) -> None:
        command = [str(a) for a in args]
        if self.root:
            command = ["runuser", "-u", OWNER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise Unavailable(
                f"{Path(command[-len(args)]).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-800:]}"
            )

    def start(self) -> Cluster:
        if self.root:
            _ensure_owner()
            shutil.chown(self.dir, OWNER, OWNER)
        assert self.bin is not None
        self._run(
            [
                self.bin / "initdb",
                "-D",
                self.data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            [
                self.bin / "pg_ctl",
                "-D",
                self.data,
                "-o",
                options,
                "-l",
                self.dir / "log",
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self._started = True
        return self

    def stop(self) -> None:
        if self._started and self.bin is not None:
            with contextlib.suppress(Unavailable, subprocess.TimeoutExpired):
                self._run([self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _ensure_owner() -> None:
    """The ``postgres`` system user (Debian's package makes it; a bare machine may lack it)."""
    import pwd

    try:
        pwd.getpwnam(OWNER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/bin/sh",
                OWNER,
            ],
            check=True,
            capture_output=True,
        )
