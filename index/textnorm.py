"""Text folding, Cyrillic transliteration and word splitting shared by every matcher."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# English month names, January first: the parser reads dates with them, the reader questions.
MONTH_NAMES: tuple[str, ...] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

# Letters NFKD does not decompose, and typographic punctuation, mapped to ASCII.
_SPECIAL = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "ẞ": "SS",
        "đ": "d",
        "Đ": "D",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ħ": "h",
        "Ħ": "H",
        "ŀ": "l",
        "Ŀ": "L",
        "ŋ": "ng",
        "Ŋ": "Ng",
        "ŧ": "t",
        "Ŧ": "T",
        "ſ": "s",
        "ɨ": "i",
        # Azerbaijani schwa: English spellings write "a" (Əliyev -> Aliyev).
        "ə": "a",
        "Ə": "A",
        "ʻ": "'",
        "ʼ": "'",
        "ʹ": "'",
        "’": "'",
        "‘": "'",
        "‛": "'",
        "`": "'",
        "´": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "«": '"',
        "»": '"',
        "″": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "\u00ad": "",
    }
)

# Word-list entries folded and kept: the reader's lists fold the same few thousand entries
# twice at every start (lexicon.Words and grammar.Grammar read words.json both).
FOLD_FORMS_CACHE = 16_384
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_CYRILLIC_WORD = re.compile(r"[\u0400-\u052f]+(?:['’ʼ][\u0400-\u052f]+)*")

# Letters whose rendering does not depend on the language (Russian values as the base).
_BASE = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ў": "u",
    # Kazakh, Kyrgyz, Tajik and Mongolian letters, in English-style spellings.
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "ҳ": "h",
    "ҷ": "j",
    "ӣ": "i",
    "ӯ": "u",
    # Serbian and Macedonian letters.
    "ђ": "dj",
    "ј": "j",
    "љ": "lj",
    "њ": "nj",
    "ћ": "c",
    "џ": "dzh",
    "ѓ": "gj",
    "ќ": "kj",
    "ѕ": "dz",
    "'": "",
    "’": "",
    "ʼ": "",
}
_VOWELS = set("аеёиоуыэюяіїєўaeiouy")
_KAZAKH = set("әғқңөұүһҳҷӣӯ")
_UKRAINIAN_ONLY = set("їєґ")
# Ukrainian national scheme: these letters lose their y- inside a word (Zelenskyi, Ukraina).
_UK_INNER = {"й": "i", "ю": "iu", "я": "ia", "є": "ie", "ї": "i"}


def _word_lang(low: str) -> str | None:
    """The language a Cyrillic word's own letters reveal, or None when they do not tell."""
    if _KAZAKH.intersection(low):
        return "ru"
    if "ў" in low:
        return "be"
    if "і" in low or _UKRAINIAN_ONLY.intersection(low):
        return (
            "be" if ("ы" in low or "э" in low) and not _UKRAINIAN_ONLY.intersection(low) else "uk"
        )
    if any(ch in low for ch in "ыэъё"):
        return "ru"
    # An apostrophe inside the word stands where Russian writes the hard sign.
    if any(ch in low for ch in "'’ʼ"):
        return "uk"
    # Ukrainian writes the soft sign before the suffix (-ський); Russian never does.
    if any(tri in low for tri in ("ськ", "цьк", "зьк")):
        return "uk"
    return None


def _text_lang(s: str) -> str:
    """The language most Cyrillic words in s reveal; Russian when none does."""
    votes = {"ru": 0, "uk": 0, "be": 0}
    for m in _CYRILLIC_WORD.finditer(s):
        lang = _word_lang(m.group().lower())
        if lang:
            votes[lang] += 1
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else "ru"


def _translit_word(word: str, lang: str) -> str:
    """One Cyrillic word in Latin letters, keeping its capitalisation."""
    low = word.lower()
    shout = len(word) > 1 and word.isupper()
    out: list[str] = []
    for i, ch in enumerate(low):
        prev = low[i - 1] if i else ""
        initial = i == 0
        if ch == "е":
            soft = initial or prev in _VOWELS or prev in "ъь'’ʼ"
            lat = "ye" if soft and lang != "uk" else "e"
        elif ch == "ё":
            lat = "e" if prev in "жчшщ" else "yo"
        elif ch == "г":
            lat = ("gh" if prev == "з" else "h") if lang in ("uk", "be") else "g"
        elif ch == "и":
            lat = "y" if lang == "uk" else "i"
        elif lang == "uk" and ch in "йюяєї":
            lat = (
                _BASE[ch] if initial else {"й": "i", "ю": "iu", "я": "ia", "є": "ie", "ї": "i"}[ch]
            )
        else:
            lat = _BASE.get(ch, ch)
        if lat and word[i] != ch:
            lat = lat.upper() if shout else lat[0].upper() + lat[1:]
        out.append(lat)
    return "".join(out)


def translit(s: str, lang: str | None = None) -> str:
    """Cyrillic words of s in English-style Latin; ``lang`` (ru, uk, be) forces one scheme."""
    if not _CYRILLIC.search(s):
        return s
    default = lang or _text_lang(s)

    def one(m: re.Match[str]) -> str:
        word = m.group()
        return _translit_word(word, lang or _word_lang(word.lower()) or default)

    return _CYRILLIC_WORD.sub(one, s)


def _latin(s: str, lang: str | None = None) -> str:
    """s transliterated and stripped of accents, case kept."""
    s = translit(unicodedata.normalize("NFC", s), lang)
    if s.isascii():
        return s
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return s.translate(_SPECIAL)


def fold(s: str, lang: str | None = None) -> str:
    """Lower-case ASCII-ish form of s: transliterated, accents stripped, whitespace collapsed."""
    return " ".join(_latin(s, lang).casefold().split())


# A word: a dotted abbreviation (U.S.), or letters/digits with inner apostrophes.
_WORD = re.compile(
    r"(?:[^\W\d_]\.){2,}"
    r"|[^\W_](?:[^\W_]|[\u0300-\u036f]|['’ʼ](?=[^\W_]))*"
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# A span the question quotes: «...», “...”, "...", „...“ (words to find, never a name).
QUOTED = re.compile(r"«([^»]*)»|“([^”]*)”|\"([^\"]*)\"|„([^“”]*)[“”]")


@lru_cache(maxsize=1)
def _abbreviation_terms() -> dict[str, str]:
    text = resources.files("index").joinpath("data", "abbreviations.txt").read_text("utf-8")
    pairs = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {p[0]: p[1] for p in pairs if len(p) == 2}


@dataclass(frozen=True)
class Word:
    """One word of a text: surface form, folded form and span (offsets into the NFC text)."""

    text: str
    norm: str
    start: int
    end: int

    @property
    def is_abbreviation(self) -> bool:
        """True for U.S.-style dotted or all-capital words such as US or EU."""
        return _is_abbreviation(self.text)


def _is_abbreviation(text: str) -> bool:
    bare = text.replace(".", "")
    return "." in text or (len(bare) > 1 and bare.isupper())


def _norm_word(text: str, lang: str | None) -> str:
    """The folded token for one word: possessive 's and apostrophes dropped; an abbreviation
    that would fold to a stopword is its term in ``abbreviations.txt`` (U.S., usa)."""
    f = _latin(text, lang).casefold()
    if f.endswith("'s"):
        f = f[:-2]
    f = _NOT_ALNUM.sub("", f)
    if f in _abbreviation_terms() and _is_abbreviation(text):
        return _abbreviation_terms()[f]
    return f


def words(s: str, lang: str | None = None) -> list[Word]:
    """The words of s with their folded forms; empty folds are dropped. Cyrillic is
    transliterated by the scheme its words reveal, or by ``lang`` (ru, uk, be) when given."""
    s = unicodedata.normalize("NFC", s)
    if lang is None and _CYRILLIC.search(s):
        lang = _text_lang(s)
    out = []
    for m in _WORD.finditer(s):
        norm = _norm_word(m.group(), lang)
        if norm:
            out.append(Word(m.group(), norm, m.start(), m.end()))
    return out


def tokens(s: str, lang: str | None = None) -> list[str]:
    """Folded word tokens of s; hyphens split words, possessives are dropped."""
    return [w.norm for w in words(s, lang)]


def is_cyrillic(s: str) -> bool:
    """Whether s has a Cyrillic letter."""
    return bool(_CYRILLIC.search(s))


@lru_cache(maxsize=FOLD_FORMS_CACHE)
def fold_forms(phrase: str) -> frozenset[str]:
    """Every folded form a word list's entry may meet a question's words in, as
    space-joined tokens. A question's Cyrillic words are transliterated by the language the
    whole question reveals (Russian и is i, Ukrainian и is y), so a Cyrillic entry is folded
    by the Russian and the Ukrainian scheme both; a Latin entry has one form."""
    forms = {" ".join(tokens(phrase))}
    if _CYRILLIC.search(phrase):
        forms |= {" ".join(tokens(phrase, lang)) for lang in ("ru", "uk")}
    return frozenset(f for f in forms if f)


def _word_list(name: str) -> frozenset[str]:
    """A word list from ``index/data/`` (``#`` lines are comments); Cyrillic words in it are
    folded (``fold_forms``), other words are folded already."""
    text = resources.files("index").joinpath("data", name).read_text("utf-8")
    listed = [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]
    return frozenset(f for w in listed for f in (fold_forms(w) if is_cyrillic(w) else (w,)))


# Question scaffolding in English and transliterated Russian/Ukrainian, never a name.
STOPWORDS: frozenset[str] = _word_list("stopwords.txt")
# Ordinary words of news questions: they may hit a name exactly but never as a typo.
COMMON_WORDS: frozenset[str] = _word_list("common_words.txt")
