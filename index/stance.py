"""Stance: whether a statement performs the act a question asks for ("Who congratulated
Trump?") or only denies it, asks about it, or tells of someone not doing it ("I still know
nothing about Putin's intention to congratulate Trump"). Acts, their cues in three
languages and the negations are data (``index/data/acts.json``); the ranker lifts statements
that perform the act and lowers those that only deny it (``RankConfig.stance_*``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from index import vocabulary
from index.catalog import load_data
from index.lexicon import Lexicon, folded
from index.textnorm import Word, is_cyrillic

_WORD = re.compile(r"[\w’']+|,")
_SENTENCE_END = re.compile(r"[.!?;]")

PERFORMS, DENIES, SILENT = 1, -1, 0


@dataclass(frozen=True)
class Asked:
    """The act a question asks for: which, the words that named it, and whether the
    question negates it ("Who did not congratulate ...?")."""

    acts: tuple[str, ...]
    span: tuple[int, int]
    text: str
    negated: bool


class Acts:
    """The acts of acts.json, read in questions and found in statements."""

    def __init__(self) -> None:
        d = load_data("acts.json")
        self.window = int(d["window"])
        self.negations = frozenset(d["negations"])
        self.breaks = frozenset(d["clause_breaks"])
        self.question_negations = folded(vocabulary.negations())
        # After these, an act is what someone said, not the act the question asks for.
        self.reported = folded([*d["reported_after"], *vocabulary.speech_verbs()])
        english: dict[str, list[str]] = {}
        cyrillic: dict[str, list[str]] = {}
        self.stems: dict[str, tuple[str, ...]] = {}
        for act, cues in d["acts"].items():
            for cue in cues["question"]:
                table = cyrillic if is_cyrillic(cue) else english
                table.setdefault(cue, []).append(act)
            self.stems[act] = tuple(cues["statement"])
        self._english = {cue.rstrip("*"): tuple(acts) for cue, acts in english.items()}
        self._cyrillic: Lexicon[tuple[str, ...]] = Lexicon(
            {cue: tuple(acts) for cue, acts in cyrillic.items()}
        )

    def asked(self, ws: Sequence[Word]) -> Asked | None:
        """The act the question's words name, if any (the first that does)."""
        for i, w in enumerate(ws):
            acts = self.acts_of(w)
            if not acts and w.norm in self.reported:
                return None  # "Who called it an insult that Putin did not congratulate ...?"
            if acts:
                before = {x.norm for x in ws[max(0, i - 3) : i]}
                negated = bool(before & self.question_negations)
                return Asked(acts, (i, i + 1), w.text, negated)
        return None

    def acts_of(self, w: Word) -> tuple[str, ...]:
        if is_cyrillic(w.text):
            got = self._cyrillic.match([w.norm])
            return got[1] if got else ()
        return next((acts for cue, acts in self._english.items() if w.norm.startswith(cue)), ())

    def stance(self, text: str, acts: Sequence[str]) -> int:
        """PERFORMS when the statement does one of the acts plainly somewhere; DENIES when it
        names them only under a negation ("not", "nothing", "whether"); SILENT otherwise."""
        stems = tuple(s for a in acts for s in self.stems.get(a, ()))
        if not stems:
            return SILENT
        found = False
        for sentence in _SENTENCE_END.split(text):
            words = [m.group(0).lower() for m in _WORD.finditer(sentence)]
            for i, w in enumerate(words):
                if not w.startswith(stems):
                    continue
                found = True
                if not self._negated(words, i):
                    return PERFORMS
        return DENIES if found else SILENT

    def _negated(self, words: Sequence[str], i: int) -> bool:
        """A negation within the window before word ``i``, in its clause ("receives no oil,
        but warned": the warning stands)."""
        for w in reversed(words[max(0, i - self.window) : i]):
            if w in self.breaks:
                return False
            if w in self.negations:
                return True
        return False


@cache
def shared_acts() -> Acts:
    """One ``Acts`` a process: the reader and the ranker read acts.json once between them."""
    return Acts()


__all__ = ["DENIES", "PERFORMS", "SILENT", "Acts", "Asked", "shared_acts"]
