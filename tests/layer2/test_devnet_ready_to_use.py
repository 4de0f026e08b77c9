"""``funai devnet --l2`` is ready to use as anvil's or Hardhat's devnet: it prints the
well-known developer accounts, funds them on both layers and the inference nodes on L1 (they
register, bond and bid on their own, so the L2 chain grows by itself), and prints a ready JSON
line with the URLs, the API key and an openai snippet once a request can be served; then
every node (miner, verifiers, inference nodes) answers the official openai client with that
key, paying from developer account 1."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from funai.devnet.accounts import DEV_API_KEY, dev_accounts
from funai.inference.defaults import ensure_default_model
from funai.testing.devnet import model_cache
from tests.layer2.devnet_cli import devnet_cli

pytestmark = pytest.mark.slow


def test_devnet_is_ready_to_use(tmp_path: Path) -> None:
    model = ensure_default_model(model_cache())
    args = ["--datadir", str(tmp_path / "dd"), "devnet", "--l2", "--json", "--api-port", "0"]
    args += ["--model", str(model), "--workdir", str(tmp_path / "net")]
    with devnet_cli(args) as out:
        first = json.loads(out.until(lambda line: line.startswith("{"), 180))
        assert first["ready"] is False
        assert [a["address"] for a in first["accounts"]] == [a.address for a in dev_accounts()]
        names = [n["name"] for n in first["nodes"]]
        assert names[0] == "miner"
        assert len(names) == 8
        ready = json.loads(out.until(lambda line: '"ready": true' in line, 600))
        assert ready["api_key"] == DEV_API_KEY
        assert ready["openai_base_url"] == first["nodes"][0]["api"]
        assert f'base_url="{ready["openai_base_url"]}"' in ready["snippet"]
        assert set(ready["urls"]) == set(names)
        assert set(ready["probes"]) == set(names)

        # every node, whatever its role, serves the official client with the key
        for name, url in ready["urls"].items():
            client = OpenAI(base_url=url, api_key=DEV_API_KEY, max_retries=0)
            r = client.chat.completions.create(
                model=ready["model"],
                messages=[{"role": "user", "content": "Hi"}],
                max_tokens=4,
            )
            ext = r.model_extra["funai"]  # type: ignore[index]
            assert ext["inference_txid"], name
            assert ext["receipt"]["payer"] == dev_accounts()[1].l2_account, name

        # the developer accounts hold FAI on L2; the chain grows by itself
        v0 = ready["urls"]["verifier0"]
        with httpx.Client(timeout=10) as c:
            for acct in dev_accounts():
                got = c.get(f"{v0}/l2/accounts/{acct.l2_account}").json()
                assert got["balance"] > 0, acct
            h0 = c.get(f"{v0}/l2/status").json()["height"]
            deadline = time.monotonic() + 180
            while c.get(f"{v0}/l2/status").json()["height"] < h0 + 3:
                assert time.monotonic() < deadline, "the L2 chain did not grow by itself"
                time.sleep(2)
