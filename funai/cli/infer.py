"""``funai infer "prompt"``: local generation, streamed to the terminal."""

from __future__ import annotations

import sys

import typer

from funai.cli.common import CliState, echo, fail_with, print_json
from funai.errors import FunaiError


def infer(
    ctx: typer.Context,
    prompt: str = typer.Argument(..., help="The user message (sent through the chat template)."),
    max_tokens: int = typer.Option(256, "--max-tokens", "-n", help="Most tokens to generate."),
    temperature: float = typer.Option(0.0, "--temperature", "-t", help="0 = greedy."),
    top_k: int = typer.Option(0, "--top-k", help="Sample among the k likeliest (0 = all)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    repetition_penalty: float = typer.Option(1.0, "--repetition-penalty"),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help="Sampling seed (reproducible, verifiable output; a random one is chosen and "
        "printed with --json when sampling without it).",
    ),
    stop: list[str] = typer.Option([], "--stop", help="Stop string (repeatable)."),
    system: str | None = typer.Option(None, "--system", help="System prompt."),
    raw: bool = typer.Option(False, "--raw", help="Send the prompt as is, no chat template."),
    model: str = typer.Option("smollm2-135m-instruct", "--model", "-m", help="Name or dir."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    stats: bool = typer.Option(False, "--stats", help="Print token counts and speed."),
    as_json: bool = typer.Option(
        False, "--json", help="No streaming: print one JSON object with the text and counts."
    ),
) -> None:
    """Generate a reply locally with the model, streaming tokens as they come.

    --json (no streaming) fields: text, seed, finish_reason, tokens, prompt_tokens,
    completion_tokens, seconds, tokens_per_s, model_id, provider. `funai verify` with the
    same seed and parameters checks the answer.
    """
    import secrets
    import time

    from funai.inference import SamplingParams, generate, load_model
    from funai.inference.defaults import model_dir_or_fetch

    state: CliState = ctx.obj
    if seed is None and temperature > 0:
        seed = secrets.randbits(63)  # the seeded sampler: the answer can be replayed
    try:
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
            seed=seed,
            stop=tuple(stop),
        )
        m = load_model(model_dir_or_fetch(state.datadir, model), device=device)
        if raw:
            text = prompt
        else:
            msgs = [{"role": "system", "content": system}] if system else []
            text = m.render_chat([*msgs, {"role": "user", "content": prompt}])

        def on_event(delta: str, _done: object) -> None:
            sys.stdout.write(delta)
            sys.stdout.flush()

        t0 = time.perf_counter()
        result = generate(m, text, params, None if as_json else on_event)
        dt = time.perf_counter() - t0
    except FunaiError as exc:
        fail_with(exc)
    rate = result.completion_tokens / dt if dt > 0 else 0.0
    if as_json:
        print_json(
            {
                "text": result.text,
                "seed": seed,
                "finish_reason": result.finish_reason,
                "tokens": list(result.token_ids),
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "seconds": round(dt, 4),
                "tokens_per_s": round(rate, 2),
                "model_id": m.model_id,
                "provider": m.providers[0],
            }
        )
        return
    sys.stdout.write("\n")
    if stats:
        echo(
            f"[{result.prompt_tokens} prompt + {result.completion_tokens} generated tokens, "
            f"{result.finish_reason}, {rate:.1f} tok/s, {m.providers[0]}]",
            "dim",
            err=True,
        )
