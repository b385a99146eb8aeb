"""Stage 2, understand: a question -> a ``Query`` of explicit slots (who spoke, about whom,
where, when, which event, what kind, what topic), each optional, read before anything ranks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Generic, TypeVar

import numpy as np

from index.catalog import Catalog, load_data, stems
from index.claims import Claim, Strength, resolve
from index.gazetteer import CountryMatch
from index.grammar import Grammar
from index.lexical import simple_stem
from index.tables import outlet_key
from index.textnorm import MONTH_NAMES, STOPWORDS, Word, fold_forms, is_cyrillic, tokens, words

MAX_QUERY_CHARS = 1000  # longer questions are cut here: nobody's question is a novel
NAME_CUTOFF = 80.0  # a name matched below this (0-100) is not read as a person
NAME_CUTOFF_LOOSE = 70.0  # /who: the user said it is a name
SURE_NAME = 90.0  # a name matched at least this well in a speaker's place is certain
NAME_BAND = 5.0  # people within this of the best match are all meant ("Aliyev" / "Aliev")
MENTION_SHARE = 0.05  # a capitalised topic word rarer than this is a name to find verbatim
MAX_ROLE_SPEAKERS = 3  # a role in a non-set question is specific only when it picks out few
GENERIC_SHARE = 0.3  # a word in more than this share of statements says nothing ("Trump")
TRANSLATED_SHARE = 0.5  # dictionary words join a Cyrillic topic's lexical side from this share
EVENT_MIN_SHARE = 0.5  # share of an event's distinctive title words a question must name
EVENT_SYNONYM_WEIGHT = 0.5  # a title word reached only through event_synonyms weighs this much

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
_YEAR = re.compile(r"^(19|20)\d\d$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")  # a figure as statements write it ("3.5", "61")
_DAY = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"|„[^“”]*[“”]")  # a quote is words to find
_AMBIGUOUS_MONTHS = frozenset({"may", "mar", "march"})  # a verb, a noun: only beside a date


def _month(w: Word) -> int | None:
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


@dataclass(frozen=True, slots=True)
class TimeSlot:
    """When: inclusive yyyymmdd bounds, a month-day in any year, and/or newest/oldest first."""

    start: int = 0
    end: int = 0
    month_day: int = 0  # mmdd when the question names a day without a year
    month: int = 0  # when the question names a month without a year
    order: str | None = None  # "newest" or "oldest"
    text: str = ""

    @property
    def filters(self) -> bool:
        """Whether it narrows to a period (not only an order)."""
        return bool(self.start or self.month_day or self.month)

    def merged(self, other: TimeSlot) -> TimeSlot:
        """Both parts of a date said apart ("November 7" ... "2024"), and either's order."""
        return TimeSlot(
            self.start or other.start,
            self.end or other.end,
            self.month_day or other.month_day,
            self.month or other.month,
            self.order or other.order,
            " ".join(t for t in (self.text, other.text) if t),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True, slots=True)
class Query:
    """The structured reading of one question; every slot optional, all plain data."""

    text: str
    speakers: tuple[str, ...] = ()  # speaker keys (people by any spelling, organisations)
    speaker_score: float = 0.0  # the weakest name match among them, 0-100
    roles: tuple[str, ...] = ()  # role phrases resolved against the archive's roles
    role_words: tuple[str, ...] = ()  # the question's words that named the role
    about: tuple[str, ...] = ()  # people or countries spoken about, as the question says them
    about_speakers: tuple[str, ...] = ()  # speaker keys of the people spoken about
    countries: tuple[str, ...] = ()  # where the speakers are (regions expanded)
    regions: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()  # outlet keys as the archive cites them
    time: TimeSlot | None = None
    events: tuple[str, ...] = ()  # compilation ids
    event_certain: bool = False
    kinds: tuple[str, ...] = ()  # market, unnamed, note
    topic: str = ""  # the words left over, as the user wrote them
    topic_terms: tuple[str, ...] = ()  # the topic's specific words (not ask words, not generic)
    mentions: tuple[str, ...] = ()  # names in the topic to find verbatim ("Zorin")
    wants_set: bool = False  # "Which ministers ...": every statement that fits
    asks_speaker: bool = False  # "Who said ...": a speaker is the answer, names are the topic
    others: bool = False  # "What did others say about X": not X
    silence: bool = False  # the topic is someone's silence: quotes that tell of it by negation
    numbers: tuple[str, ...] = ()  # figures the topic names ("4 grain trains"): a quote states them
    claims: tuple[Claim, ...] = ()  # what each recogniser found, with its rule and strength
    cyrillic: bool = False  # the topic is written in Cyrillic: the multilingual route ranks it
    spelled: tuple[str, ...] = ()  # its Cyrillic words as the archive writes them (lexical)
    loose: bool = field(default=False, compare=False)

    @property
    def filters(self) -> bool:
        return bool(
            self.speakers
            or self.roles
            or self.countries
            or self.outlets
            or (self.time and (self.time.start or self.time.month_day or self.time.month))
            or (self.events and self.event_certain)
            or self.kinds
        )

    @property
    def missing(self) -> tuple[Claim, ...]:
        """Claims on what the archive lacks (a country it never quotes, an unknown name)."""
        return tuple(c for c in self.claims if c.missing)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "loose"}
        d["claims"] = [c.to_dict() for c in self.claims]
        if self.time is not None:
            d["time"] = asdict(self.time)
        return {k: v for k, v in d.items() if v not in ((), [], "", None, False, 0.0)}

    def explain(self, catalog: Catalog | None = None) -> str:
        """The reading, one slot a line, for ``ask --explain``."""
        lines = [f"question: {self.text!r}"]
        if self.claims:
            lines.append("  claims:")
            lines += [f"    {c.explain()}" for c in self.claims]
        for k, v in self.to_dict().items():
            if k in ("text", "claims"):
                continue
            if catalog is not None and k in ("speakers", "about_speakers"):
                v = [catalog.speakers[s].label for s in v if s in catalog.speakers]
            if catalog is not None and k == "events":
                v = [catalog.documents[d].title for d in v if d in catalog.documents]
            if k == "time" and isinstance(v, dict):
                v = {a: b for a, b in v.items() if b}
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)


def clean(query: str) -> str:
    """Drop control characters, collapse space and cut to a sane length."""
    q = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in (query or ""))
    q = re.sub(r"\s+", " ", q[:MAX_QUERY_CHARS]).strip()
    return q if re.search(r"[^\W_]", q) else ""


def folded(entries: Iterable[str]) -> frozenset[str]:
    """A word list as the folded forms a question's words are compared in: English entries
    as they are, Russian and Ukrainian ones (written in Cyrillic) transliterated by both
    schemes (``textnorm.fold_forms``)."""
    return frozenset(f for e in entries if not e.startswith("_") for f in fold_forms(e))


V = TypeVar("V")


class Lexicon(Generic[V]):
    """Cyrillic phrases of a data file -> values. Russian and Ukrainian inflect, so an entry
    word ending in ``*`` takes any ending (``облигаци*``: облигации, облигаций, облигациями);
    other words match whole. Entries are folded by both transliteration schemes."""

    def __init__(self, entries: Mapping[str, V]) -> None:
        self.phrases: list[tuple[tuple[tuple[str, bool], ...], V]] = []
        for entry, value in entries.items():
            for lang in ("ru", "uk"):
                pattern: list[tuple[str, bool]] = []
                for word in entry.split():
                    # "пресс-секретарь" is two words once folded: a hyphen splits words.
                    parts = tokens(word.rstrip("*"), lang)
                    star = word.endswith("*")
                    pattern += [(t, star and j == len(parts) - 1) for j, t in enumerate(parts)]
                phrase = tuple(pattern)
                if phrase and (phrase, value) not in self.phrases:
                    self.phrases.append((phrase, value))
        # Longest first, and a longer stem before a shorter one (советник* before совет*).
        self.phrases.sort(key=lambda pv: (-len(pv[0]), -sum(len(t) for t, _ in pv[0])))
        self.longest = max((len(p) for p, _ in self.phrases), default=0)

    def match(self, norms: Sequence[str]) -> tuple[int, V] | None:
        """The longest entry the words start with: (how many words, its value)."""
        for phrase, value in self.phrases:
            if len(phrase) <= len(norms) and all(
                n.startswith(t) if star else n == t
                for (t, star), n in zip(phrase, norms, strict=False)
            ):
                return len(phrase), value
        return None


class WordMap(Generic[V]):
    """Data words -> values, looked up one question word at a time: English entries by their
    stem (``simple_stem``), Russian and Ukrainian ones through a ``Lexicon`` (``*`` endings)."""

    def __init__(self, entries: Mapping[str, V]) -> None:
        self.english = {simple_stem(w): v for w, v in entries.items() if not is_cyrillic(w)}
        self.cyrillic: Lexicon[V] = Lexicon({w: v for w, v in entries.items() if is_cyrillic(w)})

    @classmethod
    def of(cls, words: Iterable[str]) -> WordMap[bool]:
        """A word set: each word maps to True."""
        return WordMap({w: True for w in words})

    def get(self, w: Word) -> V | None:
        if is_cyrillic(w.text):
            got = self.cyrillic.match([w.norm])
            return got[1] if got else None
        return self.english.get(simple_stem(w.norm))

    def __contains__(self, w: Word) -> bool:
        return self.get(w) is not None


class Words:
    """The reader's word lists (``index/data/words.json``), as folded sets."""

    def __init__(self) -> None:
        d = load_data("words.json")
        self.ask = folded(d["ask_words"])
        self.about = folded(d["about_words"])
        self.speech_nouns = folded(d["speech_nouns"])
        self.speech_verbs = folded(d["speech_verbs"])
        self.others = folded(d["others_words"])
        self.set_words = folded(d["set_words"])
        self.copulas = folded(d["copulas"])
        self.auxiliaries = folded(d["auxiliaries"])
        # What ends the speaker's place after an auxiliary ("what did X say / report").
        self.subject_ends = self.speech_verbs | (self.ask - STOPWORDS)
        self.ordinals = folded(d["ordinal_words"])
        self.person_nouns = folded(d["person_nouns"])
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
        # English words that name the same event as a title's word ("victory": win).
        self.event_synonyms: dict[str, frozenset[str]] = {}
        for group in d["event_synonyms"]["groups"]:
            for w in group:
                self.event_synonyms[w] = self.event_synonyms.get(w, frozenset()) | frozenset(
                    simple_stem(x) for x in group
                )
        k = load_data("kinds.json")
        self.kinds: WordMap[str] = WordMap({w: kind for kind, ws in k["kinds"].items() for w in ws})
        self.note_needs = folded(k["kind_triggers"]["note_needs"])
        self.silence: WordMap[bool] = WordMap.of(k["kind_triggers"]["silence_words"])
        self.reacting: WordMap[bool] = WordMap.of(k["kind_triggers"]["after_negation"])
        self.negations = folded(k["kind_triggers"]["negations"])
        # "sources" asks for unnamed sources only after "unnamed" ("анонимные источники").
        self.source_words = folded(k["kind_triggers"]["source_words"])
        self.unnamed_words = folded(k["kind_triggers"]["unnamed_words"])
        self.role_synonyms: dict[str, tuple[tuple[str, ...], ...]] = {
            simple_stem(w): tuple(tuple(stems(p)) for p in alts)
            for w, alts in r["synonyms"].items()
        }
        self.role_heads = frozenset(simple_stem(w) for w in r["heads"]) | set(self.role_synonyms)
        # Russian and Ukrainian role words -> the English role phrases they stand for.
        self.role_translations: Lexicon[tuple[tuple[str, ...], ...]] = Lexicon(
            {
                w: tuple(tuple(stems(p)) for p in alts)
                for w, alts in r["translations"].items()
                if not w.startswith("_")
            }
        )


@dataclass
class _Scan:
    """One question's words and which of them a slot has taken."""

    ws: list[Word]
    used: list[bool]
    about_at: int  # index of the first about-word after the subject, len(ws) if none

    def free(self, i: int) -> bool:
        return not self.used[i]

    def copy(self) -> _Scan:
        """The same words and what is taken so far, for a recogniser that must not take."""
        return _Scan(self.ws, list(self.used), self.about_at)

    def take(self, i: int, j: int) -> None:
        for n in range(i, j):
            self.used[n] = True

    def span_words(self, start: int, end: int) -> list[int]:
        return [i for i, w in enumerate(self.ws) if w.start >= start and w.end <= end]


class Reader:
    """Reads questions against one archive's catalog (names, countries, roles, outlets, events)."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog
        self.w = Words()
        self.grammar = Grammar()
        self._outlets = self._outlet_phrases()
        self._regions = self._region_phrases()
        # Cyrillic region names by their words' stems, so case forms are found without a scan.
        self._stemmed: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for k, v in self._regions.items():
            if v[2]:
                self._stemmed.setdefault(_stem_key(k), []).append(k)
        # Cyrillic outlet names too: Интерфакса, «Медузы».
        self._outlet_stemmed: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for group in load_data("outlets.json")["outlets"]:
            for alias in group:
                for form in fold_forms(alias) if is_cyrillic(alias) else ():
                    key = tuple(form.split())
                    if key in self._outlets:
                        self._outlet_stemmed.setdefault(_stem_key(key), []).append(key)
        self._vocab_stems: dict[str, list[str]] | None = None  # built at the first Cyrillic name
        self._events = self._event_terms()
        # term -> compilations whose event words hold it: a question visits only those (an
        # archive of a thousand compilations otherwise costs milliseconds per question).
        self._event_docs: dict[str, list[str]] = {}
        for doc, terms in self._events.items():
            for t in terms:
                self._event_docs.setdefault(t, []).append(doc)
        self._intro_terms = self._intro_words()
        # Event words a Cyrillic word may meet by transliteration: names, not glossed words.
        glossed = {t for _, ts in self.w.glosses.phrases for t in ts}
        self._event_names = {t for ts in self._events.values() for t in ts} - glossed

    # ------------------------------------------------------------ tables

    def _outlet_phrases(self) -> dict[tuple[str, ...], tuple[str, tuple[str, ...]]]:
        """Folded alias phrase -> (label, outlet keys the archive cites) for every outlet."""
        out: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
        cited = self.cat.by_outlet
        for group in load_data("outlets.json")["outlets"]:
            label, aliases = group[0], group[1:]
            keys = tuple(k for a in aliases if (k := outlet_key(a)) in cited)
            for a in [label, *aliases]:
                # A Cyrillic alias by both schemes: "Рейтер" in a Ukrainian question is reiter.
                for form in fold_forms(a) if is_cyrillic(a) else (outlet_key(a),):
                    phrase = tuple(form.split())
                    if phrase and (phrase not in out or keys):
                        out[phrase] = (label, tuple(dict.fromkeys(keys)))
        for key in cited:  # outlets no table lists answer to their own name
            phrase = tuple(key.split())
            if phrase not in out:
                out[phrase] = (self.cat.outlet_label.get(key, key), (key,))
        return out

    def _region_phrases(self) -> dict[tuple[str, ...], tuple[str, tuple[str, ...], bool]]:
        """Folded region phrase -> (region, its countries in the archive, Cyrillic?)."""
        out: dict[tuple[str, ...], tuple[str, tuple[str, ...], bool]] = {}
        have = set(self.cat.by_country)
        for r in load_data("regions.json")["regions"]:
            countries = tuple(c for c in r["countries"] if c in have)
            for lang in ("en", "ru", "uk"):
                for phrase in r.get(lang, ()):
                    for form in fold_forms(phrase):
                        key = tuple(form.split())
                        if key and key not in out:
                            out[key] = (r["name"], countries, lang != "en")
        return out

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

    # ------------------------------------------------------------ reading

    def read(self, question: str, *, loose: bool = False) -> Query:
        """The question as claims (every recogniser fires; ``claims.resolve`` settles words two
        of them want) and the slots the claims fill; the words no claim took are the topic."""
        q = clean(question)
        if not q:
            return Query("")
        ws = words(q)
        about_at = next(
            (i for i, w in enumerate(ws) if i > 0 and w.norm in self.w.about and w.norm != "of"),
            len(ws),
        )
        scan = _Scan(ws, [False] * len(ws), about_at)
        norms = [w.norm for w in ws]
        asks_speaker = (
            len(ws) > 2 and norms[0] in self.w.set_words and norms[1] not in self.w.copulas
        )
        wants_set = bool(norms) and norms[0] in self.w.set_words
        others = any(n in self.w.others for n in norms)

        claims = self._time(scan)
        events, event_certain, event_idx = self._event(scan)
        # Names, places and outlets all fire on the same free words; one policy settles overlaps.
        country_matches = self.cat.countries_matcher.match(q)
        pool = [
            *self._outlet(scan.copy(), q),
            *self._region(scan.copy()),
            *self._people(scan.copy(), q, asks_speaker, others, loose, country_matches),
            *self._countries(scan.copy(), q, country_matches),
        ]
        kept, _ = resolve(pool)
        speakers = tuple(c.value for c in kept if c.slot == "speaker" and not c.missing)
        if speakers:  # "Peskov on Russia": the person says where
            for c in kept:
                if c.slot == "country" and not c.missing:
                    scan.take(*c.span)
            kept = [c for c in kept if c.slot != "country"]
        for c in kept:
            if c.strength > Strength.LATENT and not c.missing and not _stays_topic(c):
                scan.take(*c.span)
        claims += kept
        score = min((c.score for c in kept if c.slot == "speaker"), default=0.0)
        about_people = [c for c in kept if c.slot == "about" and isinstance(c.value, tuple)]
        about_speakers = tuple(c.value[0] for c in about_people)
        about = [c.value[1] for c in about_people]
        about_countries = [c.text for c in kept if c.slot == "about" and isinstance(c.value, str)]
        countries = tuple(c.value for c in kept if c.slot == "country" and not c.missing)
        places = {i for c in kept if c.slot in ("country", "region") for i in range(*c.span)}
        kind_claims = self._kinds(scan, speakers, places)
        claims += kind_claims
        roles, role_words, role_claim = self._roles(scan, countries, wants_set)
        if roles and about_speakers:
            roles, about_speakers, about = self._role_owners(roles, about_speakers, about)
        if role_claim is not None:
            claims.append(replace(role_claim, value=roles))
        regions = tuple(c.value[0] for c in kept if c.slot == "region" and not c.missing)
        region_countries = [x for c in kept if c.slot == "region" for x in c.value[1]]
        countries = tuple(dict.fromkeys([*countries, *region_countries]))
        if not (speakers or asks_speaker or any(c.missing for c in claims)) and (
            unknown := self._unknown_name(scan, q)
        ):
            claims.append(unknown)
        topic_idx = [
            i
            for i, w in enumerate(ws)
            if not scan.used[i] and w.norm not in self.w.ask and w.norm not in STOPWORDS
        ]
        topic_idx = [i for i in topic_idx if norms[i] not in self.w.others]
        if events and not event_certain and len(events) == 1 and topic_idx:
            # "What did Moldova say about Druzhba?": every topic word names the one event the
            # question hints at, so the event is the scope, not a word to find in the quotes
            # (which say "the shutdown", not "Druzhba").
            forms = self._event_forms(scan)
            named = self._events[events[0]]
            if all(not forms[i].isdisjoint(named) for i in topic_idx):
                event_certain = True
                event_idx = list(topic_idx)
                topic_idx = []
        if events:
            claims.append(self._event_claim(ws, events, event_certain, event_idx))
        time = self._time_slot(claims)
        topic = " ".join(ws[i].text for i in topic_idx)
        silence = any(ws[i] in self.w.silence for i in topic_idx)
        cyrillic = any(is_cyrillic(ws[i].text) for i in topic_idx)
        spelled = tuple(
            dict.fromkeys(
                [
                    *(t for i in topic_idx if _is_name(ws[i]) for t in self._spelled(ws[i])),
                    *self._translated(ws, topic_idx),
                ]
            )
        )
        terms = self._terms(ws, topic_idx)
        numbers = tuple(
            n for i in topic_idx for n in NUMBER.findall(ws[i].text) if not _YEAR.match(n)
        )
        mentions = self._mentions(ws, topic_idx)
        claims = [
            replace(c, words=self._terms(ws, range(*c.span))) if c.span[1] > c.span[0] else c
            for c in claims
        ]
        return Query(
            text=q,
            speakers=speakers,
            speaker_score=score,
            roles=roles,
            role_words=role_words,
            about=tuple(dict.fromkeys([*about, *about_countries])),
            about_speakers=about_speakers,
            countries=countries,
            regions=regions,
            outlets=tuple(
                dict.fromkeys(
                    k
                    for c in kept
                    if c.slot == "outlet" and c.strength > Strength.LATENT and not c.missing
                    for k in c.value
                )
            ),
            time=time,
            events=events,
            event_certain=event_certain,
            kinds=tuple(c.value for c in kind_claims),
            topic=topic,
            topic_terms=terms,
            mentions=mentions,
            wants_set=wants_set,
            asks_speaker=asks_speaker,
            others=others,
            silence=silence,
            numbers=numbers,
            claims=tuple(sorted(claims, key=lambda c: c.span)),
            cyrillic=cyrillic,
            spelled=spelled,
            loose=loose,
        )

    def _terms(self, ws: Sequence[Word], idx: Iterable[int]) -> tuple[str, ...]:
        """The specific words among ``idx``: what a topic is ranked by (not question words,
        person or generic nouns, time words, or words most statements hold)."""
        return tuple(
            ws[i].norm
            for i in idx
            if len(ws[i].norm) > 1
            and ws[i].norm not in self.w.ask
            and ws[i].norm not in STOPWORDS
            and ws[i].norm not in self.w.person_nouns
            and ws[i].norm not in self.w.generic
            and ws[i].norm not in self.w.time_words
            and self.cat.bm25.doc_freq(simple_stem(ws[i].norm)) <= GENERIC_SHARE
        )

    @staticmethod
    def _time_slot(claims: Sequence[Claim]) -> TimeSlot | None:
        """The period and order the time claims that filter say, as one ``TimeSlot``."""
        slot: TimeSlot | None = None
        for c in claims:
            if c.slot == "order":
                part = TimeSlot(order=c.value, text=c.text)
            elif c.slot == "time" and c.strength > Strength.LATENT:
                part = c.value
            else:
                continue
            slot = part if slot is None else slot.merged(part)
        return slot

    def _event_claim(
        self, ws: Sequence[Word], events: tuple[str, ...], certain: bool, idx: Sequence[int]
    ) -> Claim:
        """A compilation the question names (likely: it scopes) or only touches (latent)."""
        span = (min(idx), max(idx) + 1) if idx else (0, 0)
        said = " ".join(ws[i].text for i in sorted(set(idx)))
        if certain:
            return Claim("event", events, span, "event.title-words", Strength.LIKELY, said)
        return Claim("event", events, span, "event.hint", Strength.LATENT, said)

    def _mentions(self, ws: Sequence[Word], topic_idx: Sequence[int]) -> tuple[str, ...]:
        """The last word of each run of capitalised, rare topic words: a name to find as written."""
        out: list[str] = []
        run: list[int] = []
        for i in [*topic_idx, -1]:
            if i > 0 and ws[i].text[:1].isupper() and (not run or run[-1] == i - 1):
                run.append(i)
                continue
            if run:
                last = ws[run[-1]].norm
                if is_cyrillic(ws[run[-1]].text):  # "о Зорине": Zorin, as the archive has it
                    last = next(iter(self._spelled(ws[run[-1]])), last)
                if 0 < self.cat.bm25.doc_freq(simple_stem(last)) <= MENTION_SHARE:
                    out.append(last)
            run = [i] if i > 0 and ws[i].text[:1].isupper() else []
        return tuple(out)

    # ------------------------------------------------------------ slots

    def _time(self, scan: _Scan) -> list[Claim]:
        """Dates, months and years, each a claim whose strength the forms decide (a bare
        number is a latent year: "the 2025 budget"), and newest/oldest as an order claim.
        A latent claim keeps its words in the topic."""
        ws = scan.ws
        norms = [w.norm for w in ws]
        claims: list[Claim] = []
        for i, n in enumerate(norms):
            m = _month(ws[i]) if scan.free(i) else None
            if m is None:
                continue
            day = year = 0
            take = [i]
            for j in (i - 1, i + 1, i + 2):  # "7 November", "November 7", "November 7, 2024"
                if 0 <= j < len(ws) and scan.free(j):
                    dm = _DAY.match(norms[j])
                    if _YEAR.match(norms[j]) and not year and j > i:
                        year = int(norms[j])
                        take.append(j)
                        take += self._year_word(scan, j)
                    elif dm and not day and 1 <= int(dm.group(1)) <= 31 and j != i + 2:
                        day = int(dm.group(1))
                        take.append(j)
            if not day and not year and (n in _AMBIGUOUS_MONTHS or len(n) <= 4):
                continue  # "may" alone is a verb, "mar" a word
            span = (min(take), max(take) + 1)
            said = " ".join(ws[j].text for j in sorted(take))
            if year and day:
                slot = TimeSlot(year * 10000 + m * 100 + day, year * 10000 + m * 100 + day)
            elif year:
                slot = TimeSlot(year * 10000 + m * 100 + 1, year * 10000 + m * 100 + 31)
            elif day:
                slot = TimeSlot(month_day=m * 100 + day)
            else:
                slot = TimeSlot(month=m)
            if day or year:
                rule, strength = "time.date", Strength.LIKELY
            else:
                d = self.grammar.decide(ws, span, "month")
                rule, strength = (d.rules[0] if d.rules else "time.month"), d.strength
            claims.append(self._time_claim(scan, slot, span, said, rule, strength))
        for i, n in enumerate(norms):
            if scan.free(i) and _YEAR.match(n) and not any(c.value.start for c in claims):
                y = int(n)
                span = (i, i + 1 + len(self._year_word(scan, i)))
                said = " ".join(w.text for w in ws[span[0] : span[1]])
                d = self.grammar.decide(ws, (i, i + 1), "year")
                slot = TimeSlot(y * 10000 + 101, y * 10000 + 1231)
                rule = d.rules[0] if d.rules else "time.year"
                claims.append(self._time_claim(scan, slot, span, said, rule, d.strength))
        said_order: list[str] = []
        if order := self._order(scan, said_order):
            claims.append(
                Claim("order", order, (0, 0), "time.order", Strength.CERTAIN, " ".join(said_order))
            )
        return claims

    def _time_claim(
        self,
        scan: _Scan,
        slot: TimeSlot,
        span: tuple[int, int],
        said: str,
        rule: str,
        strength: Strength,
    ) -> Claim:
        slot = TimeSlot(slot.start, slot.end, slot.month_day, slot.month, None, said)
        if strength > Strength.LATENT:
            scan.take(*span)
        return Claim("time", slot, span, rule, strength, said)

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
        return tuple(t for t in self._vocab_stems.get(w.norm[:4], ()) if _spelled_as(t, w.norm))

    def _unknown_name(self, scan: _Scan, q: str) -> Claim | None:
        """A name the question asks about that no statement holds, in any spelling ("What did
        Emmanuel Macron say about Ukraine?", "Deutsche Welle", "what did macron say"): a run
        of capitalised Latin words before any "about", or the words where a speaker stands,
        none of which the archive has. Quoting the statements nearest the rest of the question
        would answer someone else. Quoted words are words to find, never a name."""
        ws = scan.ws
        quoted = [m.span() for m in _QUOTED.finditer(q)]

        def free(i: int) -> bool:
            return scan.free(i) and not any(a <= ws[i].start < b for a, b in quoted)

        runs: list[list[int]] = []
        for i in range(min(scan.about_at, len(ws))):
            if not (free(i) and self._name_like(ws[i])):
                continue
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        runs.append([i for i in self._subject(scan) if free(i)])
        for run in runs:
            if not run or (run[0] == 0 and len(run) < 2):
                continue  # a capital that only starts the sentence
            if not any(self._known(ws[i]) for i in run):
                said = " ".join(ws[i].text for i in run)
                span = (min(run), max(run) + 1)
                return Claim(
                    "speaker", said, span, "person.unknown", Strength.LIKELY, said, missing=True
                )
        return None

    def _subject(self, scan: _Scan) -> list[int]:
        """The free words between an auxiliary and the speech verb after it, in Latin letters
        ("what did <macron> say", "what does <deutsche welle> report"): who is asked about."""
        ws = scan.ws
        aux = next((i for i, w in enumerate(ws[:3]) if w.norm in self.w.auxiliaries), None)
        if aux is None:
            return []
        ends = self.w.subject_ends
        end = next((j for j in range(aux + 1, scan.about_at) if ws[j].norm in ends), None)
        if end is None:
            return []
        span = [i for i in range(aux + 1, end) if scan.free(i) and ws[i].norm not in STOPWORDS]
        if any(is_cyrillic(ws[i].text) or not self._unlisted(ws[i]) for i in span):
            return []
        return span

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
            and _month(w) is None
            and n not in STOPWORDS
            and not any(n in x for x in (*lists, *more, self.w.newest, self.w.oldest))
        )

    def _known(self, w: Word) -> bool:
        """Whether the archive holds the word. A Cyrillic word always counts as known: its
        transliteration misses too many names the archive has (Трамп is "tramp", not Trump)."""
        return is_cyrillic(w.text) or self.cat.holds(w.norm)

    def _translated(self, ws: Sequence[Word], idx: Sequence[int]) -> list[str]:
        """English words the dictionaries give for the topic's Cyrillic words (role words,
        event words), so its quotes can be found by their words too ("пресс-секретарь
        Кремля": spokesman, press secretary, kremlin), when they and the names the archive
        spells stand for at least ``TRANSLATED_SHARE`` of the topic's words."""
        out: list[str] = []
        free = set(idx)
        covered = 0
        i = 0
        while i < len(ws):
            if i in free and is_cyrillic(ws[i].text):
                got = self.w.english.match([x.norm for x in ws[i:]])
                if got is not None and all(j in free for j in range(i, i + got[0])):
                    out += got[1]
                    i += got[0]
                    covered += got[0]
                    continue
                if _is_name(ws[i]) and self._spelled(ws[i]):
                    covered += 1
            i += 1
        # One known word of a longer topic ("грузовики с зерном": grain) would outweigh its
        # meaning in the lexical score: the English words count when they stand for enough.
        return out if covered >= TRANSLATED_SHARE * len(idx) else []

    def _year_word(self, scan: _Scan, i: int) -> list[int]:
        """The word "year" after the year at ``i``, which Russian and Ukrainian say ("в 2029
        году", "у 2029 році"): part of the date, not of the topic."""
        j = i + 1
        if j < len(scan.ws) and scan.free(j) and scan.ws[j].norm in self.w.year_words:
            return [j]
        return []

    def _order(self, scan: _Scan, said: list[str]) -> str | None:
        norms = [w.norm for w in scan.ws]
        for i, n in enumerate(norms):
            if not scan.free(i):
                continue
            nxt = norms[i + 1] if i + 1 < len(norms) else ""
            prev = norms[i - 1] if i else ""
            two = f"{prev} {n}"
            if two in self.w.newest and prev:
                scan.take(i - 1, i + 1)
                said.append(two)
                return "newest"
            # "first"/"last" are ordinals only before a speech noun ("first comment") or
            # ending the question after a speech verb ("What did Stolyarov say first?").
            ends_speech = not nxt and prev in self.w.speech_verbs
            if (
                n in self.w.ordinals
                and nxt not in self.w.speech_nouns | self.w.time_words
                and not ends_speech
            ):
                continue
            shown = scan.ws[i].text if is_cyrillic(scan.ws[i].text) else n
            if n in self.w.newest and n not in ("now", "today", "current", "new"):
                scan.take(i, i + 1)
                said.append(shown)
                return "newest"
            if n in self.w.oldest:
                scan.take(i, i + 1)
                said.append(shown)
                return "oldest"
        return None

    def _phrases_at(
        self,
        scan: _Scan,
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
                            for k in stemmed.get(_stem_key(got), ())
                            if all(_stem_eq(a, b) for a, b in zip(k, got, strict=True))
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

    def _outlet(self, scan: _Scan, q: str) -> list[Claim]:
        """Outlets by any alias. A Cyrillic alias met only as a lower-case case form
        ("политиков" ~ «Политико») is latent: an ordinary word as likely as the outlet."""
        claims: list[Claim] = []
        for i, j, (label, found) in self._phrases_at(
            scan, self._outlets, stemmed=self._outlet_stemmed
        ):
            words_ = scan.ws[i:j]
            if j - i == 1 and not self._outlet_word_ok(words_[0]):
                continue
            scan.take(i, j)
            said = " ".join(w.text for w in words_)
            exact = tuple(w.norm for w in words_) in self._outlets
            if not exact and not any(w.text[:1].isupper() for w in words_):
                rule, strength = "outlet.case-form", Strength.LATENT
            else:
                d = self.grammar.decide(scan.ws, (i, j), "outlet", ignore=self._question_word)
                rule, strength = (d.rules[0] if d.rules else "outlet.name"), d.strength
            value = found or (label,)
            claims.append(Claim("outlet", value, (i, j), rule, strength, said, missing=not found))
        return claims

    def _outlet_word_ok(self, w: Word) -> bool:
        """A one-word outlet that is also an ordinary word ("X", "UP") counts only in capitals."""
        if len(w.norm) < 2:
            return False
        common = w.norm in STOPWORDS or w.norm in self.w.ask or w.norm in self.w.about
        return not common or (w.text.isupper() and len(w.text) > 1)

    def _region(self, scan: _Scan) -> list[Claim]:
        claims: list[Claim] = []
        for i, j, (name, found, _) in self._phrases_at(scan, self._regions, stemmed=self._stemmed):
            phrase = " ".join(w.text for w in scan.ws[i:j])
            if any(m.how != "fuzzy" for m in self.cat.countries_matcher.match(phrase)):
                continue  # a heading the archive has ("European Union") wins over a region
            scan.take(i, j)
            claims.append(
                Claim(
                    "region",
                    (name, tuple(found)),
                    (i, j),
                    "region.name",
                    Strength.LIKELY,
                    phrase,
                    missing=not found,
                )
            )
        return claims

    def _event_forms(self, scan: _Scan) -> list[set[str]]:
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
                forms |= {t for t in names if _spelled_as(t, w.norm)}
            out.append(forms)
        return out

    def _event(self, scan: _Scan) -> tuple[tuple[str, ...], bool, list[int]]:
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

    def _people(
        self,
        scan: _Scan,
        q: str,
        asks_speaker: bool,
        others: bool,
        loose: bool,
        country_matches: Sequence[CountryMatch],
    ) -> list[Claim]:
        """People by any spelling: a speaker claim, or an "about" claim when the forms say the
        name is spoken of ("about Putin", "Putin's silence", "Who criticised Zelensky?")."""
        cutoff = NAME_CUTOFF_LOOSE if loose else NAME_CUTOFF
        ws = scan.ws
        exact_country_words = {
            t for m in country_matches if m.how != "fuzzy" for t in tokens(m.text)
        }
        found: dict[str, tuple[float, list[int]]] = {}
        for m in self.cat.names.match(q, limit=8):
            if m.score < cutoff:
                continue
            # Folded as the question folds them (its other words decide и: i or y).
            mwords = {t for w in m.tokens for f in fold_forms(w) for t in f.split()}
            if m.score < 100 and mwords and mwords <= exact_country_words:
                continue  # "Russia", "Jordan": a country, not a misspelt surname
            idx = [i for i, w in enumerate(ws) if w.norm in mwords and scan.free(i)]
            if not idx:
                continue
            prev = found.get(m.key)
            if prev is None or m.score > prev[0]:
                found[m.key] = (float(m.score), idx)
        if not found:
            return []
        best = max(s for s, _ in found.values())
        claims: list[Claim] = []
        for key, (score, idx) in found.items():
            if score < best - NAME_BAND:
                continue
            span = (min(idx), max(idx) + 1)
            said = " ".join(ws[i].text for i in idx)
            d = self.grammar.decide(ws, span, "person", ignore=self._question_word)
            about_rule = (
                d.rules[0]
                if d.role == "about"
                else "person.asked-who"
                if asks_speaker
                else "person.role-owner"
                if all(is_cyrillic(ws[i].text) for i in idx) and self._after_role(ws, span[0])
                else "person.others"
                if others
                else None
            )
            if about_rule is not None:
                spelled = said
                if is_cyrillic(said) or not all(self.cat.holds(ws[i].norm) for i in idx):
                    # "молчании Путина", "about Zelensky": the statements say "Putin",
                    # "Zelenskyy" (the name as the archive spells it finds its mentions).
                    spelled = (self.cat.speakers[key].name or said).split()[-1]
                claims.append(
                    Claim("about", (key, spelled), span, about_rule, Strength.LIKELY, said, score)
                )
                continue
            strength = d.strength if score >= SURE_NAME else Strength.LIKELY
            rule = next((r for r in d.rules if r.startswith("speaker.")), "person.name")
            claims.append(Claim("speaker", key, span, rule, strength, said, score))
        return claims

    def _role_owners(
        self, roles: tuple[str, ...], about_speakers: tuple[str, ...], about: list[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
        """ "Putin's press secretary", "пресс-секретарь Путина": a person the question names
        with a role is whose role it is when the archive's role says so ("Vladimir Putin's
        press secretary"). That person narrows the roles and is no longer a filter on what
        the statements mention (which would keep only those that name Putin)."""
        kept_keys: list[str] = []
        kept_text: list[str] = []
        for key, text in zip(about_speakers, about, strict=True):  # one text per person
            parts = tokens(self.cat.speakers[key].name or "")
            owned = [r for r in roles if parts and parts[-1] in tokens(r)]
            if owned:
                roles = tuple(owned)
            else:
                kept_keys.append(key)
                kept_text.append(text)
        return roles, tuple(kept_keys), kept_text

    def _after_role(self, ws: Sequence[Word], at: int) -> bool:
        """Whether a Russian or Ukrainian role phrase ends right before word ``at``."""
        lex = self.w.role_translations
        for start in range(max(0, at - lex.longest), at):
            got = lex.match([w.norm for w in ws[start:at]])
            if got is not None and start + got[0] == at:
                return True
        return False

    def _countries(
        self, scan: _Scan, q: str, country_matches: Sequence[CountryMatch]
    ) -> list[Claim]:
        """Countries where the speakers are, or spoken about (the forms say which); and the
        countries a question names that the archive never quotes ("How did Germany react?")."""
        ws = scan.ws
        claims: list[Claim] = []
        for m in country_matches:
            idx = [i for i in scan.span_words(*m.span) if scan.free(i)]
            if not idx:
                continue
            span = (min(idx), max(idx) + 1)
            d = self.grammar.decide(ws, span, "country", ignore=self._question_word)
            said = " ".join(ws[i].text for i in idx)
            if d.role == "about":
                claims.append(Claim("about", m.country, span, d.rules[0], Strength.LIKELY, said))
            else:
                rule = next((r for r in d.rules if r.startswith("speaker.")), f"country.{m.how}")
                claims.append(Claim("country", m.country, span, rule, d.strength, said))
        # "How did Germany react?", not "Russia-China ties": named before any "about".
        subject = q[: ws[scan.about_at].start] if scan.about_at < len(ws) else q
        seen: set[str] = set()
        for m in self.cat.countries_matcher.missing(subject):
            idx = scan.span_words(*m.span)
            span = (min(idx), max(idx) + 1) if idx else (0, 0)
            if m.country in seen or not all(scan.free(i) for i in idx):
                continue
            seen.add(m.country)
            about = self.grammar.decide(ws, span, "country") if idx else None
            if about is not None and about.role == "about":  # "Who criticised America?": a topic
                claims.append(
                    Claim("about", m.country, span, about.rules[0], Strength.LIKELY, m.text)
                )
                continue
            claims.append(
                Claim(
                    "country",
                    m.country,
                    span,
                    "country.unquoted",
                    Strength.LIKELY,
                    m.text,
                    missing=True,
                )
            )
        return claims

    def _kinds(self, scan: _Scan, speakers: Sequence[str], places: set[int]) -> list[Claim]:
        """Markets, unnamed sources and the "no remarks" notes, one claim per kind."""
        if speakers:
            return []
        norms = [w.norm for w in scan.ws]
        found: dict[str, Claim] = {}
        for i, n in enumerate(norms):
            if i >= scan.about_at or not scan.free(i):
                continue
            kind = self.w.kinds.get(scan.ws[i])  # markets, unnamed sources, notes
            if kind is None and self._not_reacting(scan.ws, i):
                kind = "note"  # "did not comment", "не отреагировали"
            if kind is None:
                continue
            if (
                kind == "note"
                and not any(x in self.w.note_needs for x in norms)
                and scan.ws[i] not in self.w.silence
            ):
                continue  # "remarks" alone asks for remarks; "no remarks" or "silent" for notes
            if (
                kind == "note"
                and scan.ws[i] in self.w.silence
                and self._silence_of(scan, i, places)
            ):
                continue  # "Who criticised Solntsev's silence?": quotes about it, not notes
            if (
                kind == "unnamed"
                and n in self.w.source_words
                and i
                and norms[i - 1] not in self.w.unnamed_words
            ):
                continue
            if kind not in found:
                rule = (
                    "kind.not-reacting"
                    if kind == "note" and scan.ws[i] not in self.w.kinds
                    else f"kind.{kind}"
                )
                found[kind] = Claim(
                    "kind", kind, (i, i + 1), rule, Strength.LIKELY, scan.ws[i].text
                )
            scan.take(i, i + 1)
        return list(found.values())

    def _silence_of(self, scan: _Scan, i: int, places: set[int]) -> bool:
        """Is the silence word at ``i`` someone's silence that others spoke of, not who stayed
        silent: a speech verb before it ("Who criticised the silence ...") or an owner no slot
        read as a place ("Solntsev's silence", "the silence of Solntsev"; "Tajikistan's
        silence" is Tajikistan's note)?"""
        ws = scan.ws
        if any(x.norm in self.w.speech_verbs for x in ws[:i]):
            return True
        owner = None
        if i and ws[i - 1].text.endswith(("'s", "’s")):
            owner = i - 1
        elif i + 1 < len(ws) and ws[i + 1].norm in ("of", "by"):
            owner = next((j for j in range(i + 2, len(ws)) if ws[j].norm not in STOPWORDS), None)
        return owner is not None and owner not in places and ws[owner].text[:1].isupper()

    def _role_run(self, scan: _Scan, idx: Sequence[int]) -> list[int]:
        """The first run of words that roles use (stopwords may stand between them: "minister
        of foreign affairs") holding a head word; "Ukraine grain" has no head, so no role."""
        ws = scan.ws

        def known(i: int) -> bool:
            if is_cyrillic(ws[i].text):  # read through role_translations below
                return True
            s = simple_stem(ws[i].norm)
            return s in self.w.role_synonyms or s in self.cat.role_words

        runs: list[list[int]] = []
        for i in idx:
            if not known(i):
                runs.append([])
                continue
            last = runs[-1] if runs and runs[-1] else None
            if last and all(
                ws[j].norm in STOPWORDS and scan.free(j) for j in range(last[-1] + 1, i)
            ):
                last.append(i)
            else:
                runs.append([i])
        heads = self.w.role_heads
        return next(
            (
                r
                for r in runs
                if any(simple_stem(ws[i].norm) in heads or is_cyrillic(ws[i].text) for i in r)
            ),
            [],
        )

    def _not_reacting(self, ws: Sequence[Word], i: int) -> bool:
        """A reaction word right after a negation ("did not comment", "не отреагировали")."""
        if ws[i] not in self.w.reacting or not any(
            x.norm in self.w.negations for x in ws[max(0, i - 2) : i]
        ):
            return False
        # "Who said the West did not respond?" asks who said so, not who stayed silent.
        return not any(x.norm in self.w.speech_verbs for x in ws[:i])

    def _roles(
        self, scan: _Scan, countries: Sequence[str], wants_set: bool
    ) -> tuple[tuple[str, ...], tuple[str, ...], Claim | None]:
        """A role phrase before any "about" ("foreign ministers", "Kremlin spokesman"), read in the
        archive's roles; the question's other words stay the topic."""
        ws = scan.ws
        idx = [
            i
            for i, w in enumerate(ws)
            if i < scan.about_at
            and scan.free(i)
            and w.norm not in self.w.ask
            and w.norm not in STOPWORDS
            and w.norm not in self.w.person_nouns
            and w.norm not in self.w.generic
            and w.norm not in self.w.speech_verbs
            and not w.norm.isdigit()
        ]
        idx = self._role_run(scan, idx)
        if not idx:
            return (), (), None
        wanted: list[tuple[tuple[str, ...], ...]] = []
        head = False
        j = 0
        while j < len(idx):
            i = idx[j]
            if is_cyrillic(ws[i].text):  # "министр иностранных дел": minister, foreign
                run = [i]
                while j + len(run) < len(idx) and idx[j + len(run)] == run[-1] + 1:
                    run.append(idx[j + len(run)])
                got = self.w.role_translations.match([ws[n].norm for n in run])
                if got is not None:
                    size, alts = got
                    wanted.append(alts)
                    head |= any(t in self.w.role_heads for p in alts for t in p)
                    j += size
                    continue
            s = simple_stem(ws[i].norm)
            wanted.append(self.w.role_synonyms.get(s, ((s,),)))
            head |= s in self.w.role_heads
            j += 1
        if not head:
            return (), (), None  # "Ukraine grain": a word in an organisation's name is no role
        roles = self.cat.roles_with(wanted)
        want = set(countries)
        people: list[np.ndarray] = []
        kept = []
        for r in roles:
            if not want or want & self.cat.countries_of_role(r):  # the role names the country
                people.append(self.cat.role_holders(r))
            elif held := want & self.cat.role_held_in(r):
                people.append(self.cat.role_holders(r, held))
            else:
                continue
            kept.append(r)
        roles = kept
        if not roles:
            return (), (), None
        if len(np.unique(np.concatenate(people))) > MAX_ROLE_SPEAKERS and not wants_set:
            return (), (), None
        for i in idx:
            scan.take(i, i + 1)
        said = tuple(ws[i].text for i in idx)
        claim = Claim(
            "role",
            tuple(roles),
            (min(idx), max(idx) + 1),
            "role.phrase",
            Strength.LIKELY,
            " ".join(said),
        )
        return tuple(roles), said, claim


def _stays_topic(c: Claim) -> bool:
    """A country spoken about stays a topic word ("What did Latvia say about Ukraine?")."""
    return c.slot == "about" and isinstance(c.value, str)


def _spelled_as(latin: str, folded: str) -> bool:
    """Is a transliterated Cyrillic word a case form of a Latin one: the same but for the
    Latin word's last letter and a case ending (Таллине ~ tallinn, Дружбы ~ druzhba, not
    Транснафти ~ transit)?"""
    n = max(len(latin) - 1, 4)
    return len(latin) >= 4 and n <= len(folded) <= len(latin) + 3 and latin[:n] == folded[:n]


def _is_name(w: Word) -> bool:
    """A capitalised Cyrillic word: a name the archive may spell in Latin letters."""
    return w.text[:1].isupper() and is_cyrillic(w.text)


def _stem_key(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """The part of each word that case endings leave alone (see ``_stem_eq``)."""
    return tuple(w[:4] for w in phrase)


def _stem_eq(a: str, b: str) -> bool:
    """Cyrillic case forms: Прибалтика ~ Прибалтике, Центральная ~ Центральной."""
    if a == b:
        return True
    n = max(len(a) - 2, 4)
    return len(b) >= n and a[:n] == b[:n]


__all__ = ["NUMBER", "Query", "Reader", "TimeSlot", "clean"]
