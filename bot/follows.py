"""Follows: what ``/follow`` names (a person, a country, a region or a topic, as the engine
reads it), the follow commands as replies, and which new statements each follow matches when a
compilation is published. Shared by the Telegram handlers and the console; the database calls
are blocking (``bot.storage``), so callers run these off the event loop."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import i18n, render
from bot.i18n import _
from bot.render import Reply
from bot.storage import MAX_FOLLOWS, Follow, Item, Store
from index.textnorm import fold, tokens

KINDS = ("person", "country", "region", "topic")
CODES = {"person": "s", "country": "c", "region": "r", "topic": "t"}
KIND_OF_CODE = {v: k for k, v in CODES.items()}
# A topic follow keeps a new statement when the engine's fused relevance (rank.fuse: 0.6 dense
# similarity + 0.4 lexical match, within the new compilation) reaches this. Chosen and measured
# on data/eval/archive, each compilation in turn taken as the new one: bench/RESULTS.md.
TOPIC_THRESHOLD = 0.55
MAX_TOPIC_CHARS = 60
NAME_WORD_MIN = 3  # "Dmitry" may name several people; "Al" names nobody


@dataclass(frozen=True)
class Resolution:
    """What a ``/follow`` text names.

    ``found``: follow these now. ``choices``: several people fit, ask which. Otherwise
    ``message`` says what is missing, with ``suggestions`` ("did you mean") and perhaps
    ``anyway`` (a topic, or a country not quoted yet, to follow as typed).
    """

    found: tuple[Follow, ...] = ()
    choices: tuple[Follow, ...] = ()
    message: str | None = None
    suggestions: tuple[Follow, ...] = ()
    anyway: Follow | None = None


def topic_key(text: str) -> str:
    """The stored form of a topic: squashed and case-folded (the label keeps the user's)."""
    return " ".join(text.split()).casefold()[:MAX_TOPIC_CHARS]


def code(f: Follow) -> str:
    """``s:fb2f11ea``, ``c:Georgia``: what a Follow button carries."""
    return f"{CODES[f.kind]}:{f.key}"


def person(engine: Any, key: str) -> Follow | None:
    speaker = engine.speakers.get(key)
    if speaker is None:
        return None
    return Follow("person", key, speaker.label)


def from_code(engine: Any, value: str) -> Follow | None:
    """A Follow button's ``s:…``/``c:…``/``r:…``/``t:…`` (or an answer's key) -> the follow."""
    kind_code, _sep, key = value.partition(":")
    kind = KIND_OF_CODE.get(kind_code)
    if kind is None or not key:
        return None
    if kind == "person":
        return person(engine, key)
    if kind == "country":
        return Follow("country", key, key)
    if kind == "region":
        return Follow("region", key, key)
    return Follow("topic", topic_key(key), key[:MAX_TOPIC_CHARS])


def _name_candidates(engine: Any, text: str) -> list[str]:
    """People one of whose names is exactly a word of ``text`` ("Dmitry": every Dmitry)."""
    words = {w for w in tokens(text) if len(w) >= NAME_WORD_MIN}
    if not words or len(words) > 2:
        return []
    return [
        key
        for key in engine.names.having(words)
        if not key.startswith("r:") and (sp := engine.speakers.get(key)) is not None and sp.name
    ]


def resolve(engine: Any, text: str) -> Resolution:
    """Read ``text`` with the engine: people by any spelling, countries, regions, else a topic."""
    text = " ".join(text.split())
    reading = engine.read(text)
    people = list(reading.speakers) or _name_candidates(engine, text)
    if len(people) == 1:
        return Resolution(found=tuple(f for f in [person(engine, people[0])] if f))
    if len(people) > 1:
        return Resolution(choices=tuple(f for f in (person(engine, k) for k in people) if f))
    if reading.regions and not reading.topic_terms:
        return Resolution(found=tuple(Follow("region", r, r) for r in reading.regions))
    if reading.countries and not reading.topic_terms and not reading.roles:
        return Resolution(found=tuple(Follow("country", c, c) for c in reading.countries))
    if reading.roles:  # "Kremlin spokesman": whoever held it (several over time: ask which)
        who = engine.who(text)
        key = who.intent.key or ""
        if key.startswith("s:") and (found := person(engine, key[2:])):
            return Resolution(found=(found,))
        names = dict.fromkeys(h.statement.speaker for h in who.hits if h.statement.speaker)
        holders = [k for k in (speaker_key(engine, "", n) for n in names if n) if k]
        holders = list(dict.fromkeys(holders))
        if len(holders) == 1 and (found := person(engine, holders[0])):
            return Resolution(found=(found,))
        if holders:
            return Resolution(choices=tuple(f for f in (person(engine, k) for k in holders) if f))
    absent = [c.text for c in reading.missing if c.slot == "country"]
    answer = engine.ask(text)
    suggestions = tuple(
        f for f in (from_code(engine, s.key) for s in answer.suggestions) if f is not None
    )
    if absent:
        country = absent[0]
        return Resolution(
            message=_("{country}: no compilation quotes it yet.").format(
                country=i18n.country(country)
            ),
            suggestions=suggestions,
            anyway=Follow("country", country, country),
        )
    if not reading.topic_terms and not reading.events:  # a compilation's name is a topic too
        return Resolution(
            message=_("I can’t tell what to follow in “{text}”.").format(text=text),
            suggestions=suggestions,
        )
    topic = Follow("topic", topic_key(text), text[:MAX_TOPIC_CHARS])
    if answer.confident:
        return Resolution(found=(topic,))
    return Resolution(
        message=_("Nothing in the archive speaks of “{text}” so far.").format(text=text),
        suggestions=suggestions,
        anyway=topic,
    )


# --- matching new statements ------------------------------------------------------------------


def speaker_key(engine: Any, key: str, label: str) -> str | None:
    """A followed person's key in this engine: the same key, or (if the archive now spells
    their group differently) the speaker with that exact name."""
    if key in engine.speakers:
        return key
    want = fold(label)
    for k in engine.names.having(tokens(label)):
        sp = engine.speakers.get(k)
        if sp is not None and any(fold(s) == want for s in sp.spellings or (sp.name or "",)):
            return str(k)
    return None


def region_countries(engine: Any, region: str) -> set[str]:
    reading = engine.read(region)
    return set(reading.countries) if reading.regions else set()


def follow_matches(
    engine: Any,
    documents: Collection[str],
    wanted: Collection[tuple[str, str]],
    labels: Mapping[tuple[str, str], str],
    topic_scores: Any = None,
) -> dict[tuple[str, str], list[str]]:
    """For each followed (kind, key): the ids of the new statements it matches, in order.

    ``documents``: the new compilations. "No remarks" notes are never pushed.
    """
    if topic_scores is None:
        from index.relevance import topic_scores
    docs = set(documents)
    new = [st for st in engine.statements_in(docs) if st.kind != "note"]
    new_ids = {st.id for st in new}
    out: dict[tuple[str, str], list[str]] = {}
    for kind, key in wanted:
        ids: list[str] = []
        if kind == "person":
            k = speaker_key(engine, key, labels.get((kind, key), ""))
            if k is not None:
                rows = engine.speakers[k].ids
                ids = [s.id for s in (engine.statements[r] for r in rows) if s.id in new_ids]
        elif kind == "country":
            ids = [st.id for st in new if st.country == key]
        elif kind == "region":
            countries = region_countries(engine, key)
            ids = [st.id for st in new if st.country in countries]
        elif kind == "topic":
            ids = [
                st.id
                for st, score in topic_scores(engine, key, docs)
                if score >= TOPIC_THRESHOLD and st.id in new_ids
            ]
        if ids:
            out[(kind, key)] = ids
    return out


def digests_for(
    engine: Any,
    documents: Collection[str],
    followers: Mapping[tuple[str, str], Sequence[int]],
    labels: Mapping[tuple[str, str], str],
) -> tuple[dict[int, list[Item]], int]:
    """Each follower's new statements (compilation order, each once, with the follow that
    brought it), and how many new statements there were."""
    matched = follow_matches(engine, documents, list(followers), labels)
    docs = set(documents)
    order = {st.id: i for i, st in enumerate(engine.statements_in(docs))}
    per_user: dict[int, dict[str, str]] = {}
    for follow, ids in matched.items():
        reason = labels.get(follow, follow[1])
        for user in followers.get(follow, ()):
            mine = per_user.setdefault(user, {})
            for sid in ids:
                mine.setdefault(sid, reason)
    out = {
        user: [Item(sid, why) for sid, why in sorted(items.items(), key=lambda kv: order[kv[0]])]
        for user, items in per_user.items()
    }
    return out, len(order)


def topic_so_far(engine: Any, topic: str, topic_scores: Any = None) -> list[Any]:
    """The statements a topic follow matches in the archive as it is, best first: what it
    would have pushed, with the threshold the pushes use (a follower sees a topic that is
    too narrow, or too wide, when following it)."""
    if topic_scores is None:
        from index.relevance import topic_scores
    docs = [d.id for d in engine.documents()]
    return [
        st
        for st, score in topic_scores(engine, topic, docs)
        if score >= TOPIC_THRESHOLD and st.kind != "note"
    ]


# --- the commands -----------------------------------------------------------------------------


class Desk:
    """The follow commands for one engine snapshot and the database (blocking calls)."""

    def __init__(self, engine: Any, store: Store) -> None:
        self.engine = engine
        self.store = store

    def follow(self, user: int, text: str) -> Reply:
        """/follow <person | country | region | topic>."""
        text = " ".join(text.split())
        if not text:
            return Reply(_(render.FOLLOW_HOW))
        if len(text) > 200:
            return Reply(_(render.FOLLOW_TOO_LONG))
        found = resolve(self.engine, text)
        if found.found:
            return self._add(user, found.found)
        if found.choices:
            return render.follow_choices(text, found.choices)
        return render.follow_missing(found.message or "", found.suggestions, found.anyway)

    def _add(self, user: int, wanted: Sequence[Follow]) -> Reply:
        results = [(f, self.store.follow(user, f, MAX_FOLLOWS)) for f in wanted]
        if any(outcome == "added" for _f, outcome in results):
            # Their digests will be written in the language they follow in (unless they chose
            # one with /language: that one stays).
            self.store.set_language(user, i18n.current(), chosen=False)
        matched = {
            f.key: topic_so_far(self.engine, f.key)
            for f, outcome in results
            if outcome == "added" and f.kind == "topic"
        }
        return render.followed(results, MAX_FOLLOWS, matched)

    def follow_code(self, user: int, value: str) -> Reply:
        """A Follow button."""
        wanted = from_code(self.engine, value)
        if wanted is None:
            return Reply(_(render.FOLLOW_GONE))
        return self._add(user, [wanted])

    def following(self, user: int) -> Reply:
        """/following: the list, an Unfollow button each."""
        return render.following_list(self.store.follows_of(user), MAX_FOLLOWS)

    def unfollow(self, user: int, text: str) -> Reply:
        """/unfollow <…>: by what the list shows, or what the engine reads it as."""
        text = " ".join(text.split())
        mine = self.store.follows_of(user)
        if not text:
            return render.following_list(mine, MAX_FOLLOWS)
        want = fold(text)
        hits = [f for f in mine if fold(f.label) == want or fold(f.key) == want]
        if not hits:
            read = resolve(self.engine, text)
            keys = {(f.kind, f.key) for f in (*read.found, *read.choices)}
            if read.anyway is not None:
                keys.add((read.anyway.kind, read.anyway.key))
            hits = [f for f in mine if (f.kind, f.key) in keys]
        if not hits:
            return render.unfollow_missing(text, mine)
        for f in hits:
            self.store.unfollow(user, f.kind, f.key)
        return render.unfollowed(hits, self.store.follows_of(user), MAX_FOLLOWS)

    def unfollow_token(self, user: int, token: str) -> Reply:
        """An Unfollow button: the follow's short token; the list again, without it."""
        mine = self.store.follows_of(user)
        hits = [f for f in mine if f.token == token]
        for f in hits:
            self.store.unfollow(user, f.kind, f.key)
        return render.unfollowed(hits, self.store.follows_of(user), MAX_FOLLOWS)

    def digest_page(self, user: int, digest_id: int, page: int) -> Reply:
        """A digest's ‹ Prev / Next ›: its owner only, from the database and the archive."""
        if self.store.digest_owner(digest_id) != user:
            return Reply(_(render.DIGEST_GONE))
        pairs = [
            (st, it.reason)
            for it in self.store.items(digest_id)
            if (st := self.engine.get(it.statement_id)) is not None
        ]
        reply = render.render_digest(digest_id, pairs, self.engine.documents(), page)
        return reply or Reply(_(render.DIGEST_GONE))

    def forget(self, user: int) -> Reply:
        """/forget: delete everything stored about the user."""
        return render.forgotten(self.store.forget(user))

    def privacy(self, user: int) -> Reply:
        """/privacy: what is stored, and this user's share of it."""
        stored = self.store.language_of(user)
        return render.privacy(self.store.about(user), stored[0] if stored else None)


BUTTON_RE = re.compile(r"^(?:fo|uf)\|")
