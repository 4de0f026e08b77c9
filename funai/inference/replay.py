"""Replay verification of seeded sampling (DESIGN 6, "Replay of seeded sampling").

An answer generated with a seed (``SamplingParams.seed``) draws the token at position ``i``
with :func:`~funai.inference.sampling.draw` (seed, i), a counter-based draw anyone can
recompute. A verifier runs **one teacher-forced prefill** of prompt + answer under the
claimed model and checks at every position that the answer's token is the one the seeded
sampler picks from the model's distribution there (rule ``replay-token``), and that the
answer ends the way it says (rule ``replay-stop``: the end-of-sequence token is the
sampler's choice after the last token, a stop string appears only at the last token, or
``max_tokens`` tokens were generated).

Numeric near-ties are the only tolerance (rule ``replay-near-tie``): a token counts as the
sampler's choice when it is picked with the draw moved by at most :data:`DRAW_MARGIN`, or
(greedy decoding) when its logit is within :data:`LOGIT_MARGIN` of the best. Different
thread counts, batch sizes and kernels change the logits by far less (docs/verification.md
gives the measurements), so an honest answer is accepted on any verifier, while an edited
token, another seed, another model or another quantization leaves the sampler's choice on
most positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from funai.inference.model import LoadedModel
from funai.inference.sampling import SamplingParams, distribution, draw, penalized, pick

__all__ = ["DRAW_MARGIN", "LOGIT_MARGIN", "Replay", "replay", "teacher_forced_logits"]

#: How far the uniform draw may move at a near-tie between two tokens' CDF ranges.
DRAW_MARGIN = 1e-3
#: Greedy decoding: how far below the best logit a token may be and still count as a tie.
LOGIT_MARGIN = 0.05

Finish = Literal["eos", "stop", "length"]


@dataclass(frozen=True)
class Replay:
    """The outcome of one replay: ``accept`` when every position matched and the stop
    condition holds; ``matched`` of ``tokens`` positions (the end-of-sequence check counts
    as one), ``first_mismatch`` (position or None) and ``rule`` naming what failed."""

    accept: bool
    tokens: int
    matched: int
    first_mismatch: int | None
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {
            "accept": self.accept,
            "tokens": self.tokens,
            "matched": self.matched,
            "first_mismatch": self.first_mismatch,
            "rule": self.rule,
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


def _chosen(logits: Any, history: list[int], params: SamplingParams, position: int) -> set[int]:
    """The tokens the seeded sampler may pick at ``position``, near-ties included."""
    if params.temperature == 0.0:
        x = penalized(logits, history, params)
        best = float(x.max())
        return {int(i) for i in np.nonzero(x >= best - LOGIT_MARGIN)[0]}
    assert params.seed is not None
    probs = distribution(logits, history, params)
    u = draw(params.seed, position)
    return {pick(probs, u)} | _ties(probs, u)


def _ties(probs: Any, u: float) -> set[int]:
    """Every token whose CDF range lies within :data:`DRAW_MARGIN` of ``u``."""
    cdf = np.cumsum(probs)
    total = float(cdf[-1])
    lo = np.concatenate([[0.0], cdf[:-1]]) / total
    hi = cdf / total
    near = (hi >= u - DRAW_MARGIN) & (lo <= u + DRAW_MARGIN) & (probs > 0)
    return {int(i) for i in np.nonzero(near)[0]}


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
    if len(answer) > params.max_tokens:
        return Replay(False, len(answer), 0, params.max_tokens, "replay-stop")
    logits = teacher_forced_logits(model, prompt_ids, answer)
    history = [int(t) for t in prompt_ids]
    matched = 0
    first: int | None = None
    for i, token in enumerate(answer):
        if token in model.eos_ids or token not in _chosen(logits[i], history, params, i):
            first = i if first is None else first
        else:
            matched += 1
        history.append(token)
    stop_ok, end_matched = _stop_holds(model, logits, history, answer, params, finish)
    total = len(answer) + (1 if finish == "eos" else 0)
    matched += end_matched
    if first is not None:
        return Replay(False, total, matched, first, "replay-token")
    if not stop_ok:
        return Replay(False, total, matched, len(answer), "replay-stop")
    return Replay(True, total, matched, None, "accepted")


def _stop_holds(
    model: LoadedModel,
    logits: Any,
    history: list[int],
    answer: list[int],
    params: SamplingParams,
    finish: Finish,
) -> tuple[bool, int]:
    """Rule ``replay-stop``; returns (holds, 1 when the end-of-sequence draw matched)."""
    text = model.decode(answer)
    earlier = model.decode(answer[:-1]) if answer else ""
    stopped_early = any(s in earlier for s in params.stop)
    if finish == "length":
        return len(answer) == params.max_tokens and not stopped_early, 0
    if finish == "stop":
        return bool(answer) and any(s in text for s in params.stop) and not stopped_early, 0
    if stopped_early or len(answer) >= params.max_tokens:
        return False, 0
    ok = bool(_chosen(logits[len(answer)], history, params, len(answer)) & set(model.eos_ids))
    return ok, int(ok)
