"""Plain frozen dataclasses shared by the parser, the engine and the bot."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, overload


@dataclass(frozen=True, slots=True)
class Source:
    """One citation such as ``Interfax, 11.06.24``; ``date`` is ISO or None when unreadable;
    ``url`` the outlet's link where the compilation gives one (http or https), else None."""

    outlet: str
    date: str | None
    raw: str
    url: str | None = None

    def label(self) -> str:
        """Human form: outlet and date as the document writes it."""
        return self.raw


@dataclass(frozen=True, slots=True)
class Document:
    """A compilation's metadata."""

    id: str  # slug of the file name, stable
    path: str
    title: str
    blog: str | None = None
    tagline: str | None = None
    published: str | None = None  # ISO date
    updated: str | None = None  # ISO date
    author: str | None = None  # the credit line, verbatim
    intro: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # other header/footer lines (captions, disclaimers)
    sha256: str = ""

    def ref(self) -> dict[str, Any]:
        """The short reference each exported statement carries."""
        return {"id": self.id, "title": self.title, "date": self.published}


@dataclass(frozen=True, slots=True)
class Statement:
    """One verbatim, sourced statement."""

    id: str
    document: str  # Document.id
    country: str
    speaker: str | None
    role: str | None
    kind: str  # person, organisation, unnamed, market, event or note
    text: str
    sources: tuple[Source, ...] = ()
    parent: str | None = None  # id of the statement this one is nested under
    line: int = 0  # 1-based line in the source file
    position: int = 0  # order within its document

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"] = [asdict(s) for s in self.sources]
        return d


@dataclass(frozen=True, slots=True)
class Intent:
    """What the engine understood: ``kind`` is country, person, role, topic, empty or none."""

    kind: str
    value: str | None = None  # canonical country or speaker name
    key: str = ""  # compact (<= 48 bytes UTF-8) key that reproduces this answer


@dataclass(frozen=True, slots=True)
class Hit:
    statement: Statement
    score: float


@dataclass(frozen=True, slots=True)
class Why:
    """One reason the engine gives with an answer, as a code the bot translates: ``absent``
    (the archive lacks ``name``, a ``slot``), ``dropped`` (nothing fits ``name`` as well as
    the rest; shown without it), ``closest`` (what follows is the nearest, not an answer),
    ``topic_relaxed``, ``scope``, ``nothing``, ``vague``, ``no_country``, ``no_person``.
    ``index/answer.py`` has each code's English sentence."""

    code: str
    slot: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A "did you mean" entry: what to show and the key that answers it."""

    label: str
    key: str


class Hits(Sequence[Hit]):
    """Hits made when they are read: a country of 60,000 statements costs only the page shown.
    A plain ``tuple`` of ``Hit`` works wherever this does."""

    __slots__ = ("_rows", "_scores", "_statements")

    def __init__(self, statements: Sequence[Statement], rows: Any, scores: Any) -> None:
        self._statements = statements
        self._rows = rows
        self._scores = scores

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Hit, ...]: ...
    def __getitem__(self, i: int | slice) -> Hit | tuple[Hit, ...]:
        if isinstance(i, slice):
            return tuple(self._hit(j) for j in range(*i.indices(len(self._rows))))
        if i < 0:
            i += len(self._rows)
        if not 0 <= i < len(self._rows):
            raise IndexError(i)
        return self._hit(i)

    def _hit(self, j: int) -> Hit:
        return Hit(self._statements[int(self._rows[j])], round(float(self._scores[j]), 4))

    def __iter__(self) -> Iterator[Hit]:
        return (self._hit(j) for j in range(len(self._rows)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(int(r) for r in self._rows))

    def __repr__(self) -> str:
        return f"Hits({len(self)})"


@dataclass(frozen=True, slots=True)
class Answer:
    query: str
    intent: Intent
    hits: Sequence[Hit] = ()
    confident: bool = False
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)
    message: str | None = None  # the reasons (``why``) as English sentences, for the CLI
    documents: tuple[Document, ...] = ()  # the compilations the hits come from, in hit order
    reading: dict[str, Any] | None = None  # how the question was understood (Query.to_dict)
    why: tuple[Why, ...] = ()  # why the answer is empty, relaxed or unsure, as codes
    archive: int = 0  # compilations the archive holds: above 1, every answer names its own


def statement_from_dict(d: dict[str, Any]) -> Statement:
    """Inverse of ``Statement.to_dict`` (used to load the index's JSON metadata)."""
    sources = tuple(
        Source(s["outlet"], s.get("date"), s["raw"], s.get("url"))  # older bundles: no url
        for s in d.get("sources", ())
    )
    return Statement(
        id=d["id"],
        document=d["document"],
        country=d["country"],
        speaker=d.get("speaker"),
        role=d.get("role"),
        kind=d["kind"],
        text=d["text"],
        sources=sources,
        parent=d.get("parent"),
        line=int(d.get("line", 0)),
        position=int(d.get("position", 0)),
    )


def document_from_dict(d: dict[str, Any]) -> Document:
    """Inverse of ``dataclasses.asdict(Document)``."""
    return Document(**{**d, "intro": tuple(d.get("intro", ())), "notes": tuple(d.get("notes", ()))})
