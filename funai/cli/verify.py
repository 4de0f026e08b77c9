"""``funai verify --request TEXT --response TEXT --seed N ...``: replay verification.

The verifier's check of an answer generated with seeded sampling (funai/inference/replay.py):
one teacher-forced prefill of the chat-formatted request + the answer under the model, and
at every position the answer's token must be what the seeded sampler draws there.
"""

from __future__ import annotations

import typer

from funai.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    JSON_OPTION,
    CliState,
    echo_parts,
    fail,
    fail_with,
    print_json,
)
from funai.errors import FunaiError


def verify(
    ctx: typer.Context,
    request: str = typer.Option(..., "--request", help="The user message (chat template)."),
    response: str = typer.Option(..., "--response", help="The answer to check."),
    seed: int | None = typer.Option(None, "--seed", help="The answer's seed (sampled answers)."),
    temperature: float = typer.Option(0.0, "--temperature", "-t", help="0 = greedy."),
    top_k: int = typer.Option(0, "--top-k", help="The top-k cut it was sampled with (0 = none)."),
    top_p: float = typer.Option(1.0, "--top-p", help="The nucleus mass it was sampled with."),
    repetition_penalty: float = typer.Option(1.0, "--repetition-penalty"),
    max_tokens: int = typer.Option(256, "--max-tokens", "-n", help="Its token limit."),
    finish: str = typer.Option(
        "auto",
        "--finish",
        help="How it ended: eos (end of turn), stop (a stop string), length (max tokens) or "
        "auto (length when it has max-tokens tokens, else eos).",
    ),
    stop: list[str] = typer.Option([], "--stop", help="A stop string it was sampled with."),
    tokens: str | None = typer.Option(
        None,
        "--tokens",
        help="The answer's token ids (comma-separated, as `funai infer --json` prints); "
        "default: the response's own tokenization.",
    ),
    raw: bool = typer.Option(False, "--raw", help="REQUEST is a raw prompt (no chat template)."),
    system: str | None = typer.Option(None, "--system", help="System prompt."),
    as_json: bool = JSON_OPTION,
    model: str = typer.Option("smollm2-135m-instruct", "--model", "-m", help="Name or dir."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Check that RESPONSE is what the model samples for REQUEST with this seed and these
    parameters (the same chat template as `funai infer`; the verifiers' replay check,
    docs/verification.md).

    Exit 0 accept, 1 reject. --json fields: accept, tokens, matched, first_mismatch, rule,
    seed, model_id.
    """
    from funai.inference import SamplingParams, load_model
    from funai.inference.defaults import model_dir_or_fetch
    from funai.layer2.judging import replay_content
    from funai.layer2.request_params import RequestParams
    from funai.layer2.transactions import InferenceContent

    state: CliState = ctx.obj
    if finish not in ("auto", "eos", "stop", "length"):
        fail("--finish is auto, eos, stop or length", EXIT_USAGE)
    if temperature > 0 and seed is None:
        fail("a sampled answer (temperature > 0) needs its --seed", EXIT_USAGE)
    try:
        ids = tuple(int(t) for t in tokens.replace(",", " ").split()) if tokens else ()
    except ValueError:
        fail("--tokens is a comma-separated list of token ids", EXIT_USAGE)
    try:
        params = RequestParams.from_sampling(
            SamplingParams(
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                repetition_penalty=repetition_penalty,
                seed=seed,
                stop=tuple(stop),
            ),
            raw=raw,
        )
        m = load_model(model_dir_or_fetch(state.datadir, model), device=device)
        how = finish
        if how == "auto":
            n = len(ids) if ids else len(m.encode(response))
            how = "length" if n >= max_tokens else "eos"
        content = InferenceContent(request, response, "", system or "", params, ids, how)
        result = replay_content(m, content, seed if seed is not None else 0)
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print_json({**result.to_json(), "seed": seed, "model_id": m.model_id})
    else:
        word, style = ("ACCEPT", "bold green") if result.accept else ("REJECT", "bold red")
        where = (
            "" if result.first_mismatch is None else f", first mismatch at {result.first_mismatch}"
        )
        echo_parts(
            (word, style),
            (f"  {result.matched} of {result.tokens} positions match ({result.rule}{where})", None),
        )
    if not result.accept:
        raise typer.Exit(EXIT_FAILURE)
