"""Replay verification of seeded sampling (DESIGN 6, "Replay of seeded sampling").

An answer generated with a seed (``SamplingParams.seed``) draws the token at position ``i``
with :func:`~funai.inference.sampling.draw` (seed, i), a counter-based draw anyone can
recompute. A verifier runs **one teacher-forced prefill** of prompt + answer under the
claimed model and measures at every position how far the answer's token is from the seeded
sampler's choice there (rule ``replay-token``):

* sampling (``temperature > 0``): the distance, in probability, from the draw ``u`` to the
  token's range ``[lo, hi)`` of the sampler's cumulative distribution (0 when ``u`` falls in
  it: the sampler picks exactly this token);
* greedy decoding: how far the token's logit is below the best logit.

Numeric near-ties are the only tolerance (rule ``replay-near-tie``): a position matches when
its distance is at most :data:`DRAW_MARGIN` (sampling) or :data:`LOGIT_MARGIN` (greedy). A
token the top-k or top-p cut leaves out counts only when a cut moved by the same margins
keeps it. Different thread counts, batch sizes and kernels move the logits far less
(docs/verification.md gives the measurements), so an honest answer is accepted on any
verifier, while an edited token, another seed, another model or another quantization leaves
the sampler's choice at some position.

The answer must end the way it says (rule ``replay-stop``): ``eos`` when the end-of-sequence
token is the sampler's choice after the last token, ``stop`` when a stop string appears in
the text of the tokens and only once the last token is added, ``length`` when ``max_tokens``
tokens were generated or the model's context is full.

:attr:`Replay.score` (the largest distance over the positions, in units of the margin) is the
detection statistic of the benchmarks: an honest answer scores near 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from funai.inference.model import LoadedModel
from funai.inference.sampling import SamplingParams, distribution, draw, penalized

__all__ = ["DRAW_MARGIN", "LOGIT_MARGIN", "Replay", "replay", "teacher_forced_logits"]

#: How far the uniform draw may be from the token's range at a near-tie (sampling).
DRAW_MARGIN = 1e-3
#: Greedy decoding: how far below the best logit a token may be and still count as a tie.
LOGIT_MARGIN = 0.05

Finish = Literal["eos", "stop", "length"]


@dataclass(frozen=True)
class Replay:
    """The outcome of one replay.

    ``accept`` when every position matched and the stop condition holds; ``matched`` of
    ``tokens`` positions (the end-of-sequence check counts as one); ``first_mismatch``
    (position or None); ``rule`` naming what failed; ``score``: the largest distance of a
    position from the sampler's choice over its margin (<= 1 matches); ``loglik``: the
    answer's mean log-probability under the model (temperature 1, no cuts)."""

    accept: bool
    tokens: int
    matched: int
    first_mismatch: int | None
    rule: str
    score: float = 0.0
    loglik: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "accept": self.accept,
            "tokens": self.tokens,
            "matched": self.matched,
            "first_mismatch": self.first_mismatch,
            "rule": self.rule,
            "score": self.score,
            "loglik": self.loglik,
        }


def teacher_forced_logits(
    model: LoadedModel, prompt_ids: Sequence[int], answer_ids: Sequence[int]
) -> np.ndarray[Any, Any]:
    """Logits ``[len(answer) + 1, V]``: row ``i`` predicts the answer's token ``i`` (the
    last row, what follows the whole answer), from one prefill of prompt + answer."""
    row = [*prompt_ids, *answer_ids]
    ids = np.asarray([row], dtype=np.int64)
    mask = np.ones_like(ids)
    pos = np.arange(len(row), dtype=np.int64)[None]
    logits, _ = model.forward(ids, mask, pos, None, keep=len(answer_ids) + 1)
    out: np.ndarray[Any, Any] = logits[0]
    return out


def _range_distance(probs: Any, token: int, u: float) -> float:
    """Distance from ``u`` to ``token``'s range of the normalized CDF (inf: probability 0)."""
    p = float(probs[token])
    if p <= 0.0:
        return float("inf")
    total = float(probs.sum())
    lo = float(probs[:token].sum()) / total
    hi = lo + p / total
    if lo <= u < hi:
        return 0.0
    return lo - u if u < lo else u - hi


def _distance(logits: Any, history: list[int], params: SamplingParams, i: int, token: int) -> float:
    """How far ``token`` at position ``i`` is from the sampler's choice, over its margin."""
    if params.temperature == 0.0:
        x = penalized(logits, history, params)
        return float(x.max() - x[token]) / LOGIT_MARGIN
    assert params.seed is not None
    u = draw(params.seed, i)
    d = _range_distance(distribution(logits, history, params), token, u)
    if d == float("inf") and (params.top_p < 1.0 or params.top_k):
        # left out by a cut: a near-tie at the cut's edge keeps it (rule replay-near-tie)
        wide = params.with_(top_p=min(1.0, params.top_p + DRAW_MARGIN), top_k=0)
        x = penalized(logits, history, params) / params.temperature
        if params.top_k and params.top_k < x.shape[0]:
            kth = float(np.partition(x, -params.top_k)[-params.top_k])
            if x[token] < kth - LOGIT_MARGIN / params.temperature:
                return float("inf")
        d = _range_distance(distribution(logits, history, wide), token, u)
    return d / DRAW_MARGIN


def _loglik(logits: Any, answer: list[int]) -> float:
    """Mean log-probability of the answer's tokens under the raw model (0 when empty)."""
    if not answer:
        return 0.0
    x = np.asarray(logits[: len(answer)], dtype=np.float64)
    top = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - top).sum(axis=1)) + top[:, 0]
    picked = x[np.arange(len(answer)), answer]
    return float((picked - lse).mean())


def replay(
    model: LoadedModel,
    prompt_ids: Sequence[int],
    answer_ids: Sequence[int],
    params: SamplingParams,
    finish: Finish,
) -> Replay:
    """Checks that ``answer_ids`` (the generated tokens, end-of-sequence not included) are
    what ``params`` (with its seed when sampling) draws from ``model`` after ``prompt_ids``,
    and that the answer ended by ``finish``."""
    if params.temperature > 0.0 and params.seed is None:
        raise ValueError("replay of a sampled answer needs its seed")
    answer = [int(t) for t in answer_ids]
    vocab = model.vocab_size
    too_long = len(prompt_ids) + len(answer) > model.max_length
    if len(answer) > params.max_tokens or too_long or any(not 0 <= t < vocab for t in answer):
        return Replay(False, len(answer), 0, min(len(answer), params.max_tokens), "replay-stop")
    logits = teacher_forced_logits(model, prompt_ids, answer)
    history = [int(t) for t in prompt_ids]
    matched = 0
    first: int | None = None
    worst = 0.0
    for i, token in enumerate(answer):
        d = (
            float("inf")
            if token in model.eos_ids
            else _distance(logits[i], history, params, i, token)
        )
        worst = max(worst, d)
        if d <= 1.0:
            matched += 1
        elif first is None:
            first = i
        history.append(token)
    stop_ok, end = _stop_holds(model, logits, history, answer, params, finish, len(prompt_ids))
    if end is not None:
        worst = max(worst, end)
    total = len(answer) + (1 if finish == "eos" else 0)
    matched += int(end is not None and end <= 1.0)
    ll = _loglik(logits, answer)
    if first is not None:
        return Replay(False, total, matched, first, "replay-token", worst, ll)
    if not stop_ok:
        return Replay(False, total, matched, len(answer), "replay-stop", worst, ll)
    return Replay(True, total, matched, None, "accepted", worst, ll)


def _stop_holds(
    model: LoadedModel,
    logits: Any,
    history: list[int],
    answer: list[int],
    params: SamplingParams,
    finish: Finish,
    prompt_len: int,
) -> tuple[bool, float | None]:
    """Rule ``replay-stop``; returns (holds, the end-of-sequence position's distance when
    ``finish`` is ``eos``)."""
    text = model.decode(answer)
    earlier = model.decode(answer[:-1]) if answer else ""
    stopped_early = any(s in earlier for s in params.stop)
    if finish == "length":
        full = prompt_len + len(answer) >= model.max_length  # as the generator stops
        return (len(answer) == params.max_tokens or full) and not stopped_early, None
    if finish == "stop":
        return bool(answer) and any(s in text for s in params.stop) and not stopped_early, None
    if stopped_early or any(s in text for s in params.stop) or len(answer) >= params.max_tokens:
        return False, None
    n = len(answer)
    d = min(_distance(logits[n], history, params, n, e) for e in model.eos_ids)
    return d <= 1.0, d
