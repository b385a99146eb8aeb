"""Role phrases ("foreign ministers", "Kremlin spokesman"), read in the archive's roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from index.claims import Claim, Strength
from index.lexical import simple_stem
from index.lexicon import Scan
from index.recognise.base import ReaderBase
from index.textnorm import STOPWORDS, Word, is_cyrillic

MAX_ROLE_SPEAKERS = 3  # a role in a non-set question is specific only when it picks out few


class RoleReading(ReaderBase):
    """Reads the roles a question names."""

    def _role_run(self, scan: Scan, idx: Sequence[int]) -> list[int]:
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

        def has_head(r: list[int]) -> bool:
            norms = [ws[i].norm for i in r]
            return any(
                simple_stem(ws[i].norm) in heads
                or (is_cyrillic(ws[i].text) and self.w.role_translations.match(norms[n:]))
                for n, i in enumerate(r)
            )

        # A Cyrillic run counts when a role dictionary reads some of it ("нынешних и бывших"
        # alone is no role; "министров" after them is). A run of a body's words counts when
        # people follow it ("the Valdai Club people", see _people_of_body).
        return next((r for r in runs if has_head(r) or self._people_of_body(scan, r)), [])

    def _people_of_body(self, scan: Scan, run: Sequence[int]) -> bool:
        """Whether a person noun follows the run ("Valdai Club people", "Grain Association
        experts"): the words of a body the roles name, then people, are whoever holds a role
        there. A Cyrillic run is read through the role dictionaries only."""
        ws = scan.ws
        after = run[-1] + 1 if run else len(ws)
        return (
            bool(run)
            and not any(is_cyrillic(ws[i].text) for i in run)
            and after < len(ws)
            and scan.free(after)
            and ws[after].norm in self.w.person_nouns
        )

    def _beside_anyone(self, scan: Scan, run: Sequence[int]) -> bool:
        """Whether the role phrase is joined to a person noun ("officials and experts",
        "эксперты и политики"): the two together are anyone, so the role narrows nothing."""
        ws = scan.ws

        def anyone(i: int) -> bool:
            return ws[i].norm in self.w.person_nouns and not self._names_role(ws[i])

        before, after = run[0] - 2, run[-1] + 2
        return (before >= 0 and ws[before + 1].norm in self.w.conjunctions and anyone(before)) or (
            after < len(ws) and ws[after - 1].norm in self.w.conjunctions and anyone(after)
        )

    def _names_role(self, w: Word) -> bool:
        """Whether a word for people names a kind of role too ("experts", "эксперты":
        roles.json people_roles and translations), not anyone ("officials", "люди")."""
        if is_cyrillic(w.text):
            got = self.w.role_translations.match([w.norm])
            return got is not None and not self._anyone(got[1])
        return simple_stem(w.norm) in self.w.people_roles

    def _anyone(self, alts: tuple[tuple[str, ...], ...]) -> bool:
        """Whether a Cyrillic word's English phrases are all words for anyone ("чиновники":
        officials), none of which names a kind of role ("лідери": leaders)."""
        return all(
            len(p) == 1 and p[0] in self.w.person_stems and p[0] not in self.w.people_roles
            for p in alts
        )

    def _synonyms(self, stem: str) -> tuple[tuple[str, ...], ...]:
        """The phrases a role word's stem may stand for (roles.json synonyms and seats)."""
        return self.w.role_synonyms.get(stem, ())

    def _roles(
        self,
        scan: Scan,
        countries: Sequence[str],
        wants_set: bool,
        places_after: Mapping[int, str] | None = None,
    ) -> tuple[tuple[str, ...], tuple[str, ...], Claim | None]:
        """A role phrase before any "about" ("foreign ministers", "Kremlin spokesman"), read in the
        archive's roles; the question's other words stay the topic. A country spoken of right
        after the phrase (``places_after``: word index -> country; "ambassador to Georgia")
        is where the role must be, as a country the speaker is from is."""
        ws = scan.ws
        idx = [
            i
            for i, w in enumerate(ws)
            if i < scan.about_at
            and scan.free(i)
            and w.norm not in self.w.ask
            and w.norm not in STOPWORDS
            and (w.norm not in self.w.person_nouns or self._names_role(w))
            and w.norm not in self.w.generic
            and w.norm not in self.w.speech_verbs
            and not w.norm.isdigit()
        ]
        idx = self._role_run(scan, idx)
        if not idx or self._beside_anyone(scan, idx):
            return (), (), None
        wanted: list[tuple[tuple[str, ...], ...]] = []
        head = plural = False  # plural: "presidents", "министров" ask for every holder
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
                    if self._anyone(alts):
                        # "лідерів", "чиновников": anyone, as "leaders" and "officials" are
                        # in English (person nouns, no role)
                        j += size
                        continue
                    # A translated word has the English word's synonyms too ("Кремля":
                    # kremlin, whose seat words are putin and russian president).
                    alts = tuple(
                        dict.fromkeys(
                            [
                                *alts,
                                *(x for p in alts if len(p) == 1 for x in self._synonyms(p[0])),
                            ]
                        )
                    )
                    wanted.append(alts)
                    heads = any(t in self.w.role_heads for p in alts for t in p)
                    head |= heads
                    plural |= heads and ws[i].text.lower().endswith(self.w.role_plural_endings)
                    j += size
                    continue
            s = simple_stem(ws[i].norm)
            wanted.append(self.w.role_synonyms.get(s, ((s,),)))
            head |= s in self.w.role_heads
            plural |= s in self.w.role_heads and ws[i].norm == s + "s"
            j += 1
        if not head and self._people_of_body(scan, idx):
            head = plural = True  # every one of them
        if not head:
            return (), (), None  # "Ukraine grain": a word in an organisation's name is no role
        roles = self.cat.roles_with(wanted)
        want = set(countries)
        if places_after:  # "ambassador to Georgia": one word (to, of, in) may stand between
            end = idx[-1] + 1
            want |= {places_after[i] for i in (end, end + 1) if i in places_after}
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
        if len(np.unique(np.concatenate(people))) > MAX_ROLE_SPEAKERS and not (wants_set or plural):
            return (), (), None
        for i in idx:
            scan.take(i, i + 1)
        said = tuple(ws[i].text for i in idx)
        claim = Claim(
            "role",
            tuple(roles),
            (min(idx), max(idx) + 1),
            "role.plural" if plural else "role.phrase",
            Strength.LIKELY,
            " ".join(said),
        )
        return tuple(roles), said, claim
