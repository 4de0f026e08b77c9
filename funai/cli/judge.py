"""``funai judge --request TEXT --response TEXT [--json]``: the verifier's verdict."""

from __future__ import annotations

import typer

from funai.cli.common import EXIT_FAILURE, JSON_OPTION, CliState, echo_parts, fail_with, print_json
from funai.errors import FunaiError


def judge(
    ctx: typer.Context,
    request: str = typer.Option(..., "--request", help="The user's request."),
    response: str = typer.Option(..., "--response", help="The response to judge."),
    as_json: bool = JSON_OPTION,
    p_yes_threshold: float | None = typer.Option(None, "--p-yes-threshold"),
    loglik_threshold: float | None = typer.Option(None, "--loglik-threshold"),
    truncated: bool = typer.Option(
        False, "--truncated", help="The response stopped at its token limit (no end of turn)."
    ),
    model: str = typer.Option("smollm2-135m-instruct", "--model", "-m", help="Name or dir."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Judge whether RESPONSE is the model's answer to REQUEST.

    Exit 0 accept, 1 reject. --json fields: accept, p_yes, loglik,
    accept_p_yes, accept_loglik, response_tokens, model_id.
    """
    from funai.inference import DEFAULT_JUDGE_CONFIG, JudgeConfig, load_model
    from funai.inference import judge as run_judge
    from funai.inference.defaults import model_dir_or_fetch

    state: CliState = ctx.obj
    try:
        cfg = JudgeConfig(
            p_yes_threshold=DEFAULT_JUDGE_CONFIG.p_yes_threshold
            if p_yes_threshold is None
            else p_yes_threshold,
            loglik_threshold=DEFAULT_JUDGE_CONFIG.loglik_threshold
            if loglik_threshold is None
            else loglik_threshold,
        )
        m = load_model(model_dir_or_fetch(state.datadir, model), device=device)
        verdict = run_judge(m, request, response, cfg, complete=not truncated)
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print_json({**verdict.to_json(), "model_id": m.model_id})
    else:
        word, style = ("ACCEPT", "bold green") if verdict.accept else ("REJECT", "bold red")
        echo_parts(
            (word, style),
            (
                f"  p_yes={verdict.p_yes:.3f} (>= {cfg.p_yes_threshold})  "
                f"loglik={verdict.loglik:.3f} (>= {cfg.loglik_threshold})",
                None,
            ),
        )
    if not verdict.accept:
        raise typer.Exit(EXIT_FAILURE)
