"""Events: the compilations a question names by their titles' words, or only touches."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.claims import Claim, Strength
from index.lexical import simple_stem
from index.lexicon import Scan, spelled_as
from index.recognise.base import ReaderBase
from index.textnorm import STOPWORDS, Word, is_cyrillic, tokens

EVENT_MIN_SHARE = 0.5  # share of an event's distinctive title words a question must name
EVENT_SYNONYM_WEIGHT = 0.5  # a title word reached only through event_synonyms weighs this much


class EventReading(ReaderBase):
    """Reads which compilation a question is about."""

    _events: dict[str, dict[str, float]]
    _event_docs: dict[str, list[str]]
    _intro_terms: dict[str, str]
    _event_names: set[str]

    def _init_events(self) -> None:
        self._events = self._event_terms()
        # term -> compilations whose event words hold it: a question visits only those (an
        # archive of a thousand compilations otherwise costs milliseconds per question).
        self._event_docs = {}
        for doc, terms in self._events.items():
            for t in terms:
                self._event_docs.setdefault(t, []).append(doc)
        self._intro_terms = self._intro_words()
        # Event words a Cyrillic word may meet by transliteration: names, not glossed words.
        glossed = {t for _, ts in self.w.glosses.phrases for t in ts}
        self._event_names = {t for ts in self._events.values() for t in ts} - glossed

    def _event_terms(self) -> dict[str, dict[str, float]]:
        """Each compilation's distinctive event words (its title before the headline),
        idf-weighted; an archive of one compilation weighs each of its title's words 1 (the
        event still names the scope, so "Trump's victory" is no topic within it)."""
        docs = self.cat.documents
        if not docs:
            return {}
        terms: dict[str, set[str]] = {}
        for d in docs.values():
            head = re.split(r":|\s[–—-]\s", d.title, maxsplit=1)[0]
            terms[d.id] = {
                simple_stem(t)
                for t in tokens(head)
                if t not in STOPWORDS and t not in self.w.ask and len(t) > 2
            }
        df: dict[str, int] = {}
        for ts in terms.values():
            for t in ts:
                df[t] = df.get(t, 0) + 1
        n = len(terms)
        if n == 1:
            return {doc: dict.fromkeys(ts, 1.0) for doc, ts in terms.items()}
        return {
            doc: {t: float(np.log(n / df[t])) for t in ts if df[t] < n} for doc, ts in terms.items()
        }

    def _intro_words(self) -> dict[str, str]:
        """Words only one compilation's title and intro use ("cyberattack") -> that compilation.
        They hint at an event without naming it: a boost, never a filter."""
        if len(self.cat.documents) < 2:
            return {}
        seen: dict[str, set[str]] = {}
        for d in self.cat.documents.values():
            for t in tokens(" ".join([d.title, *d.intro])):
                if t not in STOPWORDS and t not in self.w.ask and len(t) > 3 and not t.isdigit():
                    seen.setdefault(simple_stem(t), set()).add(d.id)
        return {t: next(iter(docs)) for t, docs in seen.items() if len(docs) == 1}

    def _event_forms(self, scan: Scan) -> list[set[str]]:
        """Each word's stems as event titles are compared: English words as they are; a
        Russian or Ukrainian word by its glosses ("зернового" -> grain) and, for names no
        gloss translates, by its transliteration's stem ("Дружбы" -> druzhba)."""
        ws = scan.ws
        out: list[set[str]] = []
        names = self._event_names
        for i, w in enumerate(ws):
            forms = {simple_stem(w.norm)} | self.w.event_synonyms.get(w.norm, frozenset())
            if is_cyrillic(w.text):
                got = self.w.glosses.match([x.norm for x in ws[i:]])
                if got is not None:
                    forms |= set(got[1])
                forms |= {t for t in names if spelled_as(t, w.norm)}
            out.append(forms)
        return out

    def _event(self, scan: Scan) -> tuple[tuple[str, ...], bool, list[int]]:
        """The compilations whose title words the question names (certain when one stands
        out), and the words that named them."""
        if not self._events:
            return (), False, []
        forms = self._event_forms(scan)
        best: list[tuple[float, float, str, list[int]]] = []
        near = {d for f in forms for t in f for d in self._event_docs.get(t, ())}
        for doc in sorted(near):
            terms = self._events[doc]
            idx = [i for i, f in enumerate(forms) if scan.free(i) and not f.isdisjoint(terms)]
            if not idx:
                continue
            got = sum(self._event_weight(scan.ws[i], forms[i], terms) for i in dict.fromkeys(idx))
            share = got / max(sum(terms.values()), 1e-9)
            best.append((got, share, doc, idx))
        if not best:
            hinted = [
                self._intro_terms[st]
                for i, f in enumerate(forms)
                if scan.free(i)
                for st in sorted(f)
                if st in self._intro_terms
            ]
            hint_idx = [
                i for i, f in enumerate(forms) if scan.free(i) and f & self._intro_terms.keys()
            ]
            return tuple(dict.fromkeys(hinted)), False, hint_idx
        best.sort(key=lambda b: (-b[0], b[2]))
        top = best[0]
        docs = [b[2] for b in best if b[0] >= top[0] - 1e-9]
        certain = len(docs) == 1 and (top[1] >= EVENT_MIN_SHARE or len(set(top[3])) >= 2)
        # "after Trump won and after the Druzhba shutdown": two compilations, each named by
        # words of its own, are both the scope.
        named: list[tuple[float, float, str, list[int]]] = []
        for b in best:
            own = set(b[3])
            if (b[1] >= EVENT_MIN_SHARE or len(own) >= 2) and all(
                own.isdisjoint(n[3]) for n in named
            ):
                named.append(b)
        if len(named) >= 2 and all(len(set(b[3])) >= 2 for b in named):
            idx = sorted({i for b in named for i in b[3]})
            for i in idx:
                scan.take(i, i + 1)
            return tuple(sorted(b[2] for b in named)), True, idx
        if certain:
            for i in top[3]:
                scan.take(i, i + 1)
        return tuple(docs), certain, list(top[3])

    def _event_weight(self, w: Word, forms: set[str], terms: dict[str, float]) -> float:
        """How much a word names an event: its title word's weight; half of it when only an
        English synonym reaches the title ("victory" for "Win")."""
        best = max(terms[t] for t in forms if t in terms)
        if is_cyrillic(w.text) or simple_stem(w.norm) in terms:
            return best  # the title's own word, or a Cyrillic word by its gloss or spelling
        return EVENT_SYNONYM_WEIGHT * best

    def _event_claim(
        self, ws: Sequence[Word], events: tuple[str, ...], certain: bool, idx: Sequence[int]
    ) -> Claim:
        """A compilation the question names (likely: it scopes) or only touches (latent)."""
        span = (min(idx), max(idx) + 1) if idx else (0, 0)
        said = " ".join(ws[i].text for i in sorted(set(idx)))
        if certain:
            return Claim("event", events, span, "event.title-words", Strength.LIKELY, said)
        return Claim("event", events, span, "event.hint", Strength.LATENT, said)
