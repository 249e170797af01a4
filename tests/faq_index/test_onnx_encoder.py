"""The MiniLM query encoder on ONNX Runtime: a real export of the packaged model (once
per module), compared with the torch encoder on real questions."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from bot.wiring import build_encoder, onnx_cache_dir
from faq_index import EncoderError, load_encoder
from faq_index.encoders import _packaged_model_path
from faq_index.onnx_encoder import MODEL_FILE, OnnxEncoder, load_onnx_encoder, onnx_folder

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def _questions() -> list[str]:
    """~200 real questions (en, es), and the awkward inputs."""
    texts: list[str] = []
    for name, take in (
        ("banking77-dev", 70),
        ("hint3-curekart", 60),
        ("bank-es", 50),
        ("bank-en", 20),
    ):
        lines = (DATA / name / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["text"] for line in lines[:: max(1, len(lines) // take)][:take]]
    return [*texts, "", "🔥🙏😡", "¿¡!?", "a" * 1000, "mi tarjeta no funciona " * 45]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose cache holds the export of the packaged model."""
    data = tmp_path_factory.mktemp("onnx") / "data"
    load_onnx_encoder(None, data / "cache" / "onnx")
    return data


@pytest.fixture(scope="module")
def onnx(data_dir: Path) -> OnnxEncoder:
    return load_onnx_encoder(None, data_dir / "cache" / "onnx", export=False)


def _settings(project: Path, data_dir: Path, **env: str) -> Settings:
    return Settings.from_env(
        {"FARO_PROJECT_DIR": str(project), "FARO_DATA_DIR": str(data_dir), **env}, secrets=False
    )


def test_onnx_vectors_are_the_torch_vectors_so_the_name_and_caches_stay(
    onnx: OnnxEncoder,
) -> None:
    torch_encoder = load_encoder(None)
    texts = _questions()
    assert len(texts) >= 200
    reference = torch_encoder.encode(texts)
    vectors = onnx.encode(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    cosine = np.sum(vectors * reference, axis=1)
    assert float(cosine.min()) >= 0.9999, texts[int(cosine.argmin())]
    # the same vectors: the same name, so embedding caches built on torch stay valid
    assert onnx.name == torch_encoder.name == "sentence-transformers/all-MiniLM-L6-v2"
    # one at a time (padding to the longest of a batch changes nothing)
    alone = np.concatenate([onnx.encode([t]) for t in texts[:20]])
    np.testing.assert_allclose(alone, vectors[:20], atol=1e-5)
    assert onnx.encode([]).shape == (0, 384)


def test_the_app_process_serving_through_onnx_never_imports_torch(
    data_dir: Path, tmp_path: Path
) -> None:
    script = (
        "import sys, logging\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "import bot.app\n"
        "from bot.settings import Settings\n"
        "from bot.wiring import build_encoder\n"
        "encoder = build_encoder(Settings.from_env(secrets=False))\n"
        "vector = encoder.encode(['why was my card declined?'])\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules)\n"
        "print(type(encoder._inner).__name__, encoder.name, vector.shape, heavy)\n"
    )
    env = {
        **os.environ,
        "FARO_PROJECT_DIR": str(tmp_path),
        "FARO_DATA_DIR": str(data_dir),
        "FARO_EMBEDDING_RUNTIME": "onnx",
    }
    for name in ("FARO_EMBEDDING_INT8", "FARO_EMBEDDING_MODEL"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "OnnxEncoder sentence-transformers/all-MiniLM-L6-v2 (1, 384) []"
    ), done.stdout
    assert "WARNING" not in done.stderr  # no fallback, no export: it was in the cache


def test_a_truncated_cached_model_is_detected_and_exported_again(
    data_dir: Path, onnx: OnnxEncoder, tmp_path: Path
) -> None:
    cache = tmp_path / "onnx"
    shutil.copytree(data_dir / "cache" / "onnx", cache)
    folder = onnx_folder(Path(_packaged_model_path()), cache)
    model = folder / MODEL_FILE
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    with pytest.raises(EncoderError, match="damaged"):
        load_onnx_encoder(None, cache, export=False)
    again = load_onnx_encoder(None, cache)  # exported anew (needs torch, a child process)
    texts = ["is the app down?", "¿cuándo vuelve el servicio?"]
    np.testing.assert_allclose(again.encode(texts), onnx.encode(texts), atol=1e-5)


def test_when_onnx_cannot_serve_the_app_warns_once_and_runs_on_torch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    (data / "cache").mkdir(parents=True)
    (data / "cache" / "onnx").write_text("a file where the export folder should be")
    settings = _settings(tmp_path, data, FARO_EMBEDDING_BATCH="1")
    assert onnx_cache_dir(settings) == data / "cache" / "onnx"
    with caplog.at_level(logging.WARNING, logger="bot.wiring"):
        encoder = build_encoder(settings)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "torch, not ONNX Runtime" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    assert type(encoder).__name__ == "SentenceTransformerEncoder"
    assert encoder.encode(["hello"]).shape == (1, 384)


def test_int8_and_the_torch_setting_stay_on_torch(data_dir: Path, tmp_path: Path) -> None:
    torch_only = _settings(tmp_path, data_dir, FARO_EMBEDDING_RUNTIME="torch")
    int8 = _settings(tmp_path, data_dir, FARO_EMBEDDING_INT8="1")
    for settings in (torch_only, int8):
        encoder = build_encoder(replace(settings, faq=replace(settings.faq, embedding_batch=1)))
        assert type(encoder).__name__ == "SentenceTransformerEncoder"
    assert encoder.name.endswith("+int8")


def test_the_export_folder_changes_with_the_model_files(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(_packaged_model_path(), model)
    before = onnx_folder(model, tmp_path / "cache")
    assert onnx_folder(model, tmp_path / "cache") == before  # stable
    config = model / "config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("384", "385"))
    assert onnx_folder(model, tmp_path / "cache") != before


def test_a_shipped_export_is_used_read_only_when_the_cache_has_none(
    data_dir: Path, onnx: OnnxEncoder, tmp_path: Path
) -> None:
    # a container image's export (scripts/setup at build time), the data folder empty
    cache = tmp_path / "empty-cache"
    encoder = load_onnx_encoder(None, cache, export=False, shipped=[data_dir / "cache" / "onnx"])
    assert encoder.folder.parent == data_dir / "cache" / "onnx"
    assert not cache.exists()
    np.testing.assert_array_equal(encoder.encode(["hello"]), onnx.encode(["hello"]))
