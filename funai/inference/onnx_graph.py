"""Builds a llama decoder with a key/value cache as an ONNX graph (standard ONNX ops,
opset 17), with the input/output names of Hugging Face Optimum and onnxruntime-genai:

* inputs: ``input_ids`` [B, S] int64, ``attention_mask`` [B, P+S] int64, ``position_ids``
  [B, S] int64, ``past_key_values.{i}.key|value`` [B, kv_heads, P, head_dim] float32;
* outputs: ``logits`` [B, S, vocab] float32, ``present.{i}.key|value`` [B, kv_heads, P+S,
  head_dim] float32;
* one optional input, ``num_logits_to_keep`` (int64 scalar, default 0 = every position): only
  the last ``k`` positions go through the output projection (generation needs only the last
  one, the judge's likelihood score only the response's), so ``logits`` is [B, min(k, S), V].
  Runtimes that do not know it (onnxruntime-genai, Optimum) get the default.

Precision: ``fp32`` stores every weight dequantized to float32 (exact w.r.t. the GGUF);
``int4`` keeps llama.cpp's own blocks and runs the linears with ONNX Runtime's
``com.microsoft.MatMulNBits`` (block 32): Q4_1's ``w = d * q + m`` is computed exactly as
``MatMulNBits(x, q, d, zero point 0) + blocksum(x) @ m`` (MatMulNBits' fast kernels need integer
zero points, and ``-m / d`` is not one), and the Q8_0 tied embedding serves the output
projection as an 8-bit ``MatMulNBits`` (``q + 128``, zero point 128). Embedding rows are
gathered from a float32 table.

Weights are written as external data (one ``model.onnx.data`` file) so the graph itself stays
small and the weights can be streamed to disk without building a 2 GB protobuf.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper

from funai.inference.gguf_model import QBLOCK, BlockQuant, LlamaConfig

__all__ = ["OPSET", "GraphBuilder", "build_llama"]

OPSET = 17
KEEP_INPUT = "num_logits_to_keep"
_ALIGN = 64
_INLINE_LIMIT = 1024


class GraphBuilder:
    """A tiny helper that names nodes and streams initializers to an external data file."""

    def __init__(self, data: BinaryIO, data_name: str) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._data = data
        self._data_name = data_name
        self._n = 0
        self._consts: dict[tuple[str, bytes], str] = {}

    def _name(self, op: str) -> str:
        self._n += 1
        return f"{op}_{self._n}"

    def op(
        self, op_type: str, inputs: list[str], n_out: int = 1, domain: str = "", **attrs: Any
    ) -> Any:
        name = self._name(op_type)
        outs = [f"{name}_out{i}" for i in range(n_out)]
        self.nodes.append(
            helper.make_node(op_type, inputs, outs, name=name, domain=domain or None, **attrs)
        )
        return outs[0] if n_out == 1 else outs

    def weight(self, name: str, array: npt.NDArray[Any]) -> str:
        arr = np.ascontiguousarray(array)
        dtype = helper.np_dtype_to_tensor_dtype(arr.dtype)
        if arr.nbytes < _INLINE_LIMIT:
            self.initializers.append(onnx.numpy_helper.from_array(arr, name))
            return name
        pos = self._data.tell()
        pad = (-pos) % _ALIGN
        if pad:
            self._data.write(b"\0" * pad)
            pos += pad
        self._data.write(arr.tobytes())
        t = TensorProto()
        t.name = name
        t.data_type = dtype
        t.dims.extend(arr.shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", self._data_name), ("offset", pos), ("length", arr.nbytes)):
            e = t.external_data.add()
            e.key, e.value = k, str(v)
        self.initializers.append(t)
        return name

    def const(self, array: npt.NDArray[Any] | list[int] | float) -> str:
        arr = np.asarray(array)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        key = (str(arr.dtype) + str(arr.shape), arr.tobytes())
        if key not in self._consts:
            self._consts[key] = self.weight(self._name("const"), arr)
        return self._consts[key]


def build_llama(
    cfg: LlamaConfig,
    get: Callable[[str], npt.NDArray[np.float32]],
    data: BinaryIO,
    data_name: str,
    on_tensor: Callable[[str], None] | None = None,
    *,
    quant: Callable[[str], BlockQuant | None] | None = None,
    accuracy_level: int = 0,
) -> onnx.ModelProto:
    """Builds the decoder graph. ``get(name)`` returns a GGUF tensor dequantized, in PyTorch
    layout; ``on_tensor`` is called after each weight is written (for a progress bar).
    With ``quant`` (``name -> BlockQuant | None``) the linears whose blocks it returns run as
    ``MatMulNBits`` with ``accuracy_level`` (0: float32 compute)."""
    g = GraphBuilder(data, data_name)
    nh, nkv, hd, hidden = (
        cfg.num_attention_heads,
        cfg.num_key_value_heads,
        cfg.head_dim,
        cfg.hidden_size,
    )
    rep = nh // nkv
    f32 = TensorProto.FLOAT

    def w(gguf_name: str, transpose: bool = False) -> str:
        arr = get(gguf_name)
        name = g.weight(gguf_name, arr.T if transpose else arr)
        if on_tensor is not None:
            on_tensor(gguf_name)
        return name

    def linear(x: str, name: str) -> str:
        """``x @ W.T`` for the GGUF linear ``name`` ([out, in])."""
        bq = quant(name) if quant is not None else None
        if bq is None or bq.bits != 4:
            return str(g.op("MatMul", [x, w(name, True)]))
        y = _matmul_nbits(g, x, name, bq, accuracy_level)
        if on_tensor is not None:
            on_tensor(name)
        return y

    def rmsnorm(x: str, weight: str) -> str:
        sq = g.op("Mul", [x, x])
        mean = g.op("ReduceMean", [sq], axes=[-1], keepdims=1)
        inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [mean, g.const(cfg.rms_norm_eps)])])])
        return str(g.op("Mul", [g.op("Mul", [x, inv]), weight]))

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", f32, ["batch", "kept", cfg.vocab_size])]
    for i in range(cfg.num_hidden_layers):
        for kv in ("key", "value"):
            inputs.append(
                helper.make_tensor_value_info(
                    f"past_key_values.{i}.{kv}", f32, ["batch", nkv, "past", hd]
                )
            )
            outputs.append(
                helper.make_tensor_value_info(f"present.{i}.{kv}", f32, ["batch", nkv, "total", hd])
            )

    emb = w("token_embd.weight")  # [V, hidden], also the (tied) output projection
    h = g.op("Gather", [emb, "input_ids"], axis=0)  # [B, S, hidden]

    # Rotary embedding tables from the positions: [B, 1, S, hd].
    inv_freq = 1.0 / (cfg.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=f32), g.const(np.array([-1]))])
    freqs = g.op("Mul", [pos, g.const(inv_freq.astype(np.float32))])
    angles = g.op("Concat", [freqs, freqs], axis=-1)
    one = g.const(np.array([1]))
    cos = g.op("Unsqueeze", [g.op("Cos", [angles]), one])
    sin = g.op("Unsqueeze", [g.op("Sin", [angles]), one])

    # Additive attention bias [B, 1, 1, S, T]: causal over absolute positions and padding.
    total = g.op("Gather", [g.op("Shape", ["attention_mask"]), g.const(np.array(1))], axis=0)
    seq = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const(np.array(1))], axis=0)
    k_idx = g.op("Range", [g.const(np.array(0)), total, g.const(np.array(1))])
    q_idx = g.op("Range", [g.op("Sub", [total, seq]), total, g.const(np.array(1))])
    causal = g.op("LessOrEqual", [k_idx, g.op("Unsqueeze", [q_idx, one])])  # [S, T]
    pad_ok = g.op(
        "Unsqueeze",
        [g.op("Cast", ["attention_mask"], to=TensorProto.BOOL), g.const(np.array([1, 2, 3]))],
    )  # [B, 1, 1, 1, T]
    allowed = g.op("And", [causal, pad_ok])
    bias = g.op(
        "Where", [allowed, g.const(np.array(0.0, np.float32)), g.const(np.array(-1e30, np.float32))]
    )

    half = g.const(np.array([hd // 2, hd // 2]))

    def rope(x: str) -> str:
        x1, x2 = g.op("Split", [x, half], n_out=2, axis=-1)
        rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return str(g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])]))

    scale = g.const(np.array(1.0 / np.sqrt(hd), np.float32))
    for i in range(cfg.num_hidden_layers):
        p = f"blk.{i}."
        x = rmsnorm(h, w(p + "attn_norm.weight"))
        q = linear(x, p + "attn_q.weight")
        k = linear(x, p + "attn_k.weight")
        v = linear(x, p + "attn_v.weight")
        q = g.op(
            "Transpose",
            [g.op("Reshape", [q, g.const(np.array([0, 0, nh, hd]))])],
            perm=[0, 2, 1, 3],
        )
        k = g.op(
            "Transpose",
            [g.op("Reshape", [k, g.const(np.array([0, 0, nkv, hd]))])],
            perm=[0, 2, 1, 3],
        )
        v = g.op(
            "Transpose",
            [g.op("Reshape", [v, g.const(np.array([0, 0, nkv, hd]))])],
            perm=[0, 2, 1, 3],
        )
        q = g.op("Mul", [rope(q), scale])
        k = rope(k)
        k_all = f"present.{i}.key"
        v_all = f"present.{i}.value"
        g.nodes.append(helper.make_node("Concat", [f"past_key_values.{i}.key", k], [k_all], axis=2))
        g.nodes.append(
            helper.make_node("Concat", [f"past_key_values.{i}.value", v], [v_all], axis=2)
        )
        # Grouped-query attention without copying the cache: [B, nkv, rep, S, hd] against
        # [B, nkv, 1, T, hd] (query head h uses kv head h // rep, as Hugging Face's repeat_kv).
        qg = g.op("Reshape", [q, g.const(np.array([0, nkv, rep, -1, hd]))])
        kg = g.op("Unsqueeze", [k_all, g.const(np.array([2]))])
        vg = g.op("Unsqueeze", [v_all, g.const(np.array([2]))])
        scores = g.op("MatMul", [qg, g.op("Transpose", [kg], perm=[0, 1, 2, 4, 3])])
        probs = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
        ctx = g.op("MatMul", [probs, vg])  # [B, nkv, rep, S, hd]
        ctx = g.op("Reshape", [ctx, g.const(np.array([0, nh, -1, hd]))])
        ctx = g.op(
            "Reshape",
            [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), g.const(np.array([0, 0, hidden]))],
        )
        h = g.op("Add", [h, linear(ctx, p + "attn_output.weight")])
        x = rmsnorm(h, w(p + "ffn_norm.weight"))
        gate = linear(x, p + "ffn_gate.weight")
        up = linear(x, p + "ffn_up.weight")
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
        h = g.op("Add", [h, linear(act, p + "ffn_down.weight")])

    # Only the last num_logits_to_keep positions (0: all) reach the output projection.
    inputs.append(helper.make_tensor_value_info(KEEP_INPUT, TensorProto.INT64, []))
    g.initializers.append(onnx.numpy_helper.from_array(np.array(0, np.int64), KEEP_INPUT))
    # Reshape, not Unsqueeze: a scalar fed as an OrtValue from numpy arrives with shape [1].
    start = g.op("Neg", [g.op("Reshape", [KEEP_INPUT, one])])
    big = g.const(np.array([np.iinfo(np.int64).max]))
    h = g.op("Slice", [h, start, big, one])
    h = rmsnorm(h, w("output_norm.weight"))
    head = "token_embd.weight" if cfg.tie_word_embeddings else "output.weight"
    bq = quant(head) if quant is not None else None
    # An 8-bit head (Q8_0) has no fast float32-compute MatMulNBits kernel on CPU (about 40x
    # slower than the float32 Gemm in ONNX Runtime 1.32): it stays a float32 Gemm.
    if bq is not None and bq.bits == 4:
        g.nodes.append(
            helper.make_node(
                "Identity", [_matmul_nbits(g, h, head + ".head", bq, accuracy_level)], ["logits"]
            )
        )
    else:
        flat = g.op("Reshape", [h, g.const(np.array([-1, hidden]))])
        if cfg.tie_word_embeddings:
            logits2d = g.op("Gemm", [flat, emb], transB=1)
        else:
            logits2d = g.op("MatMul", [flat, w("output.weight", True)])
        two = g.const(np.array([2]))
        out_shape = g.op(
            "Concat",
            [
                g.op("Slice", [g.op("Shape", [h]), g.const(np.array([0])), two]),
                g.const(np.array([cfg.vocab_size])),
            ],
            axis=0,
        )
        g.nodes.append(helper.make_node("Reshape", [logits2d, out_shape], ["logits"]))

    graph = helper.make_graph(g.nodes, "llama_decoder", inputs, outputs, g.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    if quant is not None:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    return helper.make_model(graph, opset_imports=opsets, producer_name="funai", ir_version=8)


def _matmul_nbits(g: GraphBuilder, x: str, name: str, bq: BlockQuant, accuracy_level: int) -> str:
    """``x @ W.T`` with ``W = scale * q + offset`` per block of 32 along the input axis."""
    n, k = bq.q.shape
    nb = k // QBLOCK
    if bq.bits == 4:
        packed = (bq.q[:, 0::2] | (bq.q[:, 1::2] << 4)).astype(np.uint8).reshape(n, nb, -1)
        zero_points = np.zeros((n, (nb + 1) // 2), np.uint8)
    else:
        packed = bq.q.reshape(n, nb, QBLOCK)
        zero_points = np.full((n, nb), 1 << (bq.bits - 1), np.uint8)
    y = g.op(
        "MatMulNBits",
        [
            x,
            g.weight(name + ".qweight", packed),
            g.weight(name + ".scales", bq.scale.reshape(-1)),
            g.weight(name + ".qzeros", zero_points.reshape(-1)),
        ],
        domain="com.microsoft",
        K=k,
        N=n,
        bits=bq.bits,
        block_size=QBLOCK,
        accuracy_level=accuracy_level,
    )
    if bq.offset is None:
        return str(y)
    # + sum over each block of x, times the block's offset m: [.., K/32] @ [K/32, N].
    blocks = g.op("Reshape", [x, g.const(np.array([0, 0, nb, QBLOCK]))])
    sums = g.op("ReduceSum", [blocks, g.const(np.array([-1]))], keepdims=0)
    return str(g.op("Add", [y, g.op("MatMul", [sums, g.weight(name + ".offsets", bq.offset.T)])]))


def save_graph(model: onnx.ModelProto, path: Path) -> None:
    """Writes the graph (weights already in the external data file beside it)."""
    path.write_bytes(model.SerializeToString())
