"""Dates, months, years and newest/oldest: time claims whose strength the forms decide."""

from __future__ import annotations

import re
from dataclasses import replace

from index.claims import Claim, Strength
from index.lexicon import Scan, month_of
from index.query import TimeSlot
from index.recognise.base import ReaderBase
from index.textnorm import is_cyrillic

_YEAR = re.compile(r"^(19|20)\d\d$")
_DAY = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")
_AMBIGUOUS_MONTHS = frozenset({"may", "mar", "march"})  # a verb, a noun: only beside a date
_DASHES = frozenset({"-", "\u2013", "\u2014"})  # between the days of a range: "27-28"


class TimeReading(ReaderBase):
    """Reads when: dates, months and years as claims, and newest or oldest first."""

    def _time(self, scan: Scan) -> list[Claim]:
        """Dates, months and years, each a claim whose strength the forms decide (a bare
        number is a latent year: "the 2025 budget"), and newest/oldest as an order claim.
        A latent claim keeps its words in the topic."""
        ws = scan.ws
        norms = [w.norm for w in ws]
        claims: list[Claim] = []
        for i, n in enumerate(norms):
            m = month_of(ws[i]) if scan.free(i) else None
            if m is None:
                continue
            day = year = last_day = 0
            take = [i]
            for j in (i - 1, i + 1, i + 2, i + 3):  # "7 November", "November 7, 2024"
                if 0 <= j < len(ws) and scan.free(j):
                    dm = _DAY.match(norms[j])
                    if _YEAR.match(norms[j]) and not year and i < j <= max(i + 2, max(take) + 1):
                        year = int(norms[j])
                        take.append(j)
                        take += self._year_word(scan, j)
                    elif dm and not day and 1 <= int(dm.group(1)) <= 31 and j in (i - 1, i + 1):
                        day = int(dm.group(1))
                        take.append(j)
                        if (other := self._day_range(scan, j, i)) is not None:
                            k, other_day = other
                            day, last_day = min(day, other_day), max(day, other_day)
                            take.append(k)
            if not day and not year and (n in _AMBIGUOUS_MONTHS or len(n) <= 4):
                continue  # "may" alone is a verb, "mar" a word
            span = (min(take), max(take) + 1)
            said = " ".join(ws[j].text for j in sorted(take))
            last_day = max(last_day, day)
            if year and day:
                slot = TimeSlot(year * 10000 + m * 100 + day, year * 10000 + m * 100 + last_day)
            elif year:
                slot = TimeSlot(year * 10000 + m * 100 + 1, year * 10000 + m * 100 + 31)
            elif day:
                slot = TimeSlot(month_day=m * 100 + day, month_day_end=m * 100 + last_day)
            else:
                slot = TimeSlot(month=m)
            if day or year:
                # "since July 17", "с 17 июля": when something began, not when it was said.
                d = self.grammar.decide(ws, span, "date")
                rule, strength = (d.rules[0] if d.rules else "time.date"), d.strength
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

    @staticmethod
    def _day_range(scan: Scan, j: int, month: int) -> tuple[int, int] | None:
        """The other day of a range joined to the day at ``j`` by a dash, on the side away
        from the month at ``month`` ("Feb 27-28", "27–28 февраля"): its index and day."""
        k = j + 1 if j > month else j - 1
        if not (0 <= k < len(scan.ws)) or not scan.free(k):
            return None
        a, b = sorted((j, k))
        between = scan.text[scan.ws[a].end : scan.ws[b].start]
        m = _DAY.match(scan.ws[k].norm)
        if m is None or not 1 <= int(m.group(1)) <= 31 or between.strip() not in _DASHES:
            return None
        return k, int(m.group(1))

    def _time_claim(
        self,
        scan: Scan,
        slot: TimeSlot,
        span: tuple[int, int],
        said: str,
        rule: str,
        strength: Strength,
    ) -> Claim:
        slot = replace(slot, order=None, text=said)
        if strength > Strength.LATENT:
            scan.take(*span)
        return Claim("time", slot, span, rule, strength, said)

    def _year_word(self, scan: Scan, i: int) -> list[int]:
        """The word "year" after the year at ``i``, which Russian and Ukrainian say ("в 2029
        году", "у 2029 році"): part of the date, not of the topic."""
        j = i + 1
        if j < len(scan.ws) and scan.free(j) and scan.ws[j].norm in self.w.year_words:
            return [j]
        return []

    def _order(self, scan: Scan, said: list[str]) -> str | None:
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
