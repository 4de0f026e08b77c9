"""Session fixtures of the inference tests: the default model (int4 export) and its float32
export, fetched and converted once into ``FUNAI_MODEL_CACHE`` (default: the default data directory's
model store, ``~/.funai/models``) and reused across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai.inference import LoadedModel, load_model
from funai.inference.defaults import default_models_dir, ensure_default_model, gguf_dir
from funai.inference.fetch import DEFAULT_SOURCE

REPO = Path(__file__).resolve().parent.parent


def model_cache() -> Path:
    return default_models_dir()


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return ensure_default_model(model_cache())


@pytest.fixture(scope="session")
def gguf_path(model_dir: Path) -> Path:
    return gguf_dir(model_cache()) / DEFAULT_SOURCE.gguf_name


@pytest.fixture(scope="session")
def model(model_dir: Path) -> LoadedModel:
    return load_model(model_dir, device="cpu", threads=2)


@pytest.fixture(scope="session")
def model_dir_fp32(model_dir: Path) -> Path:
    return ensure_default_model(model_cache(), precision="fp32")


@pytest.fixture(scope="session")
def model_fp32(model_dir_fp32: Path) -> LoadedModel:
    return load_model(model_dir_fp32, device="cpu", threads=2)
