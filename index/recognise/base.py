"""What every recogniser shares: the archive's catalog, the word lists, the question forms,
and the lookups more than one of them makes (phrases in a table, a word's spellings)."""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from index.catalog import Catalog, analyze
from index.grammar import Grammar
from index.lexicon import (
    CONSONANTS_MIN,
    Scan,
    Words,
    consonant_key,
    month_of,
    spelled_as,
    stem_eq,
    stem_key,
)
from index.names import skeletons
from index.textnorm import STOPWORDS, Word, is_cyrillic

NEAR_SPELLING = 80.0  # a Cyrillic name this like (0-100) a word of the archive is no unknown name
NEAR_LENGTH = 3  # ... when their lengths differ by at most this
RESPELL_MIN = 5  # a Latin word this long or longer may be another spelling of an archive word


class ReaderBase:
    """The state a recogniser reads: set by ``understand.Reader``."""

    cat: Catalog
    w: Words
    grammar: Grammar
    _vocab_stems: dict[str, list[str]] | None
    _vocab_first: dict[str, list[str]] | None
    _vocab_consonants: dict[str, dict[str, list[str]]]  # first letter -> consonant key -> terms
    _vocab_skeletons: dict[str, dict[str, list[str]]]  # first letter -> name skeleton -> terms

    def _phrases_at(
        self,
        scan: Scan,
        table: dict[tuple[str, ...], Any],
        *,
        stemmed: dict[tuple[str, ...], list[tuple[str, ...]]] | None = None,
    ) -> list[tuple[int, int, Any]]:
        """Longest table phrases in the free words, left to right: (start, end, value);
        ``stemmed``: the table's Cyrillic phrases by stem, so case forms are found too."""
        norms = [w.norm for w in scan.ws]
        longest = max((len(k) for k in table), default=0)
        out = []
        i = 0
        while i < len(norms):
            hit = None
            for size in range(min(longest, len(norms) - i), 0, -1):
                if not all(scan.free(j) for j in range(i, i + size)):
                    continue
                got = tuple(norms[i : i + size])
                value = table.get(got)
                if (
                    value is None
                    and stemmed
                    and all(is_cyrillic(scan.ws[j].text) for j in range(i, i + size))
                ):
                    value = next(
                        (
                            table[k]
                            for k in stemmed.get(stem_key(got), ())
                            if all(stem_eq(a, b) for a, b in zip(k, got, strict=True))
                        ),
                        None,
                    )
                if value is not None:
                    hit = (i, i + size, value)
                    break
            if hit:
                out.append(hit)
                i = hit[1]
            else:
                i += 1
        return out

    def _spelled(self, w: Word) -> tuple[str, ...]:
        """Words of the archive a Cyrillic word is a case form of, by transliteration
        ("Таллине" -> tallinn, "Транснефти" -> transneft): how its statements spell a name."""
        if not is_cyrillic(w.text):
            return ()
        if self._vocab_stems is None:
            self._vocab_stems = {}
            for term in self.cat.bm25.vocab:
                if len(term) >= 4 and term.isalpha():
                    self._vocab_stems.setdefault(term[:4], []).append(term)
        near = [*self._vocab_stems.get(w.norm[:4], ()), *self._by_consonants(w.norm)]
        return tuple(t for t in dict.fromkeys(near) if spelled_as(t, w.norm))

    def _by_consonants(self, folded: str) -> list[str]:
        """Terms of the archive whose consonant key begins as this word's does (Трамп ~
        trump); one first letter's terms are keyed when a word of that letter first asks."""
        key = consonant_key(folded)[:CONSONANTS_MIN]
        if len(key) < CONSONANTS_MIN:
            return []
        keyed = self._vocab_consonants.get(key[0])
        if keyed is None:
            keyed = {}
            for term in self._terms_by_initial().get(key[0], ()):
                bones = consonant_key(term)[:CONSONANTS_MIN]
                if len(bones) == CONSONANTS_MIN:
                    keyed.setdefault(bones, []).append(term)
            self._vocab_consonants[key[0]] = keyed
        return keyed.get(key, [])

    def _respelled(self, w: Word) -> tuple[str, ...]:
        """Words of the archive that a Latin word it lacks is another transliteration of, by
        their name skeletons (``index.names.skeletons``: "Solntzev" ~ solntsev, "zurabishvili"
        ~ zourabichvili). Only words of the same first letter, keyed a letter at a time."""
        n = w.norm
        if is_cyrillic(w.text) or len(n) < RESPELL_MIN or not n.isalpha():
            return ()
        # A word whose stem the archive's words have is spelled as the archive spells it (a
        # vocabulary lookup: ``Catalog.holds`` reads rows, 28 ms a common word at 1M).
        terms = analyze(n)
        if not terms or any(t in self.cat.bm25.vocab for t in terms):
            return ()
        keyed = self._vocab_skeletons.get(n[0])
        if keyed is None:
            keyed = {}
            for term in self._terms_by_initial().get(n[0], ()):
                if len(term) >= RESPELL_MIN:
                    for key in skeletons(term):
                        keyed.setdefault(key, []).append(term)
            self._vocab_skeletons[n[0]] = keyed
        return tuple(dict.fromkeys(t for key in skeletons(n) for t in keyed.get(key, ())))

    def _terms_by_initial(self) -> dict[str, list[str]]:
        """The archive's words (three letters or more) by their first letter, built once."""
        if self._vocab_first is None:
            self._vocab_first = {}
            for term in self.cat.bm25.vocab:
                if len(term) >= 3 and term.isalpha():
                    self._vocab_first.setdefault(term[0], []).append(term)
        return self._vocab_first

    def _question_word(self, w: Word) -> bool:
        """A word that asks rather than says: a question word, a speech verb or noun."""
        n = w.norm
        return (
            n in STOPWORDS
            or n in self.w.ask
            or n in self.w.speech_verbs
            or n in self.w.speech_nouns
            or n in self.w.set_words
        )

    def _name_like(self, w: Word) -> bool:
        """A capitalised word that no word list reads (not "Who", "What", "Which", ...)."""
        return w.text[:1].isupper() and self._unlisted(w)

    def _unlisted(self, w: Word) -> bool:
        """A word no word list reads: no question word, verb, generic noun, time word."""
        n = w.norm
        lists = (self.w.ask, self.w.speech_verbs, self.w.speech_nouns, self.w.person_nouns)
        more = (self.w.generic, self.w.time_words, self.w.set_words, self.w.others)
        return (
            not n.isdigit()
            and month_of(w) is None
            and n not in STOPWORDS
            and not any(n in x for x in (*lists, *more, self.w.newest, self.w.oldest))
        )

    def _known(self, w: Word) -> bool:
        """Whether the archive holds the word: a Latin word as it is; a Cyrillic one when a
        word of the archive is a case form of its transliteration (``_spelled``: Таллине ~
        tallinn) or the names read it as someone's (Пескова, Зеленского)."""
        if not is_cyrillic(w.text):
            return self.cat.holds(w.norm) or bool(self._respelled(w))
        return bool(self._spelled(w)) or self._spelled_near(w.norm)

    def _spelled_near(self, folded: str) -> bool:
        """Whether a word of the archive is spelled nearly like a transliteration: the same
        first letter, a length within ``NEAR_LENGTH``, a likeness of ``NEAR_SPELLING`` or more
        (Лехтинен "lekhtinen" ~ lehtinen, Трамп "tramp" ~ trump; Макрон "makron" has none)."""
        near = [
            t
            for t in self._terms_by_initial().get(folded[:1], ())
            if abs(len(t) - len(folded)) <= NEAR_LENGTH
        ]
        return bool(
            near
            and process.extractOne(
                folded, near, scorer=fuzz.ratio, processor=None, score_cutoff=NEAR_SPELLING
            )
        )
