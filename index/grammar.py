"""Question forms as data (``index/data/forms.json``): each row says, for a span a recogniser
found (a name, a country, a date), what the words around it make of it — whose words they
are ("about": spoken of, not speaking) and how sure the claim is. A row is a pattern over
tokens and word lists, the slots it applies to, what it sets, and example questions with the
claims they must produce (``tests/test_forms.py`` runs every example).

Pattern elements, each a dict (all keys optional, all must hold):
  ``in``: a word list's name (``index/data/words.json``, or ``time_prepositions`` etc. in
  forms.json's own ``lists``); ``not_in``; ``word``: literal folded words; ``not``: words that
  must not be there; ``anywhere``: search every word on that side, not just the next one;
  ``end``: (for ``after``) the question ends there; ``skip``: "stopwords" passes over
  stopwords before testing the word.
A row's ``before`` elements are matched right to left from the word before the span, its
``after`` elements left to right from the word after; ``start`` from the question's first
word; ``span`` tests the span itself (``possessive``, ``cyrillic``, ``whole``: the span is
all the question says besides its question words; ``min_words``: the question has at least
that many words). Rows whose slots are ``["question"]`` set the question's ``shape`` (a set,
a question whose answer is a speaker, one about others): every such row that matches counts. The first row (file order) that matches
for an aspect decides it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from index import vocabulary
from index.catalog import load_data
from index.claims import Strength
from index.lexicon import folded
from index.textnorm import STOPWORDS, Word, is_cyrillic


@dataclass(frozen=True)
class Form:
    """One row of forms.json."""

    id: str
    slots: frozenset[str]
    sets: Mapping[str, str]  # aspect -> value: {"role": "about"} or {"strength": "certain"}
    before: tuple[Mapping[str, Any], ...]
    after: tuple[Mapping[str, Any], ...]
    start: tuple[Mapping[str, Any], ...]
    span: Mapping[str, Any]
    examples: tuple[Mapping[str, Any], ...]
    langs: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """What the forms make of a span: its role ("speaker" or "about"), its strength, and the
    rows that said so."""

    role: str
    strength: Strength
    rules: tuple[str, ...]


class Grammar:
    """The forms of forms.json over the word lists, deciding spans in context."""

    def __init__(self) -> None:
        data = load_data("forms.json")
        words = load_data("words.json")
        own = {k: folded(v) for k, v in data["lists"].items() if not k.startswith("_")}
        base = {k: folded(v) for k, v in words.items() if isinstance(v, list)}
        base["speech_verbs"] = folded(vocabulary.speech_verbs())
        base["negations"] = folded(vocabulary.negations())
        self.lists: dict[str, frozenset[str]] = {**base, **own}
        self.forms = tuple(
            Form(
                id=row["id"],
                slots=frozenset(row["slots"]),
                sets=row["sets"],
                before=tuple(row.get("before", ())),
                after=tuple(row.get("after", ())),
                start=tuple(row.get("start", ())),
                span=row.get("span", {}),
                examples=tuple(row.get("examples", ())),
                langs=tuple(row.get("langs", ("en",))),
            )
            for row in data["forms"]
        )
        unknown = {
            e[k]
            for f in self.forms
            for e in (*f.before, *f.after, *f.start)
            for k in ("in", "not_in")
            if k in e and e[k] not in self.lists
        }
        if unknown:
            raise ValueError(f"forms.json names word lists that do not exist: {sorted(unknown)}")

    def decide(
        self,
        ws: Sequence[Word],
        span: tuple[int, int],
        slot: str,
        *,
        default: Strength = Strength.LIKELY,
        ignore: Callable[[Word], bool] | None = None,
    ) -> Decision:
        """The role and strength the first matching rows give ``slot`` over ``span``.
        ``ignore``: words the whole-question test passes over (question words)."""
        role, strength = "speaker", default
        rules: list[str] = []
        got_role = got_strength = False
        for f in self.forms:
            if slot not in f.slots:
                continue
            wants_role = "role" in f.sets and not got_role
            wants_strength = "strength" in f.sets and not got_strength
            if not (wants_role or wants_strength):
                continue
            if not self._matches(f, ws, span, ignore):
                continue
            if wants_role:
                role, got_role = f.sets["role"], True
            if wants_strength:
                strength, got_strength = Strength[f.sets["strength"].upper()], True
            rules.append(f.id)
        return Decision(role, strength, tuple(rules))

    def shapes(self, ws: Sequence[Word]) -> list[tuple[str, str]]:
        """The question's shapes (``slots: ["question"]`` rows that set a ``shape``), every
        row that matches: (shape, rule id)."""
        return [
            (f.sets["shape"], f.id)
            for f in self.forms
            if "question" in f.slots and "shape" in f.sets and self._matches(f, ws, (0, 0), None)
        ]

    # ------------------------------------------------------------ matching

    def _matches(
        self,
        f: Form,
        ws: Sequence[Word],
        span: tuple[int, int],
        ignore: Callable[[Word], bool] | None,
    ) -> bool:
        i, j = span
        if not self._span_ok(f.span, ws, span, ignore):
            return False
        if f.start and not self._seq(f.start, ws, range(0, len(ws))):
            return False
        if f.before and not self._seq(f.before, ws, range(i - 1, -1, -1)):
            return False
        return not f.after or self._seq(f.after, ws, range(j, len(ws)), after=True)

    def _span_ok(
        self,
        test: Mapping[str, Any],
        ws: Sequence[Word],
        span: tuple[int, int],
        ignore: Callable[[Word], bool] | None,
    ) -> bool:
        i, j = span
        if not test:
            return True
        if len(ws) < test.get("min_words", 0):
            return False
        if "possessive" in test and bool(ws[j - 1].text.endswith(("'s", "’s"))) != bool(
            test["possessive"]
        ):
            return False
        if "cyrillic" in test and all(is_cyrillic(w.text) for w in ws[i:j]) != bool(
            test["cyrillic"]
        ):
            return False
        if test.get("whole"):
            rest = [w for k, w in enumerate(ws) if not i <= k < j]
            skip = ignore or (lambda w: w.norm in STOPWORDS)
            if any(not skip(w) for w in rest):
                return False
        return True

    def _seq(
        self,
        pattern: Sequence[Mapping[str, Any]],
        ws: Sequence[Word],
        positions: range,
        *,
        after: bool = False,
    ) -> bool:
        """Whether the elements match in order along ``positions``."""
        pos = list(positions)
        k = 0
        for el in pattern:
            if el.get("end"):
                if k < len(pos):
                    return False
                continue
            if el.get("anywhere"):
                found = next((n for n in range(k, len(pos)) if self._word_ok(el, ws[pos[n]])), None)
                if found is None:
                    return False
                k = found + 1
                continue
            if el.get("skip") == "stopwords":
                while k < len(pos) and ws[pos[k]].norm in STOPWORDS:
                    k += 1
            if k >= len(pos) or not self._word_ok(el, ws[pos[k]]):
                return False
            k += 1
        return True

    def _word_ok(self, el: Mapping[str, Any], w: Word) -> bool:
        n = w.norm
        if "in" in el and n not in self.lists[el["in"]]:
            return False
        if "not_in" in el and n in self.lists[el["not_in"]]:
            return False
        if "word" in el and n not in el["word"]:
            return False
        return not ("not" in el and n in el["not"])


__all__ = ["Decision", "Form", "Grammar"]
