"""The node wallet over the HTTP API (funai/api/wallet_routes.py), against a real regtest node
process of its own (no model, L2 off, so only these tests move its wallet): the cookie, real
balances after coinbase maturity, sends and data payments that get mined, and every
rejection leaving the node as it was."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funai import _core
from funai.api.wallet_routes import COOKIE_FILE, ensure_cookie, read_cookie
from funai.devnet.launcher import spawn_node, stop_node
from funai.ledger.address import decode_address, encode_address
from funai.ledger.block import Block
from funai.ledger.params import REGTEST
from funai.ledger.tx import MAX_MONEY, OutputKind, Transaction
from funai.ledger.wallet import Wallet
from funai.node.config import NodeConfig

MATURITY = REGTEST.coinbase_maturity
FAI = 100_000_000


@dataclass
class WalletNode:
    datadir: Path
    proc: subprocess.Popen[bytes]
    api: str
    cookie: str

    @property
    def netdir(self) -> Path:
        return self.datadir / "regtest"

    def log(self) -> str:
        path = self.netdir / "stderr.log"
        return path.read_text()[-4000:] if path.exists() else ""

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        token: str | None = "",
    ) -> httpx.Response:
        """``token=""``: the node's cookie; ``None``: no Authorization header."""
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token or self.cookie}"
        if body is not None:
            content = json.dumps(body).encode()
        return httpx.request(method, self.api + path, content=content, headers=headers, timeout=60)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        r = self.request(method, path, body)
        assert r.status_code == 200, (path, body, r.status_code, r.text)
        return r.json()

    def wallet(self) -> dict[str, Any]:
        data: dict[str, Any] = self.ok("GET", "/wallet")
        return data

    def mempool(self) -> dict[str, Any]:
        data: dict[str, Any] = self.ok("GET", "/mempool")
        return data

    def generate(self, n: int) -> int:
        height: int = self.ok("POST", "/generate", {"blocks": n})["height"]
        return height

    def block(self, height: int) -> Block:
        data = self.ok("GET", f"/blocks/height/{height}?hex=1")
        return Block.deserialize(bytes.fromhex(data["hex"]))

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a rejected request must leave alone."""
        status = self.ok("GET", "/status")
        mempool = self.mempool()
        return (status["l1_height"], mempool["size"], mempool["txids"], self.wallet())


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletNode]:
    datadir = tmp_path_factory.mktemp("walletnode")
    netdir = datadir / "regtest"
    netdir.mkdir(parents=True)
    config = NodeConfig(
        network="regtest",
        p2p_listen="127.0.0.1:0",
        api_listen="127.0.0.1:0",
        discover=False,
        l2_enabled=False,
        synchronous="NORMAL",
        log_level="debug",
    )
    (netdir / "node.toml").write_text(config.to_toml())
    proc = spawn_node(datadir, "regtest")
    api = ""
    try:
        deadline = time.monotonic() + 60
        while not api:
            assert proc.poll() is None, (netdir / "stderr.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the node did not start"
            info = netdir / "node.json"
            if info.exists():
                try:
                    data = json.loads(info.read_text())
                except ValueError:
                    data = {}
                if data.get("pid") == proc.pid:
                    api = data["api"]
            time.sleep(0.1)
        yield WalletNode(datadir, proc, api, read_cookie(netdir))
    finally:
        stop_node(proc)


def _paid_to(block: Block, payload: bytes) -> int:
    """What ``block``'s coinbase pays to ``payload``."""
    return sum(o.value for o in block.txs[0].outputs if o.payload == payload)


def _find_tx(block: Block, txid_hex: str) -> Transaction:
    for tx in block.txs:
        if tx.txid()[::-1].hex() == txid_hex:
            return tx
    raise AssertionError(f"{txid_hex} is not in the block")


# --- the cookie -----------------------------------------------------------------------------


def test_cookie_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_cookie(tmp_path)
    token = ensure_cookie(tmp_path)
    path = tmp_path / COOKIE_FILE
    assert len(token) == 64
    assert int(token, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_cookie(tmp_path) == token
    assert ensure_cookie(tmp_path) == token  # kept across restarts
    path.chmod(0o644)  # readable by others: no longer a secret, replaced
    fresh = ensure_cookie(tmp_path)
    assert fresh != token
    assert read_cookie(tmp_path) == fresh
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wallet_routes_need_the_cookie(node: WalletNode) -> None:
    assert stat.S_IMODE((node.netdir / COOKIE_FILE).stat().st_mode) == 0o600
    before = node.snapshot()
    address = node.wallet()["addresses"][0]
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/wallet", None),
        ("POST", "/wallet/address", {}),
        ("POST", "/wallet/send", {"to": address, "amount": FAI}),
        ("POST", "/wallet/pay", {"outputs": [{"kind": 2, "value": 0, "payload": "00"}]}),
    ]
    for method, path, body in requests:
        for token in (None, "wrong", node.cookie[:-1], node.cookie + "0"):
            r = node.request(method, path, body, token=token)
            assert r.status_code == 401, (path, token, r.text)
            assert r.json()["code"] == "unauthorized"
            assert r.json()["error"]
            assert r.headers["www-authenticate"] == "Bearer"
        r = httpx.request(
            method,
            node.api + path,
            json=body,
            headers={"authorization": f"Basic {node.cookie}"},
            timeout=30,
        )
        assert r.status_code == 401
    assert node.snapshot() == before


# --- balances and payments ------------------------------------------------------------------


def test_wallet_info_and_coinbase_maturity(node: WalletNode) -> None:
    info = node.wallet()
    assert info["network"] == "regtest"
    assert info["balance"] == {"spendable": 0, "immature": 0, "pending_out": 0}
    (address,) = info["addresses"]
    payload = decode_address(address, REGTEST.hrp).payload
    wallet = Wallet.load(node.netdir / "wallet.json", REGTEST)
    assert wallet.addresses() == [address]
    assert info["l2_account"] == payload.hex()
    assert _core.hash160(_core.schnorr_public_key(wallet.secret_key(0))).hex() == payload.hex()

    assert node.generate(MATURITY - 1) == MATURITY - 1
    info = node.wallet()
    rewards = [_paid_to(node.block(h), payload) for h in range(1, MATURITY)]
    assert all(r > 0 for r in rewards)
    assert info["height"] == MATURITY - 1
    assert info["balance"] == {"spendable": 0, "immature": sum(rewards), "pending_out": 0}

    # At height MATURITY the coinbase of block 1 has MATURITY confirmations: spendable.
    node.generate(1)
    rewards.append(_paid_to(node.block(MATURITY), payload))
    info = node.wallet()
    assert info["balance"] == {
        "spendable": rewards[0],
        "immature": sum(rewards[1:]),
        "pending_out": 0,
    }
    node.generate(5)
    assert node.wallet()["balance"]["spendable"] == sum(
        _paid_to(node.block(h), payload) for h in range(1, 7)
    )


def test_send_to_a_new_address_then_mine(node: WalletNode) -> None:
    before = node.wallet()
    new = node.ok("POST", "/wallet/address")["address"]
    assert decode_address(new, REGTEST.hrp).version == 0
    after_new = node.wallet()
    assert after_new["addresses"] == [*before["addresses"], new]
    assert after_new["l2_account"] == before["l2_account"]  # always the first key
    assert new in Wallet.load(node.netdir / "wallet.json", REGTEST).addresses()

    bal = after_new["balance"]
    amount = FAI + 12_345
    sent = node.ok("POST", "/wallet/send", {"to": new, "amount": amount, "fee_rate": 3})
    assert set(sent) == {"txid", "fee", "size"}
    assert node.mempool()["txids"] == [sent["txid"]]
    pooled = node.ok("GET", f"/tx/{sent['txid']}")
    assert (pooled["fee"], pooled["size"]) == (sent["fee"], sent["size"])
    assert 3 * sent["size"] <= sent["fee"] <= 3 * (sent["size"] + 40)

    pending = node.wallet()["balance"]
    assert pending["pending_out"] > 0
    assert pending["spendable"] == bal["spendable"] - pending["pending_out"]
    assert pending["immature"] == bal["immature"]

    height = node.generate(1)
    assert node.mempool()["size"] == 0
    block = node.block(height)
    tx = _find_tx(block, sent["txid"])
    new_payload = decode_address(new, REGTEST.hrp).payload
    assert [o.value for o in tx.outputs if o.payload == new_payload] == [amount]
    # The spent coinbase is replaced by 1 FAI + change (minus the fee, which the new
    # coinbase collects, immature), and one more old coinbase matured.
    first = decode_address(before["addresses"][0], REGTEST.hrp).payload
    reward = _paid_to(block, first)
    matured = _paid_to(node.block(height - MATURITY + 1), first)
    assert reward > matured  # the fee
    mined = node.wallet()["balance"]
    assert mined == {
        "spendable": bal["spendable"] - sent["fee"] + matured,
        "immature": bal["immature"] - matured + reward,
        "pending_out": 0,
    }


def test_pay_with_a_data_output_gets_mined(node: WalletNode) -> None:
    before = node.wallet()
    message = b"funai wallet api \x00\xff"
    outputs = [
        {"kind": int(OutputKind.DATA), "value": 0, "payload": message.hex()},
        {
            "kind": int(OutputKind.PAY_TO_KEY_HASH),
            "value": 5_000,
            "payload": bytes(range(20)).hex(),
        },
        {"kind": int(OutputKind.DATA), "value": 0, "payload": ""},
    ]
    paid = node.ok("POST", "/wallet/pay", {"outputs": outputs})
    assert paid["fee"] >= 2 * paid["size"]  # the CLI's default fee rate
    assert node.mempool()["txids"] == [paid["txid"]]
    assert node.wallet()["balance"]["pending_out"] > 0
    height = node.generate(1)
    tx = _find_tx(node.block(height), paid["txid"])
    assert [(o.kind, o.value, o.payload) for o in tx.outputs[:3]] == [
        (OutputKind.DATA, 0, message),
        (OutputKind.PAY_TO_KEY_HASH, 5_000, bytes(range(20))),
        (OutputKind.DATA, 0, b""),
    ]
    assert node.mempool()["size"] == 0
    assert node.wallet()["addresses"] == before["addresses"]


def test_concurrent_requests_are_serialized(node: WalletNode) -> None:
    """Concurrent new addresses all survive in the file; concurrent sends never pick the
    same coin (each would else be refused as a mempool conflict)."""
    before = node.wallet()
    with ThreadPoolExecutor(6) as pool:
        made = list(pool.map(lambda _: node.ok("POST", "/wallet/address")["address"], range(6)))
    assert len(set(made)) == 6
    assert set(Wallet.load(node.netdir / "wallet.json", REGTEST).addresses()) == set(
        before["addresses"] + made
    )
    assert node.wallet()["addresses"][: len(before["addresses"])] == before["addresses"]

    with ThreadPoolExecutor(3) as pool:
        responses = list(
            pool.map(
                lambda to: node.request("POST", "/wallet/send", {"to": to, "amount": FAI // 2}),
                made[:3],
            )
        )
    assert [r.status_code for r in responses] == [200] * 3, [r.text for r in responses]
    assert sorted(node.mempool()["txids"]) == sorted(r.json()["txid"] for r in responses)
    node.generate(1)
    assert node.mempool()["size"] == 0


# --- rejections -----------------------------------------------------------------------------

BAD_SEND: list[tuple[Any, str]] = [
    ({"to": "tfai1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "amount": FAI}, "bad_address"),
    ({"to": encode_address("fai", 0, bytes(20)), "amount": FAI}, "bad_address"),  # mainnet
    ({"to": "", "amount": FAI}, "bad_address"),
    ({"to": 5, "amount": FAI}, "bad_address"),
    ({"amount": FAI}, "bad_address"),
    ({"to": "ADDR", "amount": 0}, "bad_amount"),
    ({"to": "ADDR", "amount": -FAI}, "bad_amount"),
    ({"to": "ADDR", "amount": 546}, "bad_amount"),  # the dust limit
    ({"to": "ADDR", "amount": 1.5}, "bad_amount"),
    ({"to": "ADDR", "amount": float(FAI)}, "bad_amount"),
    ({"to": "ADDR", "amount": "100000000"}, "bad_amount"),
    ({"to": "ADDR", "amount": True}, "bad_amount"),
    ({"to": "ADDR", "amount": None}, "bad_amount"),
    ({"to": "ADDR", "amount": MAX_MONEY + 1}, "bad_amount"),
    ({"to": "ADDR", "amount": 10**40}, "bad_amount"),
    ({"to": "ADDR"}, "bad_amount"),
    ({"to": "ADDR", "amount": MAX_MONEY}, "insufficient_funds"),
    ({"to": "ADDR", "amount": "SPENDABLE"}, "insufficient_funds"),  # no room for the fee
    ({"to": "ADDR", "amount": FAI, "fee_rate": 0}, "bad_fee_rate"),
    ({"to": "ADDR", "amount": FAI, "fee_rate": -1}, "bad_fee_rate"),
    ({"to": "ADDR", "amount": FAI, "fee_rate": 100_001}, "bad_fee_rate"),
    ({"to": "ADDR", "amount": FAI, "fee_rate": "2"}, "bad_fee_rate"),
    ({"to": "ADDR", "amount": FAI, "fee_rate": 2.0}, "bad_fee_rate"),
    ({"to": "ADDR", "amount": FAI, "fee": 2}, "bad_request"),  # a typo is not ignored
    ([], "bad_request"),
    ("ADDR", "bad_request"),
    (None, "bad_request"),
]

P2KH = bytes(20).hex()


def _out(**kw: Any) -> dict[str, Any]:
    return {"kind": 1, "value": FAI, "payload": P2KH, **kw}


BAD_PAY: list[tuple[Any, str]] = [
    ({}, "bad_output"),
    ({"outputs": []}, "bad_output"),
    ({"outputs": {"kind": 2}}, "bad_output"),
    ({"outputs": [None]}, "bad_output"),
    ({"outputs": [[2, 0, ""]]}, "bad_output"),
    ({"outputs": [_out(kind=4)]}, "bad_output"),
    ({"outputs": [_out(kind=3)]}, "bad_output"),  # a quorum payload is 32 bytes
    ({"outputs": [_out(kind=-1)]}, "bad_output"),
    ({"outputs": [_out(kind=True)]}, "bad_output"),
    ({"outputs": [_out(kind="1")]}, "bad_output"),
    ({"outputs": [_out(value=-1)]}, "bad_output"),
    ({"outputs": [_out(value=546)]}, "bad_output"),  # dust
    ({"outputs": [_out(value=0.5)]}, "bad_output"),
    ({"outputs": [_out(value=MAX_MONEY + 1)]}, "bad_output"),
    ({"outputs": [_out(payload="zz" * 20)]}, "bad_output"),
    ({"outputs": [_out(payload="0" * 39)]}, "bad_output"),  # odd length
    ({"outputs": [_out(payload=" " + "00" * 20)]}, "bad_output"),  # fromhex would allow it
    ({"outputs": [_out(payload="00" * 19)]}, "bad_output"),
    ({"outputs": [_out(payload="00" * 32)]}, "bad_output"),
    ({"outputs": [_out(payload=None)]}, "bad_output"),
    ({"outputs": [_out(kind=0, payload="00" * 20)]}, "bad_output"),
    ({"outputs": [_out(kind=0, payload="ff" * 32)]}, "bad_output"),  # not on the curve
    ({"outputs": [_out(extra=1)]}, "bad_output"),
    ({"outputs": [{"kind": 2, "value": 0}]}, "bad_output"),
    ({"outputs": [{"kind": 2, "value": 1, "payload": ""}]}, "bad_output"),
    ({"outputs": [{"kind": 2, "value": 0, "payload": "00" * 81}]}, "bad_output"),
    ({"outputs": [_out()] * 101}, "bad_output"),
    ({"outputs": [_out(value=MAX_MONEY), _out(value=1000)]}, "bad_amount"),
    ({"outputs": [_out(value=MAX_MONEY)]}, "insufficient_funds"),
    ({"outputs": [_out()], "fee_rate": 0}, "bad_fee_rate"),
    ({"outputs": [_out()], "fee_rate": None, "x": 1}, "bad_request"),
    (7, "bad_request"),
]

RAW_BODIES = [
    b"",
    b"{",
    b"\xff\xfe",
    b'{"to": ',
    b"[1, 2]",
    b"null",
    b'"x"',
    b"{" * 5000,
    b"[" * 60_000,  # nesting deeper than the decoder's recursion limit
    b"[" * 30_000 + b"]" * 30_000,
    b'{"a": ' * 9000,
]


def test_rejections_change_nothing(node: WalletNode) -> None:
    info = node.wallet()
    assert info["balance"]["spendable"] > 0  # the earlier tests funded the wallet
    address = info["addresses"][-1]
    spendable = info["balance"]["spendable"]
    before = node.snapshot()

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if value == "ADDR":
            return address
        return spendable if value == "SPENDABLE" else value

    cases = [("/wallet/send", fill(b), c) for b, c in BAD_SEND]
    cases += [("/wallet/pay", b, c) for b, c in BAD_PAY]
    for path, body, code in cases:
        r = node.request("POST", path, content=json.dumps(body).encode())
        assert r.status_code == 400, (path, body, r.status_code, r.text)
        assert r.json()["code"] == code, (path, body, r.text)
        assert isinstance(r.json()["error"], str)
        assert r.json()["error"]
    for path in ("/wallet/send", "/wallet/pay"):
        for raw in RAW_BODIES:
            r = node.request("POST", path, content=raw)
            assert r.status_code == 400, (path, raw, r.text)
            assert r.json()["code"] == "bad_request"
        r = node.request("POST", path, content=b" " * (64 * 1024 + 1))
        assert (r.status_code, r.json()["code"]) == (413, "too_large")
    r = node.request("GET", "/wallet/send")
    assert r.status_code == 405
    assert node.snapshot() == before


def test_missing_or_unreadable_wallet(node: WalletNode) -> None:
    path = node.netdir / "wallet.json"
    before = node.snapshot()
    moved = path.with_name("wallet.moved")
    path.rename(moved)
    try:
        for method, route, body in [
            ("GET", "/wallet", None),
            ("POST", "/wallet/address", {}),
            ("POST", "/wallet/send", {"to": before[3]["addresses"][0], "amount": FAI}),
        ]:
            r = node.request(method, route, body)
            assert (r.status_code, r.json()["code"]) == (404, "no_wallet"), r.text
        assert not path.exists()  # not created behind the user's back
    finally:
        moved.rename(path)
    os.chmod(path, 0o644)
    try:
        r = node.request("GET", "/wallet")
        assert (r.status_code, r.json()["code"]) == (503, "wallet_unavailable"), r.text
    finally:
        os.chmod(path, 0o600)
    assert node.snapshot() == before


# --- fuzzing with the cookie (the shared fuzzer has none, so it only sees 401s) ------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
INTS = st.one_of(st.integers(-(2**70), 2**70), st.integers(0, 10 * FAI), JSON)
HEX = st.binary(max_size=90).map(bytes.hex)
OUTPUT = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.one_of(st.integers(-1, 3), JSON),
        "value": INTS,
        "payload": st.one_of(HEX, st.text(max_size=40), JSON),
        "x": JSON,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(data=st.data())
def test_fuzz_wallet_routes_no_5xx(node: WalletNode, data: st.DataObject) -> None:
    addresses = node.wallet()["addresses"]
    to = st.one_of(st.sampled_from(addresses), st.text(max_size=60), JSON)
    send = st.fixed_dictionaries(
        {}, optional={"to": to, "amount": INTS, "fee_rate": INTS, "y": JSON}
    )
    pay = st.fixed_dictionaries(
        {},
        optional={
            "outputs": st.one_of(st.lists(OUTPUT, max_size=4), JSON),
            "fee_rate": INTS,
        },
    )
    path, shaped = data.draw(
        st.sampled_from([("/wallet/send", send), ("/wallet/pay", pay)]), label="route"
    )
    body = data.draw(
        st.one_of(
            shaped.map(lambda v: json.dumps(v).encode()),
            JSON.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=40),
        ),
        label="body",
    )
    r = node.request("POST", path, content=body)
    assert r.status_code < 500, (path, body, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert r.json()["error"], r.text
    if r.status_code == 200:
        assert len(r.json()["txid"]) == 64
