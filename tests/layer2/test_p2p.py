"""Two nodes on a loopback P2P network, in-process: L1 blocks mined on A reach B through the
network, both follow L1, A is elected and produces, both verify and vote over the gossip,
and both end with the same finalized L2 state; a third node that joins late catches up by
L2 sync (rule ``l2-sync``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import trio

from funai import _core
from funai.layer2.p2p import L2Gossip
from funai.layer2.pegs import pegin_output
from funai.layer2.service import L2Node, sign_request
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainservice import ChainService
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import COIN, OutputKind, TxOut
from funai.network.addrbook import AddrBook
from funai.network.handshake import LocalIdentity
from funai.network.manager import NetConfig, PeerManager
from funai.testing.cluster import (
    MODEL,
    NETWORK_ID,
    acct,
    fake_judge,
    good_answer,
    good_text,
    make_params,
    skey,
    vkey,
)

T = TypeVar("T")
MINER = _core.hash160(_core.schnorr_public_key(skey("miner")))


def make_block(service: ChainService, extra: list[TxOut]) -> Block:
    chain = service.chain
    entry = chain.tip
    height = entry.height + 1
    reward = l1_subsidy(height, REGTEST.halving_interval)
    outs = [
        TxOut(int(OutputKind.PAY_TO_KEY_HASH), reward - sum(o.value for o in extra), MINER),
        *extra,
    ]
    cb = make_coinbase(height, outs, b"", witness_root([make_coinbase(height, outs)]))
    when = max(int(time.time()), chain.median_time_past(entry) + 1)
    header = BlockHeader(1, entry.hash, tx_merkle_root([cb]), when, chain.next_bits(entry), 0)
    target = decode_compact(header.bits).target
    nonce = 0
    while hash_to_int(header.with_nonce(nonce).hash()) > target:
        nonce += 1
    return Block(header.with_nonce(nonce), (cb,))


class P2PNode:
    def __init__(self, tmp: Path, name: str, peers: list[str], producer: bool) -> None:
        self.service = ChainService(tmp / name / "chain.sqlite", REGTEST, synchronous="NORMAL")
        identity = LocalIdentity.generate(REGTEST.name, self.service.chain.genesis_hash)
        config = NetConfig(listen_port=0, peers=peers, discover=False)
        self.net = PeerManager(self.service, identity, config, AddrBook(None))
        params = make_params(
            genesis_verifiers=tuple(
                (
                    _core.schnorr_public_key(skey(n)),
                    _core.hash160(_core.schnorr_public_key(skey(n))),
                )
                for n in ("a", "b")
            ),
            confirmations=2,
            min_bond=COIN // 10,
        )
        self.l2 = L2Node(
            tmp / name / "l2",
            params,
            skey(name),
            vrf_sk=vkey(name) if producer else None,
            verifier=True,
            judge=fake_judge,
            models={MODEL} if producer else (),
            generate=good_answer if producer else None,
            synchronous="NORMAL",
        )
        self.gossip = L2Gossip(self.net, self.service, self.l2)


async def wait_for(what: str, cond: object, timeout: float = 20.0) -> None:
    with trio.fail_after(timeout):
        while not cond():  # type: ignore[operator]
            await trio.sleep(0.02)


def test_two_nodes_over_loopback(tmp_path: Path) -> None:
    async def main() -> None:
        a = P2PNode(tmp_path, "a", [], producer=True)
        async with trio.open_nursery() as nursery:
            port = await nursery.start(a.net.run)
            b = P2PNode(tmp_path, "b", [f"127.0.0.1:{port}"], producer=False)
            await nursery.start(b.net.run)
            await a.gossip.start()
            await b.gossip.start()
            await wait_for("connected", lambda: a.net.ready_peers() and b.net.ready_peers())

            async def mine(extra: list[TxOut]) -> None:
                block = make_block(a.service, extra)
                await a.service.submit_blocks([block])
                await wait_for("L1 relay", lambda: b.l2.l1_tip == block.hash())

            await mine([a.l2.registration_output()])
            assert a.l2.reg_ref is not None
            pool_kind, pool = a.l2.pool_output()
            await mine([TxOut(pool_kind, COIN // 2, pool), pegin_output(acct("user"))])
            await mine([TxOut(pool_kind, COIN // 2, pool), pegin_output(acct("a"))])
            await mine(a.l2.commitment_outputs(COIN // 2))
            await wait_for("L2 block on B", lambda: b.l2.state.height == 0)
            tip = a.l2.state.tip()
            await wait_for("QC on both", lambda: a.l2.finalized(tip) and b.l2.finalized(tip))
            assert b.l2.state.state_root() == a.l2.state.state_root()
            assert b.l2.state.balance(acct("user")) == COIN // 2  # peg-ins, via the producer

            async def on_a(fn: Callable[..., T], *args: object) -> T:
                out = await trio.to_thread.run_sync(a.gossip.call, fn, *args)
                a.gossip.flush()
                return out

            nonce = a.l2.state.account(acct("a"))[1]
            bond = sign_tx(skey("a"), TxKind.BOND, nonce, [COIN // 5], NETWORK_ID)
            await on_a(a.l2.submit, bond)
            await wait_for("bond gossiped", lambda: bond.txid() in b.l2.mempool)
            await mine(a.l2.commitment_outputs(COIN // 2))
            await wait_for("block 1", lambda: b.l2.state.bond(acct("a")) == COIN // 5)

            # immediate execution on A; the transaction and its content reach B by gossip
            req = sign_request(skey("user"), 0, MODEL, COIN // 10, "hello?", NETWORK_ID)
            output, tx = await on_a(a.l2.execute, req, "hello?")
            assert output == good_text(MODEL, "hello?")
            await wait_for("tx gossiped", lambda: tx.txid() in b.l2.mempool)
            await mine(a.l2.commitment_outputs(COIN // 2))
            await wait_for("block 2", lambda: b.l2.state.height == 2)
            tip2 = b.l2.state.tip()
            await wait_for("QC 2", lambda: a.l2.finalized(tip2) and b.l2.finalized(tip2))
            assert b.l2.qcs[tip2].decision == (True,)
            assert len(b.l2.qcs[tip2].votes) == 2
            assert b.l2.state.state_root() == a.l2.state.state_root()

            # a late joiner: it syncs L1 headers-first, then the L2 blocks by locator
            # (l2getblocks/l2blocks), QCs included, without any block being gossiped again
            c = P2PNode(tmp_path, "c", [f"127.0.0.1:{port}"], producer=False)
            await nursery.start(c.net.run)
            await c.gossip.start()
            await wait_for(
                "the late joiner on A's L2 tip",
                lambda: c.l2.state.tip() == a.l2.state.tip() and c.l2.finalized(tip2),
            )
            assert c.l2.state.state_root() == a.l2.state.state_root()
            assert c.l2.state.balance(acct("user")) == b.l2.state.balance(acct("user"))
            nursery.cancel_scope.cancel()

    trio.run(main)
