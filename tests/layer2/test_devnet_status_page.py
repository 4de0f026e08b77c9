"""The status page at ``/`` renders the inference layer of a real devnet (headless Chromium).

A small devnet of separate node processes (miner, the genesis verifiers 0-2, ``inference-a``;
three of the five genesis verifiers make the 3-of-5 quorum) is driven through the HTTP APIs
the way ``funai demo`` does (funai/node/devnet_story.py) until one inference transaction is
finalized; then verifier0's page is loaded with ``chromium --headless --dump-dom`` and its L2
height, verifier set, elections and inference lifecycle are compared with the JSON API.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from funai.devnet.client import DevnetClient
from funai.devnet.launcher import l2_layout, start_devnet, stop_devnet
from funai.layer2.params import network_l2_params
from funai.layer2.pegs import pegin_output
from funai.ledger.tx import COIN
from funai.testing.devnet import stream_chat
from tests.inference_fixtures import model_dir  # noqa: F401

pytestmark = pytest.mark.slow

NETWORK = "devnet"
TIMEOUT = 240.0  # the whole devnet part; it usually takes well under half of that
STAGES = ("executed", "in_block", "finalized", "anchored", "confirmed", "reclaimed")


class _Dom(HTMLParser):
    """The elements of a dumped DOM with their attributes and the id of the enclosing
    ``<table>``, and the text of each table."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], str | None]] = []
        self.text: dict[str, str] = {}
        self._tables: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a, self._tables[-1] if self._tables else None))
        if tag == "table":
            self._tables.append(a.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._tables:
            self._tables.pop()

    def handle_data(self, data: str) -> None:
        if self._tables:
            self.text[self._tables[-1]] = self.text.get(self._tables[-1], "") + data

    def by_id(self, ident: str) -> dict[str, str]:
        found = [a for _, a, _ in self.elements if a.get("id") == ident]
        assert len(found) == 1, f"#{ident}: {len(found)} elements"
        return found[0]

    def rows(self, table: str) -> list[dict[str, str]]:
        return [a for tag, a, t in self.elements if tag == "tr" and t == table]


def _dump_dom(browser: str, url: str) -> str:
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=8000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    dom = proc.stdout.decode()
    assert 'data-ready="1"' in dom, proc.stderr.decode()[-2000:]
    return dom


def _drive_to_finalized(net: DevnetClient, model: str) -> str:
    """Funds and pegs in for ``inference-a``, waits for its registration and bond, asks it one
    question and waits until verifier0 sees the inference transaction finalized; its txid."""
    params = network_l2_params(NETWORK)
    assert params is not None
    net.wait(
        "a spendable coinbase for the miner",
        lambda: net.get("miner", "/wallet", auth=True)["balance"]["spendable"] >= 20 * COIN,
    )
    address = net.get("inference-a", "/wallet", auth=True)["addresses"][0]
    net.post("miner", "/wallet/send", {"to": address, "amount": 5 * COIN}, auth=True)
    account = net.get("inference-a", "/wallet", auth=True)["l2_account"]
    pool_kind, pool = params.genesis_pool()
    peg = pegin_output(bytes.fromhex(account))
    net.post(
        "miner",
        "/wallet/pay",
        {
            "outputs": [
                {"kind": pool_kind, "value": COIN // 2, "payload": pool.hex()},
                {"kind": peg.kind, "value": 0, "payload": peg.payload.hex()},
            ]
        },
        auth=True,
    )
    net.wait(
        "inference-a registered",
        lambda: net.get("inference-a", "/l2/status")["registered"] is not None,
    )
    net.wait(
        "inference-a bonded and its client account credited",
        lambda: (
            net.get("inference-a", "/l2/status")["bond"] >= params.min_bond
            and net.get("inference-a", f"/l2/accounts/{account}")["balance"] > 0
        ),
    )
    # the official openai client, streaming, against the executor (the L2 path of the API)
    from openai import OpenAI

    from funai.api.openai_compat import verify_receipt

    client = OpenAI(base_url=net.url("inference-a", ""), api_key="unused-on-devnet")
    text, ext, usage = stream_chat(
        client, Path(model).name, "What is the capital of France?", max_tokens=8
    )
    assert "Paris" in text
    assert ext is not None
    assert usage is not None
    receipt = ext["receipt"]
    assert receipt["kind"] == "executor"
    assert verify_receipt(receipt)
    assert not verify_receipt({**receipt, "content_hash": "00" * 32})
    price = net.get("inference-a", "/l2/status")["price_per_token"]
    assert receipt["gas"] == price * usage.total_tokens  # charged per token used
    txid = str(ext["inference_txid"])
    net.wait(
        "the inference transaction finalized on verifier0",
        lambda: net.get("verifier0", f"/l2/inference/{txid}")["status"] in STAGES[2:],
    )
    return txid


def test_status_page_shows_l2(
    tmp_path: Path,
    model_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    monkeypatch.setenv("FUNAI_ORT_THREADS", "1")  # four model-serving processes share the CPU
    specs = l2_layout(str(model_dir), verifiers=3, inference=1, mine_interval=1.5)
    started = time.monotonic()
    procs, endpoints = start_devnet(tmp_path, specs, network=NETWORK, timeout=TIMEOUT)
    net = DevnetClient(endpoints, NETWORK, started + TIMEOUT)
    try:
        txid = _drive_to_finalized(net, str(model_dir))
        net.wait(
            "an election with a winner and its L2 block on verifier0",
            lambda: any(
                e["winner"] is not None and e["l2_block"] is not None
                for e in net.get("verifier0", "/l2/elections")["elections"]
            ),
        )
        before = net.get("verifier0", "/l2/status")["height"]
        verifiers = net.get("verifier0", "/l2/verifiers")["verifiers"]
        winners = {
            e["winner"]["account"]
            for e in net.get("verifier0", "/l2/elections?limit=200")["elections"]
            if e["winner"] is not None
        }
        html = _dump_dom(browser, net.url("verifier0", "").removesuffix("/v1") + "/")
        (tmp_path / "status_page.html").write_text(html)  # for a failing run's inspection
        dom = _Dom(html)
        after = net.get("verifier0", "/l2/status")["height"]
    finally:
        net.client.close()
        stop_devnet(procs)

    # the L2 sections are rendered, not "not yet available"
    for section in ("l2", "elections", "verifiers", "inference"):
        assert dom.by_id(section).get("data-available") == "1", section
    # L2 height next to L1, with its own line in the graph
    shown = int(dom.by_id("l2-height")["data-height"])
    assert before <= shown <= after
    assert dom.by_id("l2-line")["points"].strip()
    assert dom.by_id("l1-line")["points"].strip()
    summary = {r.get("data-field") for r in dom.rows("l2-summary")}
    assert {"height", "tip", "state_root", "finalized", "anchored", "reclaimed", "mempool"} <= (
        summary
    )
    assert "verifier" in dom.text["l2-summary"]  # verifier0's roles
    # the verifier set: the five genesis verifiers, by key
    assert len(verifiers) == 5
    assert {r.get("data-key") for r in dom.rows("verifiers-table")} - {None} == {
        v["key"] for v in verifiers
    }
    for v in verifiers:
        assert v["key"][:16] in dom.text["verifiers-table"]
    # an election won, shown with its winner's account
    shown_winners = {r["data-winner"] for r in dom.rows("elections-table") if r.get("data-winner")}
    assert shown_winners
    assert shown_winners <= winners
    for account in shown_winners:
        assert account[:16] in dom.text["elections-table"]
    # the request's inference transaction, at least finalized, with its lifecycle steps
    rows = [r for r in dom.rows("inference-table") if r.get("data-txid") == txid]
    assert len(rows) == 1
    assert rows[0]["data-status"] in STAGES[2:]
    at = next(k for k, (_, a, _) in enumerate(dom.elements) if a.get("data-txid") == txid)
    steps = next(a for _, a, _ in dom.elements[at:] if "data-reached" in a)
    assert int(steps["data-reached"]) == STAGES.index(rows[0]["data-status"])
    assert txid[:16] in dom.text["inference-table"]
