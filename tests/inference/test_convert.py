"""The GGUF → ONNX conversion: logits against a numpy reference, tokenizer, errors, caching."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from funai.errors import FunaiError
from funai.inference import LoadedModel, ModelFormatError
from funai.inference.convert import convert_gguf
from funai.inference.gguf_model import GGUFModel, unpermute_qk
from funai.inference.judge import _forward_rows
from funai.inference.reference import reference_logits
from funai.inference.store import file_digests, model_id_from_digests, read_manifest
from tests.inference_fixtures import gguf_path, model, model_dir, model_dir_fp32, model_fp32  # noqa: F401

PROMPTS = [
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "The quick brown fox jumps over the lazy dog. 1234",
    "def fibonacci(n):\n    return",
]


# Both exports compute the GGUF's own arithmetic in float32: the float32 one from dequantized
# weights (measured max |error| 4e-5), the int4 one with MatMulNBits on llama.cpp's Q4_1 blocks
# (1.6e-4). Both against a float64 numpy forward pass, same tolerance (docs/inference.md).
REFERENCE_ATOL = 2e-3


@pytest.fixture(scope="module")
def reference(gguf_path: Path, model: LoadedModel) -> dict[str, np.ndarray]:  # noqa: F811
    """float64 numpy logits of each prompt, computed once for both exports."""
    g = GGUFModel(gguf_path)
    cache: dict[str, np.ndarray] = {}
    return {text: reference_logits(g, model.encode(text), cache) for text in PROMPTS}


@pytest.mark.parametrize("precision", ["int4", "fp32"])
def test_onnx_logits_match_numpy_reference(
    reference: dict[str, np.ndarray],
    model: LoadedModel,  # noqa: F811
    model_fp32: LoadedModel,  # noqa: F811
    precision: str,
) -> None:
    m = model if precision == "int4" else model_fp32
    for text in PROMPTS:
        ids = m.encode(text)
        n = len(ids)
        ref = reference[text]
        got, _ = m.forward(np.array([ids]), np.ones((1, n), np.int64), np.arange(n)[None], None)
        assert got.shape == (1, n, m.vocab_size)
        np.testing.assert_allclose(got[0], ref, atol=REFERENCE_ATOL, rtol=0)
        assert (got[0].argmax(-1) == ref.argmax(-1)).all()


def test_export_precisions(model_dir: Path, model_dir_fp32: Path) -> None:  # noqa: F811
    import onnx

    ops4 = {
        n.op_type for n in onnx.load(model_dir / "model.onnx", load_external_data=False).graph.node
    }
    ops32 = {
        n.op_type
        for n in onnx.load(model_dir_fp32 / "model.onnx", load_external_data=False).graph.node
    }
    assert "MatMulNBits" in ops4
    assert "MatMulNBits" not in ops32
    m4, m32 = read_manifest(model_dir), read_manifest(model_dir_fp32)
    assert m4 is not None
    assert m32 is not None
    assert (m4["precision"], m32["precision"]) == ("int4", "fp32")
    assert m4["model_id"] != m32["model_id"]
    size = (model_dir / "model.onnx.data").stat().st_size
    assert size < (model_dir_fp32 / "model.onnx.data").stat().st_size / 2


def test_logits_to_keep(model: LoadedModel) -> None:  # noqa: F811
    assert model.has_logits_to_keep
    ids = model.encode(PROMPTS[2])
    n = len(ids)
    args = (np.array([ids]), np.ones((1, n), np.int64), np.arange(n)[None], None)
    full, _ = model.forward(*args)
    for k in (1, 3, n + 5):
        part, _ = model.forward(*args, keep=k)
        assert part.shape == (1, min(k, n), model.vocab_size)
        np.testing.assert_allclose(part[0], full[0, -min(k, n) :], atol=1e-4, rtol=0)


def test_prefix_cache_and_padding_do_not_change_logits(model: LoadedModel) -> None:  # noqa: F811
    prefix = model.encode(PROMPTS[0])[:6]
    rows = [prefix + model.encode(" one two three"), prefix + model.encode(" a much longer row")]
    alone = [_forward_rows(model, [r], [3], [])[0] for r in rows]
    batched = _forward_rows(model, rows, [3, 3], prefix)
    assert tuple(prefix) in model.prefix_cache
    for a, b in zip(alone, batched, strict=True):
        assert a.shape == b.shape == (3, model.vocab_size)
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=0)


def test_conversion_is_deterministic(gguf_path: Path, model: LoadedModel, tmp_path: Path) -> None:  # noqa: F811
    res = convert_gguf(gguf_path, tmp_path / "again", precision="int4")
    assert res.converted
    assert res.model_id == model.model_id


def test_cached_decode_matches_full_prefill(model: LoadedModel) -> None:  # noqa: F811
    ids = model.encode(PROMPTS[1])
    n = len(ids)
    full, _ = model.forward(np.array([ids]), np.ones((1, n), np.int64), np.arange(n)[None], None)
    k = n - 3
    _, cache = model.forward(
        np.array([ids[:k]]), np.ones((1, k), np.int64), np.arange(k)[None], None
    )
    for i in range(k, n):
        step, cache = model.forward(
            np.array([[ids[i]]]), np.ones((1, i + 1), np.int64), np.array([[i]]), cache
        )
        np.testing.assert_allclose(step[0, 0], full[0, i], atol=1e-3, rtol=0)
    assert cache.length == n


def test_unpermute_inverts_llama_cpp_permutation() -> None:
    rng = np.random.default_rng(1)
    n_head, hd, k = 3, 8, 5
    w = rng.standard_normal((n_head * hd, k)).astype(np.float32)
    # llama.cpp's convert_hf_to_gguf.py permutation:
    permuted = w.reshape(n_head, 2, hd // 2, k).swapaxes(1, 2).reshape(w.shape)
    assert not np.array_equal(permuted, w)
    np.testing.assert_array_equal(unpermute_qk(permuted, n_head), w)


def test_tokenizer_from_gguf(model: LoadedModel) -> None:  # noqa: F811
    tok = model.tokenizer
    for special in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert len(tok.encode(special).ids) == 1
    assert tok.encode("<|im_start|>").ids == [1]
    # digits are split one by one (SmolLM pre-tokenizer), spaces are byte-level "Ġ"
    assert tok.encode("year 2024").tokens == ["year", "Ġ", "2", "0", "2", "4"]
    text = "Héllo wörld — naïve café 😀\n\tend"
    assert model.decode(model.encode(text)) == text
    assert model.vocab_size == 49152


def test_chat_template_is_chatml(model: LoadedModel) -> None:  # noqa: F811
    text = model.render_chat([{"role": "user", "content": "Hi"}])
    assert text == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    own = model.render_chat([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert own.startswith("<|im_start|>system\nS<|im_end|>\n")


def test_model_id_is_blake3_over_files(model_dir: Path, model: LoadedModel) -> None:  # noqa: F811
    manifest = read_manifest(model_dir)
    assert manifest is not None
    assert model.model_id == manifest["model_id"]
    digests = file_digests(model_dir)
    assert set(digests) >= {"model.onnx", "model.onnx.data", "tokenizer.json", "config.json"}
    assert model_id_from_digests(digests) == model.model_id
    changed = dict(digests)
    changed["config.json"] = {**digests["config.json"], "blake3": "00" * 32}
    assert model_id_from_digests(changed) != model.model_id


def test_convert_is_cached(gguf_path: Path, model_dir: Path) -> None:  # noqa: F811
    res = convert_gguf(gguf_path, model_dir)
    assert not res.converted
    assert res.path == model_dir


def test_corrupt_gguf_is_a_clear_error(tmp_path: Path, gguf_path: Path) -> None:  # noqa: F811
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(ModelFormatError):
        GGUFModel(bad)
    truncated = tmp_path / "trunc.gguf"
    with open(gguf_path, "rb") as f:
        truncated.write_bytes(f.read(1 << 20))
    with pytest.raises(FunaiError):
        convert_gguf(truncated, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ModelFormatError):
        GGUFModel(tmp_path / "missing.gguf")
    with pytest.raises(ModelFormatError):
        convert_gguf(gguf_path, tmp_path / "out", precision="int3")


def test_config_files(model_dir: Path) -> None:  # noqa: F811
    cfg = json.loads((model_dir / "config.json").read_text())
    assert cfg["num_hidden_layers"] == 30
    assert cfg["hidden_size"] == 576
    assert cfg["num_attention_heads"] == 9
    assert cfg["num_key_value_heads"] == 3
    assert cfg["rope_theta"] == 100000.0
    assert cfg["tie_word_embeddings"] is True
    genai = json.loads((model_dir / "genai_config.json").read_text())
    assert genai["model"]["decoder"]["filename"] == "model.onnx"
