"""Column storage for large archives: rows grouped by key as one compressed-sparse-row map,
statements read lazily from their JSON lines, and ``.npy`` arrays memory-mapped from an open
file. Opening a million statements then costs reading a few headers, not a million objects."""

from __future__ import annotations

import json
import mmap
import struct
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import IO, Any, overload

import numpy as np

from index.model import Statement, statement_from_dict

# Statements parsed from their JSON line and kept: a page of answers, a digest, a country's
# first screens. Each costs ~10 µs to parse again.
STATEMENT_CACHE = 8192


class Groups(Mapping[str, np.ndarray]):
    """key -> rows, as one keys list, an ``indptr`` and one array of rows (CSR): a dict of a
    hundred thousand keys loads as two arrays and one list, and a lookup is a slice."""

    def __init__(self, keys: Sequence[str], indptr: np.ndarray, rows: np.ndarray) -> None:
        if len(indptr) != len(keys) + 1:
            raise ValueError(f"{len(keys)} keys need {len(keys) + 1} offsets, not {len(indptr)}")
        self.keys_ = list(keys)
        self.indptr = indptr
        self.rows = rows
        self._at_made: dict[str, int] | None = None

    @property
    def _at(self) -> dict[str, int]:
        """key -> position, made on the first lookup: opening a bundle builds none of the
        hundred thousand entries a group may have until a question looks one up."""
        if self._at_made is None:
            self._at_made = dict(zip(self.keys_, range(len(self.keys_)), strict=True))
        return self._at_made

    @classmethod
    def of(cls, groups: Mapping[str, Sequence[int]], dtype: Any = np.int64) -> Groups:
        """From a dict of row lists (insertion order kept)."""
        keys = list(groups)
        sizes = np.fromiter((len(groups[k]) for k in keys), np.int64, len(keys))
        indptr = np.zeros(len(keys) + 1, np.int64)
        np.cumsum(sizes, out=indptr[1:])
        rows = np.fromiter((r for k in keys for r in groups[k]), dtype, int(indptr[-1]))
        return cls(keys, indptr, rows)

    def index(self, key: str) -> int | None:
        """The key's position in ``keys_`` (None when absent)."""
        return self._at.get(key)

    def at(self, i: int) -> np.ndarray:
        """The rows of the i-th key."""
        return self.rows[int(self.indptr[i]) : int(self.indptr[i + 1])]

    def size(self, i: int) -> int:
        return int(self.indptr[i + 1] - self.indptr[i])

    def __getitem__(self, key: str) -> np.ndarray:
        i = self._at.get(key)
        if i is None:
            raise KeyError(key)
        return self.at(i)

    def __contains__(self, key: object) -> bool:
        return key in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.indptr": self.indptr, f"{prefix}.rows": self.rows}

    @classmethod
    def from_arrays(
        cls, keys: Sequence[str], arrays: Mapping[str, np.ndarray], prefix: str
    ) -> Groups:
        return cls(keys, arrays[f"{prefix}.indptr"], arrays[f"{prefix}.rows"])


class StatementTable(Sequence[Statement]):
    """The statements of a bundle, parsed from their JSON line when asked for.

    ``blob`` holds the lines (a memory map of ``statements.jsonl``), ``offsets`` the start of
    each and the end of the last. Indexing parses one line; iterating parses every one (what
    a full pass costs anyway).
    """

    def __init__(self, blob: bytes | mmap.mmap, offsets: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets
        self._n = len(offsets) - 1
        self._parse = lru_cache(maxsize=STATEMENT_CACHE)(self._parse_row)

    def _parse_row(self, i: int) -> Statement:
        a, b = int(self._offsets[i]), int(self._offsets[i + 1])
        return statement_from_dict(json.loads(self._blob[a:b]))

    def __len__(self) -> int:
        return self._n

    def cache_clear(self) -> None:
        """Forget the parsed rows (benchmarks of questions never seen before)."""
        self._parse.cache_clear()

    @overload
    def __getitem__(self, i: int) -> Statement: ...

    @overload
    def __getitem__(self, i: slice) -> list[Statement]: ...

    def __getitem__(self, i: int | slice) -> Statement | list[Statement]:
        if isinstance(i, slice):
            return [self._parse(j) for j in range(*i.indices(self._n))]
        j = int(i)
        if j < 0:
            j += self._n
        if not 0 <= j < self._n:
            raise IndexError(i)
        return self._parse(j)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Sequence)
            and len(other) == self._n
            and all(a == b for a, b in zip(self, other, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them

    def __iter__(self) -> Iterator[Statement]:
        # Uncached: a full pass would only flush the rows answers keep coming back to.
        for j in range(self._n):
            yield self._parse_row(j)


class JsonRows(Sequence[Any]):
    """JSON values, one a line in ``blob`` (lines starting at ``offsets``, then its end),
    each parsed when asked for: a hundred thousand speakers' details cost nothing at open."""

    def __init__(self, blob: bytes | mmap.mmap | np.ndarray, offsets: np.ndarray) -> None:
        if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(blob):
            raise ValueError(f"{len(offsets)} line offsets do not span {len(blob)} bytes")
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def pack(cls, values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """``values`` as the lines (uint8) and offsets (int64) ``JsonRows`` reads."""
        lines = [json.dumps(v, ensure_ascii=False).encode("utf-8") + b"\n" for v in values]
        offsets = line_offsets((len(line) for line in lines), len(lines))
        return np.frombuffer(b"".join(lines), np.uint8), offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        j = int(i) + (len(self) if int(i) < 0 else 0)
        if not 0 <= j < len(self):
            raise IndexError(i)
        a, b = int(self._offsets[j]), int(self._offsets[j + 1])
        return json.loads(bytes(self._blob[a:b]))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Sequence)
            and len(other) == len(self)
            and all(a == b for a, b in zip(self, other, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them


# A list of strings kept as one uint8 array: a NUL after each string, behind a NUL that marks
# the layout; a list holding a NUL itself is kept as JSON instead (it starts with "[").
# Decoding and splitting 90,000 names takes ~5 ms where parsing them from JSON took ~4x
# that, and the lists then need no JSON file of their own.
_PACKED = "\x00"


def pack_strings(strings: Sequence[str]) -> np.ndarray:
    """``strings`` as one uint8 array for an ``.npy`` (``unpack_strings`` reads it)."""
    if any(_PACKED in s for s in strings):
        text = json.dumps(list(strings), ensure_ascii=False)
    else:
        text = _PACKED + "".join(s + _PACKED for s in strings)
    return np.frombuffer(text.encode("utf-8"), np.uint8)


def unpack_strings(packed: np.ndarray) -> list[str]:
    """The list of strings ``pack_strings`` stored."""
    text = packed.tobytes().decode("utf-8")
    if text.startswith(_PACKED):
        return text[1:].split(_PACKED)[:-1]
    strings = json.loads(text)
    if not (isinstance(strings, list) and all(isinstance(s, str) for s in strings)):
        raise ValueError("a packed list of strings is neither NUL-separated nor a JSON list")
    return strings


def line_offsets(lengths: Iterable[int], n: int) -> np.ndarray:
    """Start of each of ``n`` lines of the given byte lengths, then the end of the last."""
    out = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(lengths, np.int64, n), out=out[1:])
    return out


def map_file(fh: IO[bytes]) -> bytes | mmap.mmap:
    """A read-only memory map of an open file (empty bytes for an empty file)."""
    fh.seek(0, 2)
    if fh.tell() == 0:
        return b""
    return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def save_npz(path: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Arrays into one uncompressed ``.npz`` (each member stored as is, so it can be mapped)."""
    contiguous = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    np.savez(path, **contiguous)  # type: ignore[arg-type]  # numpy types the kwargs as options


def map_npz(fh: IO[bytes]) -> dict[str, np.ndarray]:
    """Every array of an uncompressed ``.npz`` memory-mapped from an open file, by name.

    ``np.load`` would read each member whole; a stored (uncompressed) member is an ``.npy``
    at a known offset of the file, so it is mapped where it lies instead."""
    out = {}
    with zipfile.ZipFile(fh) as z:
        members = z.infolist()
    for info in members:
        if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
            raise ValueError(f"{info.filename} is not a stored .npy member")
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"{info.filename} has no local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        out[info.filename[:-4]] = map_npy(fh, info.header_offset + 30 + name_len + extra_len)
    return out


def map_npy(fh: IO[bytes], start: int = 0) -> np.ndarray:
    """An ``.npy`` array memory-mapped from an open file (at ``start``): the header is read,
    the data is paged in when used. Object arrays are refused (no pickle)."""
    fh.seek(start)
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.hasobject:
        raise ValueError("object arrays are not read")
    offset = fh.tell()
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0:
        return np.zeros(shape, dtype)
    fh.seek(0, 2)
    if fh.tell() - offset < count * dtype.itemsize:
        raise ValueError(
            f"holds {fh.tell() - offset} bytes of data, {count * dtype.itemsize} expected"
        )
    mapped = np.memmap(
        fh, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C"
    )
    # A plain view of the map: np.memmap's own __getitem__ makes a slice ten times dearer
    # (0.87 µs against 0.08 µs, timeit), and a question takes thousands (Groups.at).
    return mapped.view(np.ndarray)
