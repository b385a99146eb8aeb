"""What the query stages derive from an archive's statements, computed once at build and kept
in the bundle: columns per statement row, rows grouped by country, compilation, kind, outlet
and role, speakers merged across spellings, the lexical index and the name index.

Opening a bundle reads these as memory-mapped ``.npy`` arrays (the long lists of strings
packed into byte arrays among them) and a small JSON file of strings (``index.store``), so a
process serving a million statements starts in under a second instead of visiting every
statement (bench/RESULTS.md, "Opening", "Opening a million statements at a fifth")."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from index.atomic import keep_newest, write_atomic
from index.columns import Groups, JsonRows, pack_strings, save_npz, unpack_strings
from index.lexical import BM25, simple_stem
from index.model import Document, Statement
from index.names import NameMatcher, skeleton
from index.textnorm import fold, tokens

log = logging.getLogger(__name__)

# The lexical index's layout and analysis: change it when analyze() or the indexed fields change,
# and every kept index is rebuilt.
LEXICAL_FORMAT = "bm25-v2: speaker role text; analyze = fold, abbreviations, stopwords, simple_stem"
LEXICAL_KEEP = 3  # lexical indexes kept in the cache: this archive's and a couple before it
# Two spellings under one surname key in one country are one person when their given names
# are this alike (0-100, on transliteration-blind keys): Oleksandr ~ Aleksandr, Dmitry ~ Dmytro.
SAME_PERSON_GIVEN = 70.0
# The bundle's files: one JSON of strings and one uncompressed .npz of arrays (mapped on open).
STRINGS_FILE = "tables.json"
ARRAYS_FILE = "tables.npz"
NO_SPEAKER = -1
# Array names in ARRAYS_FILE: packed lists of strings (columns.pack_strings) under STRINGS,
# the speakers' details as JSON lines and their offsets under SPEAKER_INFO.
STRINGS = "strings"
SPEAKER_INFO = "speaker_info"
_SPEAKER_FIELDS = 4  # [name, role, [countries], [spellings]]
_PACKED_NAMES = ("keys", "names", "exact", "by_key", "grams")  # NameMatcher.state's long lists


def stems(text: str) -> list[str]:
    """Stemmed folded tokens, stopwords kept (role phrases are short and every word counts)."""
    return [simple_stem(t) for t in tokens(text)]


def role_stems(roles: Sequence[str]) -> Groups:
    """Each stem of the roles -> the roles holding it (their indexes in ``roles``)."""
    words: dict[str, list[int]] = defaultdict(list)
    for r, role in enumerate(roles):
        for w in dict.fromkeys(stems(role)):
            words[w].append(r)
    return Groups.of(words, np.int32)


def date_number(iso: str | None) -> int:
    """2024-11-06 -> 20241106; 0 when unknown."""
    if not iso or len(iso) < 10:
        return 0
    try:
        return int(iso[:4]) * 10000 + int(iso[5:7]) * 100 + int(iso[8:10])
    except ValueError:
        return 0


@lru_cache(maxsize=65_536)  # a few hundred outlets cite a million statements
def outlet_key(name: str) -> str:
    """An outlet name's folded words: "The Financial Times" and "financial times" agree."""
    words = tokens(name)
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def outlet_keys(outlet: str) -> set[str]:
    """An outlet as cited and each of its parts ("VP/MT", "RG.ru/Russia in Global Affairs")."""
    parts = [outlet, *outlet.split("/")] if "/" in outlet else [outlet]
    return {k for p in parts if (k := outlet_key(p))}


def documents_newest_first(documents: Iterable[Document]) -> list[Document]:
    """Compilations newest first: the order answers without a topic are grouped in."""
    return sorted(documents, key=lambda d: (d.published or "", d.id), reverse=True)


def statement_role(s: Statement) -> str | None:
    """The role a statement states: an organisation's name is its role."""
    if s.kind == "organisation" and s.speaker:
        return " ".join(x for x in (s.speaker, s.role) if x)
    return s.role


@dataclass
class Tables:
    """Everything per row or per group the catalog looks up; arrays indexed by statement row."""

    ids: np.ndarray  # statement ids (UTF-8 bytes), sorted
    id_rows: np.ndarray  # the row of each sorted id
    doc_of_row: np.ndarray  # rank of the row's compilation, newest first
    position: np.ndarray
    row_date: np.ndarray  # first dated citation as yyyymmdd, else the compilation's date
    row_date_last: np.ndarray
    is_note: np.ndarray
    country_of_row: np.ndarray  # index into by_country's keys
    by_country: Groups
    by_doc: Groups
    by_kind: Groups
    by_outlet: Groups
    by_role: Groups
    outlet_label: dict[str, str]
    outlet_counts: list[tuple[str, int]]  # citations per outlet as cited, most first
    speakers: Groups  # speaker key -> rows
    # Per speaker, as JSON keeps it: [name, role, [countries], [spellings]] (a list when
    # derived, columns.JsonRows when loaded).
    speaker_info: Sequence[list[Any]]
    speaker_of_row: np.ndarray  # index into speakers' keys, NO_SPEAKER for none
    bm25: BM25
    names: NameMatcher
    # Stem -> the roles holding it (indexes into by_role's keys): what a question's role words
    # are looked up in, stemmed at build rather than at every open (5,000 roles at 1M).
    role_stems: Groups

    def row(self, statement_id: str) -> int | None:
        """The row of a statement id (binary search of the sorted ids)."""
        key = statement_id.encode("utf-8")
        if len(self.ids) == 0 or len(key) > self.ids.dtype.itemsize:
            return None
        i = int(np.searchsorted(self.ids, key))
        if i < len(self.ids) and self.ids[i] == key:
            return int(self.id_rows[i])
        return None

    # ------------------------------------------------------------ on disk

    def save(self, folder: Path, extra: Mapping[str, np.ndarray] | None = None) -> list[str]:
        """Write the tables (and ``extra`` arrays) into ``folder``; the file names written."""
        terms, bm25 = self.bm25.arrays()
        name_strings, name_arrays = self.names.state()
        groups = {
            "country": self.by_country,
            "doc": self.by_doc,
            "kind": self.by_kind,
            "outlet": self.by_outlet,
            "role": self.by_role,
            "speaker": self.speakers,
            "role_stem": self.role_stems,
        }
        # The long lists of strings go into the arrays file, packed (columns.pack_strings),
        # and the speakers' details as JSON lines read per speaker: the JSON file keeps the
        # few short things left, so opening parses kilobytes, not 16 MB at a million rows.
        listed = {f"groups.{k}": g.keys_ for k, g in groups.items()} | {"terms": terms}
        listed |= {f"names.{k}": v for k, v in name_strings.items() if k in _PACKED_NAMES}
        info_lines, info_offsets = JsonRows.pack(self.speaker_info)
        strings = {
            "outlet_label": self.outlet_label,
            "outlet_counts": self.outlet_counts,
            "names": {k: v for k, v in name_strings.items() if k not in _PACKED_NAMES},
        }
        arrays: dict[str, np.ndarray] = {
            **{f"{STRINGS}.{k}": pack_strings(v) for k, v in listed.items()},
            f"{SPEAKER_INFO}.lines": info_lines,
            f"{SPEAKER_INFO}.offsets": info_offsets,
            "ids": self.ids,
            "id_rows": self.id_rows,
            "doc_of_row": self.doc_of_row,
            "position": self.position,
            "row_date": self.row_date,
            "row_date_last": self.row_date_last,
            "is_note": self.is_note,
            "country_of_row": self.country_of_row,
            "speaker_of_row": self.speaker_of_row,
            **{f"bm25.{k}": v for k, v in bm25.items()},
            **{f"names.{k}": v for k, v in name_arrays.items()},
            **(extra or {}),
        }
        for k, g in groups.items():
            arrays |= g.arrays(f"group.{k}")
        (folder / STRINGS_FILE).write_text(json.dumps(strings, ensure_ascii=False), "utf-8")
        save_npz(folder / ARRAYS_FILE, arrays)
        return [STRINGS_FILE, ARRAYS_FILE]

    @classmethod
    def load(
        cls,
        strings: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        analyze: Callable[[str], list[str]],
    ) -> Tables:
        """Tables from what ``save`` wrote (``arrays`` by name, e.g. memory-mapped)."""

        def listed(name: str) -> list[str]:
            return unpack_strings(arrays[f"{STRINGS}.{name}"])

        def group(k: str) -> Groups:
            return Groups.from_arrays(listed(f"groups.{k}"), arrays, f"group.{k}")

        def sub(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        speaker_info = JsonRows(arrays[f"{SPEAKER_INFO}.lines"], arrays[f"{SPEAKER_INFO}.offsets"])
        # Rows are parsed when asked for; the first and the last now, so lines that are not
        # a speaker's details are refused at open (the hashes already vouch for every byte).
        for i in {0, len(speaker_info) - 1} if len(speaker_info) else ():
            row = speaker_info[i]
            if not (isinstance(row, list) and len(row) == _SPEAKER_FIELDS):
                raise ValueError(f"speaker {i} is {row!r}, not [name, role, countries, spellings]")
        return cls(
            ids=arrays["ids"],
            id_rows=arrays["id_rows"],
            doc_of_row=arrays["doc_of_row"],
            position=arrays["position"],
            row_date=arrays["row_date"],
            row_date_last=arrays["row_date_last"],
            is_note=arrays["is_note"],
            country_of_row=arrays["country_of_row"],
            by_country=group("country"),
            by_doc=group("doc"),
            by_kind=group("kind"),
            by_outlet=group("outlet"),
            by_role=group("role"),
            outlet_label=dict(strings["outlet_label"]),
            outlet_counts=[(str(o), int(c)) for o, c in strings["outlet_counts"]],
            speakers=group("speaker"),
            role_stems=group("role_stem"),
            speaker_info=speaker_info,  # read per speaker when asked for
            speaker_of_row=arrays["speaker_of_row"],
            bm25=BM25.from_arrays(listed("terms"), sub("bm25."), analyze),
            names=NameMatcher.from_state(
                {**strings["names"], **{k: listed(f"names.{k}") for k in _PACKED_NAMES}},
                sub("names."),
            ),
        )


# ----------------------------------------------------------------------------- derive


def derive(
    statements: Sequence[Statement],
    documents: Iterable[Document],
    analyze: Callable[[str], list[str]],
    *,
    lexical_cache: Path | None = None,
) -> Tables:
    """Compute the tables by visiting every statement (the build's job, not the open's)."""
    n = len(statements)
    docs = documents_newest_first(documents)
    doc_rank = {d.id: r for r, d in enumerate(docs)}
    doc_date = {d.id: date_number(d.published) for d in docs}
    first, last = np.zeros(n, np.int32), np.zeros(n, np.int32)
    by_country: dict[str, list[int]] = defaultdict(list)
    by_doc: dict[str, list[int]] = defaultdict(list)
    by_kind: dict[str, list[int]] = defaultdict(list)
    by_outlet: dict[str, list[int]] = defaultdict(list)
    by_role: dict[str, list[int]] = defaultdict(list)
    outlet_label: dict[str, str] = {}
    cited: Counter[str] = Counter()
    for i, s in enumerate(statements):
        dates = [v for src in s.sources if (v := date_number(src.date))]
        fallback = doc_date.get(s.document, 0)
        first[i] = min(dates, default=fallback)
        last[i] = max(dates, default=fallback)
        by_country[s.country].append(i)
        by_doc[s.document].append(i)
        by_kind[s.kind].append(i)
        for key in {k for src in s.sources for k in outlet_keys(src.outlet)}:
            by_outlet[key].append(i)
        for src in s.sources:
            outlet_label.setdefault(outlet_key(src.outlet), src.outlet)
            cited[src.outlet] += 1
        if role := statement_role(s):
            by_role[role].append(i)
    countries = Groups.of(by_country)
    country_of_row = np.zeros(n, np.int32)
    for c in range(len(countries)):
        country_of_row[countries.at(c)] = c
    ids = (
        np.array([s.id.encode("utf-8") for s in statements], dtype=bytes)
        if n
        else np.zeros(0, "S1")
    )
    order = np.argsort(ids, kind="stable")
    speakers, info, speaker_of_row, names = _speakers(statements)
    roles = Groups.of(by_role)
    return Tables(
        ids=ids[order],
        id_rows=order.astype(np.int64),
        doc_of_row=np.fromiter(
            (doc_rank.get(s.document, len(docs)) for s in statements), np.int32, n
        ),
        position=np.fromiter((s.position for s in statements), np.int64, n),
        row_date=first,
        row_date_last=last,
        is_note=np.fromiter((s.kind == "note" for s in statements), bool, n),
        country_of_row=country_of_row,
        by_country=countries,
        by_doc=Groups.of(by_doc),
        by_kind=Groups.of(by_kind),
        by_outlet=Groups.of(by_outlet),
        by_role=roles,
        role_stems=role_stems(roles.keys_),
        outlet_label=outlet_label,
        outlet_counts=sorted(cited.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
        speakers=speakers,
        speaker_info=info,
        speaker_of_row=speaker_of_row,
        bm25=_lexical(statements, analyze, lexical_cache),
        names=names,
    )


def short_hash(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:8]


def _speakers(
    statements: Sequence[Statement],
) -> tuple[Groups, list[list[Any]], np.ndarray, NameMatcher]:
    """Everyone quoted, one key per person across spellings (within a country), per
    organisation and per unnamed source's role; and the name index of the people."""
    groups: dict[str, list[int]] = defaultdict(list)
    spellings: dict[str, list[str]] = defaultdict(list)
    person_key: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    known: dict[tuple[str, str, bool], str] = {}  # each spelling is looked at once
    for i, s in enumerate(statements):
        if s.speaker:
            seen = (s.country, s.speaker, s.kind == "person")
            gkey = known.get(seen)
            if gkey is None:
                gkey = "n:" + fold(s.speaker)
                if s.kind == "person":
                    gkey = _same_person(person_key, s.country, s.speaker, gkey)
                known[seen] = gkey
            groups[gkey].append(i)
            if s.speaker not in spellings[gkey]:
                spellings[gkey].append(s.speaker)
        elif s.kind == "unnamed" and s.role:
            groups["r:" + s.country + ":" + fold(s.role)].append(i)
    by_key: dict[str, list[int]] = {}
    info: list[list[Any]] = []
    named: list[tuple[str, str]] = []
    speaker_of_row = np.full(len(statements), NO_SPEAKER, np.int32)
    for gkey, rows in groups.items():
        first = statements[rows[0]]
        sid = short_hash(gkey)
        speaker_of_row[rows] = len(by_key)
        by_key[sid] = rows
        countries = list(dict.fromkeys(statements[r].country for r in rows))
        info.append([first.speaker, first.role, countries, list(spellings.get(gkey, ()))])
        # People by every spelling; organisations ("Russian Foreign Ministry") are found by
        # their words through the roles, so "Russian stocks" does not summon a ministry.
        if first.speaker and first.kind == "person":
            named += [(sid, spelling) for spelling in spellings.get(gkey, ())]
    return Groups.of(by_key), info, speaker_of_row, NameMatcher(named)


def _same_person(
    seen: dict[tuple[str, str], list[tuple[str, str]]], country: str, name: str, gkey: str
) -> str:
    """The group key of an earlier spelling of this person, or ``gkey`` for someone new."""
    parts = tokens(name)
    if not parts:
        return gkey
    # Ukrainian г is h, Russian г is g: Dovhal and Dovgal are one surname here.
    surname = (country, skeleton(parts[-1]).replace("H", "g"))
    given = " ".join(skeleton(p) for p in parts[:-1])
    for other_given, other_key in seen[surname]:
        if other_key == gkey or not given or not other_given:
            return other_key
        if fuzz.ratio(given, other_given, processor=None) >= SAME_PERSON_GIVEN:
            return other_key
    seen[surname].append((given, gkey))
    return gkey


def _lexical(
    statements: Sequence[Statement], analyze: Callable[[str], list[str]], cache: Path | None
) -> BM25:
    """BM25 over speaker, role and text; kept in ``cache`` by the statements' ids (content
    hashes), so a rebuild after adding a compilation reads it instead of analysing every text
    again (30 s of a 42 s build step at 1M statements, bench/RESULTS.md)."""
    path = None
    if cache is not None and statements:
        digest = hashlib.sha1(LEXICAL_FORMAT.encode())
        for s in statements:
            digest.update(s.id.encode())
        path = cache / f"bm25-{digest.hexdigest()[:24]}.npz"
        try:
            return BM25.load(path, analyze)
        except FileNotFoundError:
            pass
        except Exception as exc:  # a damaged cache file is only a missed shortcut
            log.warning("rebuilding the lexical index (%s unreadable: %s)", path.name, exc)
    bm25 = BM25(
        [" ".join(x for x in (s.speaker, s.role, s.text) if x) for s in statements], analyze
    )
    if path is not None:
        buf = io.BytesIO()
        bm25.save(buf)
        try:
            write_atomic(path, buf.getvalue())
            keep_newest(path.parent, "bm25-*.npz", LEXICAL_KEEP)
        except OSError as exc:
            log.warning("could not keep the lexical index in %s: %s", path.parent, exc)
    return bm25
