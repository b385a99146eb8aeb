"""The question reader's word lists (``index/data/*.json``) as folded sets and lookups,
and how a question's words are marked as taken while it is read (``Scan``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from index import vocabulary
from index.catalog import load_data, stems
from index.lexical import simple_stem
from index.textnorm import MONTH_NAMES, STOPWORDS, Word, fold_forms, is_cyrillic, tokens

_MONTHS_EN = MONTH_NAMES
# Month stems in English, Russian and Ukrainian (folded, transliterated): any ending matches.
_MONTH_STEMS: tuple[tuple[str, ...], ...] = (
    ("jan", "yanvar", "sich"),
    ("feb", "fevral", "lyut", "liut"),
    ("mar", "mart", "berez"),
    ("apr", "aprel", "kvit"),
    ("may", "mai", "trav"),
    ("jun", "iyun", "cherv"),
    ("jul", "iyul", "lyp", "lip"),
    ("aug", "avgust", "serp"),
    ("sep", "sentyabr", "veres"),
    ("oct", "oktyabr", "zhovt"),
    ("nov", "noyabr", "listopad", "lystopad"),
    ("dec", "dekabr", "grud", "hrud"),
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def month_of(w: Word) -> int | None:
    """1-12 for a month word in any of the three languages ('Nov', 'November', 'ноября')."""
    norm = w.norm
    if len(norm) < 3 or not norm.isalpha():
        return None
    cyrillic = bool(_CYRILLIC.search(w.text))
    for i, names in enumerate(_MONTH_STEMS):
        en = _MONTHS_EN[i]
        if not cyrillic and (norm == en or (len(norm) in (3, 4) and en.startswith(norm))):
            return i + 1
        if cyrillic and any(norm.startswith(s) for s in names[1:]):
            return i + 1
    return None


def folded(entries: Iterable[str]) -> frozenset[str]:
    """A word list as the folded forms a question's words are compared in: English entries
    as they are, Russian and Ukrainian ones (written in Cyrillic) transliterated by both
    schemes (``textnorm.fold_forms``)."""
    return frozenset(f for e in entries if not e.startswith("_") for f in fold_forms(e))


V = TypeVar("V")


LEXICON_KEY = 3  # letters of a phrase's first word that index it (Lexicon._by_start)
_Pattern = tuple[tuple[str, bool], ...]  # a phrase's folded words, each with its "*"


class Lexicon(Generic[V]):
    """Cyrillic phrases of a data file -> values. Russian and Ukrainian inflect, so an entry
    word ending in ``*`` takes any ending (``облигаци*``: облигации, облигаций, облигациями);
    other words match whole. Entries are folded by both transliteration schemes."""

    def __init__(self, entries: Mapping[str, V]) -> None:
        self.phrases: list[tuple[tuple[tuple[str, bool], ...], V]] = []
        seen: set[tuple[_Pattern, str]] = set()  # (phrase, value) once, found in O(1)
        for entry, value in entries.items():
            for lang in ("ru", "uk"):
                pattern: list[tuple[str, bool]] = []
                for word in entry.split():
                    # "пресс-секретарь" is two words once folded: a hyphen splits words.
                    parts = tokens(word.rstrip("*"), lang)
                    star = word.endswith("*")
                    pattern += [(t, star and j == len(parts) - 1) for j, t in enumerate(parts)]
                phrase = tuple(pattern)
                if phrase and (phrase, repr(value)) not in seen:
                    seen.add((phrase, repr(value)))
                    self.phrases.append((phrase, value))
        # Longest first, and a longer stem before a shorter one (советник* before совет*).
        self.phrases.sort(key=lambda pv: (-len(pv[0]), -sum(len(t) for t, _ in pv[0])))
        self.longest = max((len(p) for p, _ in self.phrases), default=0)
        # Phrases by their first word's first letters, in the order above: a word is compared
        # with the few that can match it, not with every entry of a dictionary of thousands.
        self._by_start: dict[str, list[tuple[int, _Pattern, V]]] = {}
        self._short: list[tuple[int, _Pattern, V]] = []  # first word shorter than the key
        for at, (phrase, value) in enumerate(self.phrases):
            first = phrase[0][0]
            group = (
                self._short
                if len(first) < LEXICON_KEY
                else self._by_start.setdefault(first[:LEXICON_KEY], [])
            )
            group.append((at, phrase, value))

    def match(self, norms: Sequence[str]) -> tuple[int, V] | None:
        """The longest entry the words start with: (how many words, its value)."""
        if not norms:
            return None
        best: tuple[int, _Pattern, V] | None = None
        for group in (self._by_start.get(norms[0][:LEXICON_KEY], ()), self._short):
            for at, phrase, value in group:
                if best is not None and at > best[0]:
                    break
                if len(phrase) <= len(norms) and all(
                    n.startswith(t) if star else n == t
                    for (t, star), n in zip(phrase, norms, strict=False)
                ):
                    best = (at, phrase, value)
                    break
        return (len(best[1]), best[2]) if best is not None else None


class WordMap(Generic[V]):
    """Data words -> values, looked up one question word at a time: English entries by their
    stem (``simple_stem``), or with ``forms`` only as written (a list that spells out every
    form it means: "securities" must not take "security", "shares" not "shared"); Russian and
    Ukrainian ones through a ``Lexicon`` (``*`` endings)."""

    def __init__(self, entries: Mapping[str, V], *, forms: bool = False) -> None:
        key = (lambda w: w) if forms else simple_stem
        self._key = key
        self.english = {key(w.lower()): v for w, v in entries.items() if not is_cyrillic(w)}
        self.cyrillic: Lexicon[V] = Lexicon({w: v for w, v in entries.items() if is_cyrillic(w)})

    @classmethod
    def of(cls, words: Iterable[str]) -> WordMap[bool]:
        """A word set: each word maps to True."""
        return WordMap({w: True for w in words})

    def get(self, w: Word) -> V | None:
        if is_cyrillic(w.text):
            got = self.cyrillic.match([w.norm])
            return got[1] if got else None
        return self.english.get(self._key(w.norm))

    def __contains__(self, w: Word) -> bool:
        return self.get(w) is not None


class Words:
    """The reader's word lists (``index/data/words.json``), as folded sets."""

    def __init__(self) -> None:
        d = load_data("words.json")
        self.ask = folded(d["ask_words"])
        self.about = folded(d["about_words"])
        self.speech_nouns = folded(d["speech_nouns"])
        self.speech_verbs = folded(vocabulary.speech_verbs())
        self.others = folded(d["others_words"])
        self.set_words = folded(d["set_words"])
        self.copulas = folded(d["copulas"])
        self.auxiliaries = folded(d["auxiliaries"])
        self.reflexives = folded(d["reflexives"])
        self.conjunctions = folded(d["conjunctions"])
        # What ends the speaker's place after an auxiliary ("what did X say / report").
        self.subject_ends = self.speech_verbs | (self.ask - STOPWORDS)
        self.ordinals = folded(d["ordinal_words"])
        self.person_nouns = folded(d["person_nouns"])
        self.person_stems = frozenset(simple_stem(w) for w in d["person_nouns"] if w.isascii())
        self.generic = folded(d["generic_nouns"])
        self.newest = folded(d["newest_words"])
        self.oldest = folded(d["oldest_words"])
        self.time_words = folded(d["time_words"])
        self.year_words = folded(d["year_words"])
        # Russian and Ukrainian words for what compilation titles name (grain, summit, ...).
        self.glosses: Lexicon[tuple[str, ...]] = Lexicon(
            {
                w: tuple(simple_stem(t) for g in gs for t in tokens(g))
                for w, gs in d["glosses"].items()
                if not w.startswith("_")
            }
        )
        # Both dictionaries as the English words themselves, for the lexical side of a
        # Cyrillic topic ("пресс-секретарь Кремля": spokesman ... kremlin).
        r = load_data("roles.json")
        self.english: Lexicon[tuple[str, ...]] = Lexicon(
            {
                w: tuple(e for g in gs for e in g.split())
                for table in (d["glosses"], r["translations"])
                for w, gs in table.items()
                if not w.startswith("_")
            }
        )
        # The news domain's words (news_glossary.json): they rank, never make an answer sure.
        self.news: Lexicon[tuple[str, ...]] = Lexicon(
            {
                w: tuple(e for g in gs for e in g.split())
                for w, gs in load_data("news_glossary.json").items()
                if not w.startswith("_")
            }
        )
        # English words that name the same event as a title's word ("victory": win).
        self.event_synonyms: dict[str, frozenset[str]] = {}
        for group in d["event_synonyms"]["groups"]:
            for w in group:
                self.event_synonyms[w] = self.event_synonyms.get(w, frozenset()) | frozenset(
                    simple_stem(x) for x in group
                )
        k = load_data("kinds.json")
        kinds = {**k["kinds"], "market": vocabulary.market_collective()}
        self.kinds: WordMap[str] = WordMap(
            {w: kind for kind, ws in kinds.items() for w in ws}, forms=True
        )
        # What is traded: "Which currencies fell?" asks for market items about currencies.
        self.instruments = frozenset(simple_stem(w) for w in vocabulary.market_instruments())
        self.negations = folded(vocabulary.negations())
        self.note_needs = folded(k["kind_triggers"]["note_needs"]) | self.negations
        self.silence: WordMap[bool] = WordMap.of(k["kind_triggers"]["silence_words"])
        self.reacting: WordMap[bool] = WordMap.of(k["kind_triggers"]["after_negation"])
        # "sources" asks for unnamed sources only after "unnamed" ("анонимные источники").
        self.source_words = folded(k["kind_triggers"]["source_words"])
        self.unnamed_words = folded(k["kind_triggers"]["unnamed_words"])
        self.role_synonyms: dict[str, tuple[tuple[str, ...], ...]] = {
            simple_stem(w): tuple(tuple(stems(p)) for p in alts)
            for w, alts in r["synonyms"].items()
        }
        self.role_heads = frozenset(simple_stem(w) for w in r["heads"]) | set(self.role_synonyms)
        self.role_plural_endings = tuple(r["plural_endings"])  # Cyrillic: "министры"
        for w, alts in r["seats"].items():  # read as synonyms; never a head
            self.role_synonyms[simple_stem(w)] = tuple(tuple(stems(p)) for p in alts)
        # Words for anyone that also name a kind of role ("experts"): synonyms and heads.
        self.people_roles = frozenset(simple_stem(w) for w in r["people_roles"])
        for w, alts in r["people_roles"].items():
            self.role_synonyms[simple_stem(w)] = tuple(tuple(stems(p)) for p in alts)
        self.role_heads |= self.people_roles
        # Russian and Ukrainian role words -> the English role phrases they stand for.
        self.role_translations: Lexicon[tuple[tuple[str, ...], ...]] = Lexicon(
            {
                w: tuple(tuple(stems(p)) for p in alts)
                for w, alts in r["translations"].items()
                if not w.startswith("_")
            }
        )


@dataclass
class Scan:
    """One question's words and which of them a slot has taken."""

    ws: list[Word]
    used: list[bool]
    about_at: int  # index of the first about-word after the subject, len(ws) if none
    text: str = ""  # the NFC text the words' spans index (what stands between two words)

    def free(self, i: int) -> bool:
        return not self.used[i]

    def copy(self) -> Scan:
        """The same words and what is taken so far, for a recogniser that must not take."""
        return Scan(self.ws, list(self.used), self.about_at, self.text)

    def take(self, i: int, j: int) -> None:
        for n in range(i, j):
            self.used[n] = True

    def span_words(self, start: int, end: int) -> list[int]:
        return [i for i, w in enumerate(self.ws) if w.start >= start and w.end <= end]


CONSONANTS_MIN = 4  # consonants a Latin name needs before its vowels may differ (Trump ~ Трамп)
CONSONANTS_ENDING = 1  # consonants a case ending may add to it (Трампом ~ trump)
_VOWELS = re.compile(r"[aeiouy]+")
_DOUBLED = re.compile(r"(.)\1+")


def consonant_key(word: str) -> str:
    """A folded word's consonants, doubles collapsed: how a name survives transliteration into
    Cyrillic and back when its vowels do not (trump -> trmp, трамп -> tramp -> trmp)."""
    return _DOUBLED.sub(r"\1", word[:1] + _VOWELS.sub("", word[1:]))


def same_spelling(latin: str, folded: str) -> bool:
    """A transliterated Cyrillic word is the Latin one but for its last letter and a case
    ending: Таллине ~ tallinn, гривня ~ hryvnia (not Транснафти ~ transit)."""
    n = max(len(latin) - 1, 4)
    return len(latin) >= 4 and n <= len(folded) <= len(latin) + 3 and latin[:n] == folded[:n]


def spelled_as(latin: str, folded: str) -> bool:
    """Is a transliterated Cyrillic word a case form of a Latin one: the same but for the
    Latin word's last letter and a case ending (Таллине ~ tallinn, Дружбы ~ druzhba, not
    Транснафти ~ transit), or, for a longer name, the same consonants but for those of a case
    ending (Трампа ~ trump, whose vowel Cyrillic writes as a)?"""
    if same_spelling(latin, folded):
        return True
    bones = consonant_key(latin)
    if len(bones) < CONSONANTS_MIN or not latin.isalpha():
        return False
    other = consonant_key(folded)
    return other.startswith(bones) and len(other) - len(bones) <= CONSONANTS_ENDING


def is_name(w: Word) -> bool:
    """A capitalised Cyrillic word: a name the archive may spell in Latin letters."""
    return w.text[:1].isupper() and is_cyrillic(w.text)


def stem_key(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """The part of each word that case endings leave alone (see ``stem_eq``)."""
    return tuple(w[:4] for w in phrase)


def stem_eq(a: str, b: str) -> bool:
    """Cyrillic case forms: Прибалтика ~ Прибалтике, Центральная ~ Центральной."""
    if a == b:
        return True
    n = max(len(a) - 2, 4)
    return len(b) >= n and a[:n] == b[:n]


__all__ = [
    "Lexicon",
    "Scan",
    "WordMap",
    "Words",
    "consonant_key",
    "folded",
    "is_name",
    "month_of",
    "same_spelling",
    "spelled_as",
    "stem_eq",
    "stem_key",
]
