"""Stage 2, understand: a question -> a ``Query``: every recogniser (``index/recognise/``:
time, outlets, places, events, people, kinds, roles) fires and returns claims, one policy
(``claims.resolve``) settles the words two of them want, and the words no claim took are the
topic. What a span means in context (speaker or spoken of, how sure) is data: the question
forms of ``index/data/forms.json`` (``index/grammar.py``)."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace

from index.catalog import Catalog
from index.claims import Claim, Strength, resolve
from index.gazetteer import english_names
from index.grammar import Grammar
from index.lexical import simple_stem
from index.lexicon import Scan, Words, is_name, same_spelling
from index.query import NUMBER, Query, TimeSlot, clean
from index.recognise.events import EventReading
from index.recognise.kinds import KindReading
from index.recognise.outlets import OutletReading
from index.recognise.people import PersonReading
from index.recognise.places import PlaceReading
from index.recognise.roles import RoleReading
from index.recognise.time import _YEAR, TimeReading
from index.stance import Asked, shared_acts
from index.textnorm import QUOTED, STOPWORDS, Word, is_cyrillic, words

MENTION_SHARE = 0.05  # a capitalised topic word rarer than this is a name to find verbatim
QUOTE_MIN_WORDS = 3  # a quoted phrase this long is a quotation, not a name ("«Медуза»")
TRANSLATED_SHARE = 0.5  # dictionary words join a Cyrillic topic's lexical side from this share


class Reader(
    TimeReading,
    OutletReading,
    PlaceReading,
    EventReading,
    PersonReading,
    KindReading,
    RoleReading,
):
    """Reads questions against one archive's catalog (names, countries, roles, outlets, events)."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog
        self.w = Words()
        self.grammar = Grammar()
        self.acts = shared_acts()
        self._act_vocab: dict[str, tuple[str, ...]] = {}  # act -> lexical terms, when asked
        self._vocab_stems = None  # built at the first Cyrillic name
        self._vocab_first = None  # built at the first Cyrillic name in a speaker's place
        self._vocab_consonants = {}  # filled a first letter at a time, by Cyrillic names
        self._vocab_skeletons = {}  # filled a first letter at a time, by Latin spellings
        self._init_outlets()
        self._init_places()
        self._init_events()

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
        scan = Scan(ws, [False] * len(ws), about_at, unicodedata.normalize("NFC", q))
        norms = [w.norm for w in ws]
        # The question's shape ("Which ...": a set; "Who said ...": a speaker is the answer;
        # "others": not the person named) is read by the forms, as claims of their own.
        claims = [
            Claim("shape", shape, (0, 0), rule, Strength.CERTAIN, shape)
            for shape, rule in self.grammar.shapes(ws)
        ]
        shapes = {c.value for c in claims}
        asks_speaker, wants_set, others = (x in shapes for x in ("asks_speaker", "set", "others"))
        claims += self._time(scan)
        asked = self.acts.asked(ws)  # "Who congratulated ...": the act, a boost for those who did
        if asked is not None:
            rule = f"act.{asked.acts[0]}" + (".negated" if asked.negated else "")
            claims.append(Claim("act", asked.acts, asked.span, rule, Strength.LATENT, asked.text))
        events, event_certain, event_idx = self._event(scan)
        # Names, places and outlets all fire on the same free words; one policy settles overlaps.
        country_matches = self.cat.countries_matcher.match(q)
        pool = [
            *self._outlet(scan.copy(), q),
            *self._region(scan.copy()),
            *self._people(scan.copy(), q, asks_speaker, others, loose, country_matches),
            *self._countries(scan.copy(), q, country_matches),
        ]
        quotations, pool = _quotations(scan, pool)
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
        kind_claims = self._kinds(scan, speakers, places, bool(about_speakers), wants_set)
        claims += kind_claims
        regions = tuple(c.value[0] for c in kept if c.slot == "region" and not c.missing)
        region_countries = [x for c in kept if c.slot == "region" for x in c.value[1]]
        countries = tuple(dict.fromkeys([*countries, *region_countries]))
        places_after = {
            c.span[0]: c.value
            for c in kept
            if c.slot == "about" and isinstance(c.value, str) and c.span[1] > c.span[0]
        }
        # "the Baltic presidents": a role is held in the region's countries too.
        roles, role_words, role_claim = self._roles(scan, countries, wants_set, places_after)
        if roles and about_speakers:
            roles, about_speakers, about = self._role_owners(roles, about_speakers, about)
        if role_claim is not None:
            claims.append(replace(role_claim, value=roles))
            if role_claim.rule == "role.plural" and not wants_set:
                # "What did the foreign ministers say?" wants every one, as "Which ..." does.
                wants_set = True
                claims.append(
                    Claim(
                        "shape",
                        "set",
                        role_claim.span,
                        "shape.plural-role",
                        Strength.LIKELY,
                        role_claim.text,
                    )
                )
        if not (speakers or asks_speaker or any(c.missing for c in claims)) and (
            unknown := self._unknown_name(scan, q) or self._unquoted_name(scan)
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
            # A time word beside them ("the day of the suspension") names no topic either.
            forms = self._event_forms(scan)
            named = self._events[events[0]]
            if all(
                not forms[i].isdisjoint(named) or norms[i] in self.w.time_words for i in topic_idx
            ) and any(norms[i] not in self.w.time_words for i in topic_idx):
                event_certain = True
                event_idx = list(topic_idx)
                topic_idx = []
        if events:
            claims.append(self._event_claim(ws, events, event_certain, event_idx))
        time = self._time_slot(claims)
        topic = " ".join(ws[i].text for i in topic_idx)
        silence = any(ws[i] in self.w.silence for i in topic_idx)
        cyrillic = any(is_cyrillic(ws[i].text) for i in topic_idx)
        translated, lent, read = self._translated(ws, topic_idx, asked)
        spelled = tuple(
            dict.fromkeys(
                [
                    *(
                        t
                        for i in topic_idx
                        for t in self._spelled(ws[i])
                        # A lower-case word only by the same spelling: "гривня", hryvnia.
                        if is_name(ws[i]) or same_spelling(t, ws[i].norm)
                        # A name most statements hold ("Trump" in his election's
                        # compilation) tells none apart: as a topic word it only adds noise.
                        if not self.cat.generic_term(t)
                    ),
                    *translated,
                    # A Latin spelling the quotes write otherwise: "Solntzev", solntsev.
                    *(t for i in topic_idx for t in self._respelled(ws[i])),
                ]
            )
        )
        spelled, about_spelled = self._place_spellings(ws, kept, spelled)
        terms = self._terms(ws, topic_idx)
        numbers = tuple(
            n for i in topic_idx for n in NUMBER.findall(ws[i].text) if not _YEAR.match(n)
        )
        mentions = self._mentions(ws, topic_idx)
        phrases = self._phrases(ws, topic_idx)
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
            phrases=phrases,
            acts=asked.acts if asked else (),
            act_negated=bool(asked and asked.negated),
            claims=tuple(sorted(claims, key=lambda c: c.span)),
            cyrillic=cyrillic,
            spelled=spelled,
            about_spelled=about_spelled,
            lent=tuple(dict.fromkeys(w for w in lent if w not in spelled)),
            translated=read,
            quoted=tuple(said.strip() for _, said in quotations),
            loose=loose,
        )

    def _place_spellings(
        self, ws: Sequence[Word], kept: Sequence[Claim], spelled: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The topic's spellings split in two: its own, and those of a place a Cyrillic
        question speaks of ("ціни на газ в Україні": ukrain), which rank but are no evidence
        that a quote speaks of the topic. A country the archive never quotes lends its
        English names too ("про Туреччину": turkey, turkish); a quoted country's would lead
        with its own statements (their speakers' roles say "Kazakh"), not with what others
        said of it."""
        place_idx = {
            i
            for c in kept
            if c.slot == "about" and isinstance(c.value, str)
            for i in range(*c.span)
            if is_cyrillic(ws[i].text)
        }
        place_spelled = {t for i in place_idx for t in self._spelled(ws[i])}
        place_names = [
            t
            for c in kept
            if c.rule == "about.unquoted-country" and is_cyrillic(c.text)
            for t in english_names(c.value)
        ]
        about_spelled = tuple(
            dict.fromkeys([*(t for t in spelled if t in place_spelled), *place_names])
        )
        return tuple(t for t in spelled if t not in place_spelled), about_spelled

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
            and not self.cat.generic_term(simple_stem(ws[i].norm))
        )

    def _phrases(self, ws: Sequence[Word], idx: Sequence[int]) -> tuple[tuple[str, str], ...]:
        """Pairs of specific English topic words the question writes side by side, as stems."""
        return tuple(
            (simple_stem(ws[i].norm), simple_stem(ws[j].norm))
            for i, j in itertools.pairwise(idx)
            if j == i + 1
            and not is_cyrillic(ws[i].text + ws[j].text)
            and self._terms(ws, (i, j)) == (ws[i].norm, ws[j].norm)
            and self.acts.asked([ws[i]]) is None  # the act asked for is the stance's to weigh
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

    def _translated(
        self, ws: Sequence[Word], idx: Sequence[int], asked: Asked | None = None
    ) -> tuple[list[str], list[str], tuple[str, ...]]:
        """English words the dictionaries give for the topic's Cyrillic words (role words,
        event words), so its quotes can be found by their words too ("пресс-секретарь
        Кремля": spokesman, press secretary, kremlin), when they and the names the archive
        spells stand for at least ``TRANSLATED_SHARE`` of the topic's words. An act the
        question asks for ("поздравил") gives the archive's words for it (congratulate,
        congratulations), unless it is negated. Second, the words the news domain's
        dictionary gives the words the others do not read ("перезавантаження": reset): lent
        to the ranking, never evidence. Third, the Cyrillic words those English words stand
        for (the glossary is not asked for them)."""
        out: list[str] = []
        lent: list[str] = []
        read: list[str] = []
        free = set(idx)
        covered = 0
        i = 0
        while i < len(ws):
            if i in free and is_cyrillic(ws[i].text):
                if asked is not None and i == asked.span[0]:
                    # A negated act ("не поздравил") lends no words: the quotes that perform
                    # it are the ones the question does not ask for.
                    out += [] if asked.negated else self._act_terms(asked.acts)
                    covered += 1
                    i += 1
                    continue
                found = self._dictionary_words(ws, i, free)
                if found is not None:
                    size, english, is_lent = found
                    (lent if is_lent else out).extend(english)
                    if english:
                        read += [ws[j].text.lower() for j in range(i, i + size)]
                    i += size
                    covered += size
                    continue
                if is_name(ws[i]) and self._spelled(ws[i]):
                    covered += 1
            i += 1
        # One known word of a longer topic ("грузовики с зерном": grain) would outweigh its
        # meaning in the lexical score: the English words count when they stand for enough.
        if covered < TRANSLATED_SHARE * len(idx):
            return [], [], ()
        return out, lent, tuple(dict.fromkeys(read))

    def _dictionary_words(
        self, ws: Sequence[Word], i: int, free: set[int]
    ) -> tuple[int, tuple[str, ...], bool] | None:
        """The words from ``i`` a dictionary reads, all free: how many, their English words
        and whether they are only lent. The curated dictionaries first (event and role words:
        evidence); then, but for an act's word (the stance's to weigh: none), the news
        domain's (lent)."""
        norms = [x.norm for x in ws[i:]]
        got = self.w.english.match(norms)
        if got is not None and all(j in free for j in range(i, i + got[0])):
            return got[0], got[1], False
        if self.acts.acts_of(ws[i]):
            return 1, (), True
        got = self.w.news.match(norms)
        if got is not None and all(j in free for j in range(i, i + got[0])):
            return got[0], got[1], True
        return None

    def _act_terms(self, acts: Sequence[str]) -> list[str]:
        """The archive's words (its lexical index's terms) that begin with an act's statement
        cues (acts.json): what a statement that performs the act says."""
        out: list[str] = []
        for act in acts:
            got = self._act_vocab.get(act)
            if got is None:
                cues = self.acts.stems.get(act, ())
                got = tuple(t for t in self.cat.bm25.vocab if cues and t.startswith(cues))
                self._act_vocab[act] = got
            out += got
        return out


def _quotations(
    scan: Scan, pool: list[Claim]
) -> tuple[list[tuple[tuple[int, int], str]], list[Claim]]:
    """The question's quotations (text span, phrase; three words or more) and the claims
    left once those inside one are dropped: a quotation's words are words to find
    ("«дипломатія через голови українців»"), not a place or a person to scope by. A claim
    covering a whole quotation is a name quoted whole ("«Нью-Йорк таймс»"): it stays, and
    that quotation is no phrase to look for."""
    ws = scan.ws
    quotations = [
        (m.span(), m.group(next(g for g in range(1, 5) if m.group(g) is not None)))
        for m in QUOTED.finditer(scan.text)
        if len(words(m.group())) >= QUOTE_MIN_WORDS
    ]
    names = {said for span, said in quotations for c in pool if _covers(ws, c.span, span)}
    quotations = [(span, said) for span, said in quotations if said not in names]
    kept = [c for c in pool if not any(_inside(ws, c.span, span) for span, _ in quotations)]
    return quotations, kept


def _inside(ws: Sequence[Word], span: tuple[int, int], text_span: tuple[int, int]) -> bool:
    """Whether the words ``span`` covers lie within the text span."""
    if span[1] <= span[0]:
        return False
    return text_span[0] <= ws[span[0]].start and ws[span[1] - 1].end <= text_span[1]


def _covers(ws: Sequence[Word], span: tuple[int, int], text_span: tuple[int, int]) -> bool:
    """Whether a claim's words are all the words a quotation holds (a name in quotes)."""
    inside = [w for w in ws if text_span[0] <= w.start and w.end <= text_span[1]]
    return _inside(ws, span, text_span) and span[1] - span[0] >= len(inside)


def _stays_topic(c: Claim) -> bool:
    """A country spoken about stays a topic word ("What did Latvia say about Ukraine?")."""
    return c.slot == "about" and isinstance(c.value, str)


__all__ = ["NUMBER", "Query", "Reader", "TimeSlot", "Words", "clean"]
