"""Fuzzy, transliteration-blind matching of people's names in free-text questions."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import islice, product
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from index.columns import Groups
from index.textnorm import COMMON_WORDS, STOPWORDS, fold, is_cyrillic, tokens, words

# --- transliteration-blind keys -------------------------------------------------------------

_LETTERS_ONLY = re.compile(r"[^a-z]+")
_DOUBLE = re.compile(r"(.)\1+")
# Consonant spellings that differ between transliteration schemes, each folded to one symbol.
_CONSONANTS = re.compile(r"shch|szcz|sch|tsch|tch|dzh|dj|zh|ch|cz|sh|sz|kh|ts|tz|ck|ph|c|h|w|x|q")
_CONSONANT_KEY = {
    "shch": "S",
    "szcz": "S",
    "sch": "S",
    "sh": "S",
    "sz": "S",
    "tsch": "Q",
    "tch": "Q",
    "ch": "Q",
    "cz": "Q",
    "dzh": "J",
    "dj": "J",
    "zh": "J",
    "kh": "H",
    "h": "H",
    "ts": "C",
    "tz": "C",
    "c": "C",
    "ck": "k",
    "ph": "f",
    "w": "v",
    "x": "ks",
    "q": "k",
}
_OU = re.compile(r"ou(?=[^aeiouy]|$)")  # Belarusian ў: Tsikhanouskaya = Tsikhanovskaya
_YO = re.compile(r"(?<=[^aeiouy])yo")  # ё: Gorbachyov = Gorbachev
_GLIDE = re.compile(r"(?<=[aeiou])i(?=[aeiou])")  # Tokayev = Tokaev, Maya = Maia
_INITIAL_GLIDE = re.compile(r"^i(?=[aeiou])")  # Yevgeny = Evgeny
_ENKA = re.compile(r"enka$")  # Belarusian -enka = Russian -enko


def _skel(folded: str) -> str:
    """Key of an already folded token; see skeleton()."""
    s = _DOUBLE.sub(r"\1", _LETTERS_ONLY.sub("", folded))
    if s.startswith("j"):  # a word-initial j is a consonant (Japarov, Jomart), later ones glides
        s = "J" + s[1:]
    s = _CONSONANTS.sub(lambda m: _CONSONANT_KEY[m.group()], s)
    s = _YO.sub("e", _OU.sub("ov", s))
    s = _DOUBLE.sub(r"\1", s.replace("y", "i").replace("j", "i"))
    s = _INITIAL_GLIDE.sub("", _GLIDE.sub("", s))
    # Dropping a glide can leave a double e again: Matveyev -> matveev, as Matveev (-eyev/-eev).
    return _ENKA.sub("enko", s.replace("ee", "e"))


def skeleton(token: str) -> str:
    """Transliteration-blind key of one name token: Zelenskyy, Zelenskiy and Зеленський agree."""
    return _skel(fold(token))


# French romanisation reads "ch" as sh and "ou" as u (Zourabichvili, Chevardnadze, Choïgou);
# the skeleton reads them as English does (ч; ou before a consonant as Belarusian ў). A token
# that has them has a second key, read the French way: each side of a comparison tries both.
_FRENCH = ((re.compile(r"(?<![st])ch"), "sh"), (re.compile(r"ou"), "u"))


@lru_cache(maxsize=1 << 16)
def _keys_of(folded: str) -> tuple[str, ...]:
    """The skeleton of an already folded token, and its French reading's where that differs."""
    key = _skel(folded)
    french = folded
    for pattern, repl in _FRENCH:
        french = pattern.sub(repl, french)
    other = _skel(french) if french != folded else key
    return (key,) if other == key or not other else (key, other)


def skeletons(token: str) -> tuple[str, ...]:
    """Every key of one name token (``skeleton`` and, for a French spelling, its reading)."""
    return _keys_of(fold(token))


# Rewrite families for name_variants(): each regex and the spellings it may take.
_FAMILIES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"(?<=[^aeiouy])(?:iy|yy|yi|ii|y|i)$"), ("y", "i", "iy", "yy", "yi", "ii")),
    (re.compile(r"o[uv](?=[^aeiouy])"), ("ov", "ou")),
    (re.compile(r"dzh|zh|^j"), ("zh", "j", "dzh")),
    (re.compile(r"ts|tz|c(?![hkz])"), ("ts", "c", "tz")),
    (re.compile(r"kh|(?<![csz])h"), ("kh", "h")),
    (re.compile(r"[yij]u"), ("yu", "iu", "ju")),
    (re.compile(r"[yij]a"), ("ya", "ia", "ja")),
    (re.compile(r"[yij]e"), ("ye", "ie", "e")),
    (re.compile(r"i[yj](?=[aeou])"), ("iy", "i", "ii")),
    (re.compile(r"(?<=[aeou])y(?=[aeo])"), ("y", "")),
    (re.compile(r"(?<=[aeo])(?=[aeo])"), ("", "y")),
    (re.compile(r"(?<=[aeo])[yi](?![aeiouy])"), ("y", "i")),
    (re.compile(r"enk[oa]$"), ("enko", "enka")),
    (re.compile(r"(?<=[^aeiouy])yo"), ("yo", "e")),
    (re.compile(r"shch|sch"), ("shch", "sch")),
    (re.compile(r"ks|x"), ("ks", "x")),
    (re.compile(r"w|v"), ("v", "w")),
    (re.compile(r"([a-z])\1"), (r"\1",)),
)
_WORKING_CAP = 512
_TOKEN_CAP = 64
_NAME_CAP = 256


def _token_variants(token: str) -> list[str]:
    """Spellings of one folded token under other transliterations, the token first."""
    key = _skel(token)
    seen = {token}
    for pattern, spellings in _FAMILIES:
        if len(seen) >= _WORKING_CAP:
            break
        grown = {pattern.sub(s, v) for v in seen if pattern.search(v) for s in spellings}
        seen |= grown
    # Keep only rewrites that the matcher treats as the same name.
    same = sorted((v for v in seen if v and v != token and _skel(v) == key), key=len)
    return [token, *same[: _TOKEN_CAP - 1]]


def name_variants(name: str) -> set[str]:
    """Folded spellings of a name under other transliterations (rule-based, any name)."""
    parts = [_token_variants(t) for t in tokens(name)]
    if not parts:
        return set()
    base = [p[0] for p in parts]
    out = {" ".join(base)}
    for i, part in enumerate(parts):
        for v in part[1:]:
            out.add(" ".join([*base[:i], v, *base[i + 1 :]]))
    out.update(" ".join(combo) for combo in islice(product(*parts), _NAME_CAP))
    return out


def _nominatives(tok: str) -> list[str]:
    """Nominative forms a declined Russian or Ukrainian surname (folded) may come from."""
    for ending, replacements in _CASE_ENDINGS:
        if tok.endswith(ending) and len(tok) - len(ending) >= _MIN_STEM:
            return [tok[: -len(ending)] + r for r in replacements]
    return []


# --- matcher ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameMatch:
    """A person a question names: the caller's key, the full name, a 0-100 score, query words."""

    key: str
    name: str
    score: float
    tokens: tuple[str, ...]


@dataclass
class _Hits:
    """What one question's words said about one person."""

    surname: float = 0.0
    given: float = 0.0  # weighted for how many people share the given name
    given_raw: float = 0.0  # unweighted: below _SAME_KEY it came from a typo
    words: dict[int, str] = field(default_factory=dict)  # query word index -> surface


_EXACT = 100.0
_SAME_KEY = 95.0  # another transliteration of the same token
_FUZZY_CAP = 94.0
_MIN_FUZZY_LEN = 4
_MAX_CANDIDATES = 200
_GIVEN_UNIQUE = 0.85  # a given name alone that only one person has
_GIVEN_SHARED = 0.7  # a given name alone shared by several people
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_CHUNK = re.compile(r"\S+")
# Russian and Ukrainian decline surnames; a Cyrillic word is also looked up in its nominative
# forms (transliterated endings -> what the nominative may end in): Пескова -> peskov,
# Довгаля -> dovgal, Захаровой -> zakharova, Зеленского -> zelenskiy.
_CASE_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("skogo", ("skiy", "skyi")),
    ("skoho", ("skyi", "skiy")),
    ("skomu", ("skiy", "skyi")),
    ("skim", ("skiy",)),
    ("skym", ("skyi",)),
    ("skoy", ("skaya",)),
    ("skoi", ("ska", "skaya")),
    ("oyu", ("a",)),
    ("oiu", ("a",)),
    ("oy", ("a",)),
    ("oi", ("a",)),
    ("ym", ("",)),
    ("om", ("",)),
    ("em", ("",)),
    ("ya", ("", "y")),
    ("ia", ("", "i")),
    ("yu", ("", "y")),
    ("iu", ("", "i")),
    ("ye", ("",)),
    ("ovi", ("",)),
    ("evi", ("",)),
    ("a", ("",)),
    ("u", ("",)),
    ("e", ("",)),
    ("i", ("",)),
)
_MIN_STEM = 4


def _trigrams(s: str) -> set[str]:
    """Character trigrams of s padded with ^ and $."""
    p = f"^{s}$"
    return {p[i : i + 3] for i in range(len(p) - 2)}


def _max_edits(length: int) -> int:
    """Edits a typo may carry in a token of this length."""
    return 1 if length <= 8 else 2


def _name_tokens(name: str) -> list[tuple[str, bool]]:
    """Folded tokens of a name, each flagged when it belongs to the surname (the last part)."""
    name = unicodedata.normalize("NFC", name)
    starts = [m.start() for m in _CHUNK.finditer(name)]
    ws = [(bisect_right(starts, w.start) - 1, w.norm) for w in words(name)]
    chunks = sorted({c for c, _ in ws})
    while len(chunks) > 1 and all(t in _SUFFIXES for c, t in ws if c == chunks[-1]):
        chunks.pop()
    last = chunks[-1] if chunks else -1
    return [(t, c == last) for c, t in ws]


class NameMatcher:
    """Finds which of many people a question names, across spellings, scripts and typos."""

    def __init__(self, entries: Sequence[tuple[str, str]], common_words: Iterable[str] = ()):
        self._keys: list[str] = []
        self._names: list[str] = []
        self._common = COMMON_WORDS | {fold(w) for w in common_words}
        # token -> person codes (person id * 2 + 1 when the token is part of the surname)
        exact: dict[str, list[int]] = {}
        by_key: dict[str, list[int]] = {}
        skel_of: dict[str, tuple[str, ...]] = {}
        for pid, (key, name) in enumerate(entries):
            self._keys.append(key)
            self._names.append(name)
            for tok, in_surname in dict.fromkeys(_name_tokens(name)):
                if len(tok) < 2 or tok.isdigit():
                    continue
                code = pid * 2 + in_surname
                exact.setdefault(tok, []).append(code)
                sks = skel_of.get(tok)
                if sks is None:
                    sks = skel_of[tok] = _keys_of(tok)
                for sk in sks:
                    if sk:
                        by_key.setdefault(sk, []).append(code)
        # One CSR map each (index.columns.Groups): arrays, not a hundred thousand tuples, so
        # they can be stored in the bundle and opened without building anything.
        self._exact = Groups.of(exact, np.int32)
        self._by_key = Groups.of(by_key, np.int32)
        # Fuzzy search runs on the distinct keys only, through a trigram inverted index. Keys
        # are sorted by length so that a length window is a contiguous range of ids.
        vocab_ids = sorted(
            (i for i, k in enumerate(self._by_key.keys_) if len(k) >= _MIN_FUZZY_LEN - 1),
            key=lambda i: len(self._by_key.keys_[i]),
        )
        postings: dict[str, list[int]] = {}
        for vid, i in enumerate(vocab_ids):
            for g in _trigrams(self._by_key.keys_[i]):
                postings.setdefault(g, []).append(vid)
        self._set_vocab(np.asarray(vocab_ids, np.int32), Groups.of(postings, np.int32))

    def _set_vocab(self, vocab_ids: np.ndarray, postings: Groups) -> None:
        self._vocab_ids = vocab_ids
        self._postings = postings

    @cached_property
    def _vocab(self) -> list[str]:
        """The fuzzy search's keys, shortest first: made at the first typo, not at open (90,000
        keys at a million statements, ~25 ms)."""
        return [self._by_key.keys_[i] for i in self._vocab_ids.tolist()]

    @cached_property
    def _vocab_len(self) -> np.ndarray:
        return np.fromiter((len(v) for v in self._vocab), np.int32, len(self._vocab))

    # ------------------------------------------------------------ stored form

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What ``from_state`` needs: strings (for JSON) and arrays (for ``.npy``)."""
        strings = {
            "keys": self._keys,
            "names": self._names,
            "exact": self._exact.keys_,
            "by_key": self._by_key.keys_,
            "grams": self._postings.keys_,
            "common": sorted(self._common - COMMON_WORDS),
        }
        arrays = {
            **self._exact.arrays("exact"),
            **self._by_key.arrays("by_key"),
            **self._postings.arrays("grams"),
            "vocab": self._vocab_ids,
        }
        return strings, arrays

    @classmethod
    def from_state(
        cls, strings: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> NameMatcher:
        """A matcher as ``state`` described it, without indexing any name again."""
        self = cls.__new__(cls)
        self._keys = list(strings["keys"])
        self._names = list(strings["names"])
        if len(self._keys) != len(self._names):
            raise ValueError("the name index lists keys and names of different lengths")
        self._common = COMMON_WORDS | set(strings.get("common", ()))
        self._exact = Groups.from_arrays(strings["exact"], arrays, "exact")
        self._by_key = Groups.from_arrays(strings["by_key"], arrays, "by_key")
        self._set_vocab(arrays["vocab"], Groups.from_arrays(strings["grams"], arrays, "grams"))
        return self

    def __len__(self) -> int:
        """Number of people indexed."""
        return len(self._keys)

    def _fuzzy(self, key: str, slack: int) -> list[tuple[str, float]]:
        """Indexed keys within a typo's reach of key, with 0-100 similarity."""
        edits = _max_edits(len(key)) + slack
        lo, hi = np.searchsorted(self._vocab_len, [len(key) - edits, len(key) + edits + 1])
        grams = _trigrams(key)
        parts = []
        for g in grams:
            ids = self._postings.get(g)
            if ids is not None:
                a, b = np.searchsorted(ids, [lo, hi])
                if b > a:
                    parts.append(ids[a:b])
        if not parts:
            return []
        counts = np.bincount(np.concatenate(parts) - lo)
        # One edit (a transposition included) destroys at most four padded trigrams.
        need = max(1, len(grams) - 4 * edits)
        cand = np.flatnonzero(counts >= need)
        if len(cand) > _MAX_CANDIDATES:
            cand = cand[np.argpartition(-counts[cand], _MAX_CANDIDATES)[:_MAX_CANDIDATES]]
        choices = [self._vocab[i] for i in (cand + lo).tolist()]
        found = process.extract(
            key,
            choices,
            scorer=OSA.distance,
            processor=None,  # keys are folded already
            score_cutoff=edits,
            limit=None,
        )
        out = []
        for choice, dist, _ in found:
            longest = max(len(key), len(choice))
            if min(len(key), len(choice)) < _MIN_FUZZY_LEN or dist > _max_edits(longest) + slack:
                continue
            out.append((choice, min(_FUZZY_CAP, 100.0 * (1 - dist / longest))))
        return out

    def _collect(self, query: str, slack: int) -> dict[int, _Hits]:
        """Per person, the best surname and given-name evidence in the query."""
        hits: dict[int, _Hits] = {}
        weak: list[tuple[int, str, dict[int, float]]] = []
        for i, w in enumerate(words(query)):
            tok = w.norm
            if len(tok) < 2 or not tok.isalpha():
                continue
            scores = self._scores(tok, slack)
            if (
                is_cyrillic(w.text)
                and tok not in STOPWORDS
                and max(scores.values(), default=0) < _SAME_KEY
            ):
                # A declined surname: its nominative forms, as another spelling at best.
                for form in _nominatives(tok):
                    for code, score in self._scores(form, slack).items():
                        if min(score, _SAME_KEY) > scores.get(code, 0.0):
                            scores[code] = min(score, _SAME_KEY)
            if not scores:
                continue
            if tok in STOPWORDS:  # "will", "say": only count beside a real hit on the same person
                weak.append((i, w.text, scores))
                continue
            self._add(hits, i, w.text, scores, create=True)
        for i, text, scores in weak:
            self._add(hits, i, text, scores, create=False)
        return hits

    def having(self, tokens: Iterable[str]) -> list[str]:
        """Keys of the people whose names hold every one of the folded tokens, exactly, in
        any of their spellings ("dmitry": every Dmitry), in the order they were added."""
        first: dict[str, int] | None = None  # key -> its first entry, for the order
        for tok in tokens:
            i = self._exact.index(tok)
            found: dict[str, int] = {}
            for pid in sorted(
                {c // 2 for c in self._exact.at(i).tolist()} if i is not None else ()
            ):
                found.setdefault(self._keys[pid], pid)
            first = found if first is None else {k: p for k, p in first.items() if k in found}
            if not first:
                return []
        return sorted(first, key=first.__getitem__) if first else []

    def _scores(self, tok: str, slack: int) -> dict[int, float]:
        """Person codes one folded word may name, with 0-100 scores."""
        scores: dict[int, float] = {}
        i = self._exact.index(tok)
        for code in self._exact.at(i).tolist() if i is not None else ():
            scores[code] = _EXACT
        keys = _keys_of(tok)
        key = keys[0]
        for k in keys:
            i = self._by_key.index(k)
            for code in self._by_key.at(i).tolist() if i is not None else ():
                scores.setdefault(code, _SAME_KEY)
        usual = tok in STOPWORDS or tok in self._common
        if (not scores or slack) and len(key) >= _MIN_FUZZY_LEN and not usual:
            for other, sim in self._fuzzy(key, slack):
                if other == key:
                    continue
                for code in self._by_key[other].tolist():
                    if sim > scores.get(code, 0.0):
                        scores[code] = sim
        return scores

    @staticmethod
    def _add(
        hits: dict[int, _Hits], i: int, text: str, scores: dict[int, float], create: bool
    ) -> None:
        """Fold one query word's scores into the per-person evidence."""
        people = {code >> 1 for code in scores}
        given_weight = _GIVEN_UNIQUE if len(people) == 1 else _GIVEN_SHARED
        for code, score in scores.items():
            pid = code >> 1
            h = hits.get(pid)
            if h is None:
                if not create:
                    continue
                h = hits[pid] = _Hits()
            if code & 1:
                h.surname = max(h.surname, score)
            else:
                h.given = max(h.given, score * given_weight)
                h.given_raw = max(h.given_raw, score)
            h.words[i] = text

    def _rank(self, hits: dict[int, _Hits], limit: int, strict: bool) -> list[NameMatch]:
        """Scored, best-first matches; strict drops people named only by a typo of a given name."""
        out = []
        for pid, h in hits.items():
            if strict and not h.surname and h.given_raw < _SAME_KEY:
                continue  # "Russian" is one edit from "Ruslan": too weak on its own
            if h.surname:
                # A given name beside the surname closes part of the gap to certainty.
                score = h.surname + (100.0 - h.surname) * min(h.given, 100.0) / 200.0
            else:
                score = h.given
            words_used = tuple(h.words[i] for i in sorted(h.words))
            out.append((round(score, 1), len(words_used), pid, words_used))
        out.sort(key=lambda r: (-r[0], -r[1], self._names[r[2]]))
        return [NameMatch(self._keys[p], self._names[p], s, w) for s, _, p, w in out[:limit]]

    def match(self, query: str, limit: int = 5) -> list[NameMatch]:
        """People the query names, best first; everyone sharing a matched surname scores alike."""
        return self._rank(self._collect(query, slack=0), limit, strict=True)

    def suggest(self, query: str, limit: int = 3) -> list[NameMatch]:
        """Closest people for a "did you mean", looser than match()."""
        return self._rank(self._collect(query, slack=1), limit, strict=False)
