"""Loading an ONNX decoder directory (ours, Hugging Face Optimum's or onnxruntime-genai's
layout, with a ``tokenizer.json``) and running it with a key/value cache on ONNX Runtime.

The CUDA execution provider is chosen automatically when ONNX Runtime offers it; the cache then
stays on the GPU between steps through I/O binding (only the logits come back to the host).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from funai.inference import store
from funai.inference.chat import ChatTemplate, Message
from funai.inference.errors import ModelFormatError, ModelNotFoundError, TokenizerError

__all__ = ["KVCache", "LoadedModel", "load_model", "pick_providers"]

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

KEEP_INPUT = "num_logits_to_keep"
_PAST_RE = re.compile(r"^past_key_values\.(\d+)\.(key|value)$")
_PAST_ALT_RE = re.compile(r"^past\.(\d+)\.(key|value)$")
_ONNX_CANDIDATES = (
    "model.onnx",
    "decoder_model_merged.onnx",
    "decoder_with_past_model.onnx",
    "onnx/model.onnx",
    "onnx/decoder_model_merged.onnx",
)
_ORT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(bfloat16)": np.float32,
}


def pick_providers(device: str = "auto") -> list[str]:
    """``["CUDAExecutionProvider", "CPUExecutionProvider"]`` when CUDA is available (or asked
    for), else ``["CPUExecutionProvider"]``. ``device`` is ``auto``, ``cuda`` or ``cpu``."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    avail = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in avail:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise ModelFormatError("CUDA was asked for but ONNX Runtime has no CUDAExecutionProvider")
    return ["CPUExecutionProvider"]


def _find_onnx(directory: Path) -> Path:
    genai = directory / "genai_config.json"
    if genai.is_file():
        try:
            fname = str(json.loads(genai.read_text())["model"]["decoder"]["filename"])
            if (directory / fname).is_file():
                return directory / fname
        except (ValueError, KeyError, TypeError):
            pass
    for cand in _ONNX_CANDIDATES:
        if (directory / cand).is_file():
            return directory / cand
    found = sorted(directory.glob("*.onnx"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ModelNotFoundError(f"no .onnx decoder in {directory}")
    raise ModelFormatError(f"several .onnx files in {directory}, none of them model.onnx")


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"unreadable {path.name}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _host(x: Any) -> Any:
    """A numpy view of a host tensor (numpy array or CPU ``OrtValue``)."""
    return x if isinstance(x, np.ndarray) else x.numpy()


@dataclass
class KVCache:
    """Per-layer key/value tensors ``[B, kv_heads, T, head_dim]``: on the CPU path numpy
    arrays or host ``OrtValue``s (the previous step's outputs, fed back without a copy), on
    the CUDA path ``OrtValue``s resident on the GPU (``on_device``)."""

    keys: list[Any]
    values: list[Any]
    on_device: bool = False

    @property
    def length(self) -> int:
        k = self.keys[0]
        shape = k.shape() if callable(k.shape) else k.shape
        return int(shape[2])

    def host(self) -> KVCache:
        """The same cache as numpy arrays (host caches only)."""
        if self.on_device:
            raise ValueError("a device-resident cache has no host copy")
        return KVCache([_host(k) for k in self.keys], [_host(v) for v in self.values])

    def select(self, rows: Sequence[int]) -> KVCache:
        """Keeps the given batch rows (host caches only)."""
        idx = np.asarray(rows, dtype=np.int64)
        h = self.host()
        return KVCache([k[idx] for k in h.keys], [v[idx] for v in h.values])

    @staticmethod
    def concat(a: KVCache, b: KVCache) -> tuple[KVCache, int, int]:
        """Stacks two numpy caches along the batch, left-padding the shorter one with zeros.
        Returns the cache and the left padding added to ``a`` and to ``b``."""
        ta, tb = a.length, b.length
        t = max(ta, tb)
        a, b = a.host(), b.host()

        def pad(x: F32, n: int) -> F32:
            if n == 0:
                return x
            z = np.zeros((x.shape[0], x.shape[1], n, x.shape[3]), dtype=x.dtype)
            return np.concatenate([z, x], axis=2)

        keys = [
            np.concatenate([pad(x, t - ta), pad(y, t - tb)])
            for x, y in zip(a.keys, b.keys, strict=True)
        ]
        vals = [
            np.concatenate([pad(x, t - ta), pad(y, t - tb)])
            for x, y in zip(a.values, b.values, strict=True)
        ]
        return KVCache(keys, vals), t - ta, t - tb


@dataclass
class LoadedModel:
    """A decoder session plus its tokenizer, chat template and cache geometry."""

    path: Path
    name: str
    model_id: str
    session: Any
    tokenizer: Any
    chat: ChatTemplate
    num_layers: int
    kv_heads: int
    head_dim: int
    kv_dtype: Any
    eos_ids: frozenset[int]
    pad_id: int
    vocab_size: int
    past_names: list[tuple[str, str]]
    present_names: list[tuple[str, str]]
    has_position_ids: bool
    use_cache_branch: bool
    has_logits_to_keep: bool
    providers: list[str]
    max_length: int
    config: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Key/value caches of fixed prompt prefixes (the judge's system prompts), batch 1, host.
    prefix_cache: dict[tuple[int, ...], KVCache] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def on_cuda(self) -> bool:
        return self.providers[0] == "CUDAExecutionProvider"

    # -- text -----------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=skip_special))

    def render_chat(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        return self.chat.render(messages, add_generation_prompt)

    # -- forward --------------------------------------------------------------------------
    def empty_cache(self, batch: int) -> KVCache:
        shape = (batch, self.kv_heads, 0, self.head_dim)
        z = np.zeros(shape, dtype=self.kv_dtype)
        return KVCache([z] * self.num_layers, [z] * self.num_layers)

    def forward(
        self,
        input_ids: I64,
        attention_mask: I64,
        position_ids: I64,
        cache: KVCache | None,
        keep: int = 0,
    ) -> tuple[F32, KVCache]:
        """One step: logits ``[B, S, V]`` (float32, on the host) and the grown cache. With
        ``keep > 0`` only the logits of the last ``keep`` positions, ``[B, min(keep, S), V]``
        (computed only there when the graph has a ``num_logits_to_keep`` input)."""
        b = int(input_ids.shape[0])
        if cache is None:
            cache = self.empty_cache(b)
        if self.on_cuda:
            logits, cache = self._forward_cuda(input_ids, attention_mask, position_ids, cache, keep)
        else:
            logits, cache = self._forward_cpu(input_ids, attention_mask, position_ids, cache, keep)
        if keep > 0 and logits.shape[1] > keep:
            logits = logits[:, -keep:]
        return logits, cache

    def _forward_cpu(
        self, input_ids: I64, attention_mask: I64, position_ids: I64, cache: KVCache, keep: int
    ) -> tuple[F32, KVCache]:
        feeds: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.has_position_ids:
            feeds["position_ids"] = position_ids
        if self.has_logits_to_keep:
            feeds[KEEP_INPUT] = np.array(keep, dtype=np.int64)
        if self.use_cache_branch:
            feeds["use_cache_branch"] = np.array([cache.length > 0])
        # OrtValues in and out: the present tensors are fed back as the next step's past
        # without the copies into numpy that session.run makes (num_logits_to_keep, an
        # overridable initializer, cannot be bound through io_binding, but can be fed here).
        import onnxruntime as ort

        def val(x: Any) -> Any:
            if isinstance(x, np.ndarray):
                return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(x))
            return x

        ort_feeds = {name: val(arr) for name, arr in feeds.items()}
        for (kn, vn), k, v in zip(self.past_names, cache.keys, cache.values, strict=True):
            ort_feeds[kn] = val(k)
            ort_feeds[vn] = val(v)
        names = ["logits"] + [n for pair in self.present_names for n in pair]
        outs = self.session.run_with_ort_values(names, ort_feeds)
        logits = np.asarray(outs[0].numpy(), dtype=np.float32)
        return logits, KVCache(list(outs[1::2]), list(outs[2::2]))

    def _forward_cuda(
        self, input_ids: I64, attention_mask: I64, position_ids: I64, cache: KVCache, keep: int
    ) -> tuple[F32, KVCache]:
        import onnxruntime as ort

        binding = self.session.io_binding()

        def dev(x: Any) -> Any:
            return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(x), "cuda", 0)

        binding.bind_ortvalue_input("input_ids", dev(input_ids))
        binding.bind_ortvalue_input("attention_mask", dev(attention_mask))
        if self.has_position_ids:
            binding.bind_ortvalue_input("position_ids", dev(position_ids))
        # num_logits_to_keep is an overridable initializer, which io_binding cannot bind: on
        # CUDA the graph returns every position's logits and forward() slices them.
        if self.use_cache_branch:
            binding.bind_ortvalue_input("use_cache_branch", dev(np.array([cache.length > 0])))
        for (kn, vn), k, v in zip(self.past_names, cache.keys, cache.values, strict=True):
            binding.bind_ortvalue_input(kn, k if cache.on_device else dev(k))
            binding.bind_ortvalue_input(vn, v if cache.on_device else dev(v))
        binding.bind_output("logits", "cpu")
        for kn, vn in self.present_names:
            binding.bind_output(kn, "cuda", 0)
            binding.bind_output(vn, "cuda", 0)
        self.session.run_with_iobinding(binding)
        outs = binding.get_outputs()
        logits = np.asarray(outs[0].numpy(), dtype=np.float32)
        return logits, KVCache(list(outs[1::2]), list(outs[2::2]), on_device=True)


def load_model(
    path: Path | str,
    *,
    device: str = "auto",
    threads: int | None = None,
    verify: bool = False,
) -> LoadedModel:
    """Loads an ONNX decoder directory holding a ``tokenizer.json``.

    ``threads`` sets ONNX Runtime's intra-op threads (default: ``FUNAI_ORT_THREADS`` or all
    cores); ``verify`` re-hashes the files against the manifest.
    """
    import onnxruntime as ort
    from tokenizers import Tokenizer

    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise ModelNotFoundError(f"model directory not found: {directory}")
    tok_path = directory / "tokenizer.json"
    if not tok_path.is_file():
        raise TokenizerError(f"{directory} has no tokenizer.json")
    try:
        tokenizer = Tokenizer.from_file(str(tok_path))
    except Exception as exc:
        raise TokenizerError(f"cannot load {tok_path}: {exc}") from exc
    onnx_path = _find_onnx(directory)
    config = _read_json(directory / "config.json")
    tok_cfg = _read_json(directory / "tokenizer_config.json")
    gen_cfg = _read_json(directory / "generation_config.json")

    manifest = store.read_manifest(directory)
    if manifest is not None and store.quick_check(directory, manifest):
        if verify and not store.verify(directory, manifest):
            raise ModelFormatError(f"{directory}: files do not match their manifest")
        model_id = str(manifest["model_id"])
    else:
        model_id = store.model_id_from_digests(store.file_digests(directory))

    opts = ort.SessionOptions()
    n_threads = threads or int(os.environ.get("FUNAI_ORT_THREADS", "0") or 0)
    if n_threads:
        opts.intra_op_num_threads = n_threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Errors only: ORT warns that the overridable num_logits_to_keep default is not constant.
    opts.log_severity_level = 3
    providers = pick_providers(device)
    try:
        session = ort.InferenceSession(str(onnx_path), opts, providers=providers)
    except Exception as exc:
        if device != "auto" or providers == ["CPUExecutionProvider"]:
            raise ModelFormatError(f"ONNX Runtime cannot load {onnx_path}: {exc}") from exc
        # onnxruntime-gpu without a usable GPU (no device, driver or CUDA libraries): CPU.
        providers = ["CPUExecutionProvider"]
        try:
            session = ort.InferenceSession(str(onnx_path), opts, providers=providers)
        except Exception as exc2:
            raise ModelFormatError(f"ONNX Runtime cannot load {onnx_path}: {exc2}") from exc2
    providers = list(session.get_providers())

    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    if "input_ids" not in inputs or "logits" not in outputs:
        raise ModelFormatError(f"{onnx_path.name} is not a causal LM (input_ids -> logits)")
    layers: dict[int, dict[str, str]] = {}
    for name in inputs:
        m = _PAST_RE.match(name) or _PAST_ALT_RE.match(name)
        if m:
            layers.setdefault(int(m.group(1)), {})[m.group(2)] = name
    if not layers or sorted(layers) != list(range(len(layers))):
        raise ModelFormatError(f"{onnx_path.name} has no usable past_key_values.* inputs")
    past_names = [(layers[i]["key"], layers[i]["value"]) for i in range(len(layers))]
    present_names: list[tuple[str, str]] = []
    for i in range(len(layers)):
        pair = []
        for kv in ("key", "value"):
            cands = [f"present.{i}.{kv}", f"present_key_values.{i}.{kv}"]
            hit = next((c for c in cands if c in outputs), None)
            if hit is None:
                raise ModelFormatError(f"{onnx_path.name} has no present output for layer {i}")
            pair.append(hit)
        present_names.append((pair[0], pair[1]))
    k0 = inputs[past_names[0][0]]
    shape = list(k0.shape)
    kv_heads = shape[1] if isinstance(shape[1], int) else config.get("num_key_value_heads")
    head_dim = shape[3] if isinstance(shape[3], int) else config.get("head_dim")
    if head_dim is None and config.get("hidden_size") and config.get("num_attention_heads"):
        head_dim = int(config["hidden_size"]) // int(config["num_attention_heads"])
    if not isinstance(kv_heads, int) or not isinstance(head_dim, int):
        raise ModelFormatError("cannot tell the key/value cache geometry (config.json missing?)")
    kv_dtype = _ORT_TYPES.get(k0.type)
    if kv_dtype is None:
        raise ModelFormatError(f"unsupported cache type {k0.type}")

    eos: set[int] = set()
    for src in (gen_cfg.get("eos_token_id"), config.get("eos_token_id")):
        if isinstance(src, int):
            eos.add(src)
        elif isinstance(src, list):
            eos.update(int(x) for x in src)
    # Chat models end their turn with these even when the config names another EOS.
    for tok_name in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", tok_cfg.get("eos_token")):
        tid = tokenizer.token_to_id(tok_name) if isinstance(tok_name, str) else None
        if tid is not None:
            eos.add(int(tid))
    if not eos:
        raise TokenizerError("no end-of-sequence token known (generation_config/config.json)")
    pad = config.get("pad_token_id")
    pad_id = int(pad) if isinstance(pad, int) else min(eos)
    template = tok_cfg.get("chat_template")
    if isinstance(template, list):  # several named templates: take the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    default_system = tok_cfg.get("funai_default_system_prompt")
    vocab = int(config.get("vocab_size") or tokenizer.get_vocab_size())
    return LoadedModel(
        path=directory,
        name=directory.name,
        model_id=model_id,
        session=session,
        tokenizer=tokenizer,
        chat=ChatTemplate(template if isinstance(template, str) else None, default_system),
        num_layers=len(past_names),
        kv_heads=kv_heads,
        head_dim=head_dim,
        kv_dtype=kv_dtype,
        eos_ids=frozenset(eos),
        pad_id=pad_id,
        vocab_size=vocab,
        past_names=past_names,
        present_names=present_names,
        has_position_ids="position_ids" in inputs,
        use_cache_branch="use_cache_branch" in inputs,
        # An input with a default is an "overridable initializer", not in get_inputs().
        has_logits_to_keep=KEEP_INPUT in inputs
        or any(i.name == KEEP_INPUT for i in session.get_overridable_initializers()),
        providers=providers,
        max_length=int(config.get("max_position_embeddings") or 2048),
        config=config,
    )
