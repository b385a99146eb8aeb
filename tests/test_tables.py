"""The tables the build derives and the bundle keeps: CSR groups, lazily parsed statements,
memory-mapped arrays; an archive opened from its bundle answers exactly as the one just built,
without visiting every statement."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import columns, store
from index.catalog import analyze
from index.columns import (
    Groups,
    JsonRows,
    StatementTable,
    line_offsets,
    map_file,
    map_npz,
    pack_strings,
    save_npz,
    unpack_strings,
)
from index.model import Source, Statement
from index.search import Engine
from index.tables import Tables, derive
from tests.conftest import ARCHIVE_SOURCES, ROOT


def statements(n: int) -> list[Statement]:
    return [
        Statement(
            id=f"d{i % 3}-{i}",
            document=f"d{i % 3}",
            country=("Russia", "Грузия", "Estonia")[i % 3],
            speaker=None if i % 5 == 0 else f"Speaker {i % 7}",
            role=("foreign minister", "president", None)[i % 3],
            kind="note" if i % 11 == 0 else "person",
            text=f"Statement {i} about «grain» 🙂",
            sources=(Source("Interfax", f"2024-11-{1 + i % 28:02d}", "Interfax, 11.06.24"),),
            position=i,
        )
        for i in range(n)
    ]


def test_groups_keep_order_and_slice_rows() -> None:
    g = Groups.of({"b": [3, 4], "a": [1], "empty": []})
    assert list(g) == ["b", "a", "empty"] and len(g) == 3
    assert g["b"].tolist() == [3, 4] and g["empty"].tolist() == [] and "a" in g
    assert g.get("zzz") is None and g.index("a") == 1 and g.size(0) == 2
    again = Groups.from_arrays(g.keys_, g.arrays("x"), "x")
    assert {k: v.tolist() for k, v in again.items()} == {"b": [3, 4], "a": [1], "empty": []}
    with pytest.raises(ValueError, match="offsets"):
        Groups(["a"], np.zeros(3, np.int64), np.zeros(0, np.int64))


def test_arrays_are_mapped_from_an_uncompressed_npz(tmp_path: Path) -> None:
    arrays = {
        "ints": np.arange(10, dtype=np.int64),
        "ids": np.array([b"a", b"bb"]),
        "none": np.zeros(0, np.int32),
        "grid": np.arange(6, dtype=np.float32).reshape(2, 3),
    }
    save_npz(tmp_path / "t.npz", arrays)
    with open(tmp_path / "t.npz", "rb") as fh:
        mapped = map_npz(fh)
    assert set(mapped) == set(arrays)
    assert isinstance(mapped["ints"].base, np.memmap)  # a view of the map: not read into memory
    for k, v in arrays.items():
        assert mapped[k].dtype == v.dtype and np.array_equal(mapped[k], v)
    np.savez_compressed(tmp_path / "c.npz", **arrays)  # compressed members cannot be mapped
    with open(tmp_path / "c.npz", "rb") as fh, pytest.raises(ValueError, match="stored"):
        map_npz(fh)
    # An object array is never read (it would need pickle).
    with zipfile.ZipFile(tmp_path / "p.npz", "w") as z, z.open("obj.npy", "w") as member:
        np.lib.format.write_array(member, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with open(tmp_path / "p.npz", "rb") as fh, pytest.raises(ValueError, match="object"):
        map_npz(fh)


def test_statements_are_parsed_when_asked_for(tmp_path: Path) -> None:
    sts = statements(12)
    lines = [json.dumps(s.to_dict(), ensure_ascii=False).encode() + b"\n" for s in sts]
    (tmp_path / "s.jsonl").write_bytes(b"".join(lines))
    with open(tmp_path / "s.jsonl", "rb") as fh:
        table = StatementTable(map_file(fh), line_offsets((len(x) for x in lines), len(lines)))
    assert len(table) == 12 and table[3] == sts[3] and table[-1] == sts[-1]
    assert table[2:5] == sts[2:5] and list(table) == sts and table == sts
    with pytest.raises(IndexError):
        table[12]


def test_tables_survive_save_and_load(tmp_path: Path) -> None:
    sts = statements(60)
    made = derive(sts, [], analyze)
    made.save(tmp_path)
    with open(tmp_path / "tables.npz", "rb") as fh:
        arrays = map_npz(fh)
    loaded = Tables.load(json.loads((tmp_path / "tables.json").read_text()), arrays, analyze)
    for name in (
        "ids",
        "id_rows",
        "doc_of_row",
        "position",
        "row_date",
        "is_note",
        "speaker_of_row",
    ):
        assert np.array_equal(getattr(made, name), getattr(loaded, name)), name
    for name in ("by_country", "by_doc", "by_kind", "by_outlet", "by_role", "speakers"):
        a, b = getattr(made, name), getattr(loaded, name)
        assert {k: v.tolist() for k, v in a.items()} == {k: v.tolist() for k, v in b.items()}
        # rank.scope relies on it: each key's rows are sorted and unique (archive order).
        assert all(np.all(np.diff(v) > 0) for v in b.values()), name
    assert made.speaker_info == loaded.speaker_info and made.outlet_counts == loaded.outlet_counts
    assert loaded.row("d1-4") == 4 and loaded.row("nope") is None and loaded.row("x" * 99) is None
    q = "grain foreign minister"
    assert np.array_equal(made.bm25.scores(q), loaded.bm25.scores(q))
    assert made.names.match("Speaker 3") == loaded.names.match("Speaker 3")
    assert made.names.suggest("Spaeker") == loaded.names.suggest("Spaeker")


def questions() -> list[str]:
    out = []
    for name in ("archive.jsonl", "archive_ru.jsonl", "compound.jsonl"):
        for line in (ROOT / "data" / "eval" / name).read_text("utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def summary(engine: Any, q: str) -> tuple[Any, ...]:
    a = engine.ask(q)
    return (a.intent, a.confident, [h.statement.id for h in a.hits], a.message, a.suggestions)


def test_an_archive_opened_from_its_bundle_answers_as_the_one_just_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REACTIONS_MULTILINGUAL", "off")
    built = Engine.open(ARCHIVE_SOURCES, tmp_path / "index")
    assert isinstance(built.statements, list)  # the build's own statements
    parsed = 0
    real = columns.statement_from_dict

    def counting(d: dict[str, Any]) -> Statement:
        nonlocal parsed
        parsed += 1
        return real(d)

    monkeypatch.setattr(columns, "statement_from_dict", counting)
    opened = Engine.open(ARCHIVE_SOURCES, tmp_path / "index")
    assert isinstance(opened.statements, StatementTable)
    assert parsed <= 2  # the first and last line, checked at open; nothing else
    assert len(opened.statements) == len(built.statements) > 100
    for q in questions():
        assert summary(opened, q) == summary(built, q), q
    assert opened.countries() == built.countries() and opened.outlets() == built.outlets()
    for key in list(built.speakers)[:50]:
        assert opened.speakers[key] == built.speakers[key]
    first = built.statements[7]
    assert opened.get(first.id) == first and opened.get("no such id") is None
    assert opened.statements_in([first.document]) == [
        s for s in built.statements if s.document == first.document
    ]


def test_a_bundle_without_its_tables_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REACTIONS_MULTILINGUAL", "off")
    Engine.open(ARCHIVE_SOURCES, tmp_path / "index")
    (tmp_path / "index" / store.TABLES_NPZ).unlink()
    with pytest.raises(store.IndexCorrupt, match=r"tables\.npz is missing"):
        store.load_bundle(tmp_path / "index")
    again = Engine.open(ARCHIVE_SOURCES, tmp_path / "index")  # rebuilt, and it answers
    assert again.ask("Peskov").confident
    assert (tmp_path / "index" / store.TABLES_NPZ).exists()


@pytest.mark.parametrize(
    "strings",
    [[], [""], ["", ""], ["a", "Пётр", "x y", "emoji 🇺🇦"], ["nul\x00inside", "b"], ["[not json"]],
)
def test_packed_strings_round_trip(strings: list[str]) -> None:
    """Any list of strings, empty ones and one holding a NUL (kept as JSON) included."""
    packed = pack_strings(strings)
    assert packed.dtype == np.uint8 and unpack_strings(packed) == strings


def test_json_rows_are_parsed_when_asked_for() -> None:
    values = [["a", None, ["Russia"], ["a"]], {"k": 1}, "s", 3]
    lines, offsets = JsonRows.pack(values)
    rows = JsonRows(lines, offsets)
    assert len(rows) == 4 and rows[1] == {"k": 1} and rows[-1] == 3 and rows[1:3] == [{"k": 1}, "s"]
    assert rows == values and list(rows) == values
    with pytest.raises(IndexError):
        rows[4]
    with pytest.raises(ValueError, match="do not span"):
        JsonRows(lines[:-1], offsets)
