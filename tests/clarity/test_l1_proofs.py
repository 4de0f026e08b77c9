"""Paper section 9: a Clarity contract proves that a FAI L1 transaction was mined.

Real regtest L1 blocks (funai.ledger: signed spends, a coinbase, the non-malleable tree)
are mined; ``fai-l1-proofs`` checks the header against the ledger view's header-hash, the
Merkle path against the header's root and the re-encoded transaction against its txid.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trio

from funai.clarity import ClarityVM, SimpleChain
from funai.clarity.library import library_source
from funai.errors import MalformedInputError
from funai.ledger.block import Block
from funai.ledger.encoding import encode
from funai.ledger.proof import (
    TxProof,
    clarity_tx,
    find_tx_proof,
    merkle_proof,
    root_from_proof,
    tx_proof,
)
from funai.ledger.tx import OutputKind, TxOut
from tests.layer2.l1kit import L1

DEPLOYER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"
LIB = f"{DEPLOYER}.fai-l1-proofs"
SHOP_KEY = bytes(range(1, 33))  # the x-only key the L2 contract wants paid


def _key(i: int) -> bytes:
    return bytes([i]) * 32


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[L1, list[Block]]:
    """Blocks of 1, 2, 3, 5 and 6 transactions (coinbase included)."""
    l1 = L1(tmp_path_factory.mktemp("l1") / "chain")
    for _ in range(30):
        l1.mine()
    blocks = []
    spent = 1
    for n in (0, 1, 2, 4, 5):
        txs = []
        for j in range(n):
            outs = [TxOut(int(OutputKind.PAY_TO_KEY), 1000 * (j + 1), _key(j + 1))]
            if j == 1:
                outs.append(TxOut(int(OutputKind.PAY_TO_KEY), 777_000, SHOP_KEY))
                outs.append(TxOut(int(OutputKind.DATA), 0, b"memo:" + bytes(20)))
            txs.append(l1.spend_coinbase(spent, outs))
            spent += 1
        blocks.append(l1.mine(txs=txs))
    return l1, blocks


def _vm(l1: L1) -> ClarityVM:
    """A VM whose ledger view is the real chain: header-hash = the block hash at a height."""
    tip = l1.chain.height
    hashes: dict[int, dict[str, int | bytes | str]] = {}
    for h in range(tip + 1):
        block = l1.chain.block_at(h)
        assert block is not None
        hashes[h] = {"header-hash": block.hash()}
    vm = ClarityVM(chain=SimpleChain(height=5, burn_height=tip + 1, burn_blocks=hashes))
    vm.deploy("fai-l1-proofs", library_source("fai-l1-proofs"), sender=DEPLOYER)
    return vm


def _height(l1: L1, block: Block) -> int:
    return l1.chain.index[block.hash()].height


def _verify(vm: ClarityVM, *args: str) -> str | None:
    return vm.read_only(LIB, "verify-tx-mined", *args).result


def test_python_proofs_match_the_tree(chain: tuple[L1, list[Block]]) -> None:
    _, blocks = chain
    for block in blocks:
        for tx in block.txs:
            proof = merkle_proof(block, tx.txid())
            assert root_from_proof(tx.txid(), proof) == block.header.merkle_root
    # the promoted odd node: the last of 5 leaves has one step only
    five = blocks[3]
    assert len(five.txs) == 5
    assert len(merkle_proof(five, five.txs[4].txid())) == 1
    assert len(merkle_proof(five, five.txs[0].txid())) == 3
    with pytest.raises(MalformedInputError):
        merkle_proof(five, bytes(32))


def test_contract_encodes_like_the_ledger(chain: tuple[L1, list[Block]]) -> None:
    l1, blocks = chain
    vm = _vm(l1)
    for tx in (blocks[4].txs[0], blocks[4].txs[2]):  # a coinbase and a spend
        stripped = encode(tx.to_cbor()[:5])  # what the txid hashes
        res = vm.read_only(LIB, "encode-tx", clarity_tx(tx))
        assert res.result == "0x" + stripped.hex()
        res = vm.read_only(LIB, "get-txid", clarity_tx(tx))
        assert res.result == "0x" + tx.txid().hex()


def test_contract_accepts_real_proofs(chain: tuple[L1, list[Block]]) -> None:
    l1, blocks = chain
    vm = _vm(l1)
    for block in blocks:
        h = _height(l1, block)
        for tx in block.txs:
            p = tx_proof(block, h, tx.txid())
            assert _verify(vm, *p.clarity_args()) == f"(ok 0x{tx.txid().hex()})"
    block = blocks[2]
    p = tx_proof(block, _height(l1, block), block.txs[2].txid())
    out = vm.read_only(LIB, "verify-output", *p.clarity_args(), "u1").result
    assert out == (
        f"(ok {{kind: u0, payload: 0x{SHOP_KEY.hex()}, txid: 0x{p.tx.txid().hex()}, "
        "value: u777000})"
    )
    assert vm.read_only(LIB, "verify-output", *p.clarity_args(), "u9").result == "(err u5)"


def test_contract_refuses_forgeries(chain: tuple[L1, list[Block]]) -> None:
    l1, blocks = chain
    vm = _vm(l1)
    block = blocks[3]
    h = _height(l1, block)
    p = tx_proof(block, h, block.txs[2].txid())
    height, header, tx, proof = p.clarity_args()
    # a forged path: a flipped sibling, a wrong side, a missing step, an extra step
    bad = [(bytes(32), p.proof[0][1]), *p.proof[1:]]
    assert _verify(vm, height, header, tx, TxProof(h, p.header, p.tx, bad).clarity_args()[3]) == (
        "(err u3)"
    )
    flipped = [(s, not left) for s, left in p.proof]
    assert _verify(
        vm, height, header, tx, TxProof(h, p.header, p.tx, flipped).clarity_args()[3]
    ) == ("(err u3)")
    assert _verify(vm, height, header, tx, "(list)") == "(err u3)"
    # the path of an inner node posing as a leaf
    inner = p.proof[1:]
    assert _verify(vm, height, header, tx, TxProof(h, p.header, p.tx, inner).clarity_args()[3]) == (
        "(err u3)"
    )
    # another height: another block's hash (or none at all)
    assert _verify(vm, f"u{h - 1}", header, tx, proof) == "(err u2)"
    assert _verify(vm, f"u{h + 1}", header, tx, proof) == "(err u2)"
    assert _verify(vm, f"u{l1.chain.height + 1}", header, tx, proof) == "(err u1)"
    # a tampered transaction: more paid, another key, another input, a dropped output
    o = p.tx.outputs[0]
    for t in (
        replace(p.tx, outputs=(TxOut(o.kind, o.value + 1, o.payload),)),
        replace(p.tx, outputs=(TxOut(o.kind, o.value, SHOP_KEY),)),
        replace(p.tx, inputs=tuple(reversed(p.tx.inputs)) + p.tx.inputs),
        replace(p.tx, lock_time=1),
    ):
        assert _verify(vm, height, header, clarity_tx(t), proof) == "(err u3)"
    # a value beyond 2^64 whose low bits encode the real one
    big = tx.replace(f"value: u{o.value}", f"value: u{o.value + 2**64}")
    assert big != tx
    assert _verify(vm, height, header, big, proof) == "(err u4)"
    # a tampered header: another root (with the real block hash it does not match)
    forged_header = bytearray(p.header)
    forged_header[40] ^= 1
    assert _verify(vm, height, "0x" + forged_header.hex(), tx, proof) == "(err u2)"
    # a proof for a transaction of another block against this block
    other = blocks[4]
    q = tx_proof(other, _height(l1, other), other.txs[1].txid())
    assert _verify(vm, height, header, q.clarity_args()[2], q.clarity_args()[3]) == "(err u3)"


def test_find_proof_the_api_route_and_the_cli(
    chain: tuple[L1, list[Block]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from starlette.testclient import TestClient

    from funai.api.app import build_app

    l1, blocks = chain
    block = blocks[3]
    h = _height(l1, block)
    tx = block.txs[3]
    found = find_tx_proof(l1.chain, tx.txid())
    assert found is not None
    assert (found.height, found.proof) == (h, merkle_proof(block, tx.txid()))
    assert find_tx_proof(l1.chain, tx.txid(), h - 1) is None
    assert find_tx_proof(l1.chain, bytes(32)) is None

    async def run(fn: object, *args: object) -> object:
        return fn(*args)  # type: ignore[operator]

    fake = SimpleNamespace(
        service=SimpleNamespace(chain=l1.chain, run=run, wallet_lock=trio.Lock()),
        config=SimpleNamespace(inference=False, verifier=False, models=[]),
        netdir=tmp_path,
        l2=None,
    )
    client = TestClient(build_app(fake))  # type: ignore[arg-type]
    r = client.get(f"/v1/l1/tx/{tx.txid()[::-1].hex()}/proof")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["height"] == h
    assert data["confirmations"] == l1.chain.height - h + 1
    assert data["block_hash"] == block.hash()[::-1].hex()
    vm = _vm(l1)
    c = data["clarity"]
    res = vm.read_only(LIB, "verify-tx-mined", c["height"], c["header"], c["tx"], c["proof"])
    assert res.result == f"(ok 0x{tx.txid().hex()})"
    assert client.get(f"/v1/l1/tx/{tx.txid()[::-1].hex()}/proof?height={h}").status_code == 200
    assert client.get(f"/v1/l1/tx/{tx.txid()[::-1].hex()}/proof?height=1").status_code == 404
    assert client.get(f"/v1/l1/tx/{tx.txid()[::-1].hex()}/proof?height=-1").status_code == 400
    assert client.get("/v1/l1/tx/zz/proof").status_code == 400
    # funai wallet proof TXID: the same through the CLI
    import httpx
    from typer.testing import CliRunner

    from funai.cli import app

    def get(url: str, timeout: float) -> Any:
        return client.get("/v1" + url.removeprefix("http://node/v1"))

    monkeypatch.setattr(httpx, "get", get)
    txid = tx.txid()[::-1].hex()
    base = ["wallet", "proof", "--node", "http://node/v1"]
    cli = CliRunner().invoke(app, [*base, txid])
    assert cli.exit_code == 0, cli.output
    lines = cli.stdout.splitlines()
    assert f"at height {h}" in lines[0]
    assert lines[1:] == [c["height"], c["header"], c["tx"], c["proof"]]
    cli = CliRunner().invoke(app, [*base, txid, "--json", "--height", str(h)])
    assert cli.exit_code == 0
    assert json.loads(cli.stdout)["proof"] == data["proof"]
    assert CliRunner().invoke(app, [*base, txid, "--height", "1"]).exit_code == 1
    assert CliRunner().invoke(app, [*base, "xyz"]).exit_code == 2


def test_largest_transaction_and_deep_tree_within_cost_limits() -> None:
    """32 inputs, 16 80-byte outputs, every integer at its largest, 4096 leaves."""
    import hashlib

    from funai import _core
    from funai.ledger.header import BlockHeader
    from funai.ledger.proof import clarity_proof
    from funai.ledger.tx import OutPoint, Transaction, TxIn

    def rnd(i: int) -> bytes:
        return hashlib.sha256(i.to_bytes(4, "big")).digest()

    tx = Transaction(
        2**32 - 1,
        tuple(TxIn(OutPoint(rnd(i), 2**32 - 1)) for i in range(32)),
        tuple(TxOut(255, 2**64 - 1, (rnd(i) * 3)[:80]) for i in range(16)),
        2**32 - 1,
    )
    txids = [rnd(10_000 + i) for i in range(4096)]
    txids[1234] = tx.txid()
    header = BlockHeader(1, bytes(32), _core.merkle_root(txids), 0, 0x207FFFFF, 0)
    chain = SimpleChain(burn_height=10, burn_blocks={5: {"header-hash": header.hash()}})
    vm = ClarityVM(chain=chain)
    vm.deploy("fai-l1-proofs", library_source("fai-l1-proofs"), sender=DEPLOYER)
    proof = merkle_proof(txids, tx.txid())
    assert len(proof) == 12
    args = ("u5", "0x" + header.serialize().hex(), clarity_tx(tx), clarity_proof(proof))
    res = vm.read_only(LIB, "verify-tx-mined", *args)
    assert res.result == f"(ok 0x{tx.txid().hex()})"
    assert res.cost["runtime"] < vm.call_limit["runtime"] // 20
