"""Countries (where the speakers are, or spoken about) and regions."""

from __future__ import annotations

from collections.abc import Sequence

from index.catalog import load_data
from index.claims import Claim, Strength
from index.gazetteer import CountryMatch
from index.lexicon import Scan, stem_key
from index.recognise.base import ReaderBase
from index.textnorm import fold_forms, is_cyrillic


class PlaceReading(ReaderBase):
    """Reads the countries and regions a question names."""

    _regions: dict[tuple[str, ...], tuple[str, tuple[str, ...], bool]]
    _stemmed: dict[tuple[str, ...], list[tuple[str, ...]]]

    def _init_places(self) -> None:
        self._regions = self._region_phrases()
        # Cyrillic region names by their words' stems, so case forms are found without a scan.
        self._stemmed = {}
        for k, v in self._regions.items():
            if v[2]:
                self._stemmed.setdefault(stem_key(k), []).append(k)

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

    def _region(self, scan: Scan) -> list[Claim]:
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

    def _countries(
        self, scan: Scan, q: str, country_matches: Sequence[CountryMatch]
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
        # "про Туреччину": a country the archive never quotes, named in Cyrillic after an
        # about word, is what the question speaks of (its English names then rank the quotes;
        # an English name is a topic word as it is).
        spoken_of = q[len(subject) :]
        for m in self.cat.countries_matcher.missing(q) if is_cyrillic(spoken_of) else ():
            idx = scan.span_words(*m.span)
            if not idx or m.country in seen or min(idx) < scan.about_at:
                continue
            if not is_cyrillic(m.text):
                continue
            if not all(scan.free(i) for i in idx):
                continue
            seen.add(m.country)
            span = (min(idx), max(idx) + 1)
            claims.append(
                Claim("about", m.country, span, "about.unquoted-country", Strength.LIKELY, m.text)
            )
        return claims
