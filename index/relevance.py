"""A topic's relevance within given compilations, for the bot's topic follows: the engine's
own reading and ranking (``Engine.read`` + ``Ranker.rank``), scoped to those compilations as
a question that names them would be. Kept apart from ``search.py``: it adds nothing to the
engine, it only asks it one narrower question."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from index.claims import Claim, Strength
from index.model import Statement


def topic_scores(
    engine: Any, topic: str, documents: Collection[str]
) -> list[tuple[Statement, float]]:
    """Statements of ``documents`` that speak of ``topic``, best first, with the ranker's fused
    score (dense similarity and lexical match, ``rank.fuse``); empty when none does.

    Only the engine's relevance decides: a reading with no topic words, or a scope in which
    nothing speaks of the topic (the ranker's "relaxed" list), gives nothing.
    """
    wanted = tuple(d for d in documents if d in engine.catalog.by_doc)
    if not wanted:
        return []
    reading = engine.read(topic)
    terms = reading.topic_terms or tuple(w for w in reading.text.split() if len(w) > 2)
    if not terms:
        return []
    # Words the reader took for a compilation's name ("grain corridor") are the topic here:
    # the scope is the new compilations, whatever the question names.
    # The new compilations are the scope for certain: a claim the topic makes (a name, a
    # place) may be dropped for them, never they for it.
    new = Claim("event", wanted, (0, 0), "follow.new-compilations", Strength.CERTAIN, "")
    scoped = replace(
        reading,
        events=wanted,
        event_certain=True,
        topic=reading.topic or reading.text,
        topic_terms=terms,
        claims=(*(c for c in reading.claims if c.slot != "event"), new),
    )
    ranked = engine.ranker.rank(scoped, k=0)
    if ranked.mode != "topic" or ranked.relaxed:
        return []
    statements = engine.statements
    return [
        (statements[int(row)], float(score))
        for row, score in zip(ranked.rows, ranked.scores, strict=True)
    ]
