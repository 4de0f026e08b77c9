"""The inference engine in the executor and verifier roles (DESIGN section 6).

:func:`engine_generate` and :func:`engine_judge` turn a loaded model into the ``Generate``
and ``Judge`` callables of :class:`~funai.layer2.service.L2Node`. The request is the chat
``[system: system_prompt] + [user: context + "\\n\\n" + input]`` (context and system prompt
only when non-empty). The judge's float scores become the vote's integers:
``p_yes_ppm = round(p_yes * 10^6)`` and ``loglik_milli = round(loglik * 1000)`` (clamped);
only the accept bit decides a quorum, so float rounding between machines cannot split votes
on the scores.
"""

from __future__ import annotations

import math

from funai.inference import (
    DEFAULT_JUDGE_CONFIG,
    JudgeConfig,
    LoadedModel,
    SamplingParams,
    generate,
    judge,
)
from funai.inference.chat import Message
from funai.layer2.service import Generate, Judge
from funai.layer2.transactions import InferenceContent
from funai.layer2.votes import Verdict

__all__ = ["engine_generate", "engine_judge", "request_messages", "scores_to_verdict"]

_LL_MIN = -(2**62)


def request_messages(input_text: str, context: str = "", system_prompt: str = "") -> list[Message]:
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    user = f"{context}\n\n{input_text}" if context else input_text
    messages.append({"role": "user", "content": user})
    return messages


def scores_to_verdict(accept: bool, p_yes: float, loglik: float) -> Verdict:
    """The integer verdict of the judge's float scores."""
    ppm = 0 if not math.isfinite(p_yes) else min(1_000_000, max(0, round(p_yes * 1_000_000)))
    milli = _LL_MIN if not math.isfinite(loglik) else max(_LL_MIN, min(0, round(loglik * 1000)))
    return Verdict(accept, ppm, milli)


def engine_generate(model: LoadedModel, params: SamplingParams | None = None) -> Generate:
    """Greedy generation (by default at most 64 tokens) with the model's chat template."""
    sampling = params or SamplingParams(max_tokens=64)

    def run(model_id: bytes, input_text: str, context: str, system_prompt: str) -> str:
        prompt = model.render_chat(request_messages(input_text, context, system_prompt))
        return generate(model, prompt, sampling).text

    return run


def engine_judge(model: LoadedModel, cfg: JudgeConfig = DEFAULT_JUDGE_CONFIG) -> Judge:
    """The judge of docs/judge.md on (request, response)."""

    def run(model_id: bytes, content: InferenceContent) -> Verdict:
        msgs = request_messages(content.input, content.context, content.system_prompt)
        v = judge(model, msgs, content.output, cfg)
        return scores_to_verdict(v.accept, v.p_yes, v.loglik)

    return run
