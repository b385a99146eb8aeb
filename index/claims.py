"""What a question says, as claims: each recogniser that finds something in a question (a
person, a country, an outlet, a date, ...) says what it found, where, by which rule and how
sure it is. The scope (``index/scope.py``) filters by the sure ones and relaxes the rest; the
answer says which it dropped. Plain data: ``ask --json`` shows them, ``ask --explain`` prints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Strength(IntEnum):
    """How much a claim is trusted.

    CERTAIN filters (``/country X``; a name where the speaker stands: "What did X say?").
    LIKELY filters unless it would leave nothing, then it is dropped and the answer says so.
    LATENT only boosts (a bare number may be a year; a month word alone may be a date)."""

    LATENT = 0
    LIKELY = 1
    CERTAIN = 2


@dataclass(frozen=True, slots=True)
class Claim:
    """One thing a question says: ``slot`` = ``value`` over words ``span`` (start, end),
    found by ``rule`` with ``strength``. ``missing``: the archive has no such thing (a country
    it never quotes, a name no statement holds); such a claim never narrows, its words are
    ranked as topic words instead."""

    slot: str
    value: Any
    span: tuple[int, int]
    rule: str
    strength: Strength
    text: str
    score: float = 100.0
    missing: bool = False
    words: tuple[str, ...] = ()  # its specific words: ranked as topic words if it is dropped

    @property
    def length(self) -> int:
        return self.span[1] - self.span[0]

    def overlaps(self, other: Claim) -> bool:
        return self.span[0] < other.span[1] and other.span[0] < self.span[1]

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if hasattr(value, "to_dict"):
            value = value.to_dict()
        elif isinstance(value, tuple):
            value = list(value)
        d: dict[str, Any] = {
            "slot": self.slot,
            "value": value,
            "text": self.text,
            "span": list(self.span),
            "rule": self.rule,
            "strength": self.strength.name.lower(),
        }
        if self.missing:
            d["missing"] = True
        if self.score != 100.0:
            d["score"] = round(self.score, 1)
        return d

    def explain(self) -> str:
        flag = " (not in the archive)" if self.missing else ""
        if self.missing and self.rule == "person.unquoted":
            flag = " (never quoted, only spoken of)"
        return f"{self.strength.name.lower():<7} {self.slot}: {self.text!r} [{self.rule}]{flag}"


def resolve(claims: Iterable[Claim]) -> tuple[list[Claim], list[Claim]]:
    """The one overlap policy: where two claims share words, the longer span wins; at equal
    length the stronger claim; then the better score; then the earlier. Claims on words no
    other claim touches are all kept, and so are two claims of one slot on the same words
    (two people a name may mean: "Aliyev" / "Aliev"). Returns (kept, lost), in question order."""
    ordered = sorted(claims, key=lambda c: (-c.length, -c.strength, -c.score, c.span[0]))
    kept: list[Claim] = []
    lost: list[Claim] = []
    for c in ordered:
        if any(c.overlaps(k) and c.slot != k.slot for k in kept):
            lost.append(c)
        else:
            kept.append(c)
    by_start = lambda c: (c.span[0], c.span[1])  # noqa: E731
    return sorted(kept, key=by_start), sorted(lost, key=by_start)


__all__ = ["Claim", "Strength", "resolve"]
