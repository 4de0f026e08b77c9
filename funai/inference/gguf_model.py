"""Reading a llama-architecture GGUF file: hyper-parameters, dequantized weights (numpy, no
PyTorch) and the tokenizer described by its metadata."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from funai.inference.errors import ModelFormatError, TokenizerError

__all__ = ["BlockQuant", "GGUFModel", "LlamaConfig", "unpermute_qk"]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

QBLOCK = 32  # block size of Q4_1 and Q8_0


@dataclass(frozen=True)
class BlockQuant:
    """A linear weight ``[out, in]`` exactly as llama.cpp stores it in blocks of 32 along
    ``in``: ``w = scale * q + offset`` (Q4_1: ``q`` in 0..15; Q8_0: ``q + 128`` with
    ``offset = -128 * scale``, kept as unsigned 0..255 with ``bits = 8``)."""

    bits: int
    q: U8  # [out, in], unsigned codes
    scale: F32  # [out, in / 32]
    offset: F32 | None  # [out, in / 32] (Q4_1's m), None when q is centred (Q8_0: zp 128)

    def dequantize(self) -> F32:
        n, k = self.q.shape
        w = self.q.reshape(n, k // QBLOCK, QBLOCK).astype(np.float32)
        if self.offset is None:
            w = (w - np.float32(1 << (self.bits - 1))) * self.scale[..., None]
        else:
            w = w * self.scale[..., None] + self.offset[..., None]
        return np.ascontiguousarray(w.reshape(n, k))


# GGUF token types (llama.cpp): 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte.
_SPECIAL_TOKEN_TYPES = frozenset({2, 3, 4})

# llama.cpp pre-tokenizer names whose regex is "\p{N}" followed by the GPT-2 regex, which is what
# Hugging Face's Digits(individual_digits=True) + ByteLevel(use_regex=True) computes.
_DIGIT_SPLIT_PRE = frozenset({"smollm", "starcoder", "refact", "codeshell", "minerva", "exaone"})


@dataclass(frozen=True)
class LlamaConfig:
    """Hyper-parameters of a llama-architecture decoder."""

    num_hidden_layers: int
    hidden_size: int
    intermediate_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    vocab_size: int
    rope_theta: float
    rms_norm_eps: float
    max_position_embeddings: int
    tie_word_embeddings: bool
    bos_token_id: int | None
    eos_token_id: int
    pad_token_id: int | None

    def to_hf(self) -> dict[str, Any]:
        """A Hugging Face style ``config.json`` dictionary."""
        d = asdict(self)
        d.update(architectures=["LlamaForCausalLM"], model_type="llama", torch_dtype="float32")
        return d


def unpermute_qk(w: F32, n_head: int) -> F32:
    """Undoes llama.cpp's row permutation of a q/k projection (``[out, in]`` layout).

    ``convert_hf_to_gguf.py`` interleaves the two rotary halves of every head so that llama.cpp
    can use GPT-J style RoPE; Hugging Face layout (``rotate_half`` RoPE) needs them back.
    """
    out = w.shape[0]
    if out % (2 * n_head):
        raise ModelFormatError(f"q/k projection with {out} rows cannot hold {n_head} heads")
    rest = w.shape[1:]
    return np.ascontiguousarray(
        w.reshape(n_head, out // n_head // 2, 2, *rest).swapaxes(1, 2).reshape(w.shape)
    )


class GGUFModel:
    """A llama GGUF file, opened (memory-mapped) and validated."""

    def __init__(self, path: Path) -> None:
        from gguf import GGUFReader

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelFormatError(f"GGUF file not found: {self.path}")
        try:
            self._reader = GGUFReader(self.path)
        except Exception as exc:  # gguf raises ValueError/struct.error/IndexError on corruption
            raise ModelFormatError(f"{self.path} is not a valid GGUF file: {exc}") from exc
        self._tensors = {t.name: t for t in self._reader.tensors}
        arch = self.field("general.architecture")
        if arch != "llama":
            raise ModelFormatError(f"unsupported GGUF architecture {arch!r} (only llama)")
        self.config = self._config()
        self._check_tensors()

    # -- metadata -------------------------------------------------------------------------
    def field(self, key: str, default: Any = ...) -> Any:
        f = self._reader.fields.get(key)
        if f is None:
            if default is ...:
                raise ModelFormatError(f"GGUF metadata key {key!r} is missing")
            return default
        try:
            return f.contents()
        except Exception as exc:
            raise ModelFormatError(f"GGUF metadata key {key!r} is unreadable: {exc}") from exc

    def _config(self) -> LlamaConfig:
        n_head = int(self.field("llama.attention.head_count"))
        hidden = int(self.field("llama.embedding_length"))
        tokens = self._reader.fields.get("tokenizer.ggml.tokens")
        vocab = int(self.field("llama.vocab_size", len(tokens.data) if tokens else 0))
        bos = self.field("tokenizer.ggml.bos_token_id", None)
        pad = self.field("tokenizer.ggml.padding_token_id", None)
        return LlamaConfig(
            num_hidden_layers=int(self.field("llama.block_count")),
            hidden_size=hidden,
            intermediate_size=int(self.field("llama.feed_forward_length")),
            num_attention_heads=n_head,
            num_key_value_heads=int(self.field("llama.attention.head_count_kv", n_head)),
            head_dim=int(self.field("llama.rope.dimension_count", hidden // n_head)),
            vocab_size=vocab,
            rope_theta=float(self.field("llama.rope.freq_base", 10000.0)),
            rms_norm_eps=float(self.field("llama.attention.layer_norm_rms_epsilon")),
            max_position_embeddings=int(self.field("llama.context_length", 2048)),
            tie_word_embeddings="output.weight" not in self._tensors,
            bos_token_id=None if bos is None else int(bos),
            eos_token_id=int(self.field("tokenizer.ggml.eos_token_id")),
            pad_token_id=None if pad is None else int(pad),
        )

    def _check_tensors(self) -> None:
        c = self.config
        if c.head_dim * c.num_attention_heads != c.hidden_size:
            raise ModelFormatError("head_dim * heads != hidden size (unsupported layout)")
        need = ["token_embd.weight", "output_norm.weight"]
        for i in range(c.num_hidden_layers):
            need += [
                f"blk.{i}.{n}.weight"
                for n in (
                    "attn_norm",
                    "attn_q",
                    "attn_k",
                    "attn_v",
                    "attn_output",
                    "ffn_norm",
                    "ffn_gate",
                    "ffn_up",
                    "ffn_down",
                )
            ]
        missing = [n for n in need if n not in self._tensors]
        if missing:
            raise ModelFormatError(f"GGUF is missing tensors: {', '.join(missing[:5])}")

    # -- weights --------------------------------------------------------------------------
    def tensor(self, name: str) -> F32:
        """A tensor dequantized to float32 in PyTorch layout (``[out, in]`` for linears), with
        the q/k permutation undone."""
        from gguf import quants

        t = self._tensors.get(name)
        if t is None:
            raise ModelFormatError(f"GGUF tensor {name!r} is missing")
        try:
            w = np.asarray(quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
        except Exception as exc:
            raise ModelFormatError(f"cannot dequantize {name!r}: {exc}") from exc
        expect = tuple(int(x) for x in reversed(t.shape))
        if w.size != int(np.prod(expect)):
            raise ModelFormatError(f"tensor {name!r} has {w.size} values, expected {expect}")
        w = w.reshape(expect)
        if not np.isfinite(w).all():
            raise ModelFormatError(f"tensor {name!r} holds non-finite values")
        if name.endswith("attn_q.weight"):
            w = unpermute_qk(w, self.config.num_attention_heads)
        elif name.endswith("attn_k.weight"):
            w = unpermute_qk(w, self.config.num_key_value_heads)
        return w

    def block_quant(self, name: str) -> BlockQuant | None:
        """The raw Q4_1 / Q8_0 blocks of a linear weight (q/k permutation undone), or None for
        other storage types. Used for the int4/int8 ``MatMulNBits`` export."""
        from gguf import GGMLQuantizationType

        t = self._tensors.get(name)
        if t is None:
            raise ModelFormatError(f"GGUF tensor {name!r} is missing")
        if (
            t.tensor_type not in (GGMLQuantizationType.Q4_1, GGMLQuantizationType.Q8_0)
            or len(t.shape) != 2
        ):
            return None
        n, k = int(t.shape[1]), int(t.shape[0])
        if k % QBLOCK:
            return None
        raw = np.ascontiguousarray(np.asarray(t.data, dtype=np.uint8)).reshape(n, k // QBLOCK, -1)
        scale = raw[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
        if t.tensor_type == GGMLQuantizationType.Q4_1:
            if raw.shape[-1] != 4 + QBLOCK // 2:
                raise ModelFormatError(f"tensor {name!r}: bad Q4_1 block size")
            offset: F32 | None = raw[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
            qs = raw[..., 4:]
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).reshape(n, k)
            bits = 4
        else:
            if raw.shape[-1] != 2 + QBLOCK:
                raise ModelFormatError(f"tensor {name!r}: bad Q8_0 block size")
            offset = None
            q = (raw[..., 2:].view(np.int8).astype(np.int16) + 128).astype(np.uint8).reshape(n, k)
            bits = 8
        if not (np.isfinite(scale).all() and (offset is None or np.isfinite(offset).all())):
            raise ModelFormatError(f"tensor {name!r} holds non-finite scales")
        if name.endswith(("attn_q.weight", "attn_k.weight")):
            heads = (
                self.config.num_attention_heads
                if name.endswith("attn_q.weight")
                else self.config.num_key_value_heads
            )
            q, scale = unpermute_qk(q, heads), unpermute_qk(scale, heads)
            offset = None if offset is None else unpermute_qk(offset, heads)
        return BlockQuant(bits, np.ascontiguousarray(q), scale, offset)

    def tensor_names(self) -> list[str]:
        return list(self._tensors)

    def weights(self, progress: Callable[[str], None] | None = None) -> Iterator[tuple[str, F32]]:
        for name in self._tensors:
            yield name, self.tensor(name)
            if progress is not None:
                progress(name)

    # -- tokenizer ------------------------------------------------------------------------
    @property
    def chat_template(self) -> str | None:
        t = self.field("tokenizer.chat_template", None)
        return None if t is None else str(t)

    def tokenizer_json(self) -> str:
        """A Hugging Face ``tokenizer.json`` built from the GGUF metadata."""
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

        kind = self.field("tokenizer.ggml.model", None)
        if kind != "gpt2":
            raise TokenizerError(f"unsupported GGUF tokenizer model {kind!r} (only gpt2 BPE)")
        tokens = [str(t) for t in self.field("tokenizer.ggml.tokens")]
        types = [int(t) for t in self.field("tokenizer.ggml.token_type", [1] * len(tokens))]
        merges_raw = [str(m) for m in self.field("tokenizer.ggml.merges")]
        if len(types) != len(tokens):
            raise TokenizerError("token_type and tokens differ in length")
        vocab = {tok: i for i, tok in enumerate(tokens)}
        if len(vocab) != len(tokens):
            raise TokenizerError("duplicate tokens in the GGUF vocabulary")
        merges: list[tuple[str, str]] = []
        for m in merges_raw:
            a, sep, b = m.partition(" ")
            if not sep:
                raise TokenizerError(f"malformed BPE merge {m!r}")
            merges.append((a, b))
        tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
        pre = self.field("tokenizer.ggml.pre", "default")
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        if pre in _DIGIT_SPLIT_PRE:
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.Digits(individual_digits=True), byte_level]
            )
        else:
            tok.pre_tokenizer = byte_level
        tok.decoder = decoders.ByteLevel()
        special = [
            AddedToken(t, special=True, normalized=False)
            for t, ty in zip(tokens, types, strict=True)
            if ty in _SPECIAL_TOKEN_TYPES
        ]
        tok.add_special_tokens(special)
        text = tok.to_str()
        json.loads(text)
        return text
