"""Stage 4, answer: ranked rows + the reading -> an ``Answer`` (intent, stable key, hits,
grouping by compilation, an honest confidence, suggestions and a plain message)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from index.catalog import Catalog
from index.claims import Claim
from index.model import Answer, Document, Hits, Intent, Suggestion, Why
from index.query import Query, clean
from index.rank import Ranked

MAX_KEY_BYTES = 48
SUGGESTIONS = 5
EMPTY_MESSAGE = (
    "Ask about a country, a person or a topic — e.g. “Georgia”, “Peskov”, "
    "“Who talked about socialism?”"
)
# Each reason code's English sentence (the bot has its own, translated: bot/render.py).
SENTENCES: dict[tuple[str, str], str] = {
    ("absent", "country"): "The archive has no statements from {name}.",
    ("absent", "region"): "The archive has no statements from the {name}.",
    ("absent", "outlet"): "The archive quotes nothing from {name}.",
    ("absent", "speaker"): "{name} is not quoted in the archive.",
    ("absent", ""): "Nothing in the archive about {name}.",
    ("dropped", "time"): "Nothing dated {name}.",
    ("dropped", "country"): "Nothing from {name} fits.",
    ("dropped", "region"): "Nothing from the {name} fits.",
    ("dropped", "speaker"): "Nothing by {name} fits.",
    ("dropped", "role"): "No quote by “{name}” fits.",
    ("dropped", "outlet"): "Nothing cited from {name} fits.",
    ("dropped", "event"): "Nothing in {name} fits.",
    ("dropped", "kind"): "Nothing of the kind “{name}” fits.",
    ("dropped", "about"): "Nothing about {name} fits.",
    ("closest", ""): "These are the closest quotes on the rest of the question.",
    ("closest", "absent"): "These are the closest quotes that speak of it.",
    ("topic_relaxed", ""): (
        "Nothing here speaks of “{name}”; this is everything that fits the rest of the question."
    ),
    ("scope", ""): "Nothing in the archive fits all of: {name}.",
    ("nothing", ""): "Nothing in the compilations matches that well.",
    ("nothing", "scope"): "Nothing fits.",
    ("vague", ""): EMPTY_MESSAGE,
    ("no_country", ""): "No country called “{name}” in the compilations.",
    ("no_person", ""): "Nobody called “{name}” is quoted in the compilations.",
}


def sentence(why: Why) -> str:
    """A reason in English (the CLI's ``message``)."""
    text = SENTENCES.get((why.code, why.slot)) or SENTENCES[(why.code, "")]
    return text.format(name=why.name)


def message(whys: tuple[Why, ...]) -> str | None:
    return " ".join(sentence(w) for w in whys) or None


def cap_bytes(s: str, limit: int) -> str:
    """Cut a string to at most ``limit`` UTF-8 bytes without splitting a character."""
    b = s.encode("utf-8")
    return s if len(b) <= limit else b[:limit].decode("utf-8", "ignore").rstrip()


def make_key(kind: str, value: str) -> str:
    """A compact (<= 48 bytes) key that reproduces an answer: c:Country, s:speaker, q:question."""
    key = f"{kind}:{value}"
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key
    if kind == "q":
        return cap_bytes(key, MAX_KEY_BYTES)
    return f"{kind}:{hashlib.sha1(value.encode('utf-8')).hexdigest()[:8]}"


class Answerer:
    """Turns the ranker's rows into the ``Answer`` the bot and the CLI render."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog

    def answer(self, asked: str, q: Query, ranked: Ranked) -> Answer:
        if not q.text:
            return self.empty(asked)
        whys = [*map(_claim_why, ranked.dropped)]
        if not len(ranked.rows):
            unknown = next((c for c in ranked.dropped if c.rule == "person.unknown"), None)
            whys += self._empty_why(q, ranked)
            if unknown is not None:  # people whose names are nearest the one asked for
                return self.nothing(asked, q, tuple(whys), "person", hint=unknown.text)
            return self.nothing(asked, q, tuple(whys))
        hits = Hits(self.cat.statements, ranked.rows, ranked.scores)
        if ranked.dropped:
            # "What did China say?": the quotes speak of what is missing; else of the rest.
            missing = {w for c in ranked.dropped if c.missing for w in c.words}
            of_it = all(c.missing for c in ranked.dropped) and set(q.topic_terms) <= missing
            whys.append(Why("closest", "absent" if of_it else ""))
        if ranked.relaxed and q.topic:
            whys.append(Why("topic_relaxed", name=q.topic))
        return Answer(
            asked,
            self.intent(q),
            hits,
            confident=ranked.confident,
            suggestions=() if ranked.confident else self.suggest(q.text),
            message=message(tuple(whys)),
            documents=self._documents(ranked.rows),
            reading=_reading(q, ranked),
            why=tuple(whys),
            archive=len(self.cat.documents),
        )

    def intent(self, q: Query) -> Intent:
        """What the answer is about, for its header, with a key that reproduces it."""
        cat = self.cat
        only_names = not (
            q.topic_terms or q.roles or q.outlets or q.time or q.kinds or q.countries or q.events
        )
        if q.speakers:
            labels = [cat.speakers[k].label for k in q.speakers]
            key = make_key("s", q.speakers[0]) if len(labels) == 1 and only_names else None
            kind = "role" if q.role_words else "person"  # /who Kremlin spokesman -> Peskov
            return Intent(kind, " / ".join(labels), key or make_key("q", q.text))
        if q.roles:
            value = " ".join(q.role_words) if len(q.roles) > 1 else q.roles[0]
            return Intent("role", value, make_key("q", q.text))
        scope = self._where_when(q)
        if len(q.countries) == 1 and not q.regions and len(scope) == 1 and not q.topic_terms:
            return Intent("country", q.countries[0], make_key("c", q.countries[0]))
        if scope and not q.topic_terms:
            kind = "region" if q.regions else ("outlet" if q.outlets else "scope")
            return Intent(kind, " · ".join(scope), make_key("q", q.text))
        return Intent("topic", " · ".join(scope) or None, make_key("q", q.text))

    def _documents(self, rows: np.ndarray) -> tuple[Document, ...]:
        """The compilations of the rows, in the order the rows first reach them."""
        ranks = self.cat.doc_of_row[rows]
        _, first = np.unique(ranks, return_index=True)
        order = [int(ranks[i]) for i in sorted(first)]
        by_rank = self.cat.doc_by_rank
        return tuple(by_rank[r] for r in order if r < len(by_rank))

    def _empty_why(self, q: Query, ranked: Ranked) -> list[Why]:
        """Why nothing is shown, beyond the claims dropped (already told)."""
        if ranked.dropped and all(c.missing for c in ranked.dropped):
            return []  # "Nothing in the archive about Macron" says it all
        if ranked.empty_reason == "vague":
            return [Why("vague")]
        if ranked.empty_reason == "scope":
            scope = self._scope_words(q)
            return [Why("scope", name=scope)] if scope else [Why("nothing", "scope")]
        return [Why("nothing")]

    def _scope_words(self, q: Query) -> str:
        """What the question scoped to, as a user would say it: "Peskov · Ukraine · 2031"."""
        parts = [self.cat.speakers[k].label for k in q.speakers]
        parts += list(q.role_words[:1] and [" ".join(q.role_words)])
        parts += self._where_when(q)
        parts += list(q.kinds)
        return " · ".join(parts)

    def _where_when(self, q: Query) -> list[str]:
        """The place (regions, else countries), outlet, compilation and time a question names."""
        cat = self.cat
        parts = list(q.regions) or list(q.countries)
        parts += [cat.outlet_label.get(o, o) for o in q.outlets[:1]]
        if q.events and q.event_certain and (doc := cat.documents.get(q.events[0])):
            parts.append(doc.title.split(":")[0])
        if q.time is not None and q.time.text:
            parts.append(q.time.text)
        return parts

    def suggest(self, text: str, kind: str = "topic") -> tuple[Suggestion, ...]:
        """Countries and people closest to the question's words, as answer keys."""
        cat = self.cat
        out: list[Suggestion] = []
        if kind != "person":
            for m in cat.countries_matcher.suggest(text, limit=3 if kind == "country" else 2):
                out.append(Suggestion(m.country, make_key("c", m.country)))
        for nm in cat.names.suggest(text, limit=3) if kind != "country" else ():
            sp = cat.speakers[nm.key]
            out.append(Suggestion(sp.label, make_key("s", sp.key)))
        return tuple(dict.fromkeys(out))[:SUGGESTIONS]

    def nothing(
        self,
        asked: str,
        q: Query | None,
        whys: tuple[Why, ...],
        kind: str = "topic",
        *,
        hint: str | None = None,
    ) -> Answer:
        """No statement fits; suggestions are read from ``hint`` (else the question)."""
        text = q.text if q is not None else clean(asked)
        return Answer(
            asked,
            Intent("none", None, make_key("q", text)),
            (),
            confident=False,
            suggestions=self.suggest(hint or text, kind) if hint or text else (),
            message=message(whys),
            reading=q.to_dict() if q is not None else None,
            why=whys,
        )

    def empty(self, asked: str) -> Answer:
        why = (Why("vague"),)
        return Answer(asked, Intent("empty", None, ""), (), message=EMPTY_MESSAGE, why=why)


def _reading(q: Query, ranked: Ranked) -> dict[str, Any]:
    """How the question was read, and the English words the glossary lent its topic."""
    out = q.to_dict()
    if ranked.glossed:
        out["glossed"] = list(ranked.glossed)
    return out


def _claim_why(c: Claim) -> Why:
    """A dropped claim as the reason the answer says: "absent" for what the archive lacks,
    else "dropped"; the name as the question said it (a region by its name)."""
    if c.missing:
        # A name the quotes hold but no one quoted carries is "not quoted", not "nothing".
        unquoted = c.rule == "person.unquoted"
        slot = c.slot if c.slot in ("country", "region", "outlet") or unquoted else ""
        name = c.value[0] if c.slot in ("region", "outlet") else c.text
        return Why("absent", slot, name)
    name = c.value[0] if c.slot == "region" else c.text
    return Why("dropped", c.slot, name)
