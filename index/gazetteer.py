"""Countries: names, aliases, adjectives and Cyrillic forms, flags, and mentions in questions."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from index.atomic import keep_newest, write_atomic
from index.textnorm import COMMON_WORDS, STOPWORDS, Word, tokens, translit, words

log = logging.getLogger(__name__)
PHRASES_KEEP = 2  # country phrase files kept in the cache (this code's and the one before)

# The country table is data: index/data/countries.txt (its header says the layout).
_TABLE = resources.files("index").joinpath("data", "countries.txt").read_text("utf-8")

# Phrases that contain a country word but name something else; they hide that word.
_NOT_COUNTRIES = (
    "latin america",
    "latin american",
    "south america",
    "south american",
    "north america",
    "north american",
    "central america",
    "central american",
    "new mexico",
    "new england",
    "new south wales",
    "papua new guinea",
)

_NOUN_ENDINGS = (
    ("ия", ("ия", "ии", "ию", "ией", "ія", "ії", "ію", "ією")),
    ("ія", ("ия", "ии", "ию", "ией", "ія", "ії", "ію", "ією")),
    ("я", ("я", "и", "е", "ю", "ей", "і", "єю")),
    ("а", ("а", "ы", "и", "е", "і", "у", "ой", "ою", "о")),
    ("ь", ("ь", "и", "і", "ью", "ю", "я", "ем", "е", "ем", "ом")),
    ("й", ("й", "я", "ю", "ем", "е", "ї", "єм")),
    ("ы", ("ы", "ов", "ам", "ах", "ами")),
    ("и", ("и", "ів", "ам", "ах", "ами")),
)
_CONSONANT_ENDINGS = ("", "а", "у", "е", "ом", "і", "ові")
# Plural case endings of a people's name, Russian and Ukrainian together (a stem without its
# nominative vowel: украинц-, росіян-, латыш-).
_PEOPLE_ENDINGS = (
    "",
    "ы",
    "и",
    "і",
    "е",
    "ов",
    "ев",
    "ів",
    "ей",
    "ам",
    "ям",
    "ами",
    "ями",
    "ах",
    "ях",
)
_ADJECTIVE_ENDINGS = (
    *("ий", "ый", "ій", "ой", "ая", "ое", "ого", "ому", "ом", "ую", "ые", "ие", "ых", "их"),
    *("ым", "им", "ыми", "ими", "ою", "а", "е", "у", "і", "ої", "ім", "ае", "ага", "аму", "ыя"),
)


@dataclass(frozen=True)
class Country:
    """One country of the table with every spelling it answers to."""

    name: str
    code: str
    aliases: tuple[str, ...]
    adjectives: tuple[str, ...]
    cyrillic: tuple[str, ...]
    cyrillic_adjectives: tuple[str, ...]
    cyrillic_people: tuple[str, ...] = ()  # "украинцы", "росіяни": nominative plurals


@dataclass(frozen=True)
class CountryMatch:
    """A country a question mentions: the corpus heading, 0-100 score, where, and how it matched."""

    country: str
    score: float
    span: tuple[int, int]
    text: str
    how: str  # "name", "alias", "adjective", "people" or "fuzzy"


def _split(field: str) -> tuple[str, ...]:
    """The ;-separated entries of one table field."""
    return tuple(p.strip() for p in field.split(";") if p.strip())


def _parse(table: str) -> tuple[Country, ...]:
    """Countries from the table text."""
    rows: list[str] = []
    for line in table.strip().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[:1].isspace():
            rows[-1] += " " + line.strip()
        else:
            rows.append(line)
    out = []
    for row in rows:
        cells = [c.strip() for c in row.split("|")]
        name, code, aliases, adjectives, cyr, cyr_adj = cells[:6]
        people = _split(cells[6]) if len(cells) > 6 else ()
        out.append(
            Country(
                name,
                code,
                _split(aliases),
                _split(adjectives),
                _split(cyr),
                _split(cyr_adj),
                people,
            )
        )
    return tuple(out)


COUNTRIES: tuple[Country, ...] = _parse(_TABLE)


def _noun_forms(word: str) -> set[str]:
    """A Cyrillic country name with its common Russian and Ukrainian case forms."""
    if word.isupper() or " " in word or "-" in word:
        return {word}
    w = word.lower()
    for ending, endings in _NOUN_ENDINGS:
        if w.endswith(ending):
            stem = w[: -len(ending)]
            return {w} | {stem + e for e in endings}
    if w[-1] in "оеу":  # indeclinable (Косово, Марокко)
        return {w}
    return {w + e for e in _CONSONANT_ENDINGS}


def _people_forms(word: str) -> set[str]:
    """A people's Cyrillic plural ("украинцы", "росіяни") with its Russian and Ukrainian case
    forms ("из украинцев", "з українців", "россиянам"); loose, as only lookups read them."""
    w = word.lower()
    stem = w[:-1] if w[-1] in "ыиіе" else w
    return {w} | {stem + e for e in _PEOPLE_ENDINGS}


def _adjective_forms(word: str) -> set[str]:
    """A Cyrillic adjective with its gender, number and case endings."""
    w = word.lower()
    for ending in ("ий", "ый", "ій", "ой", "і"):
        if w.endswith(ending):
            stem = w[: -len(ending)]
            return {stem + e for e in _ADJECTIVE_ENDINGS}
    return {w}


def _phrase(s: str, lang: str | None = None) -> str:
    """The folded token phrase that lookups compare."""
    return " ".join(tokens(translit(s, lang) if lang else s))


def _cyrillic_phrases(forms: Iterable[str]) -> set[str]:
    """Folded phrases of Cyrillic forms under every scheme a query may be read with."""
    return {p for f in forms for lang in (None, "ru", "uk", "be") if (p := _phrase(f, lang))}


def _terms(c: Country) -> dict[str, str]:
    """Every folded phrase naming c, with how it names it."""
    out: dict[str, str] = {}
    for forms, how in (
        (
            _cyrillic_phrases(a for w in c.cyrillic_adjectives for a in _adjective_forms(w)),
            "adjective",
        ),
        (_cyrillic_phrases(n for w in c.cyrillic for n in _noun_forms(w)), "alias"),
        (_cyrillic_phrases(n for w in c.cyrillic_people for n in _people_forms(w)), "people"),
        ({_phrase(a) for a in c.adjectives}, "adjective"),
        ({_phrase(a) for a in c.aliases}, "alias"),
        ({_phrase(c.name)}, "name"),
    ):
        for p in forms:
            if p:
                out[p] = how
    return out


@cache
def _index() -> dict[str, list[tuple[Country, str]]]:
    """Folded phrase -> the table countries it names and how.

    Every Cyrillic case form under every transliteration makes ~30,000 phrases: 0.4-0.6 s,
    the largest part of a cold start on a small archive. They depend only on the table and
    this code, so they are kept in the cache folder under a hash of both and read back."""
    path = _index_cache_path()
    if path is not None:
        try:
            rows = json.loads(path.read_text("utf-8"))
            return {p: [(COUNTRIES[i], how) for i, how in found] for p, found in rows.items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
            log.warning("rebuilding the country phrases (%s unreadable: %s)", path.name, exc)
    out = _build_index()
    if path is not None:
        number = {c: i for i, c in enumerate(COUNTRIES)}
        rows = {p: [[number[c], how] for c, how in found] for p, found in out.items()}
        try:
            write_atomic(path, json.dumps(rows, ensure_ascii=False).encode("utf-8"))
            keep_newest(path.parent, "phrases-*.json", PHRASES_KEEP)
        except OSError as exc:
            log.info("could not keep the country phrases in %s: %s", path.parent, exc)
    return out


def _build_index() -> dict[str, list[tuple[Country, str]]]:
    out: dict[str, list[tuple[Country, str]]] = {}
    for c in COUNTRIES:
        for p, how in _terms(c).items():
            out.setdefault(p, []).append((c, how))
    for p in _NOT_COUNTRIES:
        out.setdefault(p, [])
    return out


def _index_cache_path() -> Path | None:
    """Where the phrases are kept: named by a hash of the table and the code that reads it."""
    from index import config, textnorm

    digest = hashlib.sha256(_TABLE.encode("utf-8"))
    try:
        for module in (__file__, textnorm.__file__):
            digest.update(Path(module).read_bytes())
    except (OSError, TypeError):
        return None  # no source to hash (a frozen build): compute every time
    return config.cache_dir() / "gazetteer" / f"phrases-{digest.hexdigest()[:24]}.json"


def lookup(name: str) -> Country | None:
    """The table country a name, alias, adjective or ISO code denotes; None when unknown."""
    hits = _index().get(_phrase(name))
    if hits:
        return hits[0][0]
    code = name.strip().upper()
    return next((c for c in COUNTRIES if c.code == code), None) if len(code) == 2 else None


def english_names(country: str) -> tuple[str, ...]:
    """A country's English name and adjectives as folded words ("Turkey": turkey, turkish),
    for a question that names it in Cyrillic; () for a name the table lacks."""
    c = lookup(country)
    if c is None:
        return ()
    return tuple(dict.fromkeys(t for p in (c.name, *c.adjectives) for t in tokens(p)))


def flag(country: str) -> str:
    """The emoji flag of a country name or ISO code; "" when unknown."""
    c = lookup(country)
    if c is None or not (len(c.code) == 2 and c.code.isalpha()):
        return ""
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in c.code)


def _guarded(phrase: str, ws: list[Word]) -> bool:
    """True when a one-word hit is an ordinary word (us) rather than an abbreviation (US)."""
    return len(ws) == 1 and phrase in STOPWORDS and not ws[0].is_abbreviation


def _plural_base(norm: str) -> str | None:
    """Singular of a plural demonym (Armenians -> armenian), else None."""
    return norm[:-1] if len(norm) > 4 and norm.endswith("s") else None


@dataclass(frozen=True)
class _Hit:
    """One exact phrase hit in a query."""

    start: int
    size: int
    phrase: str
    countries: tuple[tuple[Country, str], ...]


def _scan(ws: list[Word], index: dict[str, list[tuple[Country, str]]], longest: int) -> list[_Hit]:
    """Exact, longest-first, non-overlapping phrase hits."""
    used = [False] * len(ws)
    out = []
    for size in range(min(longest, len(ws)), 0, -1):
        for i in range(len(ws) - size + 1):
            if any(used[i : i + size]):
                continue
            part = ws[i : i + size]
            phrase = " ".join(w.norm for w in part)
            found = index.get(phrase)
            if found is None and size == 1 and (base := _plural_base(phrase)):
                found = [h for h in index.get(base, ()) if h[1] == "adjective"] or None
            if found is None or _guarded(phrase, part):
                continue
            used[i : i + size] = [True] * size
            out.append(_Hit(i, size, phrase, tuple(found)))
    return out


@cache
def _longest() -> int:
    """Most words in any table phrase."""
    return max(len(p.split()) for p in _index())


def country_of_text(s: str) -> set[str]:
    """Canonical names of table countries s mentions exactly (names, aliases, adjectives)."""
    return {c.name for h in _scan(words(s), _index(), _longest()) for c, _ in h.countries}


_FUZZY_MIN_TOKEN = 5
_FUZZY_MIN_TERM = 6
_FUZZY_MIN_ADJECTIVE = 9  # shorter adjectives sit one edit from English words (danish/vanish)
_SUGGEST_CUTOFF = 50


class CountryMatcher:
    """Finds the corpus's countries in free-text questions, exactly or through typos."""

    def __init__(self, corpus_countries: Iterable[str]):
        self.countries: tuple[str, ...] = tuple(dict.fromkeys(corpus_countries))
        self._heading_of: dict[str, list[str]] = {}  # table name or own heading -> headings
        own: dict[str, list[tuple[str, str]]] = {}  # phrases of headings the table lacks
        for heading in self.countries:
            c = lookup(heading)
            if c is not None:
                self._heading_of.setdefault(c.name, []).append(heading)
                continue
            # "Russia (officials)", "Russia and Belarus": the table countries it names lead here too.
            for name in sorted(country_of_text(heading)):
                self._heading_of.setdefault(name, []).append(heading)
            self._heading_of.setdefault(heading, []).append(heading)
            for p, how in _own_terms(heading).items():
                own.setdefault(p, []).append((heading, how))
        self._own = own
        self._phrases: dict[str, list[tuple[Country, str]]] = dict(_index())
        for p in own:
            self._phrases.setdefault(p, [])
        self._longest = max(len(p.split()) for p in self._phrases)
        # Typo targets: every long-enough phrase of every table country (so a typo of a
        # country the corpus lacks is not pulled to a corpus neighbour) and of own headings.
        self._fuzzy_targets: dict[str, set[str]] = {}  # phrase -> table names or own headings
        suggestions: dict[str, str] = {}  # phrase -> corpus heading
        terms = [(p, c.name, how) for p, found in _index().items() for c, how in found]
        terms += [(p, heading, how) for p, found in own.items() for heading, how in found]
        for p, name, how in terms:
            if _fuzzable(p, how):
                self._fuzzy_targets.setdefault(p, set()).add(name)
            for heading in self._heading_of.get(name, ()):
                suggestions.setdefault(p, heading)
        self._fuzzy_choices = list(self._fuzzy_targets)
        # A typo changes a phrase's length by at most two: compare only with phrases that near.
        self._by_length: dict[int, list[str]] = {}
        for p in self._fuzzy_choices:
            self._by_length.setdefault(len(p), []).append(p)
        self._suggestions = suggestions
        self._suggestion_choices = list(suggestions)

    def _exact(self, ws: list[Word]) -> tuple[list[CountryMatch], list[CountryMatch], list[bool]]:
        """Exact hits in the corpus, table countries absent from it (as matches whose country
        is the table's name), and which words were used."""
        used = [False] * len(ws)
        found: list[CountryMatch] = []
        absent: list[CountryMatch] = []
        for h in _scan(ws, self._phrases, self._longest):
            used[h.start : h.start + h.size] = [True] * h.size
            span = (ws[h.start].start, ws[h.start + h.size - 1].end)
            text = " ".join(w.text for w in ws[h.start : h.start + h.size])
            named = [(c.name, how) for c, how in h.countries] + self._own.get(h.phrase, [])
            for name, how in named:
                headings = self._heading_of.get(name, [])
                found += [CountryMatch(heading, 100.0, span, text, how) for heading in headings]
                if not headings:
                    absent.append(CountryMatch(name, 100.0, span, text, how))
        return found, absent, used

    def _fuzzy(self, ws: list[Word], used: list[bool]) -> list[CountryMatch]:
        """Typo hits on runs of one to three words that no exact hit used."""
        out = []
        for size in (1, 2, 3):
            for i in range(len(ws) - size + 1):
                part = ws[i : i + size]
                if any(used[i : i + size]) or any(_ordinary(w.norm) for w in part):
                    continue
                phrase = " ".join(w.norm for w in part)
                if len(phrase) < _FUZZY_MIN_TOKEN or not phrase.replace(" ", "").isalpha():
                    continue
                near = [
                    c
                    for n in range(len(phrase) - 2, len(phrase) + 3)
                    for c in self._by_length.get(n, ())
                ]
                best = _closest(phrase, near, self._fuzzy_targets)
                if best is None:
                    continue
                name, score = best
                span = (part[0].start, part[-1].end)
                text = " ".join(w.text for w in part)
                for heading in self._heading_of.get(name, ()):
                    out.append(CountryMatch(heading, score, span, text, "fuzzy"))
        return out

    def match(self, query: str, ignore: Collection[str] = ()) -> list[CountryMatch]:
        """Corpus countries the query mentions, best first; ``ignore``: words to skip (names)."""
        skip = {t for w in ignore for t in tokens(w)}
        ws = [w for w in words(query) if w.norm not in skip]
        exact, _, used = self._exact(ws)
        best: dict[str, CountryMatch] = {}
        for m in exact + self._fuzzy(ws, used):
            if m.country not in best or m.score > best[m.country].score:
                best[m.country] = m
        return sorted(best.values(), key=lambda m: (-m.score, m.span[0]))

    def best(self, query: str) -> CountryMatch | None:
        """The single most likely corpus country in the query, or None."""
        found = self.match(query)
        return found[0] if found else None

    def absent(self, query: str) -> list[str]:
        """Table countries the query names exactly that the corpus has no heading for."""
        return list(dict.fromkeys(m.country for m in self.missing(query)))

    def missing(self, query: str) -> list[CountryMatch]:
        """The same, with where the query names them (``span``, ``text``)."""
        _, absent, _ = self._exact(words(query))
        return absent

    def suggest(self, query: str, limit: int = 3) -> list[CountryMatch]:
        """Closest corpus countries for a "did you mean", however weak the likeness."""
        best: dict[str, CountryMatch] = {}
        for w in words(query):
            if len(w.norm) < 3 or w.norm in STOPWORDS or not w.norm.isalpha():
                continue
            for choice, score, _ in process.extract(
                w.norm,
                self._suggestion_choices,
                scorer=fuzz.ratio,
                processor=None,  # both sides are folded already
                score_cutoff=_SUGGEST_CUTOFF,
                limit=20,
            ):
                heading = self._suggestions[choice]
                if heading not in best or score > best[heading].score:
                    span = (w.start, w.end)
                    best[heading] = CountryMatch(heading, round(score, 1), span, w.text, "fuzzy")
        return sorted(best.values(), key=lambda m: (-m.score, m.country))[:limit]


def _own_terms(heading: str) -> dict[str, str]:
    """Phrases for a heading the table lacks: itself, without "the", and a guessed adjective."""
    p = _phrase(heading)
    out = {p: "name"} if p else {}
    if p.startswith("the "):
        out[p[4:]] = "name"
    if p and " " not in p and p.endswith("a"):  # Narnia -> Narnian
        out[p + "n"] = "adjective"
    return out


def _ordinary(norm: str) -> bool:
    """Words that never count as a country typo."""
    return norm in STOPWORDS or norm in COMMON_WORDS


def _fuzzable(phrase: str, how: str) -> bool:
    """Whether a table phrase is long enough to be reached through a typo."""
    bare = phrase.replace(" ", "")
    if how == "people":  # generated case forms, loose: only ever met exactly
        return False
    if how == "adjective":
        return len(bare) >= _FUZZY_MIN_ADJECTIVE
    return len(bare) >= _FUZZY_MIN_TERM


def _edits(length: int) -> int:
    """Typo edits tolerated in a phrase of this length."""
    return 1 if length <= 8 else 2


def _closest(
    phrase: str, choices: list[str], targets: dict[str, set[str]]
) -> tuple[str, float] | None:
    """The one country within a typo's reach of phrase and its 0-100 similarity, else None."""
    found = process.extract(
        phrase,
        choices,
        scorer=OSA.distance,
        processor=None,  # both sides are folded already
        score_cutoff=2,
        limit=10,
    )
    found = [f for f in found if f[1] <= _edits(max(len(phrase), len(f[0])))]
    if not found:
        return None
    nearest = min(f[1] for f in found)
    names = {n for choice, dist, _ in found if dist == nearest for n in targets[choice]}
    if len(names) != 1:
        return None
    choice = next(c for c, d, _ in found if d == nearest)
    return names.pop(), round(100.0 * (1 - nearest / max(len(phrase), len(choice))), 1)
