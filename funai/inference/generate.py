"""The generation loop: prefill + decode with the key/value cache, continuous batching of
several sequences (new ones are prefilled and merged into the running batch between decode
steps, finished ones leave it), stop strings, max tokens and incremental detokenization."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from funai.inference.errors import GenerationParamsError
from funai.inference.model import KVCache, LoadedModel
from funai.inference.sampling import Sampler, SamplingParams

__all__ = ["Completion", "SeqState", "TokenLogprob", "generate", "generate_many", "run_batch"]

I64 = npt.NDArray[np.int64]
FinishReason = Literal["eos", "stop", "length", "cancelled"]


#: The most alternatives reported per position (OpenAI's ``top_logprobs`` limit).
MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class TokenLogprob:
    """The model's log-probability of a generated token (before temperature, top-k/top-p and
    the repetition penalty: the distribution the model gave), and the ``top`` most likely
    tokens at that position as ``(token_id, logprob)``, most likely first."""

    token_id: int
    logprob: float
    top: tuple[tuple[int, float], ...] = ()


def token_logprob(row: npt.NDArray[np.float32], token: int, top: int) -> TokenLogprob:
    """:class:`TokenLogprob` of ``token`` from one position's logits."""
    x = row.astype(np.float64)
    m = float(x.max())
    lse = m + float(np.log(np.exp(x - m).sum()))
    best: tuple[tuple[int, float], ...] = ()
    if top > 0:
        idx = np.argpartition(-x, top - 1)[:top]
        idx = idx[np.lexsort((idx, -x[idx]))]
        best = tuple((int(i), float(x[i]) - lse) for i in idx)
    return TokenLogprob(int(token), float(x[token]) - lse, best)


@dataclass(frozen=True)
class Completion:
    text: str
    token_ids: tuple[int, ...]
    finish_reason: FinishReason
    prompt_tokens: int
    #: per generated token (EOS excluded) when asked for (``SeqState.logprobs``)
    logprobs: tuple[TokenLogprob, ...] = ()

    @property
    def completion_tokens(self) -> int:
        return len(self.token_ids)


# on_event(delta_text, completion_or_None): called from the generating thread.
EventFn = Callable[[str, Completion | None], None]


@dataclass(eq=False)
class SeqState:
    """One sequence being generated."""

    prompt_ids: list[int]
    params: SamplingParams
    on_event: EventFn | None = None
    out: list[int] = field(default_factory=list)
    text: str = ""
    emitted: int = 0
    finish: FinishReason | None = None
    result: Completion | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    #: None: no log-probabilities; n >= 0: each token's, with the n most likely alternatives
    logprobs: int | None = None
    token_logprobs: list[TokenLogprob] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sampler = Sampler(self.params)

    @property
    def done(self) -> bool:
        return self.finish is not None


def _safe_end(text: str, stops: Sequence[str]) -> int:
    """How much of ``text`` can be shown: no trailing partial UTF-8 character (decoded as
    U+FFFD) and no suffix that could start a stop string."""
    end = len(text)
    while end > 0 and text[end - 1] == "\ufffd":
        end -= 1
    hold = 0
    for s in stops:
        for k in range(min(len(s) - 1, end), 0, -1):
            if text[:end].endswith(s[:k]):
                hold = max(hold, k)
                break
    return end - hold


def _sample(model: LoadedModel, seq: SeqState, row: npt.NDArray[np.float32]) -> None:
    """Samples the next token of ``seq`` from its logits ``row`` and appends it."""
    token = seq.sampler(row, seq.prompt_ids + seq.out)
    if seq.logprobs is not None and token not in model.eos_ids:
        seq.token_logprobs.append(token_logprob(row, token, seq.logprobs))
    _push(model, seq, token)


def _result(seq: SeqState, finish: FinishReason) -> Completion:
    return Completion(
        seq.text, tuple(seq.out), finish, len(seq.prompt_ids), tuple(seq.token_logprobs)
    )


def _push(model: LoadedModel, seq: SeqState, token: int) -> None:
    """Appends a sampled token, updates the text and emits what became final."""
    p = seq.params
    if token in model.eos_ids:
        seq.finish = "eos"
    else:
        seq.out.append(token)
        seq.text = model.decode(seq.out)
        cuts = [i for i in (seq.text.find(s) for s in p.stop) if i >= 0]
        if cuts:  # cut before the earliest stop string (as replay's rule content-tokens)
            seq.text = seq.text[: min(cuts)]
            seq.finish = "stop"
        if seq.finish is None and len(seq.out) >= p.max_tokens:
            seq.finish = "length"
    end = _safe_end(seq.text, p.stop) if seq.finish is None else len(seq.text)
    delta = seq.text[seq.emitted : end] if end > seq.emitted else ""
    seq.emitted = max(seq.emitted, end)
    if seq.finish is not None:
        seq.result = _result(seq, seq.finish)
    if seq.on_event is not None and (delta or seq.result is not None):
        seq.on_event(delta, seq.result)


def _cancel(seq: SeqState) -> None:
    seq.finish = "cancelled"
    seq.result = _result(seq, "cancelled")


@dataclass
class _Batch:
    seqs: list[SeqState]
    cache: KVCache
    mask: I64  # [B, T]
    next_pos: I64  # [B]


def _prefill(model: LoadedModel, seqs: list[SeqState]) -> _Batch:
    length = max(len(s.prompt_ids) for s in seqs)
    b = len(seqs)
    ids = np.full((b, length), model.pad_id, dtype=np.int64)
    mask = np.zeros((b, length), dtype=np.int64)
    for i, s in enumerate(seqs):
        n = len(s.prompt_ids)
        ids[i, length - n :] = s.prompt_ids
        mask[i, length - n :] = 1
    pos = np.clip(np.cumsum(mask, axis=1) - 1, 0, None).astype(np.int64)
    logits, cache = model.forward(ids, mask, pos, None, keep=1)
    for i, s in enumerate(seqs):
        _sample(model, s, logits[i, -1])
    return _Batch(list(seqs), cache, mask, mask.sum(axis=1).astype(np.int64))


def _merge(a: _Batch, b: _Batch) -> _Batch:
    cache, pad_a, pad_b = KVCache.concat(a.cache, b.cache)

    def padm(m: I64, n: int) -> I64:
        return np.concatenate([np.zeros((m.shape[0], n), np.int64), m], axis=1) if n else m

    mask = np.concatenate([padm(a.mask, pad_a), padm(b.mask, pad_b)])
    return _Batch(a.seqs + b.seqs, cache, mask, np.concatenate([a.next_pos, b.next_pos]))


def _compact(batch: _Batch) -> _Batch:
    """Drops finished rows and the leading all-padding columns (numpy caches only)."""
    keep = [i for i, s in enumerate(batch.seqs) if not s.done]
    if len(keep) == len(batch.seqs):
        cache, mask = batch.cache, batch.mask
    else:
        cache, mask = batch.cache.select(keep), batch.mask[keep]
    if keep:
        first = int(np.argmax(mask.any(axis=0)))
        if first > 0:
            mask = mask[:, first:]
            h = cache.host()
            cache = KVCache([k[:, :, first:] for k in h.keys], [v[:, :, first:] for v in h.values])
    return _Batch([batch.seqs[i] for i in keep], cache, mask, batch.next_pos[keep])


def _check(model: LoadedModel, seq: SeqState) -> None:
    if not seq.prompt_ids:
        raise GenerationParamsError("the prompt is empty")
    if len(seq.prompt_ids) >= model.max_length:
        raise GenerationParamsError(
            f"the prompt has {len(seq.prompt_ids)} tokens, "
            f"the model's context is {model.max_length}"
        )


def run_batch(
    model: LoadedModel,
    first: list[SeqState],
    take: Callable[[int], list[SeqState]] | None = None,
    max_batch: int = 8,
) -> None:
    """Generates every sequence of ``first`` to completion, admitting more from ``take(n)``
    (which returns at most ``n`` waiting sequences) between decode steps."""
    batch: _Batch | None = None
    waiting = list(first)
    while True:
        room = max_batch - (len(batch.seqs) if batch else 0)
        if take is not None and room > len(waiting):
            waiting += take(room - len(waiting))
        if waiting and (batch is None or not batch.cache.on_device):
            new, waiting = waiting[:room], waiting[room:]
            for s in new:
                _check(model, s)
            live = [s for s in new if not s.cancelled.is_set()]
            for s in new:
                if s.cancelled.is_set():
                    _cancel(s)
            if live:
                fresh = _prefill(model, live)
                batch = fresh if batch is None else _merge(batch, fresh)
        if batch is None:
            if not waiting:
                return
            continue
        for s in batch.seqs:
            if not s.done and s.cancelled.is_set():
                _cancel(s)
        if not batch.cache.on_device:
            batch = _compact(batch)
        active = [s for s in batch.seqs if not s.done]
        if not active:
            batch = None
            continue
        b = len(batch.seqs)
        ids = np.array(
            [[s.out[-1] if s.out and not s.done else model.pad_id] for s in batch.seqs],
            dtype=np.int64,
        )
        mask = np.concatenate([batch.mask, np.ones((b, 1), np.int64)], axis=1)
        pos = batch.next_pos[:, None].copy()
        if batch.next_pos.max() + 1 >= model.max_length:
            for s in active:
                if batch.next_pos[batch.seqs.index(s)] + 1 >= model.max_length:
                    s.finish = "length"
                    s.result = _result(s, "length")
                    if s.on_event is not None:
                        s.on_event(s.text[s.emitted :], s.result)
            continue
        logits, cache = model.forward(ids, mask, pos, batch.cache, keep=1)
        for i, s in enumerate(batch.seqs):
            if not s.done:
                _sample(model, s, logits[i, -1])
        batch = _Batch(batch.seqs, cache, mask, batch.next_pos + 1)


def generate_many(
    model: LoadedModel,
    prompts: Sequence[Sequence[int]],
    params: SamplingParams | Sequence[SamplingParams],
    max_batch: int = 8,
) -> list[Completion]:
    """Generates for several token prompts at once (blocking)."""
    plist = [params] * len(prompts) if isinstance(params, SamplingParams) else list(params)
    seqs = [SeqState(list(p), q) for p, q in zip(prompts, plist, strict=True)]
    run_batch(model, seqs, None, max_batch)
    return [s.result for s in seqs if s.result is not None]


def generate(
    model: LoadedModel,
    prompt: str | Sequence[int],
    params: SamplingParams | None = None,
    on_event: EventFn | None = None,
) -> Completion:
    """Generates for one prompt (raw text, already chat-formatted, or token ids)."""
    ids = model.encode(prompt) if isinstance(prompt, str) else list(prompt)
    seq = SeqState(ids, params or SamplingParams(), on_event)
    run_batch(model, [seq])
    assert seq.result is not None
    return seq.result
