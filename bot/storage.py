"""The bot's database: follows, digest deliveries, the editors' publish log and languages.

One schema (SQLAlchemy Core tables below), versioned by Alembic migrations in
``bot/migrations/`` that ``Store.open`` applies on start. ``DATABASE_URL`` picks the engine:
``sqlite:///data/bot.db`` (embedded, the default) or ``postgresql://…`` (shared by replicas).
Nothing here talks to Telegram or reads compilations; quote text is never stored, only
statement ids, so the database holds no more about a user than their follows, deliveries and
language, and (the inbox, ``bot.updates``) their messages not yet answered: a message's JSON
is cleared once it is answered.

Delivery is at most once. A digest is claimed (``sending``) in its own committed transaction
before it is sent and marked ``sent`` after; a claim a crash left behind is never sent again
(``unknown``), because Telegram may have delivered it. Replicas claim disjoint digests (an
``UPDATE … RETURNING`` over rows locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serialises writers), and each statement reaches a user at most once: ``digest_items`` has the
primary key (user, statement), so a repeated or concurrent publish adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///data/bot.db"
MAX_FOLLOWS = 50  # per user: a digest has to stay readable
KEY_CHARS = 200  # a follow's key (speaker key, country, region, topic) in the database
LABEL_CHARS = 200
# Postgres advisory lock key while migrating: replicas starting together migrate one at a time.
MIGRATION_LOCK = 7_316_024_001
INSERT_CHUNK = 2_000  # rows per multi-row INSERT (SQLite allows 32,766 parameters)
READ_ONLY = "reactions_read_only"  # execution option of Store._read's connections

metadata = sa.MetaData()

follows = sa.Table(
    "follows",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # person, country, region, topic
    sa.Column("key", sa.String(KEY_CHARS), primary_key=True),
    sa.Column("label", sa.String(LABEL_CHARS), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_follows_kind_key", follows.c.kind, follows.c.key)

publications = sa.Table(
    "publications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # The new compilations' ids and statement ids, hashed: the same publish seen by two
    # replicas, or repeated, is one row.
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("documents", sa.String(2000), nullable=False),  # compilation ids, one a line
    sa.Column("titles", sa.String(2000), nullable=False),
    sa.Column("statements", sa.Integer, nullable=False),
    sa.Column("digests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

digests = sa.Table(
    "digests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "publication_id",
        sa.Integer,
        sa.ForeignKey("publications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    # pending -> sending -> sent; or dropped (blocked), failed (gave up), unknown (a crash
    # while sending: it may have arrived, so it is not sent again)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("message_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_digests_status_id", digests.c.status, digests.c.id)
sa.Index("ix_digests_user_id", digests.c.user_id)

digest_items = sa.Table(
    "digest_items",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("statement_id", sa.String(64), primary_key=True),
    sa.Column(
        "digest_id",
        sa.Integer,
        sa.ForeignKey("digests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(LABEL_CHARS), nullable=False),  # the follow it matched
)
sa.Index("ix_digest_items_digest_id", digest_items.c.digest_id)

# The language the bot speaks with a user: the one they chose with /language (``chosen``), or
# their Telegram app's when they last followed something, so their digests come in it.
languages = sa.Table(
    "languages",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("language", sa.String(8), nullable=False),  # en, ru, uk
    sa.Column("chosen", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

STATUSES = ("pending", "sending", "sent", "dropped", "failed", "unknown")

# The durable inbox (bot.updates): message updates fetched ahead of their answers. A row is
# written before the getUpdates offset passes its update, so Telegram forgets only what is
# stored here; it is claimed (``claimed``) by one process, answered, and then ``done``: its
# JSON is cleared, its id kept INBOX_KEEP_SECONDS so that the same update fetched again (a
# stop between storing and confirming) is recognised and not answered twice.
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(8), nullable=False),  # pending -> claimed -> done
    sa.Column("payload", sa.Text, nullable=True),  # the update's JSON; None once done
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Index("ix_inbox_status_received", inbox.c.status, inbox.c.received_at, inbox.c.update_id)
INBOX_STATUSES = ("pending", "claimed", "done")


class StorageError(RuntimeError):
    """The database cannot be opened or migrated; the message says which and why."""


@dataclass(frozen=True)
class Follow:
    """One thing a user follows: ``kind`` person/country/region/topic, ``key`` what matches."""

    kind: str
    key: str
    label: str

    @property
    def token(self) -> str:
        """A short stable id for an Unfollow button (the key may pass 64 bytes)."""
        return follow_token(self.kind, self.key)


def follow_token(kind: str, key: str) -> str:
    return hashlib.sha1(f"{kind}\n{key}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Item:
    """A statement in a digest and the follow that brought it."""

    statement_id: str
    reason: str


@dataclass(frozen=True)
class Claimed:
    """A digest this process is about to send."""

    id: int
    user_id: int
    attempts: int


@dataclass(frozen=True)
class Inboxed:
    """A stored update this process claimed: answer it, then ``inbox_done``."""

    update_id: int
    payload: str
    attempts: int


@dataclass(frozen=True)
class Enqueued:
    """What a publish put in the queue (``created`` False: another replica, or a repeat)."""

    publication_id: int | None
    created: bool
    digests: int


def normalize_url(raw: str) -> URL:
    """``DATABASE_URL`` as SQLAlchemy needs it: ``postgres(ql)://`` uses psycopg 3."""
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def safe_url(raw: str | URL) -> str:
    """The URL without its password, for logs and messages."""
    try:
        url = raw if isinstance(raw, URL) else make_url(raw)
    except sa.exc.ArgumentError:
        return "(unparsable URL)"
    return url.render_as_string(hide_password=True)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands timezone-aware columns back naive (they are stored as UTC).
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # The driver's own transaction handling off: _sqlite_begin starts each one IMMEDIATE, so a
    # transaction that reads and then writes never meets SQLITE_BUSY halfway (another writer
    # committed meanwhile); it waits for the write lock up front instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # another process writing: wait, do not fail
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL keeps it safe against process crashes
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A read-only transaction (Store._read: the language of every update) takes no write lock,
    # so readers never queue behind each other or behind a writer (WAL).
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str | URL) -> Engine:
    """An SQLAlchemy engine for ``url``; an SQLite file's folder is created if missing."""
    url = normalize_url(str(url)) if isinstance(url, str) else url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error's text never carries a user's follow words into a log.
        engine = sa.create_engine(url, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.get_backend_name() != "postgresql":
        raise StorageError(
            f"DATABASE_URL must be sqlite:///… or postgresql://…, not {url.get_backend_name()}"
        )
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic), one process at a time."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """The bot's database. Methods are blocking: call them from a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.dialect.name
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str = DEFAULT_URL) -> Store:
        """Connect and apply the migrations; StorageError says what went wrong (no password)."""
        try:
            engine = create_engine(url)
            migrate(engine)
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(
                f"cannot open the database {safe_url(url)}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}"
            ) from None
        log.info("Database %s ready", safe_url(engine.url))
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A transaction that only reads (on SQLite a plain BEGIN: no write lock)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that can skip rows already there (dialect-specific ON CONFLICT)."""
        if self.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # --- follows ------------------------------------------------------------------------------

    def follows_of(self, user_id: int) -> list[Follow]:
        """A user's follows, oldest first."""
        with self._tx() as c:
            rows = c.execute(
                sa.select(follows.c.kind, follows.c.key, follows.c.label)
                .where(follows.c.user_id == user_id)
                .order_by(follows.c.created_at, follows.c.kind, follows.c.key)
            ).all()
        return [Follow(r.kind, r.key, r.label) for r in rows]

    def follow(self, user_id: int, wanted: Follow, limit: int = MAX_FOLLOWS) -> str:
        """Add a follow: ``added``, ``already`` or ``full`` (the user has ``limit`` already)."""
        with self._tx() as c:
            if self.name == "postgresql":  # two presses at once must not pass the limit together
                c.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": user_id})
            there = c.execute(
                sa.select(sa.func.count())
                .select_from(follows)
                .where(
                    follows.c.user_id == user_id,
                    follows.c.kind == wanted.kind,
                    follows.c.key == wanted.key,
                )
            ).scalar_one()
            if there:
                return "already"
            count = c.execute(
                sa.select(sa.func.count()).select_from(follows).where(follows.c.user_id == user_id)
            ).scalar_one()
            if count >= limit:
                return "full"
            c.execute(
                self._insert(follows)
                .values(
                    user_id=user_id,
                    kind=wanted.kind,
                    key=wanted.key[:KEY_CHARS],
                    label=wanted.label[:LABEL_CHARS],
                    created_at=now(),
                )
                .on_conflict_do_nothing()
            )
        return "added"

    def unfollow(self, user_id: int, kind: str, key: str) -> bool:
        """Remove one follow; False when it was not there."""
        with self._tx() as c:
            gone = c.execute(
                sa.delete(follows).where(
                    follows.c.user_id == user_id, follows.c.kind == kind, follows.c.key == key
                )
            ).rowcount
        return bool(gone)

    def followers(self) -> dict[tuple[str, str], list[int]]:
        """(kind, key) -> the users following it."""
        out: dict[tuple[str, str], list[int]] = {}
        with self._tx() as c:
            for r in c.execute(sa.select(follows.c.kind, follows.c.key, follows.c.user_id)):
                out.setdefault((r.kind, r.key), []).append(int(r.user_id))
        return out

    def labels(self) -> dict[tuple[str, str], str]:
        """(kind, key) -> a label to show for it."""
        with self._tx() as c:
            rows = c.execute(sa.select(follows.c.kind, follows.c.key, follows.c.label).distinct())
            return {(r.kind, r.key): r.label for r in rows}

    def forget(self, user_id: int) -> dict[str, int]:
        """Delete everything stored about a user: follows, digests and what they held, and
        their language."""
        with self._tx() as c:
            items = c.execute(sa.delete(digest_items).where(digest_items.c.user_id == user_id))
            sent = c.execute(sa.delete(digests).where(digests.c.user_id == user_id))
            gone = c.execute(sa.delete(follows).where(follows.c.user_id == user_id))
            language = c.execute(sa.delete(languages).where(languages.c.user_id == user_id))
        return {
            "follows": gone.rowcount,
            "digests": sent.rowcount,
            "items": items.rowcount,
            "language": language.rowcount,
        }

    def about(self, user_id: int) -> dict[str, int]:
        """How many rows the database holds about a user (for /privacy)."""
        with self._tx() as c:

            def count(table: sa.Table) -> int:
                return int(
                    c.execute(
                        sa.select(sa.func.count())
                        .select_from(table)
                        .where(table.c.user_id == user_id)
                    ).scalar_one()
                )

            return {
                "follows": count(follows),
                "digests": count(digests),
                "items": count(digest_items),
                "language": count(languages),
            }

    # --- languages ----------------------------------------------------------------------------

    def language_of(self, user_id: int) -> tuple[str, bool] | None:
        """The user's stored language and whether they chose it (/language); None: none."""
        with self._read() as c:
            row = c.execute(
                sa.select(languages.c.language, languages.c.chosen).where(
                    languages.c.user_id == user_id
                )
            ).first()
        return None if row is None else (str(row.language), bool(row.chosen))

    def set_language(self, user_id: int, language: str, chosen: bool) -> None:
        """Store the user's language: ``chosen`` (/language) replaces anything; a language
        only seen (their app's) never replaces one they chose."""
        stamp = now()
        insert = self._insert(languages).values(
            user_id=user_id, language=language[:8], chosen=chosen, updated_at=stamp
        )
        update = {"language": language[:8], "chosen": chosen, "updated_at": stamp}
        with self._tx() as c:
            c.execute(
                insert.on_conflict_do_update(
                    index_elements=["user_id"],
                    set_=update,
                    where=None if chosen else languages.c.chosen == sa.false(),
                )
            )

    # --- publishing ---------------------------------------------------------------------------

    def enqueue(
        self,
        key: str,
        documents: Sequence[str],
        titles: Sequence[str],
        statements: int,
        matches: Mapping[int, Sequence[Item]],
    ) -> Enqueued:
        """Log a publish and queue one digest per user with the statements they have not had.

        All in one transaction: a publish is queued whole or not at all. The same ``key``
        again (a repeat, or another replica that saw the same reload) queues nothing; a
        statement a user already had (from an earlier or concurrent publish) is left out.
        """
        stamp = now()
        with self._tx() as c:
            pub_id = c.execute(
                self._insert(publications)
                .values(
                    key=key,
                    documents="\n".join(documents)[:2000],
                    titles="\n".join(titles)[:2000],
                    statements=statements,
                    created_at=stamp,
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(publications.c.id)
            ).scalar()
            if pub_id is None:
                return Enqueued(None, False, 0)
            users = [u for u, items in matches.items() if items]
            digest_of: dict[int, int] = {}
            for chunk in _chunks(users, INSERT_CHUNK):
                rows = c.execute(
                    sa.insert(digests).returning(digests.c.id, digests.c.user_id),
                    [
                        {
                            "publication_id": pub_id,
                            "user_id": u,
                            "status": "pending",
                            "attempts": 0,
                            "created_at": stamp,
                        }
                        for u in chunk
                    ],
                ).all()
                digest_of.update({int(r.user_id): int(r.id) for r in rows})
            items = [
                {
                    "user_id": u,
                    "statement_id": item.statement_id,
                    "digest_id": digest_of[u],
                    "position": i,
                    "reason": item.reason[:LABEL_CHARS],
                }
                for u in users
                for i, item in enumerate(_unique_items(matches[u]))
            ]
            for chunk in _chunks(items, INSERT_CHUNK):
                c.execute(self._insert(digest_items).on_conflict_do_nothing(), chunk)
            # Users whose every statement they had already: no digest.
            c.execute(
                sa.delete(digests).where(
                    digests.c.publication_id == pub_id,
                    ~sa.exists().where(digest_items.c.digest_id == digests.c.id),
                )
            )
            n = c.execute(
                sa.select(sa.func.count())
                .select_from(digests)
                .where(digests.c.publication_id == pub_id)
            ).scalar_one()
            c.execute(sa.update(publications).where(publications.c.id == pub_id).values(digests=n))
        return Enqueued(int(pub_id), True, int(n))

    def publications_log(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest publishes (the editors' log), newest first."""
        with self._tx() as c:
            rows = c.execute(
                sa.select(publications).order_by(publications.c.id.desc()).limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def known_documents(self) -> set[str] | None:
        """Every compilation id the log has seen; None when the log is empty (a first start)."""
        with self._tx() as c:
            rows = c.execute(sa.select(publications.c.documents)).all()
        if not rows:
            return None
        return {d for r in rows for d in r.documents.split("\n") if d}

    # --- delivering ---------------------------------------------------------------------------

    def _claim_rows(
        self,
        c: Connection,
        pick: Any,
        key: Any,
        status: str,
        worker: str,
        stamp: dt.datetime,
        *columns: Any,
    ) -> tuple[list[int], list[Any]]:
        """Claim the pending rows ``pick`` selects (their ``key`` column): set ``status``, the
        worker, the time and one more attempt; the ids picked, and the claimed rows with their
        key, ``columns`` and attempts. Two statements, not UPDATE … WHERE id IN (subquery):
        PostgreSQL may run a LIMITed subquery more than once in a plan and claim more rows than
        asked; ``FOR UPDATE SKIP LOCKED`` there keeps replicas off each other's rows."""
        if self.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = [int(i) for i in c.execute(pick).scalars()]
        if not ids:
            return [], []
        table = key.table
        rows = c.execute(
            sa.update(table)
            .where(key.in_(ids), table.c.status == "pending")
            .values(
                status=status,
                claimed_by=worker[:64],
                claimed_at=stamp,
                attempts=table.c.attempts + 1,
            )
            .returning(key, *columns, table.c.attempts)
        ).all()
        return ids, list(rows)

    def claim(
        self, worker: str, n: int, *, at: dt.datetime | None = None, user_id: int | None = None
    ) -> list[Claimed]:
        """Take up to ``n`` pending digests for this worker (oldest first); each is ``sending``
        and committed before this returns, so no other replica takes it."""
        stamp = at or now()
        due = sa.or_(digests.c.not_before.is_(None), digests.c.not_before <= stamp)
        with self._lock, self._tx() as c:
            pick = (
                sa.select(digests.c.id)
                .where(digests.c.status == "pending", due)
                .where(sa.true() if user_id is None else digests.c.user_id == user_id)
                .order_by(digests.c.id)
                .limit(n)
            )
            ids, rows = self._claim_rows(
                c, pick, digests.c.id, "sending", worker, stamp, digests.c.user_id
            )
            if not ids:
                return []
        return sorted(
            (Claimed(int(r.id), int(r.user_id), int(r.attempts)) for r in rows),
            key=lambda d: d.id,
        )

    def items(self, digest_id: int) -> list[Item]:
        """The statements of a digest, in order (empty when it is gone, e.g. forgotten)."""
        with self._tx() as c:
            rows = c.execute(
                sa.select(digest_items.c.statement_id, digest_items.c.reason)
                .where(digest_items.c.digest_id == digest_id)
                .order_by(digest_items.c.position, digest_items.c.statement_id)
            ).all()
        return [Item(r.statement_id, r.reason) for r in rows]

    def digest_owner(self, digest_id: int) -> int | None:
        with self._tx() as c:
            owner = c.execute(
                sa.select(digests.c.user_id).where(digests.c.id == digest_id)
            ).scalar()
        return None if owner is None else int(owner)

    def sent(self, digest_id: int, message_id: int | None) -> None:
        """Telegram accepted the digest."""
        with self._tx() as c:
            c.execute(
                sa.update(digests)
                .where(digests.c.id == digest_id)
                .values(status="sent", sent_at=now(), message_id=message_id)
            )

    def retry_later(self, digest_id: int, delay: float, give_up: bool = False) -> None:
        """Telegram refused for now (flood, server error): pending again after ``delay`` s, or
        ``failed`` for good."""
        with self._tx() as c:
            c.execute(
                sa.update(digests)
                .where(digests.c.id == digest_id, digests.c.status == "sending")
                .values(
                    status="failed" if give_up else "pending",
                    not_before=now() + dt.timedelta(seconds=delay),
                    claimed_by=None,
                    claimed_at=None,
                )
            )

    def mark_unknown(self, digest_id: int) -> None:
        """The send timed out: it may have arrived, so it is never sent again."""
        with self._tx() as c:
            c.execute(sa.update(digests).where(digests.c.id == digest_id).values(status="unknown"))

    def drop_user(self, user_id: int) -> dict[str, int]:
        """The user blocked the bot or is gone: forget them (follows, digests, items)."""
        return self.forget(user_id)

    def expire_claims(self, older_than: float, *, at: dt.datetime | None = None) -> int:
        """Claims older than ``older_than`` seconds belong to a process that died mid-send:
        mark them ``unknown`` (never sent again: Telegram may have delivered them)."""
        cutoff = (at or now()) - dt.timedelta(seconds=older_than)
        with self._tx() as c:
            n = c.execute(
                sa.update(digests)
                .where(digests.c.status == "sending", digests.c.claimed_at < cutoff)
                .values(status="unknown")
            ).rowcount
        if n:
            log.warning("%d digest(s) were being sent when a process stopped; not resent", n)
        return int(n)

    def release(self, worker: str) -> int:
        """Claims of this worker that never reached Telegram (a clean stop): pending again."""
        with self._tx() as c:
            n = c.execute(
                sa.update(digests)
                .where(digests.c.status == "sending", digests.c.claimed_by == worker[:64])
                .values(status="pending", claimed_by=None, claimed_at=None)
            ).rowcount
        return int(n)

    def has_pending(self) -> bool:
        with self._tx() as c:
            return (
                c.execute(
                    sa.select(digests.c.id).where(digests.c.status == "pending").limit(1)
                ).first()
                is not None
            )

    def counts(self) -> dict[str, int]:
        """Digests by status."""
        with self._tx() as c:
            rows = c.execute(
                sa.select(digests.c.status, sa.func.count()).group_by(digests.c.status)
            ).all()
        return {str(r[0]): int(r[1]) for r in rows}

    def size_bytes(self) -> int:
        """The database's size on disk (benchmarks)."""
        with self._tx() as c:
            if self.name == "postgresql":
                return int(
                    c.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
                )
            pages = c.execute(sa.text("PRAGMA page_count")).scalar_one()
            size = c.execute(sa.text("PRAGMA page_size")).scalar_one()
            return int(pages) * int(size)

    # --- the inbox of updates (bot.updates) -------------------------------------------------

    def inbox_put(
        self, updates: Sequence[tuple[int, str]], *, at: dt.datetime | None = None
    ) -> int:
        """Store fetched updates, (update id, JSON), in one transaction; an id already there
        (pending, claimed or done) is left as it is. Returns how many are waiting now."""
        stamp = at or now()
        rows = [
            {"update_id": uid, "status": "pending", "payload": payload, "received_at": stamp}
            for uid, payload in updates
        ]
        with self._tx() as c:
            for chunk in _chunks(rows, INSERT_CHUNK // 4):
                c.execute(self._insert(inbox).on_conflict_do_nothing(), chunk)
            waiting = c.execute(
                sa.select(sa.func.count())
                .select_from(inbox)
                .where(inbox.c.status.in_(("pending", "claimed")))  # the index, not every id
            ).scalar_one()
        return int(waiting)

    def inbox_claim(self, worker: str, n: int, *, at: dt.datetime | None = None) -> list[Inboxed]:
        """Take up to ``n`` pending updates for this worker, oldest first; committed before
        this returns, so no other process takes them (``FOR UPDATE SKIP LOCKED`` on
        PostgreSQL; SQLite serialises writers)."""
        if n <= 0:
            return []
        stamp = at or now()
        with self._lock, self._tx() as c:
            pick = (
                sa.select(inbox.c.update_id)
                .where(inbox.c.status == "pending")
                .order_by(inbox.c.received_at, inbox.c.update_id)
                .limit(n)
            )
            ids, rows = self._claim_rows(
                c, pick, inbox.c.update_id, "claimed", worker, stamp, inbox.c.payload
            )
            if not ids:
                return []
        return sorted(
            (Inboxed(int(r.update_id), str(r.payload or ""), int(r.attempts)) for r in rows),
            key=lambda u: ids.index(u.update_id),
        )

    def inbox_done(self, update_ids: Iterable[int], *, at: dt.datetime | None = None) -> int:
        """These updates were answered (or can never be): ``done``, their JSON cleared."""
        ids = sorted(set(update_ids))
        n = 0
        with self._tx() as c:
            for chunk in _chunks(ids, INSERT_CHUNK):
                n += c.execute(
                    sa.update(inbox)
                    .where(inbox.c.update_id.in_(chunk), inbox.c.status != "done")
                    .values(
                        status="done",
                        payload=None,
                        claimed_by=None,
                        claimed_at=None,
                        done_at=at or now(),
                    )
                ).rowcount
        return n

    def inbox_release(self, worker: str, update_ids: Iterable[int] | None = None) -> int:
        """This worker's claims (all, or ``update_ids``) that it did not answer: pending again,
        for any process to take (a clean stop; ``attempts`` is given back too)."""
        where = [inbox.c.status == "claimed", inbox.c.claimed_by == worker[:64]]
        if update_ids is not None:
            where.append(inbox.c.update_id.in_(sorted(set(update_ids))))
        with self._tx() as c:
            n = c.execute(
                sa.update(inbox)
                .where(*where)
                .values(
                    status="pending",
                    claimed_by=None,
                    claimed_at=None,
                    attempts=sa.case((inbox.c.attempts > 0, inbox.c.attempts - 1), else_=0),
                )
            ).rowcount
        return int(n)

    def inbox_refresh(self, worker: str, *, at: dt.datetime | None = None) -> int:
        """This worker is alive: its claims' time is now (``inbox_expire`` spares them)."""
        with self._tx() as c:
            n = c.execute(
                sa.update(inbox)
                .where(inbox.c.status == "claimed", inbox.c.claimed_by == worker[:64])
                .values(claimed_at=at or now())
            ).rowcount
        return int(n)

    def inbox_expire(
        self, older_than: float, max_attempts: int, *, at: dt.datetime | None = None
    ) -> tuple[int, int]:
        """Claims not refreshed for ``older_than`` seconds belong to a process that died while
        answering: pending again (its answer may have gone out: it may come twice), or, after
        ``max_attempts`` claims, done without an answer (an update that kills its handler
        must not kill every replica in turn). Returns (pending again, given up)."""
        cutoff = (at or now()) - dt.timedelta(seconds=older_than)
        stale = [inbox.c.status == "claimed", inbox.c.claimed_at < cutoff]
        with self._tx() as c:
            dropped = c.execute(
                sa.update(inbox)
                .where(*stale, inbox.c.attempts >= max_attempts)
                .values(
                    status="done",
                    payload=None,
                    claimed_by=None,
                    claimed_at=None,
                    done_at=at or now(),
                )
            ).rowcount
            again = c.execute(
                sa.update(inbox)
                .where(*stale)
                .values(status="pending", claimed_by=None, claimed_at=None)
            ).rowcount
        if again:
            log.warning("%d update(s) were being answered when a process stopped; again", again)
        if dropped:
            log.error(
                "%d update(s) were claimed %d times and never answered; dropped",
                dropped,
                max_attempts,
            )
        return int(again), int(dropped)

    def inbox_purge(
        self, older_than: float, *, below: int | None = None, at: dt.datetime | None = None
    ) -> int:
        """Forget done updates that cannot come again: those below ``below`` (an offset
        Telegram acknowledged: it forgot them) and any done ``older_than`` seconds ago."""
        cutoff = (at or now()) - dt.timedelta(seconds=older_than)
        gone = inbox.c.done_at < cutoff
        if below is not None:
            gone = sa.or_(gone, inbox.c.update_id < below)
        with self._tx() as c:
            n = c.execute(sa.delete(inbox).where(inbox.c.status == "done", gone)).rowcount
        return int(n)

    def inbox_counts(self) -> dict[str, int]:
        """Inbox rows by status."""
        with self._tx() as c:
            rows = c.execute(
                sa.select(inbox.c.status, sa.func.count()).group_by(inbox.c.status)
            ).all()
        return {str(r[0]): int(r[1]) for r in rows}


def _unique_items(items: Iterable[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.statement_id not in seen:
            seen.add(item.statement_id)
            out.append(item)
    return out


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def publication_key(
    documents: Iterable[str], statement_ids: Iterable[str], kind: str = "publish"
) -> str:
    """The publish's identity: the compilations and their statements, hashed (64 hex)."""
    h = hashlib.sha256(kind.encode() + b"\n")
    for d in sorted(documents):
        h.update(b"d\n" + d.encode() + b"\n")
    for s in sorted(statement_ids):
        h.update(b"s\n" + s.encode() + b"\n")
    return h.hexdigest()
