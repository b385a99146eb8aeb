"""The index bundle on disk: FAISS vectors, statements, documents and a JSON manifest."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import functools
import hashlib
import json
import logging
import math
import mmap
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import faiss
import numpy as np
import xxhash

from index.columns import StatementTable, line_offsets, map_file, map_npz
from index.crosslingual import Grains
from index.model import Document, Statement, document_from_dict
from index.tables import Tables, derive

log = logging.getLogger(__name__)

# 2: the manifest lists every file's sha256 and seals itself; format-1 bundles (sizes only)
# are stale, so they are rebuilt rather than served unverified.
# 3: an optional second vectors file, the statements embedded by the multilingual model
# (``multilingual`` in the manifest names it); format-2 bundles are rebuilt to get it.
# 4: the query stages' tables (index.tables) are derived at build and stored in the bundle
# (TABLES_JSON, TABLES_NPZ); statements are read lazily through their line offsets.
# 5: the tables' long lists of strings and the speakers' details are arrays in TABLES_NPZ
# (index.tables.STRINGS, SPEAKER_INFO), so TABLES_JSON holds only a few short fields; format-4
# bundles are rebuilt (IndexStale says so).
# 6: the name index (in the tables) holds each name's French reading too
# (index.names.skeletons), and a multilingual bundle its grains (ML_GRAINS); format-5 bundles
# are rebuilt.
# 7: an abbreviation that folds to a stopword is indexed as its term (index/data/
# abbreviations.txt: U.S. is usa), so the lexical index and the name index change; format-6
# bundles are rebuilt.
FORMAT_VERSION = 7
TABLES_JSON = "tables.json"  # index.tables: the few strings not packed into arrays
TABLES_NPZ = "tables.npz"  # index.tables: arrays, and "offsets": where each statement line starts
OFFSETS = "offsets"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STATEMENTS = "statements.jsonl"
DOCUMENTS = "documents.json"
DATA_FILES = (VECTORS, STATEMENTS, DOCUMENTS, TABLES_JSON, TABLES_NPZ)
# The multilingual route's vectors: row i is statements[i], like VECTORS, by another model.
MULTILINGUAL_VECTORS = "vectors-multilingual.faiss"
MULTILINGUAL = "multilingual"  # manifest field: {model, dim, index_type, nprobe} or absent
# The multilingual route's pieces and glossary (index.crosslingual.Grains), by the same model:
# in every bundle whose manifest field says ``grains``; one without them is rebuilt once
# (index.build._check_multilingual), an English-only bundle is not touched.
ML_GRAINS = "multilingual-grains.npz"
GRAINS = "grains"  # manifest[multilingual] field: {pieces, words}
# Manifest fields written here: {file: bytes}, {file: XXH3-128 hex}, and the sha256 of the
# manifest's other fields (it cannot list a hash of its own bytes, so it hashes its content).
SIZES = "files"
HASHES = "xxh3_128"
SEAL = "manifest_sha256"
# Bundles written before XXH3 list sha256 digests instead: still verified, by sha256 (their
# hashing takes 4x as long); the next build writes XXH3. (Those bundles were format 4, which
# format 5 rebuilds anyway; the reading stays for manifests that list sha256 by hand.)
LEGACY_HASHES = "sha256"
# The file hashes guard against accidental damage (bit rot, truncation, a partial copy, an
# overwrite), not against someone able to rewrite the manifest too (its seal is recomputable).
# A 128-bit non-cryptographic hash catches such damage as surely as SHA-256 (a changed file
# passes with probability 2^-128) and streams 4.4x faster from the page cache here (6.1 against
# 1.4 GB/s, where reading alone is 7.4 GB/s: bench/RESULTS.md, "opening without the sha256
# wait"): a million statements (1.2 GB) open ~1 s sooner.
_DIGEST_HEX = {HASHES: 32, LEGACY_HASHES: 64}
_HASH_CHUNK = 1 << 20  # bytes per read where a file cannot be hashed through a map
# Files are hashed through a read-only map, this many bytes at a time: each span is paged in
# with MADV_POPULATE_READ (Linux 5.14+), which turns a read error (a bad sector) into an
# OSError instead of a SIGBUS, then hashed where it lies and dropped from the map, so RSS
# never holds more than a span a thread. No copy into a buffer: 1 GB hashes in 0.10-0.16 s
# against 0.25-0.30 s by 1 MiB reads (bench/RESULTS.md, "Opening a million statements at
# a fifth"). Where the system cannot populate a map, files are read as before. (A
# populated page the kernel reclaims before it is hashed is read again on touch, where a
# failing read would still be SIGBUS: a window of one span, as for the statements and IVF
# lists the open maps to serve from anyway.)
_MAP_SPAN = 16 << 20
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)  # Linux's value
_HASH_THREADS = 2

# Stored vectors are unit length (scores are inner products). make_faiss_index allows
# |norm² - 1| up to UNIT_NORM_TOLERANCE; loading allows twice that, so rounding never
# refuses a bundle that was accepted at build (a false alarm would rebuild on every start).
UNIT_NORM_TOLERANCE = 1e-3
_LOADED_NORM_TOLERANCE = 2 * UNIT_NORM_TOLERANCE
# SQ8 codes decode to norm² within 0.0041 of 1 (all of 100k generated 384-d vectors, IVF1265);
# a damaged vector or quantiser lands far outside 0.1.
_QUANTISED_NORM_TOLERANCE = 0.1
_NORM_SAMPLE = 4096  # quantised vectors decoded per load (all of them below this)
_NORM_CHUNK_ROWS = 1 << 16  # rows per norm computation: bounded scratch memory

# glibc hands a freed block larger than its mmap threshold back to the system at once and
# maps fresh, not yet faulted pages for the next one; the threshold starts at 128 KiB and
# only rises when such a block is freed. At a million statements a question makes arrays of
# 4-8 MB (a score per statement), so with fresh pages each time every question pays a page
# fault per 4 KiB it touches: topic p50 12.6-13.1 ms against 6.2-7.1 ms with the thresholds
# below (bench/RESULTS.md, "Opening a million statements at a fifth"). Format-4 bundles
# raised the threshold by accident, freeing the 16 MB text of tables.json. Set once a process
# opens a bundle, to the most glibc's own rule reaches (32 MiB; trimmed past twice that).
MALLOC_MMAP_THRESHOLD = 32 << 20
MALLOC_TRIM_THRESHOLD = 2 * MALLOC_MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters

ENV_EXACT_THRESHOLD = "REACTIONS_EXACT_THRESHOLD"
DEFAULT_EXACT_THRESHOLD = 50_000
DEFAULT_TARGET_RECALL = 0.95
_TRAIN_MAX = 200_000
_CALIBRATION_QUERIES = 256
_NPROBE_STEPS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
_REQUIRED = {
    "format": int,
    "model": str,
    "dim": int,
    "count": int,
    "index_type": str,
    "sources": dict,
    "built_at": str,
    SIZES: dict,
}


class IndexProblem(Exception):
    """The index bundle at ``path`` cannot be used; ``detail`` says why."""

    hint = "rebuild the index"

    def __init__(self, path: Path, detail: str) -> None:
        self.path = Path(path)
        self.detail = detail
        super().__init__(f"{self.summary()} at {self.path}: {detail}; {self.hint}")

    def summary(self) -> str:
        return "index problem"


class IndexMissing(IndexProblem):
    """No bundle has been built at ``path`` yet."""

    hint = "build the index first"

    def summary(self) -> str:
        return "no index"


class IndexCorrupt(IndexProblem):
    """The bundle is unreadable, partial or inconsistent."""

    def summary(self) -> str:
        return "corrupt index"


class IndexStale(IndexProblem):
    """The bundle is sound but was built from another model, format or set of sources."""

    def summary(self) -> str:
        return "out-of-date index"

    @property
    def reason(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Bundle:
    """A loaded index: row ``i`` of ``index`` (and of ``multilingual``) is ``statements[i]``."""

    path: Path
    index: faiss.Index
    statements: Sequence[Statement]  # a list, or a StatementTable parsing rows when asked
    documents: list[Document]
    manifest: dict[str, Any]
    multilingual: faiss.Index | None = None  # the same statements, by the multilingual model
    tables: Tables | None = None  # what the query stages look up (index.tables)
    grains: Grains | None = None  # the multilingual route's pieces and glossary


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (the sources' hashes; a pre-XXH3 bundle's files)."""
    with open(path, "rb") as fh:
        return _digest_fd(fh.fileno(), LEGACY_HASHES)


def file_digest(path: Path, algorithm: str = HASHES) -> str:
    """Hex digest of a file as a bundle's manifest lists it (XXH3-128 unless told otherwise)."""
    with open(path, "rb") as fh:
        return _digest_fd(fh.fileno(), algorithm)


def manifest_seal(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's fields other than the seal, as canonical JSON.

    Hashing the parsed content rather than the file's bytes lets the seal live inside the
    file it protects; any change to a value (a flipped digit in a count or a file hash)
    changes it.
    """
    content = {key: value for key, value in manifest.items() if key != SEAL}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_hashes(paths: Iterable[Path]) -> dict[str, str]:
    """``{file name: sha256}`` for the manifest's ``sources``."""
    return {Path(p).name: sha256_file(Path(p)) for p in sorted(paths, key=lambda p: Path(p).name)}


def exact_threshold_from_env(default: int = DEFAULT_EXACT_THRESHOLD) -> int:
    """``$REACTIONS_EXACT_THRESHOLD`` (vectors below it get an exact index), else ``default``."""
    raw = os.environ.get(ENV_EXACT_THRESHOLD, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{ENV_EXACT_THRESHOLD}={raw!r}: expected a whole number") from None
    if value < 0:
        raise ValueError(f"{ENV_EXACT_THRESHOLD}={raw!r}: expected zero or more")
    return value


def make_faiss_index(
    vectors: np.ndarray,
    *,
    exact_threshold: int | None = None,
    nlist: int | None = None,
    nprobe: int | None = None,
    target_recall: float = DEFAULT_TARGET_RECALL,
    seed: int = 0,
    zero_rows: bool = False,
) -> faiss.Index:
    """An inner-product index over unit ``vectors``: exact below the threshold, else IVF + SQ8.
    With ``zero_rows``, rows of zeros are allowed too (statements not embedded yet: they score
    0 against any question; ``index.build.deferred_multilingual``).

    The IVF's ``nprobe`` is the smallest that reaches ``target_recall`` (recall@10 against
    exact search, measured on a sample of the vectors) unless given.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"vectors must be a 2-D (n, dim) array, got shape {x.shape}")
    n, dim = x.shape
    norms = np.einsum("ij,ij->i", x, x)
    unit = np.isclose(norms, 1.0, atol=UNIT_NORM_TOLERANCE) | (zero_rows & (norms == 0.0))
    if n and not unit.all():
        raise ValueError("vectors must be L2-normalised (scores are inner products)")
    threshold = exact_threshold_from_env() if exact_threshold is None else exact_threshold
    if n < max(threshold, 2):
        flat = faiss.IndexFlatIP(dim)
        flat.add(x)
        return flat
    lists = nlist or default_nlist(n)
    index = faiss.index_factory(dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    train_size = min(n, max(_TRAIN_MAX // 2, 64 * lists), _TRAIN_MAX)
    train = x if train_size == n else x[np.sort(rng.choice(n, train_size, replace=False))]
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.seed = seed
    index.train(train)
    index.add(x)
    ivf.nprobe = nprobe or calibrate_nprobe(index, x, target_recall=target_recall, seed=seed)
    return index


def default_nlist(n: int) -> int:
    """About 4·sqrt(n) lists, but never fewer than 39 training points a list (k-means needs it)."""
    return max(1, min(round(4 * math.sqrt(n)), n // 39))


def calibrate_nprobe(
    index: faiss.Index,
    vectors: np.ndarray,
    *,
    target_recall: float = DEFAULT_TARGET_RECALL,
    k: int = 10,
    seed: int = 0,
) -> int:
    """Smallest nprobe whose recall@k against exact search reaches ``target_recall``.

    Queries are midpoints of random pairs of vectors: unlike the vectors themselves they need
    not sit next to a centroid, which is closer to how questions relate to statements.
    """
    ivf = faiss.extract_index_ivf(index)
    n = vectors.shape[0]
    rng = np.random.default_rng(seed + 1)
    pairs = rng.integers(0, n, size=(_CALIBRATION_QUERIES, 2))
    queries = vectors[pairs[:, 0]] + vectors[pairs[:, 1]]
    queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, n)
    _, exact = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    for step in (*[s for s in _NPROBE_STEPS if s < ivf.nlist], ivf.nlist):
        ivf.nprobe = step
        _, found = index.search(queries, k)
        measured = recall(found, exact)
        if measured >= target_recall:
            break
    log.info("IVF%d: nprobe %d gives recall@%d %.3f", ivf.nlist, ivf.nprobe, k, measured)
    return int(ivf.nprobe)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of ``truth`` (ids) that the same row of ``found`` contains."""
    if truth.size == 0:
        return 1.0
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def describe_index(index: faiss.Index) -> dict[str, Any]:
    """``index_type`` (a faiss factory string) and ``nprobe`` (IVF only) for the manifest."""
    try:
        ivf: Any = faiss.downcast_index(faiss.extract_index_ivf(index))
    except RuntimeError:
        name = "Flat" if isinstance(index, faiss.IndexFlat) else type(index).__name__
        return {"index_type": name, "nprobe": None}
    if isinstance(ivf, faiss.IndexIVFScalarQuantizer):
        codes = "SQ8" if ivf.sq.qtype == faiss.ScalarQuantizer.QT_8bit else "SQ"
    elif isinstance(ivf, faiss.IndexIVFFlat):
        codes = "Flat"
    else:
        codes = type(ivf).__name__
    return {"index_type": f"IVF{ivf.nlist},{codes}", "nprobe": int(ivf.nprobe)}


def save_bundle(
    index_dir: Path,
    *,
    index: faiss.Index,
    statements: Sequence[Statement],
    documents: Sequence[Document],
    manifest: Mapping[str, Any],
    multilingual: faiss.Index | None = None,
    tables: Tables | None = None,
    grains: Grains | None = None,
) -> None:
    """Write a bundle atomically: build it in a sibling temp dir, then swap it into place.

    ``manifest`` needs ``model`` and ``sources`` (and, with ``multilingual``, a
    ``multilingual`` field naming its ``model``); format, dim, count, index_type, nprobe,
    built_at, the files' sizes and XXH3-128 hashes and the manifest's seal are filled in here.
    ``tables`` are the query stages' tables of these statements (derived here when absent);
    ``grains`` the multilingual route's pieces and glossary (only beside ``multilingual``).
    """
    index_dir = Path(index_dir)
    if index.ntotal != len(statements):
        raise ValueError(f"index holds {index.ntotal} vectors but {len(statements)} statements")
    if multilingual is not None and multilingual.ntotal != len(statements):
        raise ValueError(
            f"the multilingual index holds {multilingual.ntotal} vectors"
            f" but {len(statements)} statements"
        )
    for key, value in (("dim", index.d), ("count", index.ntotal)):
        if key in manifest and manifest[key] != value:
            raise ValueError(f"manifest says {key}={manifest[key]!r} but the index has {value}")
    full: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "dim": int(index.d),
        "count": int(index.ntotal),
        **describe_index(index),
    }
    full["format"] = FORMAT_VERSION
    full.pop(MULTILINGUAL, None)
    if multilingual is not None:
        named = dict(manifest.get(MULTILINGUAL) or {})
        if not isinstance(named.get("model"), str):
            raise ValueError("a multilingual index needs manifest['multilingual']['model']")
        full[MULTILINGUAL] = {**named, "dim": int(multilingual.d), **describe_index(multilingual)}
        full[MULTILINGUAL].pop(GRAINS, None)
        if grains is not None:
            full[MULTILINGUAL][GRAINS] = grains.summary()
    files = bundle_files(full)  # as load_bundle will read them
    parent = index_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(index_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-{os.getpid()}-", dir=parent))
    try:
        faiss.write_index(index, str(tmp / VECTORS))
        _fsync(tmp / VECTORS)
        if multilingual is not None:
            faiss.write_index(multilingual, str(tmp / MULTILINGUAL_VECTORS))
            _fsync(tmp / MULTILINGUAL_VECTORS)
            if grains is not None:
                with open(tmp / ML_GRAINS, "wb") as fh:
                    grains.save(fh)
                _fsync(tmp / ML_GRAINS)
        lengths = _write_lines(
            tmp / STATEMENTS, (json.dumps(s.to_dict(), ensure_ascii=False) for s in statements)
        )
        if tables is None:
            from index.catalog import analyze

            tables = derive(statements, documents, analyze)
        offsets = line_offsets(lengths, len(statements))
        for name in tables.save(tmp, {OFFSETS: offsets}):
            _fsync(tmp / name)
        docs = [dataclasses.asdict(d) for d in documents]
        _write_text(tmp / DOCUMENTS, [json.dumps(docs, ensure_ascii=False, indent=1), "\n"])
        full[SIZES] = {name: (tmp / name).stat().st_size for name in files}
        # Hashed after writing and fsync, so the hashes are of the bytes on disk.
        full[HASHES] = {name: file_digest(tmp / name) for name in files}
        full[SEAL] = manifest_seal(full)
        _write_text(tmp / MANIFEST, [json.dumps(full, ensure_ascii=False, indent=2), "\n"])
        tmp.chmod(0o755)  # mkdtemp makes it private; the bot may run as another user
        _fsync_dir(tmp)
        _swap_into_place(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_lines(path: Path, lines: Iterable[str]) -> list[int]:
    """Write each string as one UTF-8 line; the byte length of each line, newline included."""
    lengths = []
    with open(path, "wb") as fh:
        for line in lines:
            data = line.encode("utf-8") + b"\n"
            fh.write(data)
            lengths.append(len(data))
    _fsync(path)
    return lengths


def _write_text(path: Path, chunks: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(chunks)
    _fsync(path)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_into_place(tmp: Path, index_dir: Path) -> None:
    """Rename the old bundle away, the new one in, then delete the old one."""
    old: Path | None = None
    if index_dir.exists() or index_dir.is_symlink():
        old = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
        os.rename(index_dir, old)
    try:
        os.rename(tmp, index_dir)
    except BaseException:
        if old is not None:
            os.rename(old, index_dir)  # put the previous bundle back
        raise
    _fsync_dir(index_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _leftovers(index_dir: Path) -> list[tuple[Path, str, int]]:
    """Temp and old dirs that earlier saves of ``index_dir`` left: (path, kind, pid)."""
    pattern = re.compile(rf"^\.{re.escape(index_dir.name)}\.(tmp|old)-(\d+)-")
    found = []
    if index_dir.parent.is_dir():
        for entry in index_dir.parent.iterdir():
            match = pattern.match(entry.name)
            if match and entry.is_dir():
                found.append((entry, match[1], int(match[2])))
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process finishes or cleans its own saves
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(index_dir: Path) -> None:
    """Remove what crashed saves left; if one died mid-swap, put the previous bundle back."""
    for path, kind, pid in _leftovers(index_dir):
        if _alive(pid):
            continue  # another process is saving right now
        if kind == "old" and not (index_dir.exists() or index_dir.is_symlink()):
            os.rename(path, index_dir)  # the save died between its two renames
        else:
            shutil.rmtree(path, ignore_errors=True)


@functools.cache
def keep_large_blocks() -> bool:
    """Set glibc's malloc thresholds (MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD) once a
    process; False where the C library has no ``mallopt`` (not glibc) or refuses them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trim = mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
    return bool(trim and mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD))


def load_bundle(
    index_dir: Path, *, expect: Mapping[str, Any] | None = None, verify: bool = True
) -> Bundle:
    """Load and check a bundle; raises IndexMissing, IndexCorrupt or IndexStale (IndexProblem).

    With ``verify`` (the default) every file must match the hash its manifest lists (XXH3-128,
    or sha256 in a bundle written before XXH3) and the stored vectors must be finite and unit
    length; ``verify=False`` checks sizes only (for benchmarks of what verification costs).
    """
    index_dir = Path(index_dir)
    keep_large_blocks()
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexCorrupt(index_dir, "it is not a directory")
    if not index_dir.is_dir() or not any(index_dir.iterdir()):
        detail = "the directory does not exist" if not index_dir.exists() else "it is empty"
        if any(kind == "old" for _, kind, _ in _leftovers(index_dir)):
            detail += " (an interrupted save left the previous bundle next to it)"
        raise IndexMissing(index_dir, detail)
    manifest = _read_manifest(index_dir)
    if expect:
        _check_expected(index_dir, manifest, expect)
    ml: dict[str, Any] = manifest.get(MULTILINGUAL) or {}
    files = bundle_files(manifest)
    # Each file is checked and then parsed through the same open file, so what is parsed is
    # what was hashed even if a concurrent save swaps the directory in between.
    multilingual = None
    grains = None
    with contextlib.ExitStack() as stack:
        opened = {
            name: stack.enter_context(_open_sized(index_dir, name, manifest)) for name in files
        }
        if verify:
            _verify_hashes(index_dir, opened, manifest)
        index = _read_vectors(index_dir, opened[VECTORS])
        if verify:
            _check_vectors(index_dir, index)
        if ml:
            multilingual = _read_vectors(
                index_dir, opened[MULTILINGUAL_VECTORS], MULTILINGUAL_VECTORS
            )
            if verify:
                _check_vectors(index_dir, multilingual, MULTILINGUAL_VECTORS)
        if ML_GRAINS in opened:
            try:
                grains = Grains.load(opened[ML_GRAINS], int(manifest["count"]), int(ml["dim"]))
            except Exception as exc:  # a hash that matches over a bad file: still no crash
                raise IndexCorrupt(index_dir, f"{ML_GRAINS} cannot be read ({exc})") from exc
        arrays = _map_arrays(index_dir, opened[TABLES_NPZ])
        statements = _map_statements(index_dir, opened[STATEMENTS], arrays.pop(OFFSETS, None))
        tables = _read_tables(index_dir, opened[TABLES_JSON], arrays)
        documents = _read_documents(index_dir, opened[DOCUMENTS])
    if len(tables.doc_of_row) != len(statements):
        raise IndexCorrupt(
            index_dir, f"the tables cover {len(tables.doc_of_row)} rows of {len(statements)}"
        )
    dims = [(VECTORS, index, manifest["dim"])]
    counts = {"manifest": manifest["count"], VECTORS: index.ntotal, STATEMENTS: len(statements)}
    if multilingual is not None:
        dims.append((MULTILINGUAL_VECTORS, multilingual, ml["dim"]))
        counts[MULTILINGUAL_VECTORS] = multilingual.ntotal
    for name, vectors, dim in dims:
        if vectors.d != dim:
            raise IndexCorrupt(
                index_dir, f"{name} has dimension {vectors.d} but the manifest says {dim}"
            )
    if len(set(counts.values())) != 1:
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        raise IndexCorrupt(index_dir, f"counts disagree: {listed}")
    _set_nprobe(index, manifest.get("nprobe"))
    if multilingual is not None:
        _set_nprobe(multilingual, ml.get("nprobe"))
    return Bundle(index_dir, index, statements, documents, manifest, multilingual, tables, grains)


def bundle_files(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """The data files a bundle's manifest says it holds."""
    ml = manifest.get(MULTILINGUAL) or {}
    if not ml:
        return DATA_FILES
    return (*DATA_FILES, MULTILINGUAL_VECTORS, *((ML_GRAINS,) if ml.get(GRAINS) else ()))


def _set_nprobe(index: faiss.Index, nprobe: Any) -> None:
    """An IVF index searches as many lists as its build calibrated (the manifest keeps it)."""
    if isinstance(nprobe, int) and nprobe > 0:
        with contextlib.suppress(RuntimeError):
            faiss.extract_index_ivf(index).nprobe = nprobe


def _read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(index_dir, f"{MANIFEST} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(index_dir, f"{MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise IndexCorrupt(index_dir, f"{MANIFEST} is not a JSON object")
    # The format comes first: an older bundle lacks the newer fields and is stale, not corrupt.
    version = manifest.get("format")
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise IndexStale(
            index_dir, f"it has format {version}, this version reads format {FORMAT_VERSION}"
        )
    # Then the seal: any change since the build, even one that leaves valid JSON and valid
    # fields (a digit of a count or of a file's hash), is reported as what it is.
    if manifest.get(SEAL) != manifest_seal(manifest):
        raise IndexCorrupt(
            index_dir, f"{MANIFEST} does not match its own {SEAL} (changed after the build)"
        )
    for key, kind in _REQUIRED.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise IndexCorrupt(
                index_dir, f"{MANIFEST} field {key!r} should be {kind.__name__}, got {value!r}"
            )
    ml = manifest.get(MULTILINGUAL)
    if ml is not None and not (
        isinstance(ml, dict)
        and isinstance(ml.get("model"), str)
        and isinstance(ml.get("dim"), int)
        and not isinstance(ml.get("dim"), bool)
    ):
        raise IndexCorrupt(
            index_dir, f"{MANIFEST} field {MULTILINGUAL!r} should name a model and a dimension"
        )
    if not ml and MULTILINGUAL_VECTORS in manifest[SIZES]:
        raise IndexCorrupt(
            index_dir, f"{MANIFEST} lists {MULTILINGUAL_VECTORS} but no multilingual model"
        )
    algorithm = hash_algorithm(manifest)
    if not isinstance(manifest.get(algorithm), dict):
        raise IndexCorrupt(
            index_dir,
            f"{MANIFEST} field {algorithm!r} should be dict, got {manifest.get(algorithm)!r}",
        )
    digest_re = re.compile(f"[0-9a-f]{{{_DIGEST_HEX[algorithm]}}}")
    for name in bundle_files(manifest):
        size, digest = manifest[SIZES].get(name), manifest[algorithm].get(name)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise IndexCorrupt(index_dir, f"{MANIFEST} has no size for {name}")
        if not (isinstance(digest, str) and digest_re.fullmatch(digest)):
            raise IndexCorrupt(index_dir, f"{MANIFEST} has no {algorithm} for {name}")
    if algorithm == LEGACY_HASHES:
        log.info(
            "%s lists sha256 file hashes (written before XXH3): checked with sha256, which is"
            " slower; the next build writes XXH3",
            index_dir,
        )
    return manifest


def hash_algorithm(manifest: Mapping[str, Any]) -> str:
    """The manifest's file hashes: XXH3-128, or sha256 in a bundle written before XXH3 (the
    newer field wins when a manifest has both)."""
    return LEGACY_HASHES if HASHES not in manifest and LEGACY_HASHES in manifest else HASHES


def _check_expected(index_dir: Path, manifest: dict[str, Any], expect: Mapping[str, Any]) -> None:
    """IndexStale when the bundle was built from something other than what ``expect`` names."""
    for key, wanted in expect.items():
        have = manifest.get(key)
        if key == "sources" and isinstance(have, dict) and isinstance(wanted, Mapping):
            changes = [f"{name} is new" for name in sorted(set(wanted) - set(have))]
            changes += [f"{name} was removed" for name in sorted(set(have) - set(wanted))]
            changes += [
                f"{name} changed"
                for name in sorted(set(have) & set(wanted))
                if have[name] != wanted[name]
            ]
            if changes:
                raise IndexStale(index_dir, "sources differ: " + ", ".join(changes))
        elif have != wanted:
            raise IndexStale(index_dir, f"{key} is {have!r}, expected {wanted!r}")


@contextlib.contextmanager
def _open_sized(index_dir: Path, name: str, manifest: Mapping[str, Any]) -> Iterator[IO[bytes]]:
    """The bundle file ``name``, open at its start once its size matches the manifest (its
    hash is checked by ``_verify_hashes`` before anything parses it: a damaged FAISS header
    could otherwise ask for gigabytes before the damage showed)."""
    try:
        fh = open(index_dir / name, "rb")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError:
        raise IndexCorrupt(index_dir, f"{name} is missing") from None
    except OSError as exc:
        raise IndexCorrupt(index_dir, f"cannot read {name} ({exc})") from exc
    with fh:
        size, expected = os.fstat(fh.fileno()).st_size, manifest[SIZES][name]
        if size != expected:
            raise IndexCorrupt(
                index_dir,
                f"{name} is {size} bytes but the manifest says {expected}"
                " (truncated or partly written)",
            )
        yield fh


def _read_vectors(index_dir: Path, fh: IO[bytes], name: str = VECTORS) -> faiss.Index:
    """The FAISS index in ``fh``, read through that open file, so it is the bytes just hashed.

    An IVF index's lists are memory-mapped where the system names open files
    (``/proc/self/fd``): opening a million vectors costs 4 ms instead of 220 ms and 380 MB
    less RSS, for ~0.07 ms more a search (bench/RESULTS.md, "Opening"). Exact indexes are
    read into memory (FAISS maps IVF lists only)."""
    by_fd = Path(f"/proc/self/fd/{fh.fileno()}")
    try:
        if by_fd.exists():
            index = faiss.read_index(str(by_fd), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        else:
            fh.seek(0)
            reader = faiss.PyCallbackIOReader(fh.read, _HASH_CHUNK)  # type: ignore[attr-defined]
            index = faiss.read_index(reader)
    except (RuntimeError, MemoryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IndexCorrupt(index_dir, f"FAISS cannot read {name} ({first})") from exc
    return index


def _check_vectors(index_dir: Path, index: faiss.Index, name: str = VECTORS) -> None:
    """IndexCorrupt unless the stored vectors are finite and unit length.

    A hash only proves the file is what was written; this catches vectors that were already
    wrong when written (NaN or huge values change every answer). Exact indexes are checked
    row by row; IVF indexes have their centroids checked, their ids checked to be 0..n-1 once
    each, and a fixed sample of their quantised vectors decoded.
    """
    if isinstance(index, faiss.IndexFlat):
        _check_rows(index_dir, name, _flat_rows(index), "row", _LOADED_NORM_TOLERANCE)
        return
    try:
        ivf: Any = faiss.downcast_index(faiss.extract_index_ivf(index))
    except RuntimeError:
        log.debug("no integrity check for %s vectors", type(index).__name__)
        return
    quantizer: Any = faiss.downcast_index(ivf.quantizer)
    if isinstance(quantizer, faiss.IndexFlat):
        _check_rows(index_dir, name, _flat_rows(quantizer), "IVF centroid", None)
    ids, starts = _ivf_ids(ivf)
    if len(ids) != index.ntotal or not np.array_equal(
        np.bincount(ids[(ids >= 0) & (ids < len(ids))], minlength=len(ids)), np.ones(len(ids))
    ):
        raise IndexCorrupt(
            index_dir, f"{name}: the IVF lists do not hold each id 0..{index.ntotal - 1} once"
        )
    n = len(ids)
    # The same rows every time: a bundle passes or fails, never by the luck of the draw.
    rows = np.arange(n)
    if n > _NORM_SAMPLE:
        rows = np.sort(np.random.default_rng(0).choice(n, _NORM_SAMPLE, replace=False))
    lists = np.searchsorted(starts, rows, side="right") - 1
    decoded = np.empty((len(rows), ivf.d), dtype=np.float32)
    try:
        for i, (list_no, row) in enumerate(zip(lists.tolist(), rows.tolist(), strict=True)):
            offset = row - int(starts[list_no])
            ivf.reconstruct_from_offset(list_no, offset, faiss.swig_ptr(decoded[i]))
    except RuntimeError:  # an IVF kind that cannot decode its codes: the ids were checked
        log.debug("no decode check for %s vectors", type(ivf).__name__)
        return
    _check_rows(index_dir, name, decoded, "decoded vector", _QUANTISED_NORM_TOLERANCE, ids[rows])


def _flat_rows(index: Any) -> np.ndarray:
    """The (ntotal, d) float32 array an IndexFlat stores, as a view (no copy)."""
    if index.ntotal == 0:
        return np.empty((0, index.d), dtype=np.float32)
    flat = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
    return np.asarray(flat).reshape(index.ntotal, index.d)


def _ivf_ids(ivf: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every id in list order, and where each list starts in that order."""
    invlists = ivf.invlists
    sizes = np.array([invlists.list_size(i) for i in range(ivf.nlist)], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    ids = np.empty(int(starts[-1]), dtype=np.int64)
    for list_no in np.flatnonzero(sizes).tolist():
        pointer = invlists.get_ids(list_no)
        try:
            faiss.memcpy(faiss.swig_ptr(ids[starts[list_no] :]), pointer, int(sizes[list_no]) * 8)
        finally:
            invlists.release_ids(list_no, pointer)
    return ids, starts


def _check_rows(
    index_dir: Path,
    name: str,
    rows: np.ndarray,
    what: str,
    tolerance: float | None,
    labels: np.ndarray | None = None,
) -> None:
    """IndexCorrupt at the first row that is not finite or (with ``tolerance``) whose squared
    norm is further than that from 1."""
    for start in range(0, len(rows), _NORM_CHUNK_ROWS):
        chunk = rows[start : start + _NORM_CHUNK_ROWS]
        # A NaN or infinite value, or one too large to square, makes its row's norm² NaN or
        # inf: one pass over the data finds both kinds of damage.
        squares = np.einsum("ij,ij->i", chunk, chunk)
        bad = ~np.isfinite(squares)
        if tolerance is not None:
            bad |= ~(np.abs(squares - 1.0) <= tolerance)
        if bad.any():
            at = int(np.argmax(bad))
            row = start + at if labels is None else int(labels[start + at])
            if not np.isfinite(chunk[at]).all():
                problem = "holds NaN or infinite values"
            else:
                problem = f"is not unit length (squared norm {float(squares[at]):.6g})"
            raise IndexCorrupt(index_dir, f"{name} {what} {row} {problem}")


def _verify_hashes(
    index_dir: Path, opened: Mapping[str, IO[bytes]], manifest: Mapping[str, Any]
) -> None:
    """Every file's hash against the manifest, two files at a time (the reads and the hashes
    let go of the GIL, so two cores hash faster: bench/RESULTS.md, "Opening")."""
    algorithm = hash_algorithm(manifest)

    def check(name: str) -> str | None:
        try:
            digest = _digest_fd(opened[name].fileno(), algorithm)
        except OSError as exc:
            return f"cannot read {name} ({exc})"
        want = manifest[algorithm].get(name)
        if digest != want:
            return (
                f"{name} does not match its {algorithm} in the manifest"
                f" ({digest[:12]}… instead of {str(want)[:12]}…): it changed after the build"
            )
        return None

    names = sorted(opened, key=lambda n: -int(manifest[SIZES].get(n, 0)))
    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        problems = [p for p in pool.map(check, names) if p]
    if problems:
        raise IndexCorrupt(index_dir, problems[0])


def _digest_fd(fd: int, algorithm: str) -> str:
    """Hex digest of an open file from its start: through a map span by span where the system
    can page a span in with an error instead of a signal, else read by position into one
    reused buffer. Either way never whole in memory, and threads hashing files at once share
    no file offset."""
    digest = xxhash.xxh3_128() if algorithm == HASHES else hashlib.new(algorithm)
    if not _digest_mapped(fd, digest):
        _digest_read(fd, digest)
    return digest.hexdigest()


def _digest_mapped(fd: int, digest: Any) -> bool:
    """Feed the file to ``digest`` through a map; False (nothing fed) where the system cannot
    populate one. A read error while paging in is an OSError, as from a read."""
    size = os.fstat(fd).st_size
    if size == 0 or not hasattr(mmap.mmap, "madvise"):
        return size == 0
    with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
        for at in range(0, size, _MAP_SPAN):
            span = min(_MAP_SPAN, size - at)
            try:
                mapped.madvise(_MADV_POPULATE_READ, at, span)
            except OSError as exc:
                if at == 0 and exc.errno == errno.EINVAL:  # an older kernel, or not Linux
                    return False
                raise
            digest.update(view[at : at + span])
            mapped.madvise(mmap.MADV_DONTNEED, at, span)  # unmapped only: the cache keeps it
    return True


def _digest_read(fd: int, digest: Any) -> None:
    """Feed the file to ``digest`` by reads: a read error (a bad sector) is an OSError here,
    where a mapped page that was not populated first would kill the process with SIGBUS."""
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    at = 0
    while read := os.preadv(fd, [buffer], at):
        digest.update(view[:read])
        at += read


def _map_arrays(index_dir: Path, fh: IO[bytes]) -> dict[str, np.ndarray]:
    try:
        return map_npz(fh)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise IndexCorrupt(index_dir, f"cannot read {TABLES_NPZ} ({exc})") from exc


def _map_statements(index_dir: Path, fh: IO[bytes], offsets: np.ndarray | None) -> StatementTable:
    """The statements, parsed one by one when asked for, through their line offsets."""
    try:
        blob = map_file(fh)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(index_dir, f"cannot read {STATEMENTS} ({exc})") from exc
    size = len(blob)
    if (
        offsets is None
        or offsets.ndim != 1
        or len(offsets) == 0
        or offsets[0] != 0
        or offsets[-1] != size
        or (len(offsets) > 1 and bool(np.any(np.diff(offsets) <= 0)))
    ):
        raise IndexCorrupt(index_dir, f"the line offsets in {TABLES_NPZ} do not match {STATEMENTS}")
    table = StatementTable(blob, offsets)
    # Rows are parsed when asked for; the first and the last now, so a bundle whose lines are
    # not statements is refused at open (the hashes already vouch for every byte).
    for row in {0, len(table) - 1} if len(table) else ():
        try:
            table[row]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(
                index_dir, f"{STATEMENTS} line {row + 1} is not a statement ({exc!r})"
            ) from exc
    return table


def _read_tables(index_dir: Path, strings_fh: IO[bytes], arrays: dict[str, np.ndarray]) -> Tables:
    from index.catalog import analyze

    try:
        strings = json.loads(strings_fh.read().decode("utf-8"))
        return Tables.load(strings, arrays, analyze)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(index_dir, f"the tables are not readable ({exc!r})") from exc


def _read_documents(index_dir: Path, fh: IO[bytes]) -> list[Document]:
    try:
        rows = json.loads(fh.read().decode("utf-8"))
        if not isinstance(rows, list):
            raise TypeError("not a JSON list")
        return [document_from_dict(row) for row in rows]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IndexCorrupt(index_dir, f"{DOCUMENTS} is not valid ({exc})") from exc
