"""Kinds of statement: markets, unnamed sources, the "no remarks" notes."""

from __future__ import annotations

from collections.abc import Sequence

from index.claims import Claim, Strength
from index.lexical import simple_stem
from index.lexicon import Scan
from index.recognise.base import ReaderBase
from index.textnorm import STOPWORDS, Word


class KindReading(ReaderBase):
    """Reads which kinds of statement a question asks for."""

    def _kinds(
        self,
        scan: Scan,
        speakers: Sequence[str],
        places: set[int],
        about_people: bool = False,
        wants_set: bool = False,
    ) -> list[Claim]:
        """Markets, unnamed sources and the "no remarks" notes, one claim per kind. A negated
        reaction with someone spoken of ("Why didn't Putin congratulate Trump?") is that
        person's, not the notes' question. A set whose noun is a traded thing ("Which
        currencies fell?") is market items; the noun stays a topic word that ranks them."""
        if speakers:
            return []
        norms = [w.norm for w in scan.ws]
        found: dict[str, Claim] = {}
        if wants_set:
            for i in range(1, min(scan.about_at, len(norms))):
                if (
                    norms[i - 1] in self.w.set_words
                    and scan.free(i)
                    and simple_stem(norms[i]) in self.w.instruments
                ):
                    said = scan.ws[i].text
                    found["market"] = Claim(
                        "kind", "market", (i, i + 1), "kind.market-set", Strength.LIKELY, said
                    )
                    break
        for i, n in enumerate(norms):
            if i >= scan.about_at or not scan.free(i):
                continue
            kind = self.w.kinds.get(scan.ws[i])  # markets, unnamed sources, notes
            if kind is None and not about_people and self._not_reacting(scan.ws, i):
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

    def _silence_of(self, scan: Scan, i: int, places: set[int]) -> bool:
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

    def _not_reacting(self, ws: Sequence[Word], i: int) -> bool:
        """A reaction word right after a negation ("did not comment", "не отреагировали")."""
        if ws[i] not in self.w.reacting or not any(
            x.norm in self.w.negations for x in ws[max(0, i - 2) : i]
        ):
            return False
        # "Who said the West did not respond?" asks who said so, not who stayed silent.
        return not any(x.norm in self.w.speech_verbs for x in ws[:i])
