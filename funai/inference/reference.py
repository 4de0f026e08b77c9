"""A plain numpy forward pass of a llama GGUF (no cache, float64 accumulation), used to check
the ONNX conversion: it reads the dequantized weights straight from the GGUF file."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from funai.inference.gguf_model import GGUFModel

__all__ = ["reference_logits"]

F64 = npt.NDArray[np.float64]


def _rmsnorm(x: F64, w: F64, eps: float) -> F64:
    out: F64 = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w
    return out


def _rope(x: F64, pos: npt.NDArray[np.int64], theta: float) -> F64:
    hd = x.shape[-1]
    inv = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = pos[:, None].astype(np.float64) * inv[None, :]
    ang = np.concatenate([ang, ang], axis=-1)  # [S, hd]
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    rot = np.concatenate([-x2, x1], axis=-1)
    out: F64 = x * np.cos(ang) + rot * np.sin(ang)
    return out


def reference_logits(
    model: GGUFModel, token_ids: Sequence[int], cache: dict[str, F64] | None = None
) -> F64:
    """Logits ``[S, vocab]`` of one sequence, computed independently of the ONNX graph.
    ``cache`` keeps the dequantized weights between calls."""
    weights: dict[str, F64] = {} if cache is None else cache
    c = model.config
    ids = np.asarray(token_ids, dtype=np.int64)
    s = len(ids)
    pos = np.arange(s, dtype=np.int64)
    nh, nkv, hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim

    def t(name: str) -> F64:
        if name not in weights:
            weights[name] = model.tensor(name).astype(np.float64)
        return weights[name]

    emb = t("token_embd.weight")
    h = emb[ids]
    mask = np.triu(np.full((s, s), -np.inf), k=1)
    for i in range(c.num_hidden_layers):
        p = f"blk.{i}."
        x = _rmsnorm(h, t(p + "attn_norm.weight"), c.rms_norm_eps)
        q = (x @ t(p + "attn_q.weight").T).reshape(s, nh, hd).transpose(1, 0, 2)
        k = (x @ t(p + "attn_k.weight").T).reshape(s, nkv, hd).transpose(1, 0, 2)
        v = (x @ t(p + "attn_v.weight").T).reshape(s, nkv, hd).transpose(1, 0, 2)
        q, k = _rope(q, pos, c.rope_theta), _rope(k, pos, c.rope_theta)
        rep = nh // nkv
        k, v = np.repeat(k, rep, axis=0), np.repeat(v, rep, axis=0)
        sc = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
        sc = np.exp(sc - sc.max(axis=-1, keepdims=True))
        sc /= sc.sum(axis=-1, keepdims=True)
        o = (sc @ v).transpose(1, 0, 2).reshape(s, nh * hd)
        h = h + o @ t(p + "attn_output.weight").T
        x = _rmsnorm(h, t(p + "ffn_norm.weight"), c.rms_norm_eps)
        gate = x @ t(p + "ffn_gate.weight").T
        up = x @ t(p + "ffn_up.weight").T
        h = h + (gate / (1.0 + np.exp(-gate)) * up) @ t(p + "ffn_down.weight").T
    h = _rmsnorm(h, t("output_norm.weight"), c.rms_norm_eps)
    out = emb if c.tie_word_embeddings else t("output.weight")
    logits: F64 = h @ out.T
    return logits
