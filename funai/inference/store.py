"""Model directories in the data directory: where they live, their manifest and their id.

A converted model lives in ``<datadir>/models/<name>/`` (``model.onnx`` + ``model.onnx.data``,
``tokenizer.json``, ``tokenizer_config.json``, ``config.json``, ``generation_config.json``,
``genai_config.json``) with a manifest ``funai-model.json``. The **model id** is BLAKE3 over the
model's files: ``blake3("funai-model-id-v1" || for each file in path order: u32 len(path) ||
path || u64 size || blake3(file))`` where paths are relative, ``/``-separated and the manifest
itself is excluded.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funai.hashing import blake3
from funai.inference.errors import ModelFormatError, ModelNotFoundError

__all__ = [
    "MANIFEST",
    "ModelInfo",
    "file_digests",
    "list_models",
    "model_id_from_digests",
    "models_dir",
    "read_manifest",
]

MANIFEST = "funai-model.json"
_ID_DOMAIN = b"funai-model-id-v1"


def models_dir(datadir: Path) -> Path:
    return Path(datadir).expanduser() / "models"


def _model_files(directory: Path) -> list[Path]:
    files = [
        p
        for p in directory.rglob("*")
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def file_digests(directory: Path) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "blake3"}}`` for every model file of ``directory``."""
    out: dict[str, dict[str, Any]] = {}
    for p in _model_files(directory):
        data = p.read_bytes()
        out[p.relative_to(directory).as_posix()] = {
            "size": len(data),
            "blake3": blake3(data).hex(),
        }
        del data
    return out


def model_id_from_digests(digests: dict[str, dict[str, Any]]) -> str:
    parts = [_ID_DOMAIN]
    for path in sorted(digests):
        raw = path.encode()
        parts.append(struct.pack(">I", len(raw)) + raw)
        parts.append(struct.pack(">Q", int(digests[path]["size"])))
        parts.append(bytes.fromhex(str(digests[path]["blake3"])))
    return blake3(b"".join(parts)).hex()


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"unreadable model manifest {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelFormatError(f"model manifest {path} is not a JSON object")
    return data


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    tmp = Path(directory) / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, Path(directory) / MANIFEST)


def quick_check(directory: Path, manifest: dict[str, Any]) -> bool:
    """Every file of the manifest exists with its recorded size (no hashing)."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, meta in files.items():
        p = Path(directory) / rel
        if not p.is_file() or p.stat().st_size != int(meta.get("size", -1)):
            return False
    return True


def verify(directory: Path, manifest: dict[str, Any]) -> bool:
    """Re-hashes the files and compares them (and the model id) with the manifest."""
    digests = file_digests(directory)
    return digests == manifest.get("files") and model_id_from_digests(digests) == manifest.get(
        "model_id"
    )


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    model_id: str | None
    size: int
    source: str


def list_models(datadir: Path) -> list[ModelInfo]:
    root = models_dir(datadir)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if not d.is_dir() or not (d / "tokenizer.json").is_file():
            continue
        try:
            m = read_manifest(d) or {}
        except ModelFormatError:
            m = {}
        size = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        src = m.get("source", {})
        source = f"{src.get('package')}=={src.get('version')}" if src else "external"
        out.append(ModelInfo(d.name, d, m.get("model_id"), size, source))
    return out


def resolve_model_dir(datadir: Path, name_or_path: str | Path) -> Path:
    """A model directory from a name under ``<datadir>/models`` or a path."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        return p
    cand = models_dir(datadir) / str(name_or_path)
    if cand.is_dir():
        return cand
    raise ModelNotFoundError(
        f"no model {str(name_or_path)!r} in {models_dir(datadir)} "
        "(run `funai model fetch` and `funai model convert` first)"
    )
