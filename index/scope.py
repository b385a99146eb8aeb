"""The scope: which statements a question's claims allow. Certain claims filter; likely ones
filter unless they would leave nothing (then they are dropped, and their words ranked as
topic words); latent ones only boost; a claim on what the archive lacks never narrows. The
ranker ranks what the scope leaves; the answer says what the scope dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.catalog import Catalog
from index.claims import Claim, Strength
from index.query import Query, TimeSlot

# The order likely claims are tried in when several would not all fit: who spoke first, then
# what they were, where, what kind, where it was cited, in which compilation, about whom, when.
RELAX_ORDER = ("speaker", "role", "place", "kind", "outlet", "event", "about", "time")
# Kinds of statement that hold no speaker's role: asked for with a role ("which Central Asian
# leaders did not congratulate": the notes of no remarks), the kind is tried before the role,
# which such statements cannot fit.
ROLELESS_KINDS = frozenset({"note", "market"})
KIND_BEFORE_ROLE = ("speaker", "kind", *(n for n in RELAX_ORDER if n not in ("speaker", "kind")))
# Which filter each claim slot belongs to (a region is a place; an order is no filter).
GROUP = {
    "speaker": "speaker",
    "role": "role",
    "country": "place",
    "region": "place",
    "outlet": "outlet",
    "time": "time",
    "event": "event",
    "kind": "kind",
    "about": "about",
}


def time_rows(slot: TimeSlot, first: np.ndarray, last: np.ndarray) -> np.ndarray | None:
    """Rows cited in the period (by their first or last citation date), or None when the slot
    names only an order."""
    masks = []
    if slot.start:
        masks.append(
            ((first >= slot.start) & (first <= slot.end))
            | ((last >= slot.start) & (last <= slot.end))
        )
    if slot.month_day:
        a, b = slot.month_day, max(slot.month_day_end, slot.month_day)
        masks.append(
            ((first % 10000 >= a) & (first % 10000 <= b))
            | ((last % 10000 >= a) & (last % 10000 <= b))
        )
    if slot.month:
        masks.append(((first // 100) % 100 == slot.month) | ((last // 100) % 100 == slot.month))
    if not masks:
        return None
    mask = masks[0]
    for m in masks[1:]:
        mask &= m
    return np.flatnonzero(mask)


def union(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Rows in any of the sets. Every row set is sorted and unique (the catalog keeps rows in
    archive order), so one set is its own union: no sort of a large country or role."""
    arrays = [a for a in arrays if len(a)]
    if len(arrays) == 1:
        return np.asarray(arrays[0], dtype=np.int64)
    return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.int64)


@dataclass(frozen=True)
class Narrowed:
    """What the scope made of a question.

    ``rows``: the statements allowed (None: the whole archive). ``query``: the reading the
    ranker should use — the dropped claims' slots emptied, their words joined to the topic.
    ``dropped``: likely claims that would have left nothing, and claims on what the archive
    lacks. ``rows`` empty: the certain claims together left nothing. ``latent``: rows each
    latent claim points at, for a boost."""

    rows: np.ndarray | None
    query: Query
    dropped: tuple[Claim, ...] = ()
    latent: tuple[np.ndarray, ...] = ()


class Scope:
    """Filters and relaxes a reading's claims over one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.cat = catalog

    def narrow(self, q: Query) -> Narrowed:
        missing = tuple(c for c in q.claims if c.missing)
        groups = self._groups(q)
        order = KIND_BEFORE_ROLE if ROLELESS_KINDS & set(q.kinds) else RELAX_ORDER
        filters = [(name, *groups[name]) for name in order if name in groups]
        certain = [(n, r) for n, s, r in filters if s == Strength.CERTAIN]
        rows: np.ndarray | None = None
        for _, r in certain:
            rows = r if rows is None else np.intersect1d(rows, r, assume_unique=True)
        if rows is not None and not len(rows):  # certain claims that leave nothing together
            return Narrowed(rows, q, missing)
        dropped_groups: list[str] = []
        for name, strength, r in filters:
            if strength != Strength.LIKELY:
                continue
            narrowed = r if rows is None else np.intersect1d(rows, r, assume_unique=True)
            if len(narrowed):
                rows = narrowed
            else:
                dropped_groups.append(name)
        dropped = tuple(
            c
            for c in q.claims
            if not c.missing
            and c.strength == Strength.LIKELY
            and GROUP.get(c.slot) in dropped_groups
        )
        latent = tuple(
            r
            for c in q.claims
            if c.strength == Strength.LATENT and not c.missing
            for r in [self._latent_rows(c)]
            if r is not None and len(r)
        )
        query = relax(q, dropped) if dropped else q
        return Narrowed(rows, query, missing + dropped, latent)

    # ------------------------------------------------------------ claims -> rows

    def _groups(self, q: Query) -> dict[str, tuple[Strength, np.ndarray]]:
        """Each filter the reading makes: its strength (its claims' strongest) and its rows."""
        cat = self.cat
        out: dict[str, tuple[Strength, np.ndarray]] = {}

        def strength(*slots: str) -> Strength:
            found = [
                c.strength for c in q.claims if c.slot in slots and not c.missing and c.strength
            ]
            return max(found, default=Strength.LIKELY)

        if q.speakers:
            rows = union([np.asarray(cat.speakers[k].ids, np.int64) for k in q.speakers])
            out["speaker"] = (strength("speaker"), rows)
        in_countries = union([cat.by_country[c] for c in q.countries]) if q.countries else None
        if q.roles:
            rows_r = union([cat.role_rows[r] for r in q.roles])
            if in_countries is not None:
                # "Estonian prime minister" is the role's own country, whatever the heading.
                want = set(q.countries)
                named = [cat.role_rows[r] for r in q.roles if want & cat.countries_of_role(r)]
                rows_r = union([np.intersect1d(rows_r, in_countries), *named])
                in_countries = None
            out["role"] = (strength("role"), rows_r)
        if in_countries is not None:
            out["place"] = (strength("country", "region"), in_countries)
        if q.outlets:
            # What cites the outlet, and what the outlet says itself where it is quoted.
            said = [cat.spoken_by_outlet(o) for o in q.outlets]
            out["outlet"] = (
                strength("outlet"),
                union([*(cat.by_outlet[o] for o in q.outlets), *said]),
            )
        if q.time is not None:
            rows_t = time_rows(q.time, cat.row_date, cat.row_date_last)
            if rows_t is not None:
                out["time"] = (strength("time"), rows_t)
        if q.events and q.event_certain:
            out["event"] = (strength("event"), union([cat.by_doc[d] for d in q.events]))
        if q.kinds:
            empty = np.zeros(0, np.int64)
            out["kind"] = (strength("kind"), union([cat.by_kind.get(k, empty) for k in q.kinds]))
        if q.about_speakers and not q.speakers:
            own = union([np.asarray(cat.speakers[k].ids, np.int64) for k in q.about_speakers])
            mentions = union([cat.text_rows(w) for w in q.about])
            out["about"] = (strength("about"), np.setdiff1d(mentions, own))
        return out

    def _latent_rows(self, c: Claim) -> np.ndarray | None:
        """The rows a latent claim points at: a bare year's, a case-form outlet's."""
        cat = self.cat
        if c.slot == "time" and isinstance(c.value, TimeSlot):
            return time_rows(c.value, cat.row_date, cat.row_date_last)
        if c.slot == "outlet":
            return union([cat.by_outlet[o] for o in c.value if o in cat.by_outlet])
        return None


def relax(q: Query, dropped: Sequence[Claim]) -> Query:
    """The reading without the dropped claims: their slots emptied, their words ranked as
    topic words ("the ruble in 1999" with nothing dated 1999: the ruble, 1999)."""
    slots = {c.slot for c in dropped}
    changes: dict[str, object] = {}
    if "speaker" in slots:
        changes.update(speakers=(), speaker_score=0.0)
    if "role" in slots:
        changes.update(roles=(), role_words=())
    if slots & {"country", "region"}:
        changes.update(countries=(), regions=())
    if "outlet" in slots:
        changes["outlets"] = ()
    if "time" in slots and q.time is not None:
        changes["time"] = TimeSlot(order=q.time.order, text="") if q.time.order else None
    if "event" in slots:
        changes["event_certain"] = False
    if "kind" in slots:
        changes["kinds"] = ()
    if "about" in slots:
        changes.update(about_speakers=(), about=())
    said = [c.text for c in dropped if c.text and c.text not in q.topic]
    terms = [w for c in dropped for w in c.words if w not in q.topic_terms]
    changes["topic"] = " ".join([q.topic, *said]).strip()
    changes["topic_terms"] = (*q.topic_terms, *dict.fromkeys(terms))
    return replace(q, **changes)  # type: ignore[arg-type]


__all__ = ["GROUP", "RELAX_ORDER", "Narrowed", "Scope", "relax", "time_rows", "union"]
