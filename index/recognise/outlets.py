"""Outlets by any alias, in Latin or Cyrillic letters."""

from __future__ import annotations

from index.catalog import load_data
from index.claims import Claim, Strength
from index.lexicon import Scan, stem_key
from index.recognise.base import ReaderBase
from index.tables import outlet_key
from index.textnorm import STOPWORDS, Word, fold_forms, is_cyrillic


class OutletReading(ReaderBase):
    """Reads the outlets a question names."""

    _outlets: dict[tuple[str, ...], tuple[str, tuple[str, ...]]]
    _outlet_stemmed: dict[tuple[str, ...], list[tuple[str, ...]]]

    def _init_outlets(self) -> None:
        self._outlets = self._outlet_phrases()
        # Cyrillic outlet names too: Интерфакса, «Медузы».
        self._outlet_stemmed = {}
        for group in load_data("outlets.json")["outlets"]:
            for alias in group:
                for form in fold_forms(alias) if is_cyrillic(alias) else ():
                    key = tuple(form.split())
                    if key in self._outlets:
                        self._outlet_stemmed.setdefault(stem_key(key), []).append(key)

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

    def _outlet(self, scan: Scan, q: str) -> list[Claim]:
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
