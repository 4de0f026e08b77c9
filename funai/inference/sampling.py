"""Generation parameters and the logits processing of one sampling step."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from funai.inference.errors import GenerationParamsError

__all__ = ["Sampler", "SamplingParams", "distribution", "draw", "penalized", "pick"]

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens. ``temperature == 0`` is greedy decoding (``top_k``/``top_p``/``seed``
    are then irrelevant); the same seed with the same parameters gives the same tokens."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_k: int = 0  # 0: no top-k cut
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        else:
            object.__setattr__(self, "stop", tuple(self.stop))
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise GenerationParamsError(f"max_tokens must be a positive integer: {self.max_tokens}")
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise GenerationParamsError(f"temperature must be >= 0: {self.temperature}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise GenerationParamsError(f"top_k must be >= 0: {self.top_k}")
        if not (0.0 < self.top_p <= 1.0):
            raise GenerationParamsError(f"top_p must be in (0, 1]: {self.top_p}")
        if not math.isfinite(self.repetition_penalty) or self.repetition_penalty <= 0:
            raise GenerationParamsError(
                f"repetition_penalty must be > 0: {self.repetition_penalty}"
            )
        if self.seed is not None and not (0 <= self.seed < 2**64):
            raise GenerationParamsError(f"seed must be in [0, 2**64): {self.seed}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise GenerationParamsError("stop strings must be non-empty strings")

    def with_(self, **changes: object) -> SamplingParams:
        return replace(self, **changes)  # type: ignore[arg-type]


def draw(seed: int, position: int) -> float:
    """Rule ``seeded-draw``: the uniform number in [0, 1) the sampler uses for the token at
    ``position`` (0 = the first generated token) of an answer with ``seed``: the first 8
    bytes of ``SHA-256("FAI2/sample" || seed (8 BE) || position (8 BE))`` over 2**64. A
    counter-based generator: anyone can recompute any position's draw without the others."""
    digest = hashlib.sha256(
        b"FAI2/sample" + seed.to_bytes(8, "big") + position.to_bytes(8, "big")
    ).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def distribution(logits: F32, history: Sequence[int], p: SamplingParams) -> npt.NDArray[np.float64]:
    """The probabilities the sampler draws from after repetition penalty, temperature,
    top-k and top-p (``temperature > 0``), in float64."""
    x = penalized(logits, history, p)
    x /= p.temperature
    if p.top_k and p.top_k < x.shape[0]:
        kth = np.partition(x, -p.top_k)[-p.top_k]
        x[x < kth] = -np.inf
    x -= x.max()
    probs = np.exp(x)
    probs /= probs.sum()
    if p.top_p < 1.0:
        order = _nucleus_order(probs, p.top_p)
        cum = np.cumsum(probs[order])
        keep = int(np.searchsorted(cum, p.top_p)) + 1
        mask = np.zeros_like(probs, dtype=bool)
        mask[order[:keep]] = True
        probs = np.where(mask, probs, 0.0)
        probs /= probs.sum()
    out: npt.NDArray[np.float64] = probs
    return out


#: Candidates sorted first by the top-p cut (the rest only when they are needed).
_NUCLEUS_CANDIDATES = 1024


def _nucleus_order(probs: npt.NDArray[np.float64], top_p: float) -> npt.NDArray[np.intp]:
    """Token ids by falling probability (ties by id), at least as far as the top-p cut
    reaches: the same prefix as a full stable sort, sorting only the most likely
    :data:`_NUCLEUS_CANDIDATES` when their mass passes ``top_p`` with a strict gap to the
    rest (otherwise the full sort)."""
    n = int(probs.shape[0])
    k = _NUCLEUS_CANDIDATES
    if n > 2 * k:
        idx = np.argpartition(-probs, k)
        part = np.sort(idx[:k])  # ids ascending, so the stable sort below breaks ties by id
        order = part[np.argsort(-probs[part], kind="stable")]
        cum = np.cumsum(probs[order])
        keep = int(np.searchsorted(cum, top_p)) + 1
        outside = float(probs[idx[k]])  # the most likely token left out
        if keep < k and float(probs[order[keep - 1]]) > outside:
            out: npt.NDArray[np.intp] = order
            return out
    full: npt.NDArray[np.intp] = np.argsort(-probs, kind="stable")
    return full


def penalized(logits: F32, history: Sequence[int], p: SamplingParams) -> npt.NDArray[np.float64]:
    """The logits after the repetition penalty (float64 copy)."""
    x = np.asarray(logits, dtype=np.float64).copy()
    if p.repetition_penalty != 1.0 and len(history):
        seen = np.unique(np.asarray(history, dtype=np.int64))
        seen = seen[(seen >= 0) & (seen < x.shape[0])]
        vals = x[seen]
        x[seen] = np.where(vals > 0, vals / p.repetition_penalty, vals * p.repetition_penalty)
    return x


def pick(probs: npt.NDArray[np.float64], u: float) -> int:
    """Inverse-CDF sampling with one uniform draw ``u``: portable and reproducible."""
    cdf = np.cumsum(probs)
    idx = int(np.searchsorted(cdf, u * cdf[-1], side="right"))
    return min(idx, int(probs.shape[0]) - 1)


class Sampler:
    """Picks the next token of one sequence. With a seed, the draw for each position is
    :func:`draw` (seed, position), so a verifier can recompute it (``funai.inference.replay``);
    without one, a private random generator."""

    def __init__(self, params: SamplingParams) -> None:
        self.params = params
        self._rng = np.random.Generator(np.random.PCG64(params.seed))
        self.position = 0

    def __call__(self, logits: F32, history: Sequence[int]) -> int:
        p = self.params
        position = self.position
        self.position += 1
        if p.temperature == 0.0:
            return int(np.argmax(penalized(logits, history, p)).item())
        probs = distribution(logits, history, p)
        u = draw(p.seed, position) if p.seed is not None else float(self._rng.random())
        return pick(probs, u)
