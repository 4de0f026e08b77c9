"""Verified sampling benchmarks (issue 12, docs/verification.md "Measured").

1. Honest acceptance: honest answers over the grid temperature {0, 0.7, 1.0} x top-p
   {0.9, 1.0} x {unbatched ``generate``, batched ``generate_many`` (max_batch 8)} x {1, 2
   ONNX Runtime threads}, each replayed with ``replay_content`` on the default model with 2
   threads. Baseline in the same run: the generation time of the same answers.
2. Detection against answer length (16, 64, 128 tokens) at temperature 1.0 / top-p 1.0 and
   0.7 / 0.9: one edited token, truncation, another seed, the float32 export answering for
   the int4 model and the reverse, a re-quantized substitute (symmetric 4-bit absmax blocks
   of 32 re-quantizing the Q4_1 weights), one decoder layer dropped, two layers dropped (the
   "different model": no other model is available offline). Baseline: the honest answers
   of the same prompts and seeds; detection rate at the accept bit and AUC of continuous
   statistics of the replay (``score``, mismatching positions, -loglik).
3. Verifier cost: one replay's time over the executor's unbatched generation time of the
   same answer, at 16 / 64 / 128 tokens, 1 and 2 threads (baseline: ``generate``).

Figures go to ``benchmark.extra_info`` and are printed (run with ``-s``). The counts scale
with ``FUNAI_BENCH_VERIFY_SCALE``: at 1 (about 14 minutes on 2 cores) 1008 honest answers
and 16 answers per attack and length; ``FUNAI_BENCH_VERIFY_SCALE=1.875 -k test_detection``
gives the 30 per attack and length of docs/verification.md. Nothing here uses a GPU (CPU
execution provider throughout), so nothing skips without one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from funai.inference import LoadedModel, generate, generate_many, load_model
from funai.inference.convert import convert_gguf, skip_layer
from funai.inference.generate import Completion, SeqState, run_batch
from funai.inference.gguf_model import QBLOCK, BlockQuant, GGUFModel
from funai.inference.onnx_graph import build_llama
from funai.inference.replay import DRAW_MARGIN, LOGIT_MARGIN, Replay
from funai.layer2.judging import prompt_ids, replay_content
from funai.layer2.request_params import RequestParams
from funai.layer2.transactions import InferenceContent
from tests.inference_fixtures import gguf_path, model, model_dir, model_dir_fp32, model_fp32  # noqa: F401

SCALE = float(os.environ.get("FUNAI_BENCH_VERIFY_SCALE", "1"))
PPM = 1_000_000

# --- 1. honest acceptance ------------------------------------------------------------------
#: honest answers per grid cell (24 cells)
PER_CELL = max(1, round(42 * SCALE))
HONEST_MAX_TOKENS = 16
TEMPERATURES = (0.0, 0.7, 1.0)
TOP_PS = (0.9, 1.0)
MODES = ("unbatched", "batched")
THREADS = (1, 2)
MAX_BATCH = 8

QUESTIONS = (
    "What is the capital of France?",
    "Name three prime numbers.",
    "Translate 'thank you' into Spanish.",
    "Why is the sky blue?",
    "Write a haiku about autumn.",
    "What is 17 times 23?",
    "Give me a synonym for 'happy'.",
    "Explain photosynthesis in one sentence.",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water in Fahrenheit?",
    "Suggest a name for a pet goldfish.",
    "How many legs does a spider have?",
    "What does CPU stand for?",
    "Write a Python function that adds two numbers.",
    "Tell me a joke about computers.",
    "What is the largest planet in our solar system?",
    "Describe the taste of a lemon.",
    "List the colors of the rainbow.",
    "What is the square root of 144?",
    "Give one tip for better sleep.",
    "What language is spoken in Brazil?",
    "Summarize the plot of Cinderella in one sentence.",
    "What is an atom?",
    "Recommend a book for a long flight.",
    "How do I boil an egg?",
    "What is the opposite of 'ancient'?",
    "Write a short motivational quote.",
    "Why do cats purr?",
    "What year did World War II end?",
    "Explain what a black hole is to a child.",
    "What is the chemical symbol for gold?",
    "Write a limerick about a frog.",
    "What is the difference between weather and climate?",
    "Convert 5 kilometers to miles.",
    "What is the main ingredient of guacamole?",
    "Give me three ideas for a birthday party.",
    "What does DNA stand for?",
    "How does a rainbow form?",
    "Is a tomato a fruit or a vegetable?",
    "Write the first line of a mystery novel.",
)

# --- 2. detection --------------------------------------------------------------------------
LENGTHS = (16, 64, 128)
#: (temperature, top-p) of the detection answers; half the answers at each
DETECT_SETTINGS = ((1.0, 1.0), (0.7, 0.9))
#: answers per setting for each substitute model (and the honest baseline)
PER_SETTING = max(1, round(8 * SCALE))
#: answers per setting drawn from the float32 export (slower to generate)
PER_SETTING_FP32 = max(1, round(4 * SCALE))
LONG_PROMPTS = (
    "Write a long story about a dragon who learns to bake bread.",
    "Explain in detail how the internet works, step by step.",
    "Describe a day in the life of a medieval blacksmith.",
    "Write an essay about the importance of forests.",
    "Explain how a car engine works to a curious teenager.",
    "Tell me everything you know about the history of Rome.",
    "Write a letter to a friend describing your summer holiday.",
    "Describe how to plan a vegetable garden from scratch.",
    "Write a detailed recipe for chocolate chip cookies with tips.",
    "Explain the water cycle and why it matters for life on Earth.",
    "Write a short science fiction story set on Mars.",
    "Give a detailed guide to learning a new language as an adult.",
    "Describe the rules of chess and some basic strategy.",
    "Write a speech for a school graduation ceremony.",
    "Explain how vaccines train the immune system.",
    "Describe the life cycle of a star in detail.",
)
#: the substitutes answering with the claimed seed (built into a temporary directory)
DROP_ONE = (15,)
DROP_TWO = (10, 20)
REQUANT_BITS = 4

# --- 3. cost -------------------------------------------------------------------------------
COST_ROUNDS = 3
COST_PROMPT = "Write a long story about a dragon who learns to bake bread."

RESULTS: dict[str, Any] = {"cells": {}, "detect": {}, "cost": {}}


# === fixtures ==============================================================================
@pytest.fixture(scope="module")
def model_1t(model_dir: Path) -> LoadedModel:  # noqa: F811
    return load_model(model_dir, device="cpu", threads=1)


def _copy_tokenizer(src: Path, out: Path, cfg_hf: dict[str, Any]) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copy(src / name, out / name)
    (out / "config.json").write_text(json.dumps(cfg_hf, indent=2) + "\n")


def requantize(w: np.ndarray[Any, Any], bits: int) -> BlockQuant:
    """``w`` [out, in] re-quantized symmetrically, absmax scale per block of 32 along ``in``
    (codes offset by 8 so that MatMulNBits runs it as 4-bit blocks with ``offset = -8 s``)."""
    n, k = w.shape
    blocks = w.reshape(n, k // QBLOCK, QBLOCK).astype(np.float32)
    top = (1 << (bits - 1)) - 1  # 7 for 4 bits, 3 for 3 bits
    scale = np.abs(blocks).max(axis=-1) / top
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float16).astype(np.float32)
    q = np.clip(np.rint(blocks / scale[..., None]), -top - 1, top) + 8
    return BlockQuant(4, q.astype(np.uint8).reshape(n, k), scale, (-8.0 * scale).astype(np.float32))


def build_substitute(
    gguf: Path, src: Path, out: Path, *, drop: tuple[int, ...] = (), requant: int | None = None
) -> Path:
    """A model directory like ``src`` whose weights are the GGUF's with layers ``drop`` left
    out and/or every Q4_1 linear re-quantized to ``requant`` bits (run as int4 blocks)."""
    g = GGUFModel(gguf)
    cfg = g.config
    get: Callable[[str], Any] = g.tensor
    base_quant: Callable[[str], BlockQuant | None] = g.block_quant

    def quant(name: str) -> BlockQuant | None:
        bq = base_quant(name)
        if requant is None or bq is None or bq.bits != 4:
            return bq
        return requantize(bq.dequantize(), requant)

    qget: Callable[[str], Any] = quant
    for k in sorted(drop, reverse=True):
        get, qget = skip_layer(get, k), skip_layer(qget, k)
    cfg = dataclasses.replace(cfg, num_hidden_layers=cfg.num_hidden_layers - len(drop))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "model.onnx.data", "wb") as data:
        graph = build_llama(cfg, get, data, "model.onnx.data", quant=qget, accuracy_level=0)
    (out / "model.onnx").write_bytes(graph.SerializeToString())
    _copy_tokenizer(src, out, cfg.to_hf())
    return out


@pytest.fixture(scope="module")
def substitutes(
    tmp_path_factory: pytest.TempPathFactory,
    gguf_path: Path,  # noqa: F811
    model_dir: Path,  # noqa: F811
) -> dict[str, LoadedModel]:
    base = tmp_path_factory.mktemp("substitutes")
    t0 = time.perf_counter()
    dirs = {
        f"requant-q{REQUANT_BITS}": build_substitute(
            gguf_path, model_dir, base / "requant", requant=REQUANT_BITS
        ),
        "drop-1-layer": convert_gguf(gguf_path, base / "drop1", drop_layer=DROP_ONE[0]).path,
        "drop-2-layers": build_substitute(gguf_path, model_dir, base / "drop2", drop=DROP_TWO),
    }
    print(f"\nsubstitutes built in {time.perf_counter() - t0:.1f} s")
    return {k: load_model(d, device="cpu", threads=2) for k, d in dirs.items()}


# === helpers ===============================================================================
def _request(question: str, max_tokens: int, temperature: float, top_p: float) -> InferenceContent:
    params = RequestParams(
        max_tokens=max_tokens,
        temperature_ppm=round(temperature * PPM),
        top_p_ppm=round(top_p * PPM),
    )
    return InferenceContent(question, "", params=params)


def _answered(m: LoadedModel, req: InferenceContent, out: Completion) -> InferenceContent:
    finish = out.finish_reason if out.finish_reason != "cancelled" else "length"
    return req.answered(out.text, out.token_ids, finish)


def _cut(
    m: LoadedModel, req: InferenceContent, tokens: tuple[int, ...], finish: str, length: int
) -> InferenceContent:
    """The answer an executor asked for ``length`` tokens gives: the first ``length`` tokens
    of a longer draw with the same seed (the draw of position i does not depend on
    ``max_tokens``)."""
    params = dataclasses.replace(req.params, max_tokens=length)
    req = dataclasses.replace(req, params=params)
    if len(tokens) >= length:
        tokens, finish = tokens[:length], "length"
    return req.answered(m.decode(list(tokens)), tuple(tokens), finish)


def _distance(r: Replay, greedy: bool) -> float:
    return r.score * (LOGIT_MARGIN if greedy else DRAW_MARGIN)


def auc(honest: list[float], attack: list[float]) -> float:
    """P(attack statistic > honest statistic) + 1/2 P(tie) (Mann-Whitney)."""
    if not honest or not attack:
        return float("nan")
    h = np.asarray(honest, dtype=np.float64)[None, :]
    a = np.asarray(attack, dtype=np.float64)[:, None]
    return float((a > h).mean() + 0.5 * (a == h).mean())


def tpr_at_fpr(honest: list[float], attack: list[float], fpr: float = 0.05) -> float:
    """Detection rate with the threshold at the honest (1 - fpr) quantile (stat > it)."""
    if not honest or not attack:
        return float("nan")
    thr = float(np.quantile(np.asarray(honest, dtype=np.float64), 1 - fpr, method="higher"))
    return float(np.mean(np.asarray(attack, dtype=np.float64) > thr))


def _stats(r: Replay) -> dict[str, float]:
    return {
        "score": r.score,
        "mismatches": float(r.tokens - r.matched),
        "neg_loglik": -r.loglik,
    }


# === 1. honest acceptance ==================================================================
CELLS = [(t, p, mode, th) for t in TEMPERATURES for p in TOP_PS for mode in MODES for th in THREADS]


def _cell_id(c: tuple[float, float, str, int]) -> str:
    return f"t{c[0]}-p{c[1]}-{c[2]}-{c[3]}thr"


@pytest.mark.parametrize("cell", CELLS, ids=[_cell_id(c) for c in CELLS])
def test_honest_acceptance(
    benchmark: Any,
    model: LoadedModel,  # noqa: F811
    model_1t: LoadedModel,
    cell: tuple[float, float, str, int],
) -> None:
    temperature, top_p, mode, threads = cell
    idx = CELLS.index(cell)
    gen_model = model_1t if threads == 1 else model
    rng = random.Random(idx)
    questions = [QUESTIONS[(idx * 7 + j) % len(QUESTIONS)] for j in range(PER_CELL)]
    seeds = [rng.randrange(2**63) for _ in range(PER_CELL)]
    reqs = [_request(q, HONEST_MAX_TOKENS, temperature, top_p) for q in questions]
    prompts = [prompt_ids(gen_model, r) for r in reqs]
    out: dict[str, Any] = {}

    def run() -> None:
        t0 = time.perf_counter()
        if mode == "batched":
            outs = generate_many(
                gen_model,
                prompts,
                [r.params.sampling(s) for r, s in zip(reqs, seeds, strict=True)],
                MAX_BATCH,
            )
        else:
            outs = [
                generate(gen_model, p, r.params.sampling(s))
                for p, r, s in zip(prompts, reqs, seeds, strict=True)
            ]
        gen_s = time.perf_counter() - t0
        answers = [_answered(gen_model, r, o) for r, o in zip(reqs, outs, strict=True)]
        t0 = time.perf_counter()
        replays = [replay_content(model, a, s) for a, s in zip(answers, seeds, strict=True)]
        out.update(gen_s=gen_s, replay_s=time.perf_counter() - t0, answers=answers, replays=replays)

    benchmark.pedantic(run, rounds=1, iterations=1)
    replays: list[Replay] = out["replays"]
    answers: list[InferenceContent] = out["answers"]
    greedy = temperature == 0.0
    accepted = sum(r.accept for r in replays)
    rejects = [
        {
            "cell": _cell_id(cell),
            "prompt": a.input,
            "params": a.params.to_json(),
            "seed": s,
            "tokens": list(a.tokens),
            "finish": a.finish,
            "first_mismatch": r.first_mismatch,
            "rule": r.rule,
            "distance": _distance(r, greedy),
        }
        for a, r, s in zip(answers, replays, seeds, strict=True)
        if not r.accept
    ]
    info = {
        "accepted": accepted,
        "total": len(replays),
        "positions": sum(r.tokens for r in replays),
        "max_score": max(r.score for r in replays),
        "max_distance": max(_distance(r, greedy) for r in replays),
        "gen_s": out["gen_s"],
        "replay_s": out["replay_s"],
        "rejects": rejects,
    }
    benchmark.extra_info.update(info)
    RESULTS["cells"][_cell_id(cell)] = {**info, "greedy": greedy}
    print(
        f"\n{_cell_id(cell)}: accepted {accepted}/{len(replays)} "
        f"({info['positions']} positions), max score {info['max_score']:.3g} "
        f"(distance {info['max_distance']:.3g}), generation {out['gen_s']:.1f} s, "
        f"replay {out['replay_s']:.1f} s"
    )
    for rej in rejects:
        print("HONEST REJECT:", json.dumps(rej))


def test_honest_summary() -> None:
    cells = RESULTS["cells"]
    if not cells:
        pytest.skip("no honest cells ran")
    acc = sum(c["accepted"] for c in cells.values())
    tot = sum(c["total"] for c in cells.values())
    pos = sum(c["positions"] for c in cells.values())
    smax = max((c["max_score"] for c in cells.values() if not c["greedy"]), default=0.0)
    gmax = max((c["max_score"] for c in cells.values() if c["greedy"]), default=0.0)
    RESULTS["honest"] = {"accepted": acc, "total": tot, "positions": pos}
    print(
        f"\nHONEST TOTAL: accepted {acc}/{tot} ({pos} positions); largest score "
        f"sampling {smax:.3g} x DRAW_MARGIN, greedy {gmax:.3g} x LOGIT_MARGIN"
    )
    for c in cells.values():
        for rej in c["rejects"]:
            print("HONEST REJECT:", json.dumps(rej))


# === 2. detection ==========================================================================
def _generate_logprobs(
    m: LoadedModel, reqs: list[InferenceContent], seeds: list[int]
) -> list[Completion]:
    seqs = [
        SeqState(prompt_ids(m, r), r.params.sampling(s), logprobs=2)
        for r, s in zip(reqs, seeds, strict=True)
    ]
    run_batch(m, seqs, None, MAX_BATCH)
    return [s.result for s in seqs if s.result is not None]


def _detect_requests(n: int) -> Iterator[tuple[InferenceContent, int]]:
    for si, (t, p) in enumerate(DETECT_SETTINGS):
        for j in range(n):
            q = LONG_PROMPTS[(j + si * 5) % len(LONG_PROMPTS)]
            yield _request(q, max(LENGTHS), t, p), 1_000_003 * (si + 1) + 7919 * j


@pytest.fixture(scope="module")
def detection(
    model: LoadedModel,  # noqa: F811
    model_fp32: LoadedModel,  # noqa: F811
    substitutes: dict[str, LoadedModel],
) -> dict[str, Any]:
    """Replays of honest and attack answers; {attack: {length: [(Replay, stats)]}}."""
    t_start = time.perf_counter()
    rng = random.Random(12)
    pairs = list(_detect_requests(PER_SETTING))
    reqs, seeds = [r for r, _ in pairs], [s for _, s in pairs]
    times: dict[str, float] = {}

    t0 = time.perf_counter()
    honest = _generate_logprobs(model, reqs, seeds)
    times["generate int4 (honest)"] = time.perf_counter() - t0
    drawn: dict[str, list[Completion]] = {}
    for name, sub in substitutes.items():
        t0 = time.perf_counter()
        drawn[name] = generate_many(
            sub,
            [prompt_ids(sub, r) for r in reqs],
            [r.params.sampling(s) for r, s in zip(reqs, seeds, strict=True)],
            MAX_BATCH,
        )
        times[f"generate {name}"] = time.perf_counter() - t0
    fp_pairs = [
        (r, s)
        for si in range(len(DETECT_SETTINGS))
        for r, s in pairs[si * PER_SETTING : si * PER_SETTING + PER_SETTING_FP32]
    ]
    t0 = time.perf_counter()
    fp_out = generate_many(
        model_fp32,
        [prompt_ids(model_fp32, r) for r, _ in fp_pairs],
        [r.params.sampling(s) for r, s in fp_pairs],
        MAX_BATCH,
    )
    times["generate fp32"] = time.perf_counter() - t0

    res: dict[str, dict[int, list[tuple[Replay, dict[str, float]]]]] = {}

    def add(attack: str, length: int, r: Replay) -> None:
        res.setdefault(attack, {}).setdefault(length, []).append((r, _stats(r)))

    t0 = time.perf_counter()
    for req, seed, out in zip(reqs, seeds, honest, strict=True):
        finish = out.finish_reason if out.finish_reason != "cancelled" else "length"
        for length in LENGTHS:
            a = _cut(model, req, out.token_ids, finish, length)
            toks = list(a.tokens)
            add("honest", length, replay_content(model, a, seed))
            # one edited token: the most likely other token at a random position
            if toks:
                i = rng.randrange(len(toks))
                alt = [t for t, _ in out.logprobs[i].top if t != toks[i]]
                edited = [*toks[:i], alt[0], *toks[i + 1 :]]
                e = a.answered(model.decode(edited), tuple(edited), a.finish)
                add("edit-1-token", length, replay_content(model, e, seed))
            # truncation: cut after half or more of the tokens, claim eos
            if len(toks) >= 2:
                c = rng.randint(max(1, len(toks) // 2), len(toks) - 1)
                tr = a.answered(model.decode(toks[:c]), tuple(toks[:c]), "eos")
                add("truncate", length, replay_content(model, tr, seed))
            add("other-seed", length, replay_content(model, a, seed ^ 0x5EED))
            add("int4-for-fp32", length, replay_content(model_fp32, a, seed))
    times["replay honest + edit + truncate + seed + int4-for-fp32"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for (req, seed), out in zip(fp_pairs, fp_out, strict=True):
        finish = out.finish_reason if out.finish_reason != "cancelled" else "length"
        for length in LENGTHS:
            a = _cut(model, req, out.token_ids, finish, length)
            add("fp32-for-int4", length, replay_content(model, a, seed))
    for name, outs in drawn.items():
        for req, seed, out in zip(reqs, seeds, outs, strict=True):
            finish = out.finish_reason if out.finish_reason != "cancelled" else "length"
            for length in LENGTHS:
                a = _cut(model, req, out.token_ids, finish, length)
                add(name, length, replay_content(model, a, seed))
    times["replay substitutes"] = time.perf_counter() - t0
    times["total"] = time.perf_counter() - t_start
    tokens = {
        length: statistics.mean(r.tokens for r, _ in res["honest"][length]) for length in LENGTHS
    }
    return {"res": res, "times": times, "mean_tokens": tokens}


ATTACKS = (
    "edit-1-token",
    "truncate",
    "other-seed",
    "fp32-for-int4",
    "int4-for-fp32",
    f"requant-q{REQUANT_BITS}",
    "drop-1-layer",
    "drop-2-layers",
)
STATS = ("score", "mismatches", "neg_loglik")


def test_detection(benchmark: Any, detection: dict[str, Any]) -> None:
    res = detection["res"]
    honest = res["honest"]
    table: dict[str, Any] = {}

    def summarize() -> None:
        for attack in ("honest", *ATTACKS):
            for length in LENGTHS:
                rows = res.get(attack, {}).get(length, [])
                if not rows:
                    continue
                h = [s for _, s in honest[length]]
                entry: dict[str, Any] = {
                    "n": len(rows),
                    "rejected": sum(not r.accept for r, _ in rows),
                    "mean_tokens": statistics.mean(r.tokens for r, _ in rows),
                }
                for st in STATS:
                    hs = [x[st] for x in h]
                    xs = [s[st] for _, s in rows]
                    entry[f"auc_{st}"] = auc(hs, xs)
                    entry[f"tpr5_{st}"] = tpr_at_fpr(hs, xs)
                table[f"{attack}@{length}"] = entry

    benchmark.pedantic(summarize, rounds=1, iterations=1)
    benchmark.extra_info["table"] = table
    benchmark.extra_info["times"] = detection["times"]
    benchmark.extra_info["mean_tokens"] = detection["mean_tokens"]
    RESULTS["detect"] = table
    print("\nDETECTION (rate = rejected by the accept bit; AUC vs honest answers, same length)")
    print("attack@length: rejected/n, mean tokens, AUC score / mismatches / -loglik, TPR@5%FPR")
    for key, e in table.items():
        aucs = " / ".join(f"{e[f'auc_{st}']:.3f}" for st in STATS)
        tprs = " / ".join(f"{e[f'tpr5_{st}']:.2f}" for st in STATS)
        print(
            f"{key}: {e['rejected']}/{e['n']}, {e['mean_tokens']:.1f} tok, AUC {aucs}, "
            f"TPR@5% {tprs}"
        )
    print("times:", json.dumps({k: round(v, 1) for k, v in detection["times"].items()}))
    for r, _ in honest[max(LENGTHS)]:
        assert math.isfinite(r.score)


# === 3. verifier cost ======================================================================
_COST_CASES: dict[tuple[int, int], tuple[InferenceContent, int, list[int]]] = {}


def _cost_case(m: LoadedModel, length: int) -> tuple[InferenceContent, int, list[int]]:
    """A request and seed whose answer runs the full ``length`` tokens."""
    for seed in range(100, 140):
        req = _request(COST_PROMPT, length, 1.0, 1.0)
        ids = prompt_ids(m, req)
        out = generate(m, ids, req.params.sampling(seed))
        if out.finish_reason == "length":
            return req, seed, ids
    raise AssertionError("no answer reached the length")


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("length", LENGTHS)
def test_cost_generate(
    benchmark: Any,
    model: LoadedModel,  # noqa: F811
    model_1t: LoadedModel,
    length: int,
    threads: int,
) -> None:
    """Baseline: the executor's unbatched generation of the answer."""
    m = model_1t if threads == 1 else model
    req, seed, ids = _cost_case(m, length)
    _COST_CASES[(length, threads)] = (req, seed, ids)
    benchmark.pedantic(generate, (m, ids, req.params.sampling(seed)), rounds=COST_ROUNDS)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("length", LENGTHS)
def test_cost_replay(
    benchmark: Any,
    model: LoadedModel,  # noqa: F811
    model_1t: LoadedModel,
    length: int,
    threads: int,
) -> None:
    """One replay of the same answer on the same thread count; the ratio to generation is
    the median of per-round ratios (generation and replay interleaved, same load)."""
    m = model_1t if threads == 1 else model
    req, seed, ids = _COST_CASES.get((length, threads)) or _cost_case(m, length)
    params = req.params.sampling(seed)
    out = generate(m, ids, params)
    ans = _answered(m, req, out)
    gen_times: list[float] = []
    rep_times: list[float] = []

    def setup() -> None:
        t0 = time.perf_counter()
        generate(m, ids, params)
        gen_times.append(time.perf_counter() - t0)

    def once() -> None:
        t0 = time.perf_counter()
        r = replay_content(m, ans, seed)
        rep_times.append(time.perf_counter() - t0)
        assert r.accept

    benchmark.pedantic(once, setup=setup, rounds=COST_ROUNDS)
    ratios = [r / g for r, g in zip(rep_times, gen_times, strict=True)]
    info = {
        "tokens": len(ans.tokens),
        "generate_s": statistics.median(gen_times),
        "replay_s": statistics.median(rep_times),
        "ratio": statistics.median(ratios),
    }
    benchmark.extra_info.update(info)
    RESULTS["cost"][f"{length}tok-{threads}thr"] = info
    print(
        f"\ncost {length} tokens, {threads} threads: generation {info['generate_s']:.2f} s, "
        f"replay {info['replay_s']:.2f} s, "
        f"ratio {info['ratio']:.3f}"
    )
