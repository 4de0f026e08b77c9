"""The inference engine in the executor and verifier roles (DESIGN section 6).

:func:`engine_generate` and :func:`engine_judge` turn a loaded model into the ``Generate``
and ``Judge`` callables of :class:`~funai.layer2.node.L2Node`.

* The prompt of a request (rule ``chat-content``) is the model's chat template over
  :func:`~funai.layer2.chat_content.chat_messages` (input, context, system prompt), or the
  input itself for a raw completion (``params.raw``; context and system prompt empty).
* The executor samples with the request's parameters and the seed of rule
  ``inference-seed``, and records the answer's token ids and how it ended.
* The verifier's **accept bit is replay** (:func:`~funai.inference.replay.replay`): rule
  ``content-tokens`` (the output is the text of the tokens, cut at the stop string when the
  answer ended on one), then ``replay-token``/``replay-stop``. The paper's judge stays as a
  reported score: ``p_yes_ppm = round(P(yes) * 10^6)`` (0 when ``score=False``) and
  ``loglik_milli = round(mean log-probability * 1000)`` from the same replay pass. Only the
  accept bit decides a quorum, so float rounding between machines cannot split votes on the
  scores; it is a comparison of a distance with a margin far above numeric noise
  (docs/verification.md).
"""

from __future__ import annotations

import math

from funai.errors import FunaiError
from funai.inference import DEFAULT_JUDGE_CONFIG, JudgeConfig, LoadedModel, generate
from funai.inference.judge import p_yes_score
from funai.inference.replay import Replay, replay
from funai.layer2.chat_content import chat_messages
from funai.layer2.node import Generate, Judge
from funai.layer2.transactions import InferenceContent
from funai.layer2.votes import Verdict

__all__ = [
    "answer_text",
    "engine_generate",
    "engine_judge",
    "prompt_ids",
    "replay_content",
    "scores_to_verdict",
]

_LL_MIN = -(2**62)


def prompt_ids(model: LoadedModel, content: InferenceContent) -> list[int]:
    """The token ids of ``content``'s request as the model reads it (rule ``chat-content``).
    Raises FunaiError for a raw completion with a context or system prompt."""
    if content.params.raw:
        if content.context or content.system_prompt:
            raise FunaiError("a raw completion has no context or system prompt")
        return model.encode(content.input)
    msgs = chat_messages(content.input, content.context, content.system_prompt)
    return model.encode(model.render_chat(msgs))


def answer_text(model: LoadedModel, tokens: list[int], content: InferenceContent) -> str:
    """Rule ``content-tokens``: the output an answer of ``tokens`` shows, the text of the
    tokens cut before the first stop string when it ended on one."""
    text = model.decode(tokens)
    if content.finish == "stop":
        cuts = [i for i in (text.find(s) for s in content.params.stop) if i >= 0]
        if cuts:
            text = text[: min(cuts)]
    return text


def scores_to_verdict(accept: bool, p_yes: float, loglik: float) -> Verdict:
    """The integer verdict of the float scores."""
    ppm = 0 if not math.isfinite(p_yes) else min(1_000_000, max(0, round(p_yes * 1_000_000)))
    milli = _LL_MIN if not math.isfinite(loglik) else max(_LL_MIN, min(0, round(loglik * 1000)))
    return Verdict(accept, ppm, milli)


def engine_generate(model: LoadedModel) -> Generate:
    """The executor: answers a request with its own parameters and seed."""

    def run(model_id: bytes, request: InferenceContent, seed: int) -> InferenceContent:
        out = generate(model, prompt_ids(model, request), request.params.sampling(seed))
        finish = out.finish_reason if out.finish_reason != "cancelled" else "length"
        return request.answered(out.text, out.token_ids, finish)

    return run


def replay_content(model: LoadedModel, content: InferenceContent, seed: int) -> Replay:
    """The replay of an answered request: rule ``content-tokens``, then ``replay-token`` and
    ``replay-stop`` (an answer that fails before replay gets ``tokens`` 0)."""
    try:
        prompt = prompt_ids(model, content)
    except FunaiError:
        return Replay(False, 0, 0, 0, "chat-content", math.inf, -math.inf)
    tokens = list(content.tokens) if content.tokens else model.encode(content.output)
    if any(not 0 <= t < model.vocab_size for t in tokens):
        return Replay(False, 0, 0, 0, "content-tokens", math.inf, -math.inf)
    if answer_text(model, tokens, content) != content.output:
        return Replay(False, 0, 0, 0, "content-tokens", math.inf, -math.inf)
    return replay(model, prompt, tokens, content.params.sampling(seed), content.finish)  # type: ignore[arg-type]


def engine_judge(
    model: LoadedModel, cfg: JudgeConfig = DEFAULT_JUDGE_CONFIG, *, score: bool = True
) -> Judge:
    """The verifier: the accept bit from :func:`replay_content`; with ``score``, the paper's
    P(yes) (docs/judge.md) is reported beside it (it never decides)."""

    def run(model_id: bytes, content: InferenceContent, seed: int) -> Verdict:
        r = replay_content(model, content, seed)
        p_yes = 0.0
        if score and r.rule != "chat-content":
            msgs = chat_messages(content.input, content.context, content.system_prompt)
            try:
                p_yes = p_yes_score(model, msgs, content.output, cfg)
            except FunaiError:  # the reported score only; never the accept bit
                p_yes = 0.0
        return scores_to_verdict(r.accept, p_yes, r.loglik)

    return run
