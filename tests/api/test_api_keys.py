"""API keys -> local wallets: 401 without a key, 402 for an unfunded wallet, served when
funded; open access on regtest without a key file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest
from typer.testing import CliRunner

from funai.api.auth import KEYS_FILE
from funai.cli import app
from funai.ledger.params import REGTEST
from funai.ledger.wallet import Wallet
from tests.api.apinode import ApiNode


def _post(node: ApiNode, model: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    body = {"model": model, "prompt": "Hi", "max_tokens": 1, "temperature": 0}
    return httpx.post(node.api + "/completions", json=body, headers=headers, timeout=120)


def test_keys_map_to_wallets(api_node: ApiNode, model_name: str) -> None:
    netdir = api_node.datadir / "regtest"
    keys_file = netdir / KEYS_FILE
    empty = Wallet.create(api_node.datadir / "empty-wallet.json", REGTEST)
    runner = CliRunner()

    def new_key(*extra: str) -> str:
        result = runner.invoke(
            app,
            [
                "--datadir",
                str(api_node.datadir),
                "api-key",
                "new",
                "--network",
                "regtest",
                "--json",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        return str(json.loads(result.stdout)["key"])

    try:
        unfunded = new_key("--wallet", str(empty.path), "--label", "empty")
        funded = new_key()  # the node's own wallet, paid by /generate
        listed = runner.invoke(
            app,
            [
                "--datadir",
                str(api_node.datadir),
                "api-key",
                "list",
                "--network",
                "regtest",
                "--json",
            ],
        )
        assert len(json.loads(listed.stdout)) == 2
        assert unfunded not in keys_file.read_text()  # stored hashed

        r = _post(api_node, model_name, None)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "missing_api_key"
        r = _post(api_node, model_name, "fai-wrong")
        assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_api_key")
        r = _post(api_node, model_name, unfunded)
        assert (r.status_code, r.json()["error"]["code"]) == (402, "insufficient_funds")
        assert empty.address(0) in r.json()["error"]["message"]

        api_node.post("/generate", {"blocks": REGTEST.coinbase_maturity + 1}).raise_for_status()
        client = openai.OpenAI(base_url=api_node.api, api_key=funded, max_retries=0, timeout=120)
        resp = client.completions.create(model=model_name, prompt="Hi", max_tokens=1, temperature=0)
        assert resp.usage is not None
        poor = openai.OpenAI(base_url=api_node.api, api_key=unfunded, max_retries=0)
        with pytest.raises(openai.APIStatusError) as exc:
            poor.completions.create(model=model_name, prompt="Hi", max_tokens=1)
        assert exc.value.status_code == 402
        # /v1/models stays public.
        assert httpx.get(api_node.api + "/models", timeout=30).status_code == 200
    finally:
        keys_file.unlink(missing_ok=True)
    assert _post(api_node, model_name, None).status_code == 200  # open again on regtest


def test_revoke_needs_a_long_prefix(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--datadir", str(tmp_path), "api-key", "revoke", "abc", "--network", "regtest"]
    )
    assert result.exit_code == 2
