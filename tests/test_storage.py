"""The bot's database on SQLite and on a real PostgreSQL server: migrations, follows, the
publish log, the delivery queue's claims (disjoint across processes), and forgetting a user."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.storage import (
    MAX_FOLLOWS,
    Follow,
    Item,
    StorageError,
    Store,
    metadata,
    publication_key,
    safe_url,
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url)
    yield s
    s.close()


def items(*ids: str, reason: str = "Peskov") -> list[Item]:
    return [Item(i, reason) for i in ids]


def test_the_migrations_build_exactly_the_schema_the_code_uses(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as c:
        context = MigrationContext.configure(c)
        assert context.get_current_revision() == "0003"
        assert compare_metadata(context, metadata) == []


def test_opening_again_migrates_nothing_and_keeps_the_data(database_url: str) -> None:
    first = Store.open(database_url)
    first.follow(7, Follow("country", "Georgia", "Georgia"))
    first.close()
    again = Store.open(database_url)
    assert again.follows_of(7) == [Follow("country", "Georgia", "Georgia")]
    again.close()


def test_a_bad_url_says_which_database_without_its_password() -> None:
    with pytest.raises(StorageError) as info:
        Store.open("postgresql://bot:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(info.value) and "127.0.0.1:1/none" in str(info.value)
    with pytest.raises(StorageError, match="sqlite:///"):
        Store.open("mysql://u:p@h/db")
    assert "s3cret" not in safe_url("postgresql://bot:s3cret@h/db")


def test_follows_add_once_list_in_order_and_stop_at_the_limit(store: Store) -> None:
    peskov = Follow("person", "fb2f11ea", "Dmitry Peskov")
    assert store.follow(1, peskov) == "added"
    assert store.follow(1, peskov) == "already"
    assert store.follow(1, Follow("topic", "grain exports", "grain exports")) == "added"
    assert [f.label for f in store.follows_of(1)] == ["Dmitry Peskov", "grain exports"]
    assert store.follows_of(2) == []
    for i in range(MAX_FOLLOWS - 2):
        assert store.follow(1, Follow("topic", f"t{i}", f"t{i}")) == "added"
    assert store.follow(1, Follow("topic", "one more", "one more")) == "full"
    assert len(store.follows_of(1)) == MAX_FOLLOWS
    assert store.unfollow(1, "person", "fb2f11ea") and not store.unfollow(1, "person", "fb2f11ea")
    assert store.followers()[("topic", "grain exports")] == [1]


def test_a_publish_is_queued_once_and_a_statement_reaches_a_user_once(store: Store) -> None:
    key = publication_key(["doc"], ["a", "b"])
    first = store.enqueue(key, ["doc"], ["Title"], 2, {1: items("a", "b"), 2: items("a")})
    assert first.created and first.digests == 2
    repeat = store.enqueue(key, ["doc"], ["Title"], 2, {1: items("a", "b"), 3: items("a")})
    assert not repeat.created and repeat.digests == 0  # the same publish again: nothing
    # An edited compilation (another key) brings user 1 only the statement they lack.
    edited = store.enqueue("other", ["doc"], ["Title"], 3, {1: items("a", "b", "c"), 2: items("a")})
    assert edited.created and edited.digests == 1
    claimed = store.claim("w", 10)
    assert [(c.user_id, [i.statement_id for i in store.items(c.id)]) for c in claimed] == [
        (1, ["a", "b"]),
        (2, ["a"]),
        (1, ["c"]),
    ]
    assert store.known_documents() == {"doc"}
    log = store.publications_log()
    assert [p["digests"] for p in log] == [1, 2]


def test_the_log_is_empty_on_a_first_start(store: Store) -> None:
    assert store.known_documents() is None


def test_concurrent_publishes_from_two_processes_never_double_a_statement(
    database_url: str,
) -> None:
    a, b = Store.open(database_url), Store.open(database_url)
    users = {u: items("s1", "s2", "s3") for u in range(300)}
    barrier = threading.Barrier(2)

    def publish(store: Store, key: str) -> None:
        barrier.wait()
        store.enqueue(key, ["doc"], ["T"], 3, users)

    threads = [
        threading.Thread(target=publish, args=(a, "seen-by-a")),
        threading.Thread(target=publish, args=(b, "seen-by-b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with a.engine.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM digest_items")).scalar_one()
        per_user = c.execute(
            sa.text("SELECT max(k) FROM (SELECT count(*) AS k FROM digests GROUP BY user_id) x")
        ).scalar_one()
    assert n == 900 and per_user == 1
    a.close()
    b.close()


def test_two_processes_claim_disjoint_digests(database_url: str) -> None:
    a, b = Store.open(database_url), Store.open(database_url)
    a.enqueue("k", ["doc"], ["T"], 1, {u: items("s") for u in range(200)})
    got: dict[str, list[int]] = {"a": [], "b": []}

    def drain(store: Store, name: str) -> None:
        while claimed := store.claim(name, 7):
            got[name] += [c.id for c in claimed]

    threads = [threading.Thread(target=drain, args=(s, n)) for s, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got["a"]) + len(got["b"]) == 200
    assert len(set(got["a"]) | set(got["b"])) == 200
    a.close()
    b.close()


def test_a_claim_left_by_a_crash_is_never_sent_again(store: Store) -> None:
    store.enqueue("k", ["doc"], ["T"], 1, {1: items("s"), 2: items("s"), 3: items("s")})
    early = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    [crashed] = store.claim("dead-process", 1, at=early)
    [mine] = store.claim("me", 1)
    assert store.expire_claims(120) == 1  # only the old claim
    store.sent(mine.id, 42)
    [last] = store.claim("me", 5)
    assert last.user_id == 3 and store.claim("me", 5) == []
    store.retry_later(last.id, 0)  # flood control said later: it comes back
    assert [c.id for c in store.claim("me", 5)] == [last.id]
    assert store.release("me") == 1  # a clean stop gives back what never reached Telegram
    assert store.counts() == {"unknown": 1, "sent": 1, "pending": 1}
    assert crashed.user_id == 1


def test_retry_later_waits_and_give_up_fails(store: Store) -> None:
    store.enqueue("k", ["doc"], ["T"], 1, {1: items("s")})
    [d] = store.claim("me", 1)
    store.retry_later(d.id, 3600)
    assert store.claim("me", 1) == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    [again] = store.claim("me", 1, at=later)
    assert again.attempts == 2
    store.retry_later(again.id, 0, give_up=True)
    assert store.counts() == {"failed": 1}


def test_forget_deletes_everything_about_one_user(store: Store) -> None:
    for user in (1, 2):
        store.follow(user, Follow("country", "Georgia", "Georgia"))
    store.enqueue("k", ["doc"], ["T"], 2, {1: items("a", "b"), 2: items("a")})
    assert store.about(1) == {"follows": 1, "digests": 1, "items": 2, "language": 0}
    assert store.forget(1) == {"follows": 1, "digests": 1, "items": 2, "language": 0}
    assert store.about(1) == {"follows": 0, "digests": 0, "items": 0, "language": 0}
    assert store.about(2) == {"follows": 1, "digests": 1, "items": 1, "language": 0}
    assert store.size_bytes() > 0


# --- the inbox of updates ---------------------------------------------------------------------


def test_the_inbox_stores_once_claims_oldest_first_and_remembers_what_was_answered(
    store: Store,
) -> None:
    assert store.inbox_put([(11, '{"a": 1}'), (12, '{"b": 2}')]) == 2
    assert store.inbox_put([(12, "fetched again"), (13, '{"c": 3}')]) == 3
    first = store.inbox_claim("w1", 2)
    assert [(u.update_id, u.payload, u.attempts) for u in first] == [
        (11, '{"a": 1}', 1),
        (12, '{"b": 2}', 1),
    ]
    assert [u.update_id for u in store.inbox_claim("w2", 5)] == [13]
    assert store.inbox_claim("w2", 5) == []
    assert store.inbox_done([11, 12]) == 2
    assert store.inbox_done([11]) == 0  # already done
    # A stop between storing and confirming: the same updates come again; the answered ones
    # are not answered twice, the one still claimed is not handed out again.
    assert store.inbox_put([(11, "again"), (12, "again"), (13, "again")]) == 1
    assert store.inbox_claim("w1", 5) == []
    assert store.inbox_counts() == {"done": 2, "claimed": 1}
    with store.engine.connect() as c:  # an answered update's text is not kept
        payloads = dict(c.execute(sa.text("SELECT update_id, payload FROM inbox")).all())
    assert payloads == {11: None, 12: None, 13: '{"c": 3}'}


def test_a_clean_stop_releases_its_claims_and_a_dead_ones_expire(store: Store) -> None:
    store.inbox_put([(i, f"u{i}") for i in range(1, 6)])
    early = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    dead = store.inbox_claim("dead-process", 2, at=early)
    assert len(store.inbox_claim("alive", 2, at=early)) == 2
    assert store.inbox_refresh("alive") == 2  # its heartbeat
    assert store.inbox_expire(60, max_attempts=3) == (2, 0)  # only the dead one's claims
    again = store.inbox_claim("me", 5)
    assert [u.update_id for u in again] == [u.update_id for u in dead] + [5]
    assert [u.attempts for u in again] == [2, 2, 1]
    assert store.inbox_release("me", [5]) == 1 and store.inbox_release("me") == 2
    assert store.inbox_release("alive") == 2
    assert store.inbox_counts() == {"pending": 5}
    [u] = store.inbox_claim("me", 1)
    assert u.attempts == 2  # a release gives the attempt back


def test_an_update_whose_handler_keeps_dying_is_given_up(store: Store) -> None:
    store.inbox_put([(1, "poison"), (2, "fine")])
    early = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    for _ in range(3):
        [u] = store.inbox_claim("doomed", 1, at=early)
        assert u.update_id == 1
        store.inbox_expire(60, max_attempts=3)
    assert store.inbox_counts() == {"done": 1, "pending": 1}
    assert [u.update_id for u in store.inbox_claim("me", 5)] == [2]


def test_done_updates_are_purged_once_confirmed_or_old(store: Store) -> None:
    store.inbox_put([(1, "a"), (2, "b"), (3, "c"), (4, "d")])
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    store.inbox_done([4], at=long_ago)
    store.inbox_done([1, 3])
    assert store.inbox_purge(24 * 3600) == 1  # 4: old
    assert store.inbox_purge(24 * 3600, below=3) == 1  # 1: Telegram forgot it; 2 not done
    assert store.inbox_counts() == {"done": 1, "pending": 1}


def test_two_processes_claim_disjoint_updates(database_url: str) -> None:
    a, b = Store.open(database_url), Store.open(database_url)
    a.inbox_put([(i, f"u{i}") for i in range(300)])
    got: dict[str, list[int]] = {"a": [], "b": []}

    def drain(store: Store, name: str) -> None:
        while claimed := store.inbox_claim(name, 7):
            got[name] += [u.update_id for u in claimed]
            store.inbox_done(u.update_id for u in claimed)

    threads = [threading.Thread(target=drain, args=(s, n)) for s, n in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["a"] + got["b"]) == list(range(300))  # each once, none left
    a.close()
    b.close()
