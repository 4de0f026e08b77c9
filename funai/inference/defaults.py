"""The default model: fetched from PyPI and converted once, cached in ``<datadir>/models``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from funai.inference.convert import DEFAULT_PRECISION, PRECISIONS, ConvertResult, convert_gguf
from funai.inference.errors import FetchError, InferenceError, ModelNotFoundError
from funai.inference.fetch import DEFAULT_SOURCE, ModelSource, fetch_gguf
from funai.inference.store import models_dir, resolve_model_dir

__all__ = [
    "DEFAULT_MODEL",
    "convert_default",
    "default_model_name",
    "default_models_dir",
    "ensure_default_model",
    "fetch_default",
    "gguf_dir",
    "model_dir_or_fetch",
]

DEFAULT_MODEL = DEFAULT_SOURCE.name


def default_model_name(
    precision: str = DEFAULT_PRECISION, src: ModelSource = DEFAULT_SOURCE
) -> str:
    """``smollm2-135m-instruct`` (int4, the default) or ``smollm2-135m-instruct-fp32``."""
    return src.name if precision == DEFAULT_PRECISION else f"{src.name}-{precision}"


def default_models_dir() -> Path:
    """The model store the commands use by default: ``<datadir>/models`` of the default data
    directory (``FUNAI_DATADIR``, else ``~/.funai``); ``FUNAI_MODEL_CACHE`` overrides it (the
    tests and benchmarks read the model from there; the Makefile sets it to the same place)."""
    cache = os.environ.get("FUNAI_MODEL_CACHE")
    if cache:
        return Path(cache).expanduser()
    return models_dir(Path(os.environ.get("FUNAI_DATADIR") or "~/.funai"))


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


def model_dir_or_fetch(datadir: Path, name_or_path: str | Path, *, progress: bool = True) -> Path:
    """The model directory for a name under ``<datadir>/models`` or a path, as
    :func:`~funai.inference.store.resolve_model_dir`; the default model
    (``smollm2-135m-instruct``, or its ``-fp32`` variant) is fetched from PyPI and converted
    there first when missing, with progress bars on stderr when ``progress``. Offline, or when
    that fails, a :class:`ModelNotFoundError` with a one-line message saying what to run."""
    try:
        return resolve_model_dir(datadir, name_or_path)
    except ModelNotFoundError:
        precision = {default_model_name(p): p for p in PRECISIONS}.get(str(name_or_path))
        if precision is None:
            raise
    models = models_dir(datadir)
    if progress:
        print(
            f"the model {name_or_path} is not in {models}: fetching it from PyPI and "
            "converting it (once)",
            file=sys.stderr,
            flush=True,
        )
    try:
        return ensure_default_model(models, progress=progress, precision=precision)
    except (FetchError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        convert = "funai model convert"
        if precision != DEFAULT_PRECISION:
            convert += f" --precision {precision}"
        raise ModelNotFoundError(
            f"no model {str(name_or_path)!r} in {models} and it could not be fetched "
            f"({first[:200]}): when online, run `funai model fetch` and `{convert}`"
        ) from None
    except InferenceError as exc:
        raise ModelNotFoundError(
            f"the model {str(name_or_path)!r} could not be converted into {models}: {exc}"
        ) from None
