"""The model judge (paper section 4, plus a likelihood re-score).

``judge(request, response)`` returns a :class:`JudgeVerdict` with two deterministic scores:

* ``p_yes``: the model is shown the request and the response and asked whether the response
  answers the request; ``p_yes = P(yes) / (P(yes) + P(no))`` from the next-token logits of the
  answer tokens (``yes``/``Yes``/``YES`` against ``no``/``No``/``NO``).
* ``loglik``: the mean per-token log-probability of the response under the model, teacher-
  forced after the request in the model's chat template, in one prefill pass. With
  ``complete=True`` the end-of-turn token is scored too, so a response cut short scores lower.

``accept = p_yes >= p_yes_threshold and loglik >= loglik_threshold`` (see docs/judge.md for the
measured accuracy of each score and of the combination, and how the defaults were chosen).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from funai.inference.chat import Message
from funai.inference.errors import GenerationParamsError
from funai.inference.model import LoadedModel

__all__ = [
    "DEFAULT_JUDGE_CONFIG",
    "Evaluation",
    "JudgeConfig",
    "JudgeVerdict",
    "evaluate",
    "judge",
    "judge_many",
    "loglik_score",
    "loglik_scores",
    "p_yes_score",
    "p_yes_scores",
]

JUDGE_SYSTEM = (
    "You are a strict verifier. You check whether a response is a relevant, correct and "
    "complete answer to a request. You answer with a single word: yes or no."
)
JUDGE_USER = (
    "Request:\n{request}\n\nResponse:\n{response}\n\n"
    "Does the response correctly answer the request? Answer yes or no."
)


@dataclass(frozen=True)
class JudgeConfig:
    """Thresholds of the verdict (documented in docs/judge.md)."""

    # A veto on a confident "no" only: on SmolLM2-135M, P(yes) alone barely beats chance.
    p_yes_threshold: float = 0.05
    # Honest SmolLM2 answers score above about -1.2 per token; see docs/judge.md.
    loglik_threshold: float = -1.25
    max_request_tokens: int = 1024
    max_response_tokens: int = 1024

    def __post_init__(self) -> None:
        if not (0.0 <= self.p_yes_threshold <= 1.0):
            raise GenerationParamsError("p_yes_threshold must be in [0, 1]")
        if not math.isfinite(self.loglik_threshold) or self.loglik_threshold > 0:
            raise GenerationParamsError("loglik_threshold must be a finite number <= 0")
        if self.max_request_tokens < 1 or self.max_response_tokens < 1:
            raise GenerationParamsError("token limits must be positive")


DEFAULT_JUDGE_CONFIG = JudgeConfig()


@dataclass(frozen=True)
class JudgeVerdict:
    accept: bool
    p_yes: float
    loglik: float
    accept_p_yes: bool
    accept_loglik: bool
    response_tokens: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _messages(request: str | Sequence[Message]) -> list[Message]:
    if isinstance(request, str):
        return [{"role": "user", "content": request}]
    return list(request)


def _request_text(request: str | Sequence[Message]) -> str:
    if isinstance(request, str):
        return request
    return "\n".join(f"{m['role']}: {m['content']}" for m in request if m["role"] != "system")


def _answer_ids(model: LoadedModel, words: Sequence[str]) -> list[int]:
    ids = set()
    for w in words:
        enc = model.encode(w)
        if enc:
            ids.add(enc[0])
    return sorted(ids)


def _log_softmax(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Row-wise log-softmax (float32 exponentials, float64 sums)."""
    x = np.asarray(x, dtype=np.float32)
    m = x.max(axis=-1, keepdims=True)
    z = np.exp(x - m).sum(axis=-1, keepdims=True, dtype=np.float64)
    out: np.ndarray[Any, Any] = x.astype(np.float64) - m - np.log(z)
    return out


_SENTINEL = "\x00funai-judge\x00"


def _prefix_ids(model: LoadedModel, messages: list[Message]) -> list[int]:
    """Token ids of the chat rendering of ``messages`` up to the last message's content (the
    part every prompt of that shape shares)."""
    last = messages[-1]
    text = model.render_chat([*messages[:-1], {"role": last["role"], "content": _SENTINEL}])
    cut = text.find(_SENTINEL)
    return model.encode(text[:cut]) if cut > 0 else []


def _forward_rows(
    model: LoadedModel, rows: Sequence[list[int]], keep: Sequence[int], prefix: list[int]
) -> list[np.ndarray[Any, Any]]:
    """Logits of the last ``keep[i]`` positions of each row, all rows in one batch (left-
    padded); when every row starts with ``prefix`` its key/value cache is computed once and
    reused (host caches only)."""
    p = len(prefix)
    if (
        p == 0
        or model.on_cuda
        or any(r[:p] != prefix or len(r) - p < k for r, k in zip(rows, keep, strict=True))
    ):
        p = 0
    cache = None
    if p:
        key = tuple(prefix)
        one = model.prefix_cache.get(key)
        if one is None:
            ids = np.asarray([prefix], dtype=np.int64)
            _, one = model.forward(
                ids, np.ones_like(ids), np.arange(p, dtype=np.int64)[None], None, keep=1
            )
            model.prefix_cache[key] = one
        idx = [0] * len(rows)
        cache = one.select(idx)
    rest = [r[p:] for r in rows]
    b, s = len(rows), max(len(r) for r in rest)
    ids = np.full((b, s), model.pad_id, dtype=np.int64)
    mask = np.zeros((b, s), dtype=np.int64)
    for i, r in enumerate(rest):
        ids[i, s - len(r) :] = r
        mask[i, s - len(r) :] = 1
    pos = p + np.clip(np.cumsum(mask, axis=1) - 1, 0, None).astype(np.int64)
    full_mask = np.concatenate([np.ones((b, p), np.int64), mask], axis=1)
    logits, _ = model.forward(ids, full_mask, pos, cache, keep=max(keep))
    n = logits.shape[1]
    return [logits[i, n - k :] for i, k in enumerate(keep)]


def _p_yes_rows(
    model: LoadedModel, items: Sequence[tuple[str | Sequence[Message], str]], cfg: JudgeConfig
) -> tuple[list[list[int]], list[int]]:
    rows = []
    for request, response in items:
        req_ids = model.encode(_request_text(request))[: cfg.max_request_tokens]
        resp_ids = model.encode(response)[: cfg.max_response_tokens]
        user = JUDGE_USER.format(request=model.decode(req_ids), response=model.decode(resp_ids))
        prompt = model.render_chat(
            [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
        )
        rows.append(model.encode(prompt))
    prefix = _prefix_ids(
        model,
        [
            {"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": ""},
        ],
    )
    return rows, prefix


def _p_yes_from(model: LoadedModel, logits: np.ndarray[Any, Any]) -> float:
    lp = _log_softmax(logits[-1])
    yes = _answer_ids(model, ["yes", "Yes", "YES"])
    no = _answer_ids(model, ["no", "No", "NO"])
    ly = float(np.logaddexp.reduce(lp[yes]))
    ln = float(np.logaddexp.reduce(lp[no]))
    return float(1.0 / (1.0 + math.exp(ln - ly)))


def p_yes_score(
    model: LoadedModel, request: str | Sequence[Message], response: str, cfg: JudgeConfig
) -> float:
    """P(yes) of the model's own yes/no verdict (deterministic)."""
    return p_yes_scores(model, [(request, response)], cfg)[0]


def p_yes_scores(
    model: LoadedModel,
    items: Sequence[tuple[str | Sequence[Message], str]],
    cfg: JudgeConfig,
) -> list[float]:
    """:func:`p_yes_score` of several (request, response) pairs in one batch."""
    rows, prefix = _p_yes_rows(model, items, cfg)
    out = _forward_rows(model, rows, [1] * len(rows), prefix)
    return [_p_yes_from(model, x) for x in out]


def _loglik_ids(
    model: LoadedModel,
    request: str | Sequence[Message],
    response: str,
    cfg: JudgeConfig,
    complete: bool,
) -> tuple[list[int], list[int]]:
    prompt_ids = model.encode(model.render_chat(_messages(request)))[-cfg.max_request_tokens :]
    resp_ids = model.encode(response)[: cfg.max_response_tokens]
    if complete:
        end = model.tokenizer.token_to_id("<|im_end|>")
        if end is None:
            end = min(model.eos_ids)
        resp_ids = [*resp_ids, int(end)]
    return prompt_ids, resp_ids


def loglik_score(
    model: LoadedModel,
    request: str | Sequence[Message],
    response: str,
    cfg: JudgeConfig,
    complete: bool = True,
) -> tuple[float, int]:
    """Mean log-probability per response token (teacher-forced, one prefill) and the count."""
    return loglik_scores(model, [(request, response, complete)], cfg)[0]


def loglik_scores(
    model: LoadedModel,
    items: Sequence[tuple[str | Sequence[Message], str, bool]],
    cfg: JudgeConfig,
) -> list[tuple[float, int]]:
    """:func:`loglik_score` of several (request, response, complete) triples in one batch.
    Only the response positions go through the output projection."""
    out: list[tuple[float, int] | None] = [None] * len(items)
    rows: list[list[int]] = []
    targets: list[list[int]] = []
    where: list[int] = []
    for i, (request, response, complete) in enumerate(items):
        prompt_ids, resp_ids = _loglik_ids(model, request, response, cfg, complete)
        if not resp_ids:
            out[i] = (-math.inf, 0)
            continue
        rows.append((prompt_ids + resp_ids)[:-1])
        targets.append(resp_ids)
        where.append(i)
    if rows:
        prefix = _prefix_ids(model, [{"role": "user", "content": ""}])
        logits = _forward_rows(model, rows, [len(t) for t in targets], prefix)
        for i, x, t in zip(where, logits, targets, strict=True):
            lp = _log_softmax(x)
            token_lp = lp[np.arange(len(t)), np.asarray(t, dtype=np.int64)]
            out[i] = (float(token_lp.mean()), len(t))
    return [o for o in out if o is not None]


def _check_pair(request: str | Sequence[Message], response: str) -> None:
    if not isinstance(response, str):
        raise GenerationParamsError("the response must be a string")
    if isinstance(request, str) and not request.strip():
        raise GenerationParamsError("the request is empty")


def judge(
    model: LoadedModel,
    request: str | Sequence[Message],
    response: str,
    cfg: JudgeConfig = DEFAULT_JUDGE_CONFIG,
    *,
    complete: bool = True,
) -> JudgeVerdict:
    """Judges whether ``response`` is what the model answers to ``request`` (blocking)."""
    return judge_many(model, [(request, response, complete)], cfg)[0]


def judge_many(
    model: LoadedModel,
    items: Sequence[tuple[str | Sequence[Message], str, bool]],
    cfg: JudgeConfig = DEFAULT_JUDGE_CONFIG,
    *,
    batch_size: int | None = None,
) -> list[JudgeVerdict]:
    """Judges several ``(request, response, complete)`` triples (blocking); prompts of similar
    length are batched ``batch_size`` at a time (default: 1 on the CPU, where a prefill is
    compute-bound and padding only costs, 8 on CUDA). Same verdicts as :func:`judge` one by
    one, up to float rounding."""
    if batch_size is None:
        batch_size = 8 if model.on_cuda else 1
    if batch_size < 1:
        raise GenerationParamsError("batch_size must be >= 1")
    for request, response, _ in items:
        _check_pair(request, response)
    n = len(items)
    p_yes: list[float] = [0.0] * n
    ll: list[tuple[float, int]] = [(0.0, 0)] * n
    # Batch neighbours in length (little padding); the results do not depend on the order.
    order = sorted(range(n), key=lambda i: len(items[i][0]) + len(items[i][1]))
    for lo in range(0, n, batch_size):
        idx = order[lo : lo + batch_size]
        for i, p in zip(idx, p_yes_scores(model, [items[i][:2] for i in idx], cfg), strict=True):
            p_yes[i] = p
        for i, r in zip(idx, loglik_scores(model, [items[i] for i in idx], cfg), strict=True):
            ll[i] = r
    out = []
    for p, (score, count) in zip(p_yes, ll, strict=True):
        a_p = p >= cfg.p_yes_threshold
        a_l = score >= cfg.loglik_threshold
        out.append(JudgeVerdict(a_p and a_l, p, score, a_p, a_l, count))
    return out


@dataclass(frozen=True)
class Rates:
    accuracy: float
    false_accept: float
    false_reject: float


@dataclass(frozen=True)
class Evaluation:
    """Quality of the judge on a labeled set (see tests/data/judge_cases.jsonl)."""

    n: int
    p_yes: Rates
    loglik: Rates
    combined: Rates
    verdicts: list[JudgeVerdict]


def _rates(pred: Sequence[bool], labels: Sequence[bool]) -> Rates:
    pos = sum(labels)
    neg = len(labels) - pos
    fa = sum(p and not y for p, y in zip(pred, labels, strict=True))
    fr = sum(y and not p for p, y in zip(pred, labels, strict=True))
    acc = sum(p == y for p, y in zip(pred, labels, strict=True)) / len(labels)
    return Rates(acc, fa / neg if neg else 0.0, fr / pos if pos else 0.0)


def evaluate(
    model: LoadedModel,
    cases: Sequence[dict[str, Any]],
    cfg: JudgeConfig = DEFAULT_JUDGE_CONFIG,
    *,
    batch_size: int | None = None,
) -> Evaluation:
    """Judges every ``{"request", "response", "label", "complete"}`` case."""
    verdicts = judge_many(
        model,
        [(c["request"], c["response"], bool(c.get("complete", True))) for c in cases],
        cfg,
        batch_size=batch_size,
    )
    labels = [bool(c["label"]) for c in cases]
    return Evaluation(
        len(cases),
        _rates([v.accept_p_yes for v in verdicts], labels),
        _rates([v.accept_loglik for v in verdicts], labels),
        _rates([v.accept for v in verdicts], labels),
        verdicts,
    )
