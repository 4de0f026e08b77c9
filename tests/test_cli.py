"""The command line as a user and a script meet it: every command answers --help, the data
directory, the ``--json`` outputs (parsed, with real values), the exit-code convention of
docs/cli.md (0 success, 1 negative answer or failed operation, 2 usage or malformed input,
130 interrupted) and colors that appear on a terminal only."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import funai.keys
from funai.cli import app
from funai.errors import FunaiError, MalformedInputError

runner = CliRunner()
EXE = Path(sys.executable).parent / "funai"
ESC = "\x1b["
HEADERS_FILE = "bitcoin-mainnet-headers-822528-830592.bin"
HEADERS_START = 822_528


@pytest.fixture(autouse=True)
def _no_forced_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """Color must come from terminal detection alone, not from the caller's environment."""
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        # typer may ship its own copy of click: look for subcommands by duck typing
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return paths


COMMANDS = _command_paths()


def _invoke(datadir: Path | None, *args: str, code: int = 0) -> Any:
    """Runs ``funai [--datadir D] ARGS`` in process and checks the exit code."""
    prefix = ["--datadir", str(datadir)] if datadir is not None else []
    result = runner.invoke(app, [*prefix, *args])
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    return result


def _json(datadir: Path | None, *args: str, code: int = 0) -> Any:
    """The one JSON value a ``--json`` command prints on stdout."""
    result = _invoke(datadir, *args, "--json", code=code)
    assert len(result.stdout.splitlines()) == 1, result.stdout
    return json.loads(result.stdout)


def _error(datadir: Path | None, *args: str, code: int) -> str:
    """A failing command: exit ``code``, nothing on stdout, one ``error:`` line on stderr."""
    result = _invoke(datadir, *args, code=code)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


# --- help ---------------------------------------------------------------------------------


def test_expected_commands_exist() -> None:
    names = {" ".join(p) for p in COMMANDS}
    for expected in (
        "bench pow",
        "vrf prove",
        "vrf verify",
        "keys sign",
        "keys verify",
        "demo",
        "model verify",
        "wallet balance",
        "headers verify",
    ):
        assert expected in names, sorted(names)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "funai")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "--help" in result.output
    assert ESC not in result.output  # help in a pipe is plain text


def test_root_help_states_the_exit_codes() -> None:
    out = runner.invoke(app, ["--help"]).output
    assert "130" in out
    assert "docs/cli.md" in out


def test_datadir_option_is_global() -> None:
    result = runner.invoke(app, ["--help"])
    assert "--datadir" in result.output
    assert "~/.funai" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_missing_option_is_a_usage_error() -> None:
    assert runner.invoke(app, ["keys", "sign", "--msg", ""]).exit_code == 2


def test_console_script_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(EXE), "--datadir", str(tmp_path), "--help"], capture_output=True, text=True, check=True
    )
    assert "FUN AI node" in out.stdout


# --- keys and vrf -------------------------------------------------------------------------


def test_keys_json_roundtrip() -> None:
    pair = _json(None, "keys", "new")
    assert len(bytes.fromhex(pair["secret_key"])) == 32
    assert _json(None, "keys", "pubkey", "--sk", pair["secret_key"]) == {
        "public_key": pair["public_key"]
    }
    msg = b"funai cli".hex()
    signed = _json(None, "keys", "sign", "--sk", pair["secret_key"], "--msg", msg)
    assert signed["public_key"] == pair["public_key"]
    assert len(bytes.fromhex(signed["signature"])) == 64
    args = ["keys", "verify", "--pk", pair["public_key"], "--sig", signed["signature"]]
    assert _json(None, *args, "--msg", msg) == {"valid": True}
    # A negative answer is still an answer on stdout, with exit 1.
    assert _json(None, *args, "--msg", msg + "00", code=1) == {"valid": False}
    result = _invoke(None, *args, "--msg", msg + "00", code=1)
    assert result.stdout == "invalid\n"


@pytest.mark.parametrize(
    "args",
    [
        ["keys", "verify", "--pk", "zz", "--msg", "", "--sig", "00" * 64],
        ["keys", "sign", "--sk", "01" * 32, "--msg", "abc"],
        ["keys", "pubkey", "--sk", "0102", "--json"],
        ["vrf", "prove", "--sk", "00" * 32, "--alpha", "0g"],
        ["vrf", "verify", "--pk", "00" * 32, "--alpha", "", "--proof", "00" * 79, "--json"],
    ],
)
def test_malformed_input_exits_2(args: list[str]) -> None:
    _error(None, *args, code=2)


def test_vrf_json_roundtrip() -> None:
    pair = _json(None, "vrf", "keygen")
    alpha = b"round 7".hex()
    proved = _json(None, "vrf", "prove", "--sk", pair["secret_key"], "--alpha", alpha)
    assert len(bytes.fromhex(proved["proof"])) == 80
    args = ["vrf", "verify", "--pk", pair["public_key"], "--proof", proved["proof"]]
    assert _json(None, *args, "--alpha", alpha) == {"valid": True, "beta": proved["beta"]}
    assert _json(None, "vrf", "hash", "--proof", proved["proof"]) == {"beta": proved["beta"]}
    result = _invoke(None, *args, "--alpha", alpha + "00", "--json", code=1)
    assert json.loads(result.stdout) == {"valid": False, "beta": None}
    assert result.stderr.startswith("error: ")
    _error(None, *args, "--alpha", alpha + "00", code=1)


# --- wallet and mine ----------------------------------------------------------------------


def test_wallet_and_mine_json(tmp_path: Path) -> None:
    net = ("--network", "regtest")
    created = _json(tmp_path, "wallet", "new", *net)
    assert created["network"] == "regtest"
    assert created["address"].startswith("tfai1")
    assert Path(created["wallet"]) == tmp_path / "regtest" / "wallet.json"
    assert _json(tmp_path, "wallet", "address", *net) == {"address": created["address"]}
    assert "already exists" in _error(tmp_path, "wallet", "new", *net, code=1)

    mined = _json(tmp_path, "mine", *net, "--blocks", "11", "--threads", "1")
    assert (mined["found"], mined["height"], mined["interrupted"]) == (11, 11, False)
    assert [b["height"] for b in mined["blocks"]] == list(range(1, 12))
    assert mined["tip"] == mined["blocks"][-1]["hash"]
    assert mined["address"] == created["address"]

    bal = _json(tmp_path, "wallet", "balance", *net)
    assert bal["height"] == 11
    assert bal["fai"]["spendable"] == "3.00000000"  # as `test_cli_ledger` reads it
    assert bal["spendable"] == 3 * 10**8
    assert bal["pending"] == 0
    human = _invoke(tmp_path, "wallet", "balance", *net).stdout
    assert f"immature   {bal['fai']['immature']} FAI" in human

    other = _json(tmp_path, "wallet", "address", "--new", *net)["address"]
    assert _json(tmp_path, "wallet", "address", "--all", *net) == {
        "addresses": [created["address"], other]
    }
    sent = _json(tmp_path, "wallet", "send", other, "2.5", "--fee-rate", "3", *net)
    assert sent["amount"] == 250_000_000
    assert sent["to"] == other
    assert sent["fee"] >= 3 * sent["size"]
    assert len(bytes.fromhex(sent["txid"])) == 32
    assert _json(tmp_path, "wallet", "balance", *net)["pending"] == bal["spendable"]

    assert "insufficient funds" in _error(tmp_path, "wallet", "send", other, "1000", *net, code=1)
    _error(tmp_path, "wallet", "send", other, "1.123456789", *net, code=2)
    _error(tmp_path, "wallet", "send", "tfai1notanaddress", "1", *net, code=2)
    _error(tmp_path, "wallet", "balance", "--network", "nonet", code=2)
    _error(tmp_path, "mine", *net, "--blocks", "1", "--address", "fai1xyz", code=2)


def test_wallet_missing_is_a_failure(tmp_path: Path) -> None:
    assert "no wallet" in _error(tmp_path, "wallet", "address", "--network", "regtest", code=1)


def test_mine_ctrl_c_exits_130_with_a_summary(tmp_path: Path) -> None:
    created = _json(tmp_path, "wallet", "new", "--network", "regtest")
    err = tmp_path / "err.txt"
    args = ["mine", "-n", "regtest", "--threads", "1", "--json"]
    with err.open("w") as err_file:
        proc = subprocess.Popen(
            [str(EXE), "--datadir", str(tmp_path), *args],
            stdout=subprocess.PIPE,
            stderr=err_file,
            text=True,
        )
        deadline = time.monotonic() + 60
        while "mining regtest" not in err.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.read_text()
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert summary["address"] == created["address"]
    assert summary["height"] == summary["found"] == len(summary["blocks"])
    assert "Traceback" not in err.read_text()


# --- headers ------------------------------------------------------------------------------


def test_headers_verify_json(vectors_dir: Path, tmp_path: Path) -> None:
    src = vectors_dir / HEADERS_FILE
    args = ["headers", "verify", "--params", "bitcoin", "--start-height", str(HEADERS_START)]
    ok = _json(None, *args, str(src))
    assert ok["valid"] is True
    assert (ok["count"], ok["start_height"]) == (8065, HEADERS_START)
    assert ok["last_height"] == HEADERS_START + 8064
    assert (ok["retargets_checked"], ok["unchecked_retargets"]) == (4, 0)
    assert len(bytes.fromhex(ok["tip"])) == 32

    data = bytearray(src.read_bytes())
    data[100 * 80 + 79] ^= 0x01  # the nonce of the header at START + 100
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(data))
    result = _invoke(None, *args, str(bad), "--json", code=1)
    verdict = json.loads(result.stdout)
    assert verdict["valid"] is False
    assert verdict["height"] == HEADERS_START + 100
    assert result.stderr.startswith("error: invalid header at height")

    short = tmp_path / "short.bin"
    short.write_bytes(bytes(data[:8001]))
    _error(None, *args, str(short), code=2)
    _error(None, *args, str(tmp_path / "missing.bin"), code=2)
    _error(None, *args, str(src), "--params", "nope", code=2)


# --- models, inference, judge -------------------------------------------------------------


def _toy_model(datadir: Path) -> Path:
    from funai.inference import store

    path = store.models_dir(datadir) / "toy"
    path.mkdir(parents=True)
    (path / "weights.bin").write_bytes(bytes(range(256)) * 4)
    (path / "config.json").write_text('{"hidden_size": 8}')
    (path / "tokenizer.json").write_text("{}")
    digests = store.file_digests(path)
    store.write_manifest(path, {"files": digests, "model_id": store.model_id_from_digests(digests)})
    return path


def test_model_list_and_verify_json(tmp_path: Path) -> None:
    path = _toy_model(tmp_path)
    manifest = json.loads((path / "funai-model.json").read_text())
    (row,) = _json(tmp_path, "model", "list")
    assert (row["name"], Path(row["path"]), row["model_id"]) == ("toy", path, manifest["model_id"])
    assert row["size"] > 1024
    checked = _json(tmp_path, "model", "verify", "toy")
    assert checked == {
        "name": "toy",
        "path": str(path),
        "model_id": row["model_id"],
        "verified": True,
    }
    assert "verified: yes" in _invoke(tmp_path, "model", "verify", "toy").stdout
    (path / "weights.bin").write_bytes(b"tampered")
    assert _json(tmp_path, "model", "verify", "toy", code=1)["verified"] is False
    assert _json(tmp_path, "model", "info", "toy", "--verify", code=1)["verified"] is False
    assert "no model 'nope'" in _error(tmp_path, "model", "verify", "nope", code=1)
    _error(tmp_path, "model", "convert", "--precision", "int3", code=2)


def test_infer_and_judge_usage_errors(tmp_path: Path) -> None:
    # Checked before any model is looked for or loaded.
    assert "temperature" in _error(tmp_path, "infer", "hi", "--temperature", "-1", code=2)
    _error(tmp_path, "infer", "hi", "--model", "nope", code=1)
    _error(tmp_path, "judge", "--request", "a", "--response", "b", "--model", "nope", code=1)


@pytest.fixture(scope="module")
def default_model() -> Path:
    from funai.inference.defaults import ensure_default_model
    from tests.inference_fixtures import model_cache

    return ensure_default_model(model_cache())


def test_infer_and_judge_json(default_model: Path) -> None:
    from funai.inference import store

    model_id = store.read_manifest(default_model)["model_id"]  # type: ignore[index]
    common = ["--model", str(default_model), "--device", "cpu"]
    out = _json(None, "infer", "What is the capital of France?", "-n", "8", *common)
    assert "Paris" in out["text"]
    assert 0 < out["completion_tokens"] <= 8
    assert out["finish_reason"] in ("eos", "length")
    assert out["prompt_tokens"] > 5
    assert out["model_id"] == model_id
    # A rejected answer is a negative answer: exit 1, the verdict still on stdout.
    qa = ["--request", "What is the capital of France?", "--response", "Purple elephants dance."]
    verdict = _json(None, "judge", *qa, *common, code=1)
    assert verdict["accept"] is False
    assert verdict["model_id"] == model_id


def test_infer_seed_and_verify_json(default_model: Path) -> None:
    """`funai infer` prints the seed of a sampled answer; `funai verify` replays it."""
    common = ["--model", str(default_model), "--device", "cpu"]
    q = "Name three prime numbers."
    sampling = ["--temperature", "1.0", "--top-p", "0.9", "--max-tokens", "24"]
    assert isinstance(_json(None, "infer", q, *sampling, "-n", "2", *common)["seed"], int)
    out = _json(None, "infer", q, *sampling, "--seed", "20261205", *common)
    assert out["seed"] == 20261205
    check = ["--request", q, "--response", out["text"], *sampling, *common]
    ok = _json(None, "verify", *check, "--seed", str(out["seed"]))
    assert ok["accept"] is True
    assert ok["matched"] == ok["tokens"] > 0
    wrong = _json(None, "verify", *check, "--seed", str(out["seed"] + 1), code=1)
    assert wrong["accept"] is False
    assert wrong["rule"] == "replay-token"


# --- api keys, status ---------------------------------------------------------------------


def test_api_key_json(tmp_path: Path) -> None:
    from funai.api.auth import key_hash

    net = ("--network", "regtest")
    _json(tmp_path, "wallet", "new", *net)
    made = _json(tmp_path, "api-key", "new", "--label", "ci", *net)
    (entry,) = _json(tmp_path, "api-key", "list", *net)
    assert entry["hash"] == key_hash(made["key"])
    assert (entry["label"], entry["wallet"]) == ("ci", made["wallet"])
    assert _json(tmp_path, "api-key", "revoke", entry["hash"][:12], *net) == {"revoked": 1}
    result = _invoke(tmp_path, "api-key", "revoke", entry["hash"][:12], *net, "--json", code=1)
    assert json.loads(result.stdout) == {"revoked": 0}
    _error(tmp_path, "api-key", "list", "--network", "nonet", code=2)


@pytest.fixture
def fake_node() -> Iterator[str]:
    body = json.dumps({"network": "regtest", "l1_height": 42, "peers": 3}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API
            status = 200 if self.path == "/v1/status" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_status_json_and_unreachable(fake_node: str, tmp_path: Path) -> None:
    data = _json(tmp_path, "status", "--node", fake_node)
    assert data == {"network": "regtest", "l1_height": 42, "peers": 3}
    human = _invoke(tmp_path, "status", "--node", fake_node).stdout
    assert "l1_height" in human
    assert "42" in human
    assert ESC not in human
    msg = _error(tmp_path, "status", "--node", "http://127.0.0.1:1/v1", code=1)
    assert "cannot reach the node" in msg


def test_clarity_check_json(tmp_path: Path) -> None:
    good = tmp_path / "counter.clar"
    good.write_text("(define-data-var n int 0)\n(define-public (bump) (ok (var-set n 1)))\n")
    res = _json(None, "clarity", "check", str(good))
    assert res["ok"] is True
    assert [f["name"] for f in res["interface"]["functions"]] == ["bump"]
    bad = tmp_path / "bad.clar"
    bad.write_text("(define-public (f) (ok (+ 1 u1)))")
    res = _json(None, "clarity", "check", str(bad), code=1)
    assert res["ok"] is False
    assert res["errors"][0]["line"] == 1
    _error(None, "clarity", "check", str(tmp_path / "missing.clar"), code=2)


# --- errors escaping a command ------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "code", "stderr"),
    [
        (KeyboardInterrupt(), 130, "interrupted\n"),
        (FunaiError("boom"), 1, "error: boom\n"),
        (MalformedInputError("bad bytes"), 2, "error: bad bytes\n"),
        (PermissionError(13, "Permission denied", "/x/y"), 1, "error: Permission denied: /x/y\n"),
    ],
)
def test_escaping_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int, stderr: str
) -> None:
    def raise_it() -> tuple[bytes, bytes]:
        raise exc

    monkeypatch.setattr(funai.keys, "schnorr_keygen", raise_it)
    result = runner.invoke(app, ["keys", "new"])
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)


def test_unexpected_bug_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only FUN AI's own errors and OS errors become one-line errors; a bug still shows."""

    def raise_it() -> tuple[bytes, bytes]:
        raise ZeroDivisionError

    monkeypatch.setattr(funai.keys, "schnorr_keygen", raise_it)
    result = runner.invoke(app, ["keys", "new"])
    assert isinstance(result.exception, ZeroDivisionError)


# --- color --------------------------------------------------------------------------------


def test_no_ansi_in_captured_output(tmp_path: Path, vectors_dir: Path) -> None:
    outputs = [
        _invoke(None, "keys", "verify", "--pk", "00" * 32, "--msg", "", "--sig", "00" * 64, code=1),
        _invoke(None, "keys", "verify", "--pk", "zz", "--msg", "", "--sig", "00", code=2),
        _invoke(None, "security", "-q", "0.1", "-z", "3", "--trials", "1000"),
        _invoke(
            None,
            "headers",
            "verify",
            str(vectors_dir / HEADERS_FILE),
            "--start-height",
            str(HEADERS_START),
        ),
    ]
    for result in outputs:
        assert result.output
        assert ESC not in result.output, result.output


def _run_on_tty(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Runs the console script with stdout and stderr on a pseudo-terminal."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([str(EXE), *args], stdout=follower, stderr=follower, env=env)
    finally:
        os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return proc.returncode, out


@pytest.mark.skipif(os.name != "posix", reason="needs a POSIX pseudo-terminal")
def test_color_on_a_terminal_only() -> None:
    args = ["keys", "verify", "--pk", "00" * 32, "--msg", "", "--sig", "00" * 64]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    piped = subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env)
    assert (piped.returncode, piped.stdout, piped.stderr) == (1, "invalid\n", "")
    code, tty = _run_on_tty(args, env)
    assert code == 1
    assert b"\x1b[1;31minvalid" in tty  # bold red on a terminal
    code, tty = _run_on_tty(args, {**env, "NO_COLOR": "1"})
    assert code == 1
    assert b"invalid" in tty
    assert b"31m" not in tty  # NO_COLOR: no color (bold may stay, as the convention allows)
    code, tty = _run_on_tty(["keys", "pubkey", "--sk", "zz"], env)
    assert code == 2
    assert b"\x1b[1;31merror:" in tty
