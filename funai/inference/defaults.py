"""The default model: fetched from PyPI and converted once, cached in ``<datadir>/models``."""

from __future__ import annotations

from pathlib import Path

from funai.inference.convert import DEFAULT_PRECISION, ConvertResult, convert_gguf
from funai.inference.errors import ModelNotFoundError
from funai.inference.fetch import DEFAULT_SOURCE, ModelSource, fetch_gguf

__all__ = [
    "DEFAULT_MODEL",
    "convert_default",
    "default_model_name",
    "ensure_default_model",
    "fetch_default",
    "gguf_dir",
]

DEFAULT_MODEL = DEFAULT_SOURCE.name


def default_model_name(
    precision: str = DEFAULT_PRECISION, src: ModelSource = DEFAULT_SOURCE
) -> str:
    """``smollm2-135m-instruct`` (int4, the default) or ``smollm2-135m-instruct-fp32``."""
    return src.name if precision == DEFAULT_PRECISION else f"{src.name}-{precision}"


def gguf_dir(models: Path) -> Path:
    return Path(models) / "gguf"


def fetch_default(
    models: Path,
    src: ModelSource = DEFAULT_SOURCE,
    *,
    wheel: Path | None = None,
    progress: bool = False,
) -> tuple[Path, bool]:
    return fetch_gguf(gguf_dir(models), src, wheel=wheel, progress=progress)


def convert_default(
    models: Path,
    src: ModelSource = DEFAULT_SOURCE,
    *,
    progress: bool = False,
    force: bool = False,
    verify: bool = False,
    precision: str = DEFAULT_PRECISION,
) -> ConvertResult:
    gguf = gguf_dir(models) / src.gguf_name
    if not gguf.is_file():
        raise ModelNotFoundError(f"{gguf} is missing: run `funai model fetch` first")
    source = {"package": src.package, "version": src.version, "wheel_sha256": src.wheel_sha256}
    return convert_gguf(
        gguf,
        Path(models) / default_model_name(precision, src),
        source=source,
        progress=progress,
        force=force,
        verify=verify,
        precision=precision,
    )


def ensure_default_model(
    models: Path, *, progress: bool = False, precision: str = DEFAULT_PRECISION
) -> Path:
    """Fetches and converts the default model if needed; returns its directory."""
    fetch_default(models, progress=progress)
    return convert_default(models, progress=progress, precision=precision).path
