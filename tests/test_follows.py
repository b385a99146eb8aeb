"""Following: /follow read by the real engine, the follow commands and buttons, and digests of
newly published compilations pushed to followers, end to end through the local Bot API server,
on SQLite and on a real PostgreSQL server: once per statement and user, blocked users dropped,
a restart that sends nothing twice, two bot processes that share one database."""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import follows, notify
from bot.app import build_application
from bot.console import Console
from bot.storage import Follow, Store
from index.live import LiveEngine
from index.search import Engine
from tests.bot_fakes import polling
from tests.conftest import ARCHIVE_SOURCES, REAL_FILE, live_engine
from tests.fakebotapi import Call, FakeBotApi
from tests.test_bot_e2e import settings_for, shown_text, to_chat, wait

GRAIN = ARCHIVE_SOURCES / "2029-07-18-post-soviet-reaction-to-grain-corridor-suspension.txt"
DRUZHBA = ARCHIVE_SOURCES / "2031-03-03-post-soviet-reaction-to-druzhba-pipeline-shutdown.txt"
EDITOR = 4242
A, B, C, D = 1001, 1002, 1003, 1004
PESKOV_GRAIN = "The suspension will last as long as it takes"
PESKOV_ESCORTS = "a dangerous provocation"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def quick_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas look for digests queued elsewhere every 0.2 s, not every 5 s."""
    monkeypatch.setattr(notify, "POLL_SECONDS", 0.2)


def is_digest(call: Call) -> bool:
    return str(call.params.get("text", "")).startswith("🔔 ") and "for what you follow" in str(
        call.params.get("text", "")
    )


def digests_to(api: FakeBotApi, user: int) -> list[Call]:
    return [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == user and is_digest(c)]


async def ask(api: FakeBotApi, text: str, user: int = A) -> Call:
    n = len(api.calls)
    api.user_sends(text, user_id=user)
    return await wait(api, "sendMessage", to_chat(user), after=n)


async def press(api: FakeBotApi, message: Call, data: str, user: int = A) -> Call:
    """Press a button; the bot's edit of the message or its toast, whichever comes."""
    n = len(api.calls)
    api.user_presses_button(
        chat_id=message.params["chat_id"],
        message_id=message.result["message_id"],
        data=data,
        user_id=user,
    )
    return await wait(
        api,
        "editMessageText",
        after=n,
    )


def buttons(call: Call) -> dict[str, str]:
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def run(
    api: FakeBotApi,
    engine: Any,
    store: Store,
    scenario: Callable[[FakeBotApi], Awaitable[None]],
    **settings: Any,
) -> None:
    async def main() -> None:
        application = build_application(settings_for(api, **settings), engine, store=store)
        async with polling(application):
            await scenario(api)

    asyncio.run(main())


# --- what /follow names ---------------------------------------------------------------------


def test_a_follow_whose_key_changed_finds_its_person_by_name(archive: Any) -> None:
    """A rebuilt archive may group a person's spellings under another key: the follow's label
    (any spelling the archive has) finds them again; a name it lacks finds nobody."""
    dovhal = archive.who("Dovhal").hits[0].statement.speaker
    key = follows.speaker_key(archive, "gone", dovhal)
    assert key is not None and archive.speakers[key].label in {"Oleksandr Dovhal", dovhal}
    assert follows.speaker_key(archive, "gone", "Aleksandr Dovgal") == key
    assert follows.speaker_key(archive, "gone", "Nobody Here") is None


def test_follow_reads_people_countries_regions_and_topics(archive: Any) -> None:
    def found(text: str) -> list[tuple[str, str]]:
        return [(f.kind, f.label) for f in follows.resolve(archive, text).found]

    assert found("Peskov") == [("person", "Dmitry Peskov")]
    assert found("Dovgal") == [("person", "Oleksandr Dovhal")]  # any spelling
    assert found("Грузия") == [("country", "Georgia")]
    assert found("Baltic states") == [("region", "Baltic states")]
    assert found("grain exports") == [("topic", "grain exports")]
    assert found("Kremlin spokesman") == [("person", "Dmitry Peskov")]  # a role: its holder
    ministers = follows.resolve(archive, "Estonian foreign minister")  # held by several
    assert len(ministers.choices) >= 2 and all(f.kind == "person" for f in ministers.choices)
    dmitry = follows.resolve(archive, "Dmitry")
    assert {f.label for f in dmitry.choices} >= {"Dmitry Peskov", "Dmitry Medvedev"}
    germany = follows.resolve(archive, "Germany")
    assert germany.anyway == Follow("country", "Germany", "Germany")
    assert "Germany" in (germany.message or "") and germany.suggestions
    atlantis = follows.resolve(archive, "Atlantis")
    assert not atlantis.found and atlantis.suggestions  # did you mean …
    assert atlantis.anyway is not None and atlantis.anyway.kind == "topic"


def test_new_statements_match_each_kind_of_follow_once_per_user(archive: Any) -> None:
    new = ["2029-07-18-post-soviet-reaction-to-grain-corridor-suspension"]
    peskov = follows.resolve(archive, "Peskov").found[0]
    followers = {
        ("person", peskov.key): [1, 9],
        ("country", "Russia"): [1, 2],
        ("region", "Baltic states"): [3],
        ("topic", "grain exports"): [4],
        ("country", "Armenia"): [5],  # not in this compilation
    }
    labels = {
        ("person", peskov.key): "Dmitry Peskov",
        ("country", "Russia"): "Russia",
        ("region", "Baltic states"): "Baltic states",
        ("topic", "grain exports"): "grain exports",
        ("country", "Armenia"): "Armenia",
    }
    matches, n = follows.digests_for(archive, new, followers, labels)
    text = {
        sid: archive.get(sid).text for u in matches for sid in (i.statement_id for i in matches[u])
    }
    peskov_ids = [i.statement_id for i in matches[9]]
    assert [PESKOV_GRAIN in text[s] or PESKOV_ESCORTS in text[s] for s in peskov_ids] == [True] * 2
    russia = {archive.get(i.statement_id).country for i in matches[2]}
    assert russia == {"Russia"} and len(matches[2]) > 2
    ids = [i.statement_id for i in matches[1]]  # Peskov and Russia: each statement once
    assert len(ids) == len(set(ids)) == len(matches[2])
    assert {i.reason for i in matches[1]} == {"Dmitry Peskov", "Russia"}
    assert {archive.get(i.statement_id).country for i in matches[3]} <= {
        "Estonia",
        "Latvia",
        "Lithuania",
    }
    assert any("grain" in archive.get(i.statement_id).text.lower() for i in matches[4])
    assert 5 not in matches
    assert all(archive.get(i.statement_id).document == new[0] for u in matches for i in matches[u])
    assert n == sum(1 for st in archive.statements if st.document == new[0])


# --- commands and buttons -------------------------------------------------------------------


def test_follow_following_unfollow_forget_and_privacy(api: FakeBotApi, folder: Path) -> None:
    live = live_engine(folder)
    store = Store.open(f"sqlite:///{folder.parent / 'bot.db'}")

    async def scenario(api: FakeBotApi) -> None:
        done = shown_text(api, await ask(api, "/follow Peskov"))
        assert "Following 👤 Dmitry Peskov (person)" in done
        assert "already follow" in shown_text(api, await ask(api, "/follow Песков"))
        choose = await ask(api, "/follow Dmitry")
        assert "Several people fit" in shown_text(api, choose)
        medvedev = buttons(choose)["🔔 Dmitry Medvedev"]
        assert len(medvedev.encode()) <= 64
        chosen = await press(api, choose, medvedev)
        assert "Following 👤 Dmitry Medvedev" in shown_text(api, chosen)

        # A Follow button under a country's answer: a toast, the answer stays.
        georgia = await ask(api, "/country Georgia")
        n = len(api.calls)
        api.user_presses_button(
            chat_id=A,
            message_id=georgia.result["message_id"],
            data=buttons(georgia)["🔔 Follow Georgia"],
        )
        toast = await wait(
            api, "answerCallbackQuery", lambda c: bool(c.params.get("text")), after=n
        )
        assert "Following" in toast.params["text"] and "Georgia" in toast.params["text"]

        listed = await ask(api, "/following")
        text = shown_text(api, listed)
        assert "You follow (3 of at most 50)" in text and "🇬🇪 Georgia" in text
        unfollow = buttons(listed)["✖️ Unfollow Dmitry Medvedev"]
        after = await press(api, listed, unfollow)
        assert "Unfollowed" in shown_text(api, after) and "(2 of at most 50)" in shown_text(
            api, after
        )
        gone = shown_text(api, await ask(api, "/unfollow Georgia"))
        assert "Unfollowed 🇬🇪 Georgia" in gone and "(1 of at most 50)" in gone

        privacy = shown_text(api, await ask(api, "/privacy"))
        assert "What I store about you" in privacy and "1 follow," in privacy
        forgot = shown_text(api, await ask(api, "/forget"))
        assert "deleted everything" in forgot and "1 follow" in forgot
        assert store.about(A) == {"follows": 0, "digests": 0, "items": 0, "language": 0}

        n = len(api.calls)  # in a group: follows are personal, so the bot says where
        api.user_sends("/follow Peskov", chat_id=-100123, chat_type="supergroup", user_id=B)
        told = await wait(api, "sendMessage", to_chat(-100123), after=n)
        assert "private chat" in told.params["text"] and store.follows_of(B) == []

    run(api, live, store, scenario, watch_seconds=0)


def test_fifty_follows_at_most(api: FakeBotApi, engine: Any, tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    for i in range(49):
        store.follow(A, Follow("topic", f"topic {i}", f"topic {i}"))

    async def scenario(api: FakeBotApi) -> None:
        assert "Following" in shown_text(api, await ask(api, "/follow Peskov"))
        full = shown_text(api, await ask(api, "/follow Georgia"))
        assert "You follow 50 things already" in full and "/following" in full

    run(api, engine, store, scenario)
    assert len(store.follows_of(A)) == 50


# --- digests ----------------------------------------------------------------------------------


def test_a_published_compilation_reaches_each_follower_once(
    api: FakeBotApi, folder: Path, store: Store
) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        await ask(api, "/follow Peskov", user=A)
        await ask(api, "/follow Russia", user=A)  # Peskov is Russian too: his quotes once
        await ask(api, "/follow Baltic states", user=B)
        topic = await ask(api, "/follow grain corridor", user=C)  # nothing yet: "anyway"
        await press(api, topic, buttons(topic)["🔔 Follow “grain corridor” anyway"], user=C)
        await ask(api, "/start", user=D)  # follows nothing
        shutil.copy(GRAIN, folder)  # published: the watcher reloads, the digests go out
        await until(lambda: bool(digests_to(api, A) and digests_to(api, B) and digests_to(api, C)))
        [to_a] = digests_to(api, A)
        text = shown_text(api, to_a)
        assert text.startswith("🔔") and "Grain Corridor Suspension" in text
        assert PESKOV_GRAIN in text or "Page 1 of" in text
        assert len(buttons(to_a)) <= 2 and all(d.startswith("dg|") for d in buttons(to_a).values())
        if "Next ›" in buttons(to_a):  # paged: Next edits the digest to its next page
            page2 = await press(api, to_a, buttons(to_a)["Next ›"], user=A)
            assert "Page 2 of" in shown_text(api, page2)
        baltic = shown_text(api, digests_to(api, B)[0])
        assert "Estonia" in baltic or "Latvia" in baltic or "Lithuania" in baltic
        assert "grain" in shown_text(api, digests_to(api, C)[0]).lower()
        assert digests_to(api, D) == []

        # The same publish again (a forced reload, the file removed and put back): nothing new.
        n = len(api.calls)
        api.user_sends("/reload", user_id=EDITOR)
        await wait(api, "sendMessage", to_chat(EDITOR), after=n)
        (folder / GRAIN.name).unlink()
        await until(lambda: "Grain" not in str(live.snapshot().documents()))
        shutil.copy(GRAIN, folder)
        await until(lambda: any("Grain" in d.title for d in live.snapshot().documents()))
        await asyncio.sleep(1.0)
        assert [len(digests_to(api, u)) for u in (A, B, C, D)] == [1, 1, 1, 0]

    run(api, live, store, scenario, watch_seconds=0.2, admin_user_ids=frozenset({EDITOR}))
    assert store.counts() == {"sent": 3}
    log = store.publications_log()
    assert log[0]["digests"] == 3 and "Grain Corridor" in log[0]["titles"]


def test_a_user_who_blocked_the_bot_is_dropped(api: FakeBotApi, folder: Path, store: Store) -> None:
    live = live_engine(folder)

    async def scenario(api: FakeBotApi) -> None:
        await ask(api, "/follow Ukraine", user=A)
        await ask(api, "/follow Ukraine", user=B)
        api.block_bot(B)
        shutil.copy(GRAIN, folder)
        await until(lambda: bool(digests_to(api, A)) and store.follows_of(B) == [])
        refused = [c for c in api.calls if c.method == "sendMessage" and not c.ok]
        assert [c.params["chat_id"] for c in refused] == [B]  # tried once, not retried
        assert "blocked" in (refused[0].error or "")

    run(api, live, store, scenario, watch_seconds=0.2)
    assert store.about(B) == {"follows": 0, "digests": 0, "items": 0, "language": 0}
    assert store.counts() == {"sent": 1}


def test_a_restart_mid_delivery_sends_nothing_twice(
    api: FakeBotApi, folder: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "BATCH", 4)
    live = live_engine(folder)
    users = list(range(2001, 2101))  # at ~30 a second, most still wait when the first stops
    for u in users:
        api.add_user(u)
        store.follow(u, Follow("country", "Ukraine", "Ukraine"))
    notify.baseline(live.snapshot(), store)  # the bot ran before: the log knows the archive

    async def first(api: FakeBotApi) -> None:
        shutil.copy(GRAIN, folder)
        await until(lambda: len([c for c in api.calls_to("sendMessage") if is_digest(c)]) >= 8)
        # stop here: the digests in flight finish, the rest wait in the database

    run(api, live, store, first, watch_seconds=0.2)
    halfway = store.counts()
    assert 8 <= halfway["sent"] < len(users) and halfway.get("pending", 0) > 0
    assert "sending" not in halfway
    # A process that died mid-send left two claims: they are never sent again.
    crashed = store.claim("dead-process", 2)
    monkeypatch.setattr(notify, "LEASE_SECONDS", 0.0)

    async def second(api: FakeBotApi) -> None:
        await until(
            lambda: store.counts().get("pending", 0) == 0 and "sending" not in store.counts()
        )

    run(api, live_engine(folder), store, second, watch_seconds=0.2)
    got = [c.params["chat_id"] for c in api.calls_to("sendMessage") if is_digest(c)]
    assert len(got) == len(set(got))  # nobody twice
    lost = {c.user_id for c in crashed}
    assert set(got) == set(users) - lost
    assert store.counts() == {"sent": len(users) - 2, "unknown": 2}


def test_the_console_prints_digests_after_a_reload(folder: Path, tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    store = Store.open(f"sqlite:///{tmp_path / 'console.db'}")
    console = Console(live_engine(folder), out, store=store)
    console.deliver()  # the archive as it is: nothing to tell
    console.show(console.handle("/follow Peskov"))
    assert "Following 👤 Dmitry Peskov" in out.getvalue()
    shutil.copy(GRAIN, folder)
    console.show(console.handle("/following"))
    text = out.getvalue()
    assert "[Reloaded: 2 compilations" in text and "for what you follow" in text
    assert PESKOV_GRAIN in text or PESKOV_ESCORTS in text
    assert text.index("for what you follow") < text.index("You follow (1 of at most 50)")
    shutil.copy(DRUZHBA, folder)
    console.show(console.handle("/privacy"))
    assert out.getvalue().count("for what you follow") == 2  # Peskov is quoted in 2031 too
    assert "2 digests" in out.getvalue()


# --- two processes, one PostgreSQL database ---------------------------------------------------


def test_two_bot_processes_deliver_each_digest_once(
    api: FakeBotApi, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Applications with their own engines over one sources folder share one PostgreSQL
    database and one Telegram: one polls for updates, both reload and deliver."""
    monkeypatch.setattr(notify, "BATCH", 3)
    # Delivery is under test, not the Russian route: two engines embedding a compilation with
    # multilingual-e5 at once on CI's two cores only make the test slow.
    monkeypatch.setenv("REACTIONS_MULTILINGUAL", "off")
    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(REAL_FILE, folder)
    engines = [
        LiveEngine(functools.partial(Engine.open, folder, tmp_path / f"index-{i}"), folder)
        for i in range(2)
    ]
    stores = [Store.open(postgres_url) for _ in range(2)]
    users = list(range(3001, 3031))
    for u in users:
        api.add_user(u)
        stores[0].follow(u, Follow("country", "Russia", "Russia"))

    async def main() -> None:
        apps = [
            build_application(settings_for(api, watch_seconds=0.2), e, store=s)
            for e, s in zip(engines, stores, strict=True)
        ]
        second = apps[1]
        async with polling(apps[0]):
            await second.initialize()
            assert second.post_init is not None
            await second.post_init(second)
            await second.start()
            try:
                await until(lambda: all(len(e.snapshot().documents()) == 1 for e in engines))
                await asyncio.sleep(0.5)  # both have looked at the archive as it is
                shutil.copy(GRAIN, folder)
                try:
                    await until(lambda: stores[0].counts().get("sent", 0) == len(users), 180)
                except AssertionError as exc:
                    raise AssertionError(f"digests by status: {stores[0].counts()}") from exc
                await asyncio.sleep(1.0)
            finally:
                await second.stop()
                assert second.post_stop is not None
                await second.post_stop(second)
                await second.shutdown()

    asyncio.run(main())
    got = [c.params["chat_id"] for c in api.calls_to("sendMessage") if is_digest(c)]
    assert sorted(got) == users  # every follower, each once
    import sqlalchemy as sa

    with stores[0].engine.connect() as c:
        workers = c.execute(sa.text("SELECT count(DISTINCT claimed_by) FROM digests")).scalar()
        publishes = c.execute(sa.text("SELECT count(*) FROM publications")).scalar()
    assert publishes == 2  # the baseline and the one publish, though both processes saw it
    assert workers is not None and workers >= 1


def test_a_replica_behind_on_the_archive_puts_a_digest_back_until_it_has_reloaded(
    folder: Path, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica A reloads first and queues the digests; replica B claims one before its own
    reload has swapped the new compilation in: B neither gives it up nor sends it half."""
    monkeypatch.setenv("REACTIONS_MULTILINGUAL", "off")
    monkeypatch.setattr(notify, "BEHIND_SECONDS", 0.0)
    ahead = tmp_path / "ahead" / "sources"  # its own index beside it
    ahead.mkdir(parents=True)
    shutil.copy(REAL_FILE, ahead)
    a, b = live_engine(ahead).snapshot(), live_engine(folder)
    real = notify.baseline(a, store)
    store.follow(A, Follow("country", "Ukraine", "Ukraine"))
    shutil.copy(GRAIN, ahead)
    a = live_engine(ahead).snapshot()
    notify.enqueue(store, notify.plan(a, store, notify.document_ids(a) - real))
    sent: list[str] = []

    async def send(user: int, reply: Any) -> int:
        sent.append(reply.html)
        return len(sent)

    replica_b = notify.Notifier(b, store, send, worker="b")
    replica_b.seen = real
    assert asyncio.run(replica_b.deliver_once()) == 1
    assert sent == [] and store.counts() == {"pending": 1}  # put back, not given up
    shutil.copy(GRAIN, folder)
    b.reload_if_changed()
    assert asyncio.run(replica_b.deliver_once()) == 1
    assert len(sent) == 1 and "Grain Corridor" in sent[0] and store.counts() == {"sent": 1}


def test_a_compilation_added_while_the_bot_was_down_is_announced_on_start(
    folder: Path, store: Store
) -> None:
    import io

    from bot.console import CONSOLE_USER

    notify.baseline(live_engine(folder).snapshot(), store)  # the bot ran with the archive as it was
    store.follow(CONSOLE_USER, Follow("country", "Ukraine", "Ukraine"))
    shutil.copy(GRAIN, folder)  # `python -m index add` while the bot was down
    out = io.StringIO()
    console = Console(live_engine(folder), out, store=store)
    console.deliver()  # what run_console does on start
    text = out.getvalue()
    assert "for what you follow" in text and "Grain Corridor Suspension" in text
    console.deliver()
    assert out.getvalue() == text  # once


def test_a_topic_follow_says_what_it_matches_so_far(archive: Any, tmp_path: Path) -> None:
    """A follower sees, when following, what the topic matched in the archive: a topic too
    narrow or too wide shows at once."""
    from bot.follows import Desk, topic_so_far

    store = Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    reply = Desk(archive, store).follow(A, "grain exports")
    text = reply.plain
    assert "Following 🏷 grain exports (topic)" in text
    found = topic_so_far(archive, "grain exports")
    assert found and f"So far it matches {len(found)} quote" in text
    assert found[0].text[:40] in text
    assert all(st.kind != "note" for st in found)


def test_a_topic_follow_that_matches_nothing_yet_says_so() -> None:
    from bot import render

    added = Follow("topic", "t", "quantum sails")
    text = render.followed([(added, "added")], 50, {"t": []}).plain
    assert "Nothing in the archive matches it so far" in text
