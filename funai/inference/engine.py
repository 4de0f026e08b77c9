"""The asynchronous face of the engine, for Trio: a token stream per request and bounded
concurrency with continuous batching.

Requests go into one queue. Up to ``workers`` generation threads (started on demand, gone when
the queue is empty) each run a batch of up to ``max_batch`` sequences, admitting waiting
requests between decode steps. Tokens travel back to the requesting Trio task through
``TrioToken.run_sync_soon`` into a memory channel, so a slow consumer never blocks the batch.
One-shot blocking calls (the judge, scoring) run through ``trio.to_thread.run_sync`` with a
``CapacityLimiter``.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import trio

from funai.inference.chat import Message
from funai.inference.generate import Completion, SeqState, TokenLogprob, run_batch
from funai.inference.model import LoadedModel
from funai.inference.sampling import SamplingParams

__all__ = ["InferenceEngine"]

T = TypeVar("T")
#: (text piece, the completion once finished, log-probabilities of the new tokens)
_Event = tuple[str, Completion | None, tuple[TokenLogprob, ...]]


class InferenceEngine:
    """Serves one loaded model to many concurrent Trio tasks."""

    def __init__(self, model: LoadedModel, *, max_batch: int = 8, workers: int = 1) -> None:
        if max_batch < 1 or workers < 1:
            raise ValueError("max_batch and workers must be >= 1")
        self.model = model
        self.max_batch = max_batch
        self.workers = workers
        self._lock = threading.Lock()
        self._queue: deque[SeqState] = deque()
        self._running = 0
        self._limiter: trio.CapacityLimiter | None = None
        self.batches_seen: list[int] = []  # batch sizes at admission (for tests and stats)

    # -- blocking work ----------------------------------------------------------------------
    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` in a worker thread, at most ``workers`` at a time."""
        if self._limiter is None:
            self._limiter = trio.CapacityLimiter(self.workers)
        return await trio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    # -- generation -------------------------------------------------------------------------
    def prompt_ids(self, prompt: str | Sequence[Message] | Sequence[int]) -> list[int]:
        """Token ids of a raw prompt, a chat (rendered with the model's template) or ids."""
        if isinstance(prompt, str):
            return self.model.encode(prompt)
        items = list(prompt)
        if items and isinstance(items[0], int):
            return [int(x) for x in items]  # type: ignore[call-overload]
        return self.model.encode(self.model.render_chat(items))  # type: ignore[arg-type]

    async def stream(
        self,
        prompt: str | Sequence[Message] | Sequence[int],
        params: SamplingParams | None = None,
    ) -> AsyncIterator[str]:
        """Yields text pieces as they are generated. Closing the iterator early cancels the
        request (its row leaves the batch at the next step)."""
        async for delta, _done, _lps in self.events(prompt, params):
            if delta:
                yield delta

    async def generate(
        self,
        prompt: str | Sequence[Message] | Sequence[int],
        params: SamplingParams | None = None,
        *,
        logprobs: int | None = None,
    ) -> Completion:
        """The whole completion (with per-token log-probabilities and ``logprobs``
        alternatives each when ``logprobs`` is not None)."""
        result: Completion | None = None
        async for _delta, done, _lps in self.events(prompt, params, logprobs=logprobs):
            if done is not None:
                result = done
        assert result is not None
        return result

    async def events(
        self,
        prompt: str | Sequence[Message] | Sequence[int],
        params: SamplingParams | None = None,
        *,
        logprobs: int | None = None,
    ) -> AsyncIterator[_Event]:
        """``(text piece, the completion once finished, log-probabilities of the tokens
        generated since the previous event)`` as generation goes (the last event carries the
        :class:`Completion`). Closing the iterator early cancels the request."""
        ids = self.prompt_ids(prompt)
        send, recv = trio.open_memory_channel[_Event | BaseException](math.inf)
        token = trio.lowlevel.current_trio_token()
        seq = SeqState(ids, params or SamplingParams(), logprobs=logprobs)
        sent = 0

        def deliver(item: _Event | BaseException) -> None:
            try:
                send.send_nowait(item)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                seq.cancelled.set()

        def on_event(delta: str, done: Completion | None) -> None:
            # called on the generating thread, right after the token was recorded
            nonlocal sent
            lps = tuple(seq.token_logprobs[sent:])
            sent += len(lps)
            try:
                token.run_sync_soon(deliver, (delta, done, lps))
            except trio.RunFinishedError:
                seq.cancelled.set()

        seq.on_event = on_event
        seq.error = lambda exc: token.run_sync_soon(deliver, exc)  # type: ignore[attr-defined]
        self._submit(seq)
        try:
            async with recv:
                async for item in recv:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
                    if item[1] is not None:
                        return
        finally:
            seq.cancelled.set()

    def _submit(self, seq: SeqState) -> None:
        with self._lock:
            self._queue.append(seq)
            if self._running >= self.workers:
                return
            self._running += 1
        threading.Thread(target=self._worker, name="funai-generate", daemon=True).start()

    def _take(self, n: int) -> list[SeqState]:
        with self._lock:
            out: list[SeqState] = []
            while self._queue and len(out) < n:
                out.append(self._queue.popleft())
            return out

    def _worker(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    return
            first = self._take(self.max_batch)
            self.batches_seen.append(len(first))
            try:
                run_batch(self.model, first, self._take_counted, self.max_batch)
            except BaseException as exc:  # hand the error to every request of the batch
                for s in first:
                    err = getattr(s, "error", None)
                    if s.result is None and err is not None:
                        with contextlib.suppress(trio.RunFinishedError):
                            err(exc)
                if not isinstance(exc, Exception):
                    raise

    def _take_counted(self, n: int) -> list[SeqState]:
        got = self._take(n)
        if got:
            self.batches_seen.append(len(got))
        return got
