"""GGUF → ONNX conversion (no PyTorch): dequantize with ``gguf`` + numpy, build the graph with
``onnx``, build ``tokenizer.json`` from the GGUF metadata, and write a model directory."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funai.inference import store
from funai.inference.chat import CHATML_DEFAULT_SYSTEM
from funai.inference.errors import ModelFormatError
from funai.inference.fetch import sha256_file
from funai.inference.gguf_model import GGUFModel, LlamaConfig
from funai.inference.onnx_graph import build_llama

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_PRECISION",
    "PRECISIONS",
    "ConvertResult",
    "convert_gguf",
    "skip_layer",
]

# Bump when the produced files change: cached conversions of another version are redone.
CONVERTER_VERSION = 2
# int4: llama.cpp's Q4_1/Q8_0 blocks kept, linears run as MatMulNBits (exact, fast decode);
# fp32: every weight dequantized to float32 (the reference export).
PRECISIONS = ("int4", "fp32")
DEFAULT_PRECISION = "int4"
# MatMulNBits accuracy_level: 0 = float32 compute (the exact GGUF arithmetic; level 4 would
# quantize activations to int8 and change the logits by about 1e-1).
ACCURACY_LEVEL = 0
MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"


@dataclass(frozen=True)
class ConvertResult:
    path: Path
    model_id: str
    converted: bool  # False when a valid cached conversion was kept


def _genai_config(cfg: LlamaConfig) -> dict[str, Any]:
    """An onnxruntime-genai ``genai_config.json`` so its runtime can load this export too."""
    return {
        "model": {
            "bos_token_id": cfg.bos_token_id,
            "context_length": cfg.max_position_embeddings,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": MODEL_FILE,
                "head_size": cfg.head_dim,
                "hidden_size": cfg.hidden_size,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "position_ids": "position_ids",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value",
                },
                "outputs": {
                    "logits": "logits",
                    "present_key_names": "present.%d.key",
                    "present_value_names": "present.%d.value",
                },
                "num_attention_heads": cfg.num_attention_heads,
                "num_hidden_layers": cfg.num_hidden_layers,
                "num_key_value_heads": cfg.num_key_value_heads,
            },
            "eos_token_id": cfg.eos_token_id,
            "pad_token_id": cfg.pad_token_id if cfg.pad_token_id is not None else cfg.eos_token_id,
            "type": "llama",
            "vocab_size": cfg.vocab_size,
        },
        "search": {
            "diversity_penalty": 0.0,
            "do_sample": False,
            "early_stopping": True,
            "length_penalty": 1.0,
            "max_length": cfg.max_position_embeddings,
            "min_length": 0,
            "no_repeat_ngram_size": 0,
            "num_beams": 1,
            "num_return_sequences": 1,
            "past_present_share_buffer": False,
            "repetition_penalty": 1.0,
            "temperature": 1.0,
            "top_k": 1,
            "top_p": 1.0,
        },
    }


def _cached(out_dir: Path, gguf_sha: str, verify: bool, precision: str) -> str | None:
    try:
        m = store.read_manifest(out_dir)
    except ModelFormatError:
        return None
    if (
        m is None
        or m.get("converter_version") != CONVERTER_VERSION
        or m.get("source", {}).get("gguf_sha256") != gguf_sha
        or m.get("precision") != precision
        or not store.quick_check(out_dir, m)
    ):
        return None
    if verify and not store.verify(out_dir, m):
        return None
    return str(m["model_id"])


def convert_gguf(
    gguf_path: Path,
    out_dir: Path,
    *,
    source: dict[str, Any] | None = None,
    progress: bool = False,
    force: bool = False,
    verify: bool = False,
    precision: str = DEFAULT_PRECISION,
    drop_layer: int | None = None,
) -> ConvertResult:
    """Converts ``gguf_path`` into the model directory ``out_dir`` (atomically), with weights in
    ``precision`` (``int4`` or ``fp32``, see :data:`PRECISIONS`).

    ``drop_layer``: leave decoder layer ``drop_layer`` out (a cheaper, subtly different
    model: what a dishonest executor could serve in place of the real one; used to measure
    that replay verification catches it, docs/verification.md). Its model id differs.

    Idempotent: when ``out_dir`` already holds a conversion of the same GGUF by this converter
    version at this precision it is kept (``verify`` re-hashes its files first).
    """
    if precision not in PRECISIONS:
        raise ModelFormatError(f"unknown precision {precision!r} (one of {', '.join(PRECISIONS)})")
    gguf_path = Path(gguf_path)
    gguf_sha = sha256_file(gguf_path) if gguf_path.is_file() else ""
    if (
        not force
        and gguf_sha
        and drop_layer is None
        and (mid := _cached(out_dir, gguf_sha, verify, precision)) is not None
    ):
        return ConvertResult(out_dir, mid, False)
    model = GGUFModel(gguf_path)
    if drop_layer is not None and not 0 <= drop_layer < model.config.num_hidden_layers:
        raise ModelFormatError(f"drop_layer {drop_layer} is not a layer of this model")
    cfg = model.config
    tokenizer_json = model.tokenizer_json()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    try:
        names = model.tensor_names()
        if progress:
            from rich.progress import Progress

            with Progress(*Progress.get_default_columns(), transient=False) as bar:
                task = bar.add_task(f"convert {gguf_path.name}", total=len(names) + 2)
                _write(
                    model, tmp, tokenizer_json, lambda _n: bar.advance(task), precision, drop_layer
                )
                bar.update(task, description="hash model files")
                digests = store.file_digests(tmp)
                bar.advance(task, 2)
        else:
            _write(model, tmp, tokenizer_json, None, precision, drop_layer)
            digests = store.file_digests(tmp)
        model_id = store.model_id_from_digests(digests)
        manifest = {
            "format": 1,
            "converter_version": CONVERTER_VERSION,
            "precision": precision,
            **({} if drop_layer is None else {"dropped_layer": drop_layer}),
            "name": out_dir.name,
            "model_id": model_id,
            "files": digests,
            "source": {"gguf": gguf_path.name, "gguf_sha256": gguf_sha, **(source or {})},
            "config": cfg.to_hf(),
        }
        store.write_manifest(tmp, manifest)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ConvertResult(out_dir, model_id, True)


def _write(
    model: GGUFModel,
    out: Path,
    tokenizer_json: str,
    on_tensor: Any,
    precision: str,
    drop_layer: int | None = None,
) -> None:
    cfg = model.config
    get: Callable[[str], Any] = model.tensor
    quant: Callable[[str], Any] | None = model.block_quant if precision == "int4" else None
    if drop_layer is not None:
        cfg = dataclasses.replace(cfg, num_hidden_layers=cfg.num_hidden_layers - 1)
        get = skip_layer(get, drop_layer)
        quant = None if quant is None else skip_layer(quant, drop_layer)
    with open(out / DATA_FILE, "wb") as data:
        graph = build_llama(
            cfg,
            get,
            data,
            DATA_FILE,
            on_tensor,
            quant=quant,
            accuracy_level=ACCURACY_LEVEL,
        )
    (out / MODEL_FILE).write_bytes(graph.SerializeToString())
    (out / "tokenizer.json").write_text(tokenizer_json)
    template = model.chat_template
    special = {0: "<|endoftext|>"}
    tok_cfg = {
        "chat_template": template,
        "funai_default_system_prompt": CHATML_DEFAULT_SYSTEM
        if template and CHATML_DEFAULT_SYSTEM in template
        else None,
        "eos_token": _token_text(tokenizer_json, cfg.eos_token_id),
        "bos_token": _token_text(tokenizer_json, cfg.bos_token_id),
        "pad_token": _token_text(tokenizer_json, cfg.pad_token_id),
        "add_bos_token": bool(model.field("tokenizer.ggml.add_bos_token", False)),
        "model_max_length": cfg.max_position_embeddings,
        "tokenizer_class": "GPT2Tokenizer",
    }
    del special
    (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2) + "\n")
    (out / "config.json").write_text(json.dumps(cfg.to_hf(), indent=2) + "\n")
    gen = {"bos_token_id": cfg.bos_token_id, "eos_token_id": cfg.eos_token_id}
    (out / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    (out / "genai_config.json").write_text(json.dumps(_genai_config(cfg), indent=2) + "\n")


def skip_layer(fn: Callable[[str], Any], dropped: int) -> Callable[[str], Any]:
    """``fn`` over tensor names with layer ``dropped`` left out (layer i reads i + 1 from
    ``dropped`` on)."""

    def get(name: str) -> Any:
        if name.startswith("blk."):
            i, rest = name[4:].split(".", 1)
            if int(i) >= dropped:
                name = f"blk.{int(i) + 1}.{rest}"
        return fn(name)

    return get


def _token_text(tokenizer_json: str, token_id: int | None) -> str | None:
    if token_id is None:
        return None
    for t in json.loads(tokenizer_json).get("added_tokens", []):
        if t.get("id") == token_id:
            return str(t["content"])
    return None
