"""People by any spelling: who spoke, who is spoken about, and names the archive lacks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.claims import Claim, Strength
from index.gazetteer import CountryMatch
from index.lexical import simple_stem
from index.lexicon import Scan
from index.recognise.base import ReaderBase
from index.textnorm import QUOTED, STOPWORDS, Word, fold_forms, is_cyrillic, tokens

NAME_CUTOFF = 80.0  # a name matched below this (0-100) is not read as a person
NAME_CUTOFF_LOOSE = 70.0  # /who: the user said it is a name
SURE_NAME = 90.0  # a name matched at least this well in a speaker's place is certain
RARE_NAME_SHARE = 0.05  # a word typed in lower case is a name's only if this rare (share of rows)
NAME_SAMPLE = 5  # ... and one of its first rows writes it capitalised
NAME_BAND = 5.0  # people within this of the best match are all meant ("Aliyev" / "Aliev")


class PersonReading(ReaderBase):
    """Reads the people a question names, and a name no statement holds."""

    def _people(
        self,
        scan: Scan,
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

    def _unknown_name(self, scan: Scan, q: str) -> Claim | None:
        """A name the question asks about that no statement holds, in any spelling ("What did
        Emmanuel Macron say about Ukraine?", "Deutsche Welle", "what did macron say"): a run
        of capitalised Latin words before any "about", or the words where a speaker stands,
        none of which the archive has. Quoting the statements nearest the rest of the question
        would answer someone else. Quoted words are words to find, never a name."""
        ws = scan.ws
        quoted = [m.span() for m in QUOTED.finditer(q)]

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
            if any(is_cyrillic(ws[i].text) for i in run) and not self._speaker_place(ws, run):
                continue  # "победа Трампа", "индекс Мосбиржи", "МИД": no speaker's place
            if not any(self._known(ws[i]) for i in run):
                said = " ".join(ws[i].text for i in run)
                span = (min(run), max(run) + 1)
                return Claim(
                    "speaker", said, span, "person.unknown", Strength.LIKELY, said, missing=True
                )
        return None

    def _unquoted_name(self, scan: Scan) -> Claim | None:
        """A name where a speaker stands ("What did Solntsev say?", "What did Trump say?")
        that the quotes hold but nobody quoted carries: the archive only speaks of them. A
        missing speaker: the answer says they are not quoted and shows the quotes that speak
        of them (their words stay topic words)."""
        ws = scan.ws
        run = self._subject(scan) or self._cyrillic_subject(scan)
        if not run or not all(self._known(ws[i]) and self._written_as_name(ws[i]) for i in run):
            return None
        said = " ".join(ws[i].text for i in run)
        span = (min(run), max(run) + 1)
        return Claim("speaker", said, span, "person.unquoted", Strength.LIKELY, said, missing=True)

    def _cyrillic_subject(self, scan: Scan) -> list[int]:
        """The capitalised Cyrillic words beside a speech verb, before any "about" ("Что
        ответил Зорин", "Що Зорін казав"): who is asked about, as ``_subject`` is in Latin."""
        ws = scan.ws
        run: list[int] = []
        for i in range(min(scan.about_at, len(ws))):
            if scan.free(i) and is_cyrillic(ws[i].text) and self._name_like(ws[i]):
                if run and run[-1] != i - 1:
                    break
                run.append(i)
            elif run:
                break
        if not run or (run[0] == 0 and len(run) < 2) or not self._speaker_place(ws, run):
            return []
        return run

    def _written_as_name(self, w: Word) -> bool:
        """Whether a word is a name's: capitalised in the question, or, typed in lower case, a
        rare word the quotes write capitalised ("zorin", "admiral": Vice Admiral Zorin)."""
        if w.text[:1].isupper():
            return True
        if not 0 < self.cat.bm25.doc_freq(simple_stem(w.norm)) <= RARE_NAME_SHARE:
            return False
        said = re.compile(rf"\b{re.escape(w.norm)}", re.IGNORECASE)
        for row in self.cat.term_rows(w.norm)[:NAME_SAMPLE].tolist():
            m = said.search(self.cat.statements[row].text)
            if m is not None and m.group()[:1].isupper():
                return True
        return False

    def _speaker_place(self, ws: Sequence[Word], run: Sequence[int]) -> bool:
        """Whether a run of Cyrillic words stands where a speaker does, right beside a speech
        verb ("Что сказал Макрон", "Що Байден казав"), and is no abbreviation ("МИД")."""
        if any(len(ws[i].text) > 1 and ws[i].text.isupper() for i in run):
            return False
        near = [ws[j].norm for j in (run[0] - 1, run[-1] + 1) if 0 <= j < len(ws)]
        return any(n in self.w.speech_verbs for n in near)

    def _subject(self, scan: Scan) -> list[int]:
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
        skip = STOPWORDS | self.w.reflexives  # "what did Zorin himself say"
        span = [i for i in range(aux + 1, end) if scan.free(i) and ws[i].norm not in skip]
        if any(is_cyrillic(ws[i].text) or not self._unlisted(ws[i]) for i in span):
            return []
        return span
