"""The index bundle: round trip, exact vs IVF, corruption, integrity, staleness, atomic saves."""

from __future__ import annotations

import json
import logging
import math
import mmap
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import store
from index.columns import save_npz
from index.crosslingual import Grains
from index.model import Document, Source, Statement
from index.store import (
    Bundle,
    IndexCorrupt,
    IndexMissing,
    IndexProblem,
    IndexStale,
    describe_index,
    load_bundle,
    make_faiss_index,
    manifest_seal,
    recall,
    save_bundle,
    source_hashes,
)
from tests.conftest import TEST_SOURCES

REPO = Path(__file__).resolve().parents[1]
DIM = 32


@pytest.fixture(autouse=True)
def _no_threshold_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(store.ENV_EXACT_THRESHOLD, raising=False)


def unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32)
    return np.ascontiguousarray(rows / np.linalg.norm(rows, axis=1, keepdims=True))


def clustered(n: int, *, dim: int = 64, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around shared random centres (the centres depend only on ``clusters``)."""
    centres = unit(np.random.default_rng(1234).standard_normal((clusters, dim)))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, dim)) / np.sqrt(dim)
    return unit(centres[rng.integers(0, clusters, n)] + noise)


def make_statements(n: int) -> list[Statement]:
    return [
        Statement(
            id=f"doc-{i}",
            document="doc",
            country="Франция" if i % 2 else "Germany",
            speaker=f"Speaker {i}",
            role="minister" if i % 3 else None,
            kind="person",
            text=f"Statement number {i} «quoted» 🙂",
            sources=(Source("Interfax", "2024-06-11", "Interfax, 11.06.24"),),
            parent="doc-0" if i % 5 == 4 else None,
            line=i + 1,
            position=i,
        )
        for i in range(n)
    ]


DOCUMENTS = [
    Document(id="doc", path="data/sources/doc.txt", title="Reactions", intro=("a", "b"), sha256="x")
]
MANIFEST = {"model": "test-model-1", "sources": {"doc.txt": "aa11"}}


def write_bundle(path: Path, n: int = 20, seed: int = 0, **manifest: object) -> np.ndarray:
    vectors = unit(np.random.default_rng(seed).standard_normal((n, DIM)))
    save_bundle(
        path,
        index=make_faiss_index(vectors),
        statements=make_statements(n),
        documents=DOCUMENTS,
        manifest={**MANIFEST, **manifest},
    )
    return vectors


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def edit_manifest(path: Path, *, reseal: bool = True, **changes: object) -> None:
    """Change manifest fields; ``reseal`` as if the manifest had been written so at build."""
    manifest = json.loads((path / store.MANIFEST).read_text())
    manifest.update(changes)
    if reseal:
        manifest[store.SEAL] = manifest_seal(manifest)
    (path / store.MANIFEST).write_text(json.dumps(manifest))


def rehash(path: Path) -> None:
    """Record the data files' current sizes and hashes: damage done before the build hashed."""
    edit_manifest(
        path,
        **{
            store.SIZES: {name: (path / name).stat().st_size for name in store.DATA_FILES},
            store.HASHES: {name: store.file_digest(path / name) for name in store.DATA_FILES},
        },
    )


def damage_block(file: Path) -> None:
    """Overwrite up to 4 KiB in the middle of ``file`` with other bytes; the size stays."""
    data = bytearray(file.read_bytes())
    size = min(4096, len(data) // 4)
    start = len(data) // 2 - size // 2
    data[start : start + size] = bytes(b ^ 0xFF for b in data[start : start + size])
    file.write_bytes(bytes(data))


def damage_one_character(file: Path) -> None:
    """Change one byte near the middle: in a text file a digit or letter into another of its
    kind (the JSON still parses), in vectors.faiss one low bit (a float moves a little)."""
    data = bytearray(file.read_bytes())
    middle = len(data) // 2
    if file.name == store.VECTORS:
        data[middle] ^= 0x01
    else:
        at = min(
            (i for i, b in enumerate(data) if chr(b).isascii() and chr(b).isalnum()),
            key=lambda i: abs(i - middle),
        )
        was = chr(data[at])
        data[at] = ord(
            ("1" if was == "0" else "0") if was.isdigit() else ("b" if was == "a" else "a")
        )
    file.write_bytes(bytes(data))


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "index"
    vectors = write_bundle(path, n=20)
    bundle = load_bundle(path, expect=MANIFEST | {"dim": DIM})
    assert isinstance(bundle, Bundle)
    assert bundle.statements == make_statements(20)
    assert bundle.documents == DOCUMENTS
    manifest = bundle.manifest
    assert manifest["format"] == store.FORMAT_VERSION
    assert (manifest["model"], manifest["dim"], manifest["count"]) == ("test-model-1", DIM, 20)
    assert manifest["index_type"] == "Flat"
    assert manifest["sources"] == {"doc.txt": "aa11"}
    assert manifest["built_at"]
    assert set(manifest[store.HASHES]) == set(manifest[store.SIZES]) == set(store.DATA_FILES)
    for name in store.DATA_FILES:
        assert manifest[store.HASHES][name] == store.file_digest(path / name)
    assert manifest[store.SEAL] == manifest_seal(manifest)
    scores, ids = bundle.index.search(vectors[3:4], 3)
    assert ids[0][0] == 3
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert leftovers(path) == []
    assert path.stat().st_mode & 0o777 == 0o755  # readable by a bot running as another user


def test_files_are_plain_json_no_pickle(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_bundle(path, n=3)
    assert sorted(p.name for p in path.iterdir()) == sorted([store.MANIFEST, *store.DATA_FILES])
    with np.load(path / store.TABLES_NPZ, allow_pickle=False) as z:  # arrays only: no pickle
        assert all(z[k].dtype != object for k in z.files)
        assert z[store.OFFSETS].tolist()[0] == 0 and len(z[store.OFFSETS]) == 4
    lines = (path / store.STATEMENTS).read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[1])["country"] == "Франция"
    assert json.loads((path / store.DOCUMENTS).read_text())[0]["intro"] == ["a", "b"]


def test_empty_corpus_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "index"
    index = make_faiss_index(np.empty((0, DIM), dtype=np.float32))
    save_bundle(path, index=index, statements=[], documents=[], manifest=MANIFEST)
    bundle = load_bundle(path)
    assert bundle.statements == []
    assert bundle.index.ntotal == 0


def test_threshold_picks_exact_or_ivf_and_ivf_recall(tmp_path: Path) -> None:
    vectors = clustered(5_000)
    queries = clustered(200, seed=99)
    exact = make_faiss_index(vectors, exact_threshold=10_000)
    approx = make_faiss_index(vectors, exact_threshold=2_000)
    assert describe_index(exact)["index_type"] == "Flat"
    info = describe_index(approx)
    assert info["index_type"].startswith("IVF")
    assert info["index_type"].endswith(",SQ8")
    assert 1 <= info["nprobe"] < faiss.extract_index_ivf(approx).nlist
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    assert recall(found, truth) >= 0.9

    path = tmp_path / "ivf"
    save_bundle(
        path, index=approx, statements=make_statements(5_000), documents=[], manifest=MANIFEST
    )
    edit_manifest(path, nprobe=3)  # the manifest's nprobe is applied on load
    bundle = load_bundle(path)
    assert bundle.manifest["index_type"] == info["index_type"]
    assert faiss.extract_index_ivf(bundle.index).nprobe == 3


def test_threshold_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = clustered(500)
    monkeypatch.setenv(store.ENV_EXACT_THRESHOLD, "100")
    assert describe_index(make_faiss_index(vectors))["index_type"].startswith("IVF")
    assert describe_index(make_faiss_index(vectors, exact_threshold=1_000))["index_type"] == "Flat"
    monkeypatch.setenv(store.ENV_EXACT_THRESHOLD, "lots")
    with pytest.raises(ValueError, match=store.ENV_EXACT_THRESHOLD):
        make_faiss_index(vectors)


def test_rejects_unnormalised_vectors() -> None:
    with pytest.raises(ValueError, match="normalised"):
        make_faiss_index(np.full((4, DIM), 3.0, dtype=np.float32))


def test_save_rejects_count_mismatch(tmp_path: Path) -> None:
    index = make_faiss_index(unit(np.ones((3, DIM))))
    with pytest.raises(ValueError, match="3 vectors but 2 statements"):
        save_bundle(
            tmp_path / "i", index=index, statements=make_statements(2), documents=[], manifest={}
        )
    assert not (tmp_path / "i").exists()


def test_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="does not exist") as missing:
        load_bundle(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(missing.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexMissing, match="empty"):
        load_bundle(tmp_path / "empty")


def _truncate_vectors(path: Path) -> None:
    data = (path / store.VECTORS).read_bytes()
    (path / store.VECTORS).write_bytes(data[: len(data) // 2])


def _garbage_vectors(path: Path) -> None:
    size = (path / store.VECTORS).stat().st_size
    (path / store.VECTORS).write_bytes(os.urandom(size))


def _garbage_vectors_hashed(path: Path) -> None:
    _garbage_vectors(path)
    rehash(path)  # the hashes agree: FAISS itself must notice


def _drop_statement(path: Path) -> None:
    lines = (path / store.STATEMENTS).read_text(encoding="utf-8").splitlines(keepends=True)
    (path / store.STATEMENTS).write_text("".join(lines[:-1]), encoding="utf-8")
    rehash(path)


def _empty_statements(path: Path) -> None:
    """Every line an empty JSON object of the same length: the offsets still fit."""
    lines = (path / store.STATEMENTS).read_bytes().splitlines()
    (path / store.STATEMENTS).write_bytes(b"".join(b"{}".ljust(len(x)) + b"\n" for x in lines))
    rehash(path)


CORRUPTIONS = {
    "truncated-vectors": (_truncate_vectors, "vectors.faiss is .* bytes but the manifest says"),
    "garbage-vectors": (_garbage_vectors, "vectors.faiss does not match its xxh3_128"),
    "garbage-vectors-hashed": (_garbage_vectors_hashed, "FAISS cannot read vectors.faiss"),
    "no-statements": (lambda p: (p / store.STATEMENTS).unlink(), "statements.jsonl is missing"),
    "no-manifest": (lambda p: (p / store.MANIFEST).unlink(), "manifest.json is missing"),
    "bad-json": (
        lambda p: (p / store.MANIFEST).write_text('{"format": 1,'),
        "manifest.json is not valid JSON",
    ),
    "bad-field": (lambda p: edit_manifest(p, model=None), "'model' should be str"),
    "count-manifest": (lambda p: edit_manifest(p, count=21), "counts disagree: manifest 21"),
    "count-statements": (_drop_statement, "line offsets in tables.npz do not match statements"),
    "dimension": (
        lambda p: edit_manifest(p, dim=DIM + 1),
        "dimension 32 but the manifest says 33",
    ),
    "bad-statement": (_empty_statements, "statements.jsonl line 1 is not a statement"),
    "unsealed-edit": (
        lambda p: edit_manifest(p, nprobe=3, reseal=False),
        "manifest.json does not match its own manifest_sha256",
    ),
    "no-hashes": (lambda p: edit_manifest(p, xxh3_128=None), "field 'xxh3_128' should be dict"),
    "hash-missing": (
        lambda p: edit_manifest(p, xxh3_128={}),
        "manifest.json has no xxh3_128 for vectors.faiss",
    ),
    "size-missing": (
        lambda p: edit_manifest(p, files={}),
        "manifest.json has no size for vectors.faiss",
    ),
    "no-seal": (
        lambda p: edit_manifest(p, manifest_sha256=None, reseal=False),
        "manifest.json does not match its own manifest_sha256",
    ),
    "renamed-field": (
        lambda p: edit_manifest(p, reseal=False, cuont=20),
        "manifest.json does not match its own manifest_sha256",
    ),
}


@pytest.mark.parametrize(("damage", "message"), CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_bundle(tmp_path: Path, damage: Callable[[Path], object], message: str) -> None:
    path = tmp_path / "index"
    write_bundle(path)
    damage(path)
    with pytest.raises(IndexCorrupt, match=message) as corrupt:
        load_bundle(path)
    assert str(path) in str(corrupt.value)
    assert "corrupt index" in str(corrupt.value)
    assert isinstance(corrupt.value, IndexProblem)


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"model": "other-model"}, "model is 'test-model-1', expected 'other-model'"),
        ({"dim": 384}, "dim is 32, expected 384"),
        ({"sources": {"doc.txt": "bb22"}}, "doc.txt changed"),
        ({"sources": {"doc.txt": "aa11", "new.txt": "cc"}}, "new.txt is new"),
        ({"sources": {}}, "doc.txt was removed"),
    ],
)
def test_stale_bundle(tmp_path: Path, expect: dict[str, object], message: str) -> None:
    path = tmp_path / "index"
    write_bundle(path)
    with pytest.raises(IndexStale, match=message) as stale:
        load_bundle(path, expect=MANIFEST | expect)
    assert str(path) in str(stale.value)
    assert stale.value.reason


DAMAGES = {"block": damage_block, "one-character": damage_one_character}


@pytest.mark.parametrize("name", [store.MANIFEST, *store.DATA_FILES])
@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damage_inside_any_file_is_caught(
    tmp_path: Path, name: str, damage: Callable[[Path], None]
) -> None:
    """Bytes overwritten in place (the size unchanged) are noticed, naming the file."""
    path = tmp_path / "index"
    write_bundle(path, n=200)
    size = (path / name).stat().st_size
    damage(path / name)
    assert (path / name).stat().st_size == size
    with pytest.raises(IndexCorrupt, match=f"{name} (does not match|is not valid JSON)"):
        load_bundle(path)


def rot_in_place(file: Path, at: int) -> None:
    """One bit flipped at ``at`` through the same inode, then the old atime and mtime put back:
    what a failing disk or a stray write leaves, invisible to ``stat``."""
    before = file.stat()
    fd = os.open(file, os.O_RDWR)
    try:
        byte = os.pread(fd, 1, at)
        os.pwrite(fd, bytes([byte[0] ^ 0x10]), at)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )


@pytest.mark.parametrize("name", store.DATA_FILES)
def test_rot_in_place_with_size_inode_and_mtime_unchanged_is_caught(
    tmp_path: Path, name: str
) -> None:
    """A bundle that opened fine rots afterwards without any change ``stat`` could see: the
    next open still refuses it (nothing is trusted from a previous open)."""
    path = tmp_path / "index"
    write_bundle(path, n=200)
    assert load_bundle(path).index.ntotal == 200
    rot_in_place(path / name, (path / name).stat().st_size * 2 // 3)
    with pytest.raises(IndexCorrupt, match=f"{name} does not match its xxh3_128"):
        load_bundle(path)


def to_sha256_manifest(path: Path) -> None:
    """Rewrite the manifest as bundles before XXH3 had it: sha256 file hashes, resealed."""
    manifest = json.loads((path / store.MANIFEST).read_text())
    names = list(manifest.pop(store.HASHES))
    manifest[store.LEGACY_HASHES] = {name: store.sha256_file(path / name) for name in names}
    manifest[store.SEAL] = manifest_seal(manifest)
    (path / store.MANIFEST).write_text(json.dumps(manifest))


def test_a_bundle_with_sha256_hashes_is_still_verified(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Bundles written before XXH3 keep working without a rebuild, checked by sha256."""
    path = tmp_path / "index"
    write_bundle(path, n=200)
    to_sha256_manifest(path)
    with caplog.at_level(logging.INFO, logger="index.store"):
        bundle = load_bundle(path, expect=MANIFEST)
    assert bundle.index.ntotal == 200 and store.HASHES not in bundle.manifest
    assert "sha256 file hashes" in caplog.text
    rot_in_place(path / store.STATEMENTS, 100)
    with pytest.raises(IndexCorrupt, match=r"statements\.jsonl does not match its sha256"):
        load_bundle(path)
    edit_manifest(path, sha256={})
    with pytest.raises(IndexCorrupt, match=r"manifest\.json has no sha256 for vectors\.faiss"):
        load_bundle(path)


@pytest.mark.parametrize("how", ["mapped", "read", "no populate"])
def test_file_digest_is_xxh3_128_of_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The same digest through a map (two full spans and a short one), by reads, and where
    the system refuses to populate a map (an older kernel: EINVAL, so it reads instead)."""
    import hashlib

    import xxhash

    if how == "mapped" and sys.platform == "linux":  # no reading behind the map's back
        monkeypatch.setattr(store, "_digest_read", lambda fd, digest: pytest.fail("read"))
    if how == "read":
        monkeypatch.setattr(store, "_digest_mapped", lambda fd, digest: False)
    elif how == "no populate":
        monkeypatch.setattr(store, "_MADV_POPULATE_READ", 12_345)  # no such advice: EINVAL
    monkeypatch.setattr(store, "_MAP_SPAN", mmap.ALLOCATIONGRANULARITY * 4)
    data = os.urandom(max(store._HASH_CHUNK, store._MAP_SPAN) * 2 + 12_345)
    (tmp_path / "f").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    assert store.file_digest(tmp_path / "f") == xxhash.xxh3_128(data).hexdigest()
    assert store.file_digest(tmp_path / "empty") == xxhash.xxh3_128(b"").hexdigest()
    assert store.sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def _flat_with(vectors: np.ndarray) -> faiss.Index:
    """An exact index over ``vectors`` as given (make_faiss_index would refuse bad rows)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


BAD_ROWS = {
    "nan": (math.nan, "row 3 holds NaN or infinite values"),
    "inf": (math.inf, "row 3 holds NaN or infinite values"),
    "huge": (1e38, r"row 3 is not unit length \(squared norm inf\)"),
    "double": (2.0, r"row 3 is not unit length \(squared norm 4\)"),
}


@pytest.mark.parametrize(("value", "message"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_bad_vectors_written_with_a_valid_hash_are_caught(
    tmp_path: Path, value: float, message: str
) -> None:
    """Vectors already wrong when hashed (NaN, huge, not unit) are refused all the same."""
    path = tmp_path / "index"
    vectors = write_bundle(path, n=20)
    vectors[3] = vectors[3] * value if value == 2.0 else value
    faiss.write_index(_flat_with(vectors), str(path / store.VECTORS))
    rehash(path)
    with pytest.raises(IndexCorrupt, match=f"vectors.faiss {message}"):
        load_bundle(path)
    assert load_bundle(path, verify=False).index.ntotal == 20  # only the check refuses it


def _save_ivf(path: Path, index: faiss.Index) -> None:
    save_bundle(
        path,
        index=index,
        statements=make_statements(index.ntotal),
        documents=[],
        manifest=MANIFEST | {"dim": index.d},
    )


BAD_IVF_ROWS = {
    # FAISS files a NaN vector under no list at all: the row can never be found.
    "nan": (math.nan, r"the IVF lists do not hold each id 0\.\.1999 once"),
    "huge": (1e38, "decoded vector 1999 is not unit length"),
    "triple": (3.0, "decoded vector 1999 is not unit length"),
}


@pytest.mark.parametrize(("value", "message"), BAD_IVF_ROWS.values(), ids=BAD_IVF_ROWS.keys())
def test_bad_vector_in_an_ivf_index_is_caught(tmp_path: Path, value: float, message: str) -> None:
    """Quantised vectors are decoded (all of them, this few) and their norms checked."""
    vectors = clustered(2_000, dim=DIM)
    index = make_faiss_index(vectors[:-1], exact_threshold=1_000)
    bad = vectors[-1:] * value if value == 3.0 else np.full_like(vectors[-1:], value)
    index.add(bad)  # encoded after training, as a bad embedding would be
    _save_ivf(tmp_path / "index", index)
    with pytest.raises(IndexCorrupt, match=message):
        load_bundle(tmp_path / "index")


def test_ivf_ids_must_be_each_row_once(tmp_path: Path) -> None:
    vectors = clustered(2_000, dim=DIM)
    index = faiss.index_factory(DIM, "IVF8,SQ8", faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    ids = np.arange(2_000)
    ids[5] = 6  # row 5 would never be found, row 6 twice
    index.add_with_ids(vectors, ids)
    _save_ivf(tmp_path / "index", index)
    with pytest.raises(IndexCorrupt, match=r"do not hold each id 0\.\.1999 once"):
        load_bundle(tmp_path / "index")


def test_a_sound_ivf_bundle_passes_the_checks(tmp_path: Path) -> None:
    """More vectors than the decode sample: the sampled rows of a good index all pass."""
    vectors = clustered(store._NORM_SAMPLE + 1_000, dim=DIM)
    _save_ivf(tmp_path / "index", make_faiss_index(vectors, exact_threshold=1_000))
    assert load_bundle(tmp_path / "index").index.ntotal == len(vectors)


def test_previous_format_is_stale_not_corrupt(tmp_path: Path) -> None:
    """A bundle written before hashes (format 1: sizes only) is rebuilt, not refused."""
    path = tmp_path / "index"
    write_bundle(path)
    manifest = json.loads((path / store.MANIFEST).read_text())
    for key in (store.HASHES, store.SEAL):
        del manifest[key]
    manifest["format"] = 1
    (path / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(
        IndexStale, match=f"it has format 1, this version reads format {store.FORMAT_VERSION}"
    ):
        load_bundle(path)
    with pytest.raises(IndexStale):
        load_bundle(path, expect=MANIFEST | {"format": store.FORMAT_VERSION})


@pytest.mark.parametrize("old", [4, 5, 6])
def test_an_older_format_bundle_is_stale_and_says_so(tmp_path: Path, old: int) -> None:
    """Format 4 kept the tables' strings in tables.json, format 5 a name index without French
    readings, format 6 "U.S." as a stopword: such a bundle is rebuilt, with the reason given,
    not read as corrupt."""
    path = tmp_path / "index"
    write_bundle(path)
    edit_manifest(path, format=old)
    with pytest.raises(IndexStale, match=f"it has format {old}, this version reads format 7"):
        load_bundle(path)


def _rewrite_arrays(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Rewrite the bundle's tables.npz with ``change`` applied and record the new hashes:
    damage done before the build hashed, so only reading the tables can catch it."""
    with np.load(path / store.TABLES_NPZ, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    save_npz(path / store.TABLES_NPZ, arrays)
    rehash(path)


def _set(name: str, value: Callable[[dict[str, np.ndarray]], np.ndarray]) -> Callable[..., None]:
    return lambda arrays: arrays.__setitem__(name, value(arrays))


def _first_speaker_a_number(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The first speaker's line, valid JSON of the same length that is not a speaker."""
    lines = arrays["speaker_info.lines"].tobytes()
    end = lines.index(b"\n")
    return np.frombuffer(b"7" * end + lines[end:], np.uint8)


TABLE_DAMAGE = {
    "strings not UTF-8": (
        _set("strings.terms", lambda a: np.frombuffer(b"\x00\xff\xfe\x00", np.uint8)),
        "UnicodeDecodeError",
    ),
    "strings neither packed nor JSON": (
        _set("strings.groups.country", lambda a: np.frombuffer(b"{}", np.uint8)),
        "neither NUL-separated nor a JSON list",
    ),
    "speaker offsets past the lines": (
        _set("speaker_info.offsets", lambda a: a["speaker_info.offsets"] + 1),
        "line offsets do not span",
    ),
    "a speaker line that is not a speaker": (
        _set("speaker_info.lines", _first_speaker_a_number),
        r"not \[name, role, countries, spellings\]",
    ),
}


@pytest.mark.parametrize(("change", "message"), TABLE_DAMAGE.values(), ids=TABLE_DAMAGE.keys())
def test_damaged_packed_tables_are_refused_with_the_reason(
    tmp_path: Path, change: Callable[[dict[str, np.ndarray]], None], message: str
) -> None:
    path = tmp_path / "index"
    write_bundle(path)
    _rewrite_arrays(path, change)
    with pytest.raises(IndexCorrupt, match=f"the tables are not readable.*{message}"):
        load_bundle(path)


def test_engine_rebuilds_an_index_damaged_in_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """4 KiB overwritten inside vectors.faiss: the engine says so, rebuilds and answers."""
    from index.search import Engine

    idx = tmp_path / "index"
    first = Engine.open(TEST_SOURCES, idx)
    size = (idx / store.VECTORS).stat().st_size
    damage_block(idx / store.VECTORS)
    assert (idx / store.VECTORS).stat().st_size == size
    with caplog.at_level(logging.INFO):
        again = Engine.open(TEST_SOURCES, idx)
    assert "index is broken" in caplog.text
    assert "vectors.faiss does not match its xxh3_128" in caplog.text
    assert len(again.statements) == len(first.statements)
    assert again.ask("Tonisson").hits[0].statement.speaker == "Jüri Tõnisson"
    assert load_bundle(idx).index.ntotal == len(first.statements)  # the rebuilt one is sound


def test_other_format_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_bundle(path)
    edit_manifest(path, format=store.FORMAT_VERSION + 1)
    with pytest.raises(IndexStale, match="format"):
        load_bundle(path)


def test_source_hashes(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("two")
    (tmp_path / "a.txt").write_text("one")
    hashes = source_hashes([tmp_path / "b.txt", tmp_path / "a.txt"])
    assert list(hashes) == ["a.txt", "b.txt"]
    assert hashes["a.txt"] == "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"


def test_failed_save_keeps_previous_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index"
    write_bundle(path, n=20)
    real_fsync = store._fsync

    def crash_on_documents(file: Path) -> None:
        if file.name == store.DOCUMENTS:
            raise OSError("disk full")
        real_fsync(file)

    monkeypatch.setattr(store, "_fsync", crash_on_documents)
    with pytest.raises(OSError, match="disk full"):
        write_bundle(path, n=30, seed=1, model="test-model-2")
    bundle = load_bundle(path)
    assert bundle.manifest["model"] == "test-model-1"
    assert len(bundle.statements) == bundle.index.ntotal == 20
    assert leftovers(path) == []


def test_failed_swap_puts_previous_bundle_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "index"
    write_bundle(path, n=20)
    real_rename = os.rename

    def rename(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        if Path(src).name.startswith(".index.tmp-"):
            raise OSError("rename failed")
        real_rename(src, dst)

    monkeypatch.setattr(store.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        write_bundle(path, n=30, seed=1, model="test-model-2")
    monkeypatch.undo()
    assert load_bundle(path).manifest["model"] == "test-model-1"
    assert leftovers(path) == []


CRASH = """
import os, sys
from pathlib import Path
from index import store

path = Path(sys.argv[1])
bundle = store.load_bundle(path)
real_write = store._write_text

def write(file, text):
    if file.name == store.DOCUMENTS:
        os._exit(3)  # the process dies: no cleanup runs
    real_write(file, text)

store._write_text = write
store.save_bundle(path, index=bundle.index, statements=bundle.statements,
                  documents=bundle.documents, manifest={**bundle.manifest, "model": "crashed"})
"""


def test_killed_save_leaves_previous_bundle_and_is_cleaned_next_time(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_bundle(path, n=20)
    done = subprocess.run([sys.executable, "-c", CRASH, str(path)], cwd=REPO, check=False)
    assert done.returncode == 3
    assert [name for name in leftovers(path) if name.startswith(".index.tmp-")]
    assert load_bundle(path).manifest["model"] == "test-model-1"
    write_bundle(path, n=25, seed=2, model="test-model-3")
    assert leftovers(path) == []
    assert load_bundle(path).manifest["model"] == "test-model-3"


def test_save_killed_between_renames_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_bundle(path, n=20)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    old = path.with_name(f".index.old-{int(dead.stdout)}-abcd")
    path.rename(old)  # as if the saver died after moving the old bundle away
    with pytest.raises(IndexMissing, match="interrupted save"):
        load_bundle(path)
    write_bundle(path, n=25, seed=2, model="test-model-3")
    assert leftovers(path) == []
    assert load_bundle(path).manifest["model"] == "test-model-3"


# ---------------------------------------------------------------- the multilingual vectors

ML_DIM = 24


def write_ml_bundle(path: Path, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """A bundle with the second (multilingual) vectors file, of another dimension."""
    vectors = unit(np.random.default_rng(0).standard_normal((n, DIM)))
    ml = unit(np.random.default_rng(1).standard_normal((n, ML_DIM)))
    save_bundle(
        path,
        index=make_faiss_index(vectors),
        statements=make_statements(n),
        documents=DOCUMENTS,
        manifest={**MANIFEST, store.MULTILINGUAL: {"model": "test-e5"}},
        multilingual=make_faiss_index(ml),
    )
    return vectors, ml


def test_multilingual_vectors_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "index"
    _, ml = write_ml_bundle(path)
    bundle = load_bundle(path, expect=MANIFEST | {"dim": DIM})
    assert bundle.multilingual is not None and bundle.multilingual.d == ML_DIM
    np.testing.assert_allclose(bundle.multilingual.reconstruct_n(0, len(ml)), ml, atol=1e-6)
    manifest = bundle.manifest
    assert manifest["format"] == store.FORMAT_VERSION == 7
    assert manifest[store.MULTILINGUAL] == {
        "model": "test-e5",
        "dim": ML_DIM,
        "index_type": "Flat",
        "nprobe": None,
    }
    name = store.MULTILINGUAL_VECTORS
    assert manifest[store.HASHES][name] == store.file_digest(path / name)
    assert manifest[store.SIZES][name] == (path / name).stat().st_size


def test_a_bundle_without_multilingual_vectors_loads_without_them(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_bundle(path)
    bundle = load_bundle(path)
    assert bundle.multilingual is None
    assert store.MULTILINGUAL not in bundle.manifest
    assert not (path / store.MULTILINGUAL_VECTORS).exists()


@pytest.mark.parametrize("name", [store.MULTILINGUAL_VECTORS, store.ML_GRAINS])
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (damage_block, "{name} does not match its xxh3_128"),
        (damage_one_character, "{name} does not match its xxh3_128"),
        (lambda f: f.unlink(), "{name} is missing"),
        (lambda f: f.write_bytes(f.read_bytes()[:-10]), "bytes but the manifest says"),
    ],
)
def test_damaged_multilingual_files_are_caught(
    tmp_path: Path, damage: Callable[[Path], object], message: str, name: str
) -> None:
    """The multilingual vectors and the grains beside them (index/crosslingual.py)."""
    path = tmp_path / "index"
    write_grains_bundle(path)
    damage(path / name)
    with pytest.raises(IndexCorrupt, match=re.escape(message.format(name=name))):
        load_bundle(path)


def reseal(path: Path) -> None:
    """A bundle's manifest made to list its files' present sizes and hashes (a file written
    wrong at build, whose hash therefore matches)."""
    files = store.bundle_files(json.loads((path / store.MANIFEST).read_text()))
    edit_manifest(
        path,
        **{
            store.SIZES: {name: (path / name).stat().st_size for name in files},
            store.HASHES: {name: store.file_digest(path / name) for name in files},
        },
    )


def test_bad_multilingual_vectors_written_with_a_valid_hash_are_caught(tmp_path: Path) -> None:
    """Vectors already wrong at build (NaN) fail the norm check, named by their file."""
    path = tmp_path / "index"
    write_ml_bundle(path)
    index = faiss.read_index(str(path / store.MULTILINGUAL_VECTORS))
    rows = store._flat_rows(index)
    rows[3] = np.nan
    faiss.write_index(index, str(path / store.MULTILINGUAL_VECTORS))
    reseal(path)
    with pytest.raises(IndexCorrupt, match=r"vectors-multilingual\.faiss row 3 holds NaN"):
        load_bundle(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({store.MULTILINGUAL: None}, "lists vectors-multilingual.faiss but no multilingual model"),
        ({store.MULTILINGUAL: {"model": "test-e5"}}, "should name a model and a dimension"),
        ({store.MULTILINGUAL: {"model": "test-e5", "dim": 7}}, "has dimension 24 but the manifest"),
    ],
)
def test_multilingual_manifest_must_agree_with_its_file(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = tmp_path / "index"
    write_ml_bundle(path)
    edit_manifest(path, **changes)
    with pytest.raises(IndexCorrupt, match=message):
        load_bundle(path)


def test_multilingual_count_must_match_the_statements(tmp_path: Path) -> None:
    vectors = unit(np.random.default_rng(0).standard_normal((5, DIM)))
    with pytest.raises(ValueError, match="multilingual index holds 4 vectors but 5 statements"):
        save_bundle(
            tmp_path / "index",
            index=make_faiss_index(vectors),
            statements=make_statements(5),
            documents=DOCUMENTS,
            manifest={**MANIFEST, store.MULTILINGUAL: {"model": "test-e5"}},
            multilingual=make_faiss_index(vectors[:4]),
        )


def test_a_format_2_bundle_is_stale(tmp_path: Path) -> None:
    """Bundles from before the multilingual file are rebuilt (they lack its route)."""
    path = tmp_path / "index"
    write_bundle(path)
    edit_manifest(path, format=2)
    with pytest.raises(IndexStale, match="it has format 2"):
        load_bundle(path)


def test_opening_keeps_large_blocks_under_glibc() -> None:
    """glibc's mmap threshold is set once a process opens a bundle (store.keep_large_blocks);
    elsewhere nothing is changed and nothing fails."""
    import platform

    kept = store.keep_large_blocks()
    assert kept is store.keep_large_blocks()  # once a process
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert kept is True


def write_grains_bundle(path: Path, n: int = 20) -> Grains:
    """A multilingual bundle with its pieces and glossary (index.crosslingual.Grains)."""
    rng = np.random.default_rng(2)
    grains = Grains(
        np.array([0, 0, 5, 19], dtype=np.int64),
        unit(rng.standard_normal((4, ML_DIM))),
        ("ocean", "traditional", "values"),
        unit(rng.standard_normal((3, ML_DIM))),
    )
    save_bundle(
        path,
        index=make_faiss_index(unit(rng.standard_normal((n, DIM)))),
        statements=make_statements(n),
        documents=DOCUMENTS,
        manifest={**MANIFEST, store.MULTILINGUAL: {"model": "test-e5"}},
        multilingual=make_faiss_index(unit(rng.standard_normal((n, ML_DIM)))),
        grains=grains,
    )
    return grains


def test_grains_round_trip_and_are_hashed(tmp_path: Path) -> None:
    path = tmp_path / "index"
    grains = write_grains_bundle(path)
    bundle = load_bundle(path)
    assert bundle.grains is not None
    np.testing.assert_array_equal(bundle.grains.owner, grains.owner)
    np.testing.assert_allclose(bundle.grains.pieces, grains.pieces)
    assert bundle.grains.words == grains.words
    assert bundle.manifest[store.MULTILINGUAL][store.GRAINS] == {"pieces": 4, "words": 3}
    assert bundle.manifest[store.HASHES][store.ML_GRAINS] == store.file_digest(
        path / store.ML_GRAINS
    )


def test_a_multilingual_bundle_without_grains_loads_without_them(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_ml_bundle(path)
    bundle = load_bundle(path)
    assert bundle.multilingual is not None and bundle.grains is None
    assert not (path / store.ML_GRAINS).exists()


def test_grains_written_wrong_with_a_valid_hash_are_caught(tmp_path: Path) -> None:
    """A piece that points past the statements fails the check, named by its file."""
    path = tmp_path / "index"
    grains = write_grains_bundle(path)
    bad = Grains(np.array([0, 0, 5, 99]), grains.pieces, grains.words, grains.glossary)
    with open(path / store.ML_GRAINS, "wb") as fh:
        bad.save(fh)
    reseal(path)
    with pytest.raises(IndexCorrupt, match=r"multilingual-grains\.npz cannot be read"):
        load_bundle(path)
