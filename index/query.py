"""A question's reading as plain data: ``Query`` (its slots and claims) and ``TimeSlot``,
and ``clean`` for what a user typed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from index.catalog import Catalog
from index.claims import Claim

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")  # a figure as statements write it ("3.5", "61")
MAX_QUERY_CHARS = 1000  # longer questions are cut here: nobody's question is a novel


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """When: inclusive yyyymmdd bounds, a month-day in any year, and/or newest/oldest first."""

    start: int = 0
    end: int = 0
    month_day: int = 0  # mmdd when the question names a day without a year
    month: int = 0  # when the question names a month without a year
    order: str | None = None  # "newest" or "oldest"
    text: str = ""
    month_day_end: int = 0  # mmdd, the last day of a range without a year ("Feb 27-28")

    @property
    def filters(self) -> bool:
        """Whether it narrows to a period (not only an order)."""
        return bool(self.start or self.month_day or self.month)

    def merged(self, other: TimeSlot) -> TimeSlot:
        """Both parts of a date said apart ("November 7" ... "2024"), and either's order."""
        return TimeSlot(
            self.start or other.start,
            self.end or other.end,
            self.month_day or other.month_day,
            self.month or other.month,
            self.order or other.order,
            " ".join(t for t in (self.text, other.text) if t),
            self.month_day_end or other.month_day_end,
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True, slots=True)
class Query:
    """The structured reading of one question; every slot optional, all plain data."""

    text: str
    speakers: tuple[str, ...] = ()  # speaker keys (people by any spelling, organisations)
    speaker_score: float = 0.0  # the weakest name match among them, 0-100
    roles: tuple[str, ...] = ()  # role phrases resolved against the archive's roles
    role_words: tuple[str, ...] = ()  # the question's words that named the role
    about: tuple[str, ...] = ()  # people or countries spoken about, as the question says them
    about_speakers: tuple[str, ...] = ()  # speaker keys of the people spoken about
    countries: tuple[str, ...] = ()  # where the speakers are (regions expanded)
    regions: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()  # outlet keys as the archive cites them
    time: TimeSlot | None = None
    events: tuple[str, ...] = ()  # compilation ids
    event_certain: bool = False
    kinds: tuple[str, ...] = ()  # market, unnamed, note
    topic: str = ""  # the words left over, as the user wrote them
    topic_terms: tuple[str, ...] = ()  # the topic's specific words (not ask words, not generic)
    mentions: tuple[str, ...] = ()  # names in the topic to find verbatim ("Zorin")
    wants_set: bool = False  # "Which ministers ...": every statement that fits
    asks_speaker: bool = False  # "Who said ...": a speaker is the answer, names are the topic
    others: bool = False  # "What did others say about X": not X
    silence: bool = False  # the topic is someone's silence: quotes that tell of it by negation
    acts: tuple[str, ...] = ()  # the act the question asks for ("congratulated": congratulate)
    act_negated: bool = False  # "Who did not congratulate ...?": those who did not, first
    numbers: tuple[str, ...] = ()  # figures the topic names ("4 grain trains"): a quote states them
    # Stems of specific topic words the question writes side by side ("Victory Plan"): a quote
    # that writes them side by side too is nearer than one that scatters them.
    phrases: tuple[tuple[str, str], ...] = ()
    claims: tuple[Claim, ...] = ()  # what each recogniser found, with its rule and strength
    cyrillic: bool = False  # the topic is written in Cyrillic: the multilingual route ranks it
    spelled: tuple[str, ...] = ()  # its Cyrillic words as the archive writes them (lexical)
    # ... those of a place it is about ("в Україні": ukrain): they rank, never make it sure
    about_spelled: tuple[str, ...] = ()
    # ... and what the news domain's dictionary gives its words ("перезавантаження": reset):
    # they rank, never make it sure (index/data/news_glossary.json)
    lent: tuple[str, ...] = ()
    # The topic's Cyrillic words (lower case) a dictionary gave English words for: the e5
    # glossary is not asked for them (Ranker._to_gloss)
    translated: tuple[str, ...] = ()
    # Phrases the question quotes ("хто сказав «дипломатія через голови українців»"): each is
    # looked for among the statements' sentences as a whole (Ranker._quoted).
    quoted: tuple[str, ...] = ()
    loose: bool = field(default=False, compare=False)

    @property
    def filters(self) -> bool:
        return bool(
            self.speakers
            or self.roles
            or self.countries
            or self.outlets
            or (self.time is not None and self.time.filters)
            or (self.events and self.event_certain)
            or self.kinds
        )

    @property
    def missing(self) -> tuple[Claim, ...]:
        """Claims on what the archive lacks (a country it never quotes, an unknown name)."""
        return tuple(c for c in self.claims if c.missing)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "loose"}
        d["claims"] = [c.to_dict() for c in self.claims]
        if self.time is not None:
            d["time"] = asdict(self.time)
        return {k: v for k, v in d.items() if v not in ((), [], "", None, False, 0.0)}

    def explain(self, catalog: Catalog | None = None) -> str:
        """The reading, one slot a line, for ``ask --explain``."""
        lines = [f"question: {self.text!r}"]
        if self.claims:
            lines.append("  claims:")
            lines += [f"    {c.explain()}" for c in self.claims]
        for k, v in self.to_dict().items():
            if k in ("text", "claims"):
                continue
            if catalog is not None and k in ("speakers", "about_speakers"):
                v = [catalog.speakers[s].label for s in v if s in catalog.speakers]
            if catalog is not None and k == "events":
                v = [catalog.documents[d].title for d in v if d in catalog.documents]
            if k == "time" and isinstance(v, dict):
                v = {a: b for a, b in v.items() if b}
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)


def clean(query: str) -> str:
    """Drop control characters, collapse space and cut to a sane length."""
    q = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in (query or ""))
    q = re.sub(r"\s+", " ", q[:MAX_QUERY_CHARS]).strip()
    return q if re.search(r"[^\W_]", q) else ""


__all__ = ["MAX_QUERY_CHARS", "NUMBER", "Query", "TimeSlot", "clean"]
