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
        help="How it ended: eos (end of turn), length (max tokens) or auto (length when it "
        "has max-tokens tokens, else eos).",
    ),
    system: str | None = typer.Option(None, "--system", help="System prompt."),
    as_json: bool = JSON_OPTION,
    model: str = typer.Option("smollm2-135m-instruct", "--model", "-m", help="Name or dir."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Check that RESPONSE is what the model samples for REQUEST with this seed and these
    parameters (the same chat template as `funai infer`).

    Exit 0 accept, 1 reject. --json fields: accept, tokens, matched, first_mismatch, rule,
    seed, model_id.
    """
    from funai.inference import SamplingParams, load_model
    from funai.inference.replay import replay
    from funai.inference.store import resolve_model_dir

    state: CliState = ctx.obj
    if finish not in ("auto", "eos", "length"):
        fail("--finish is auto, eos or length", EXIT_USAGE)
    if temperature > 0 and seed is None:
        fail("a sampled answer (temperature > 0) needs its --seed", EXIT_USAGE)
    try:
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
            seed=seed,
        )
        m = load_model(resolve_model_dir(state.datadir, model), device=device)
        msgs = [{"role": "system", "content": system}] if system else []
        prompt_ids = m.encode(m.render_chat([*msgs, {"role": "user", "content": request}]))
        answer_ids = m.encode(response)
        how = finish
        if how == "auto":
            how = "length" if len(answer_ids) >= max_tokens else "eos"
        result = replay(m, prompt_ids, answer_ids, params, how)  # type: ignore[arg-type]
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
