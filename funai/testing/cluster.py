"""An in-process L2 network for the layer-2 tests: keys, a fake L1 chain, one L2 state."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funai import _core
from funai.errors import FunaiError
from funai.hashing import sha256
from funai.layer2.block import L2Block
from funai.layer2.commitment import Commitment
from funai.layer2.consensus import apply_block, build_block
from funai.layer2.messages import (
    L2AdMsg,
    L2BlockMsg,
    L2BlocksMsg,
    L2PegSigMsg,
    L2TxMsg,
    L2VoteMsg,
)
from funai.layer2.node import Generate, Judge, L2Node
from funai.layer2.params import L2Params
from funai.layer2.registration import Registration, RegRef
from funai.layer2.sortition import Round, Sortition
from funai.layer2.state import L2State
from funai.layer2.transactions import InferenceContent, L2Tx, account_of
from funai.layer2.votes import QuorumCertificate, Verdict, make_vote, try_form_qc
from funai.ledger.tx import COIN, OutputKind, Transaction, TxOut
from funai.network.messages import Message, decode_payload, encode_payload
from funai.storage.sqlite import connect

NETWORK_ID = sha256(b"l2 test network")
MODEL = _core.blake3(b"model files: smollm2")
MODEL_B = _core.blake3(b"model files: another model")


def skey(name: str) -> bytes:
    """A deterministic Schnorr secret key."""
    return sha256(b"schnorr:" + name.encode())


def vkey(name: str) -> bytes:
    """A deterministic VRF secret seed."""
    return sha256(b"vrf:" + name.encode())


def acct(name: str) -> bytes:
    return account_of(_core.schnorr_public_key(skey(name)))


VERIFIER_NAMES = [f"verifier{i}" for i in range(5)]
VERIFIERS = [f"v{i}" for i in range(5)]


def payout_of(name: str) -> bytes:
    return _core.hash160(_core.schnorr_public_key(skey(name)))


def make_params(**kw: object) -> L2Params:
    base: dict[str, object] = {
        "network_id": NETWORK_ID,
        "genesis_models": (MODEL,),
        "genesis_verifiers": tuple(
            (_core.schnorr_public_key(skey(n)), payout_of(n)) for n in VERIFIER_NAMES
        ),
        "min_stake": 100 * COIN,
        "min_bond": 10 * COIN,
        "epoch_length": 5,
        "unbonding_delay": 5,
        "model_activation_delay": 2,
    }
    base.update(kw)
    return L2Params(**base)  # type: ignore[arg-type]


def data_tx(
    payloads: Sequence[bytes], pays: Sequence[TxOut] = (), salt: bytes = b""
) -> Transaction:
    """An L1-shaped transaction (the sortition reads only outputs)."""
    outs = [*pays, *(TxOut(int(OutputKind.DATA), 0, p) for p in payloads)]
    if salt:
        outs.append(TxOut(int(OutputKind.DATA), 0, b"salt" + salt))
    return Transaction(1, (), tuple(outs))


def commit_tx(commit: Commitment, payouts: Sequence[tuple[int, bytes]], each: int) -> Transaction:
    pays = [TxOut(k, each, p) for k, p in payouts]
    return Transaction(1, (), (*pays, *commit.outputs()))


@dataclass
class L1Block:
    hash: bytes
    prev: bytes
    height: int
    txs: list[Transaction]


@dataclass
class Net:
    """One node's view: an L2 state, the sortition and a fake L1 chain."""

    path: Path
    params: L2Params = field(default_factory=make_params)
    l1: list[L1Block] = field(default_factory=list)
    regs: dict[str, RegRef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conn: sqlite3.Connection = connect(self.path, synchronous="NORMAL")
        self.state = L2State(self.conn, self.params)
        self.sortition = Sortition(self.params.network_id, self.params.median_window)

    def payouts(self) -> list[tuple[int, bytes]]:
        return [(v.payout_kind, v.payout) for v in self.state.verifiers()]

    def tip_hash(self) -> bytes:
        return self.l1[-1].hash if self.l1 else bytes(32)

    def mine_l1(self, txs: list[Transaction], salt: bytes = b"") -> Round:
        height = len(self.l1) + 1
        prev = self.tip_hash()
        h = sha256(b"l1:" + prev + height.to_bytes(4, "big") + salt)
        self.l1.append(L1Block(h, prev, height, txs))
        return self.sortition.process_block(h, prev, height, txs, self.payouts())

    def register(self, name: str) -> RegRef:
        reg = Registration(_core.vrf_public_key(vkey(name)), acct(name))
        self.mine_l1([data_tx([reg.encode()])])
        ref = RegRef(len(self.l1), 0, 0)
        self.regs[name] = ref
        return ref

    def commitment(self, name: str, parent: bytes | None = None) -> Commitment:
        seed = self.sortition.seed_after(self.tip_hash())
        proof = _core.vrf_prove(vkey(name), seed)
        return Commitment(self.state.tip() if parent is None else parent, self.regs[name], proof)

    def elect(self, bids: dict[str, int]) -> Round:
        pay = self.payouts()
        txs = [commit_tx(self.commitment(n), pay, b // len(pay)) for n, b in bids.items()]
        return self.mine_l1(txs)

    def fund(self, name: str, amount: int) -> None:
        """A test allocation, accounted as a peg-in so the supply invariant holds."""
        with self.state.atomic():
            self.state.credit(acct(name), amount)
            self.state.add_meta("pegged_in", amount)

    def produce(
        self,
        rnd: Round,
        txs: Sequence[L2Tx] = (),
        qc: QuorumCertificate | None = None,
    ) -> L2Block:
        assert rnd.winner is not None
        name = next(n for n in self.regs if self.regs[n] == rnd.winner.reg)
        block = build_block(self.state, skey(name), rnd, list(txs), qc, elected=self.elected)
        apply_block(self.state, block, rnd, elected=self.elected)
        return block

    def elected(self, l1_block: bytes) -> tuple[bytes, bytes] | None:
        """The elected producer of an election: ``(account, vrf_proof)`` (rule
        ``equivocation-not-elected``)."""
        r = self.sortition.rounds.get(l1_block)
        if r is None or r.winner is None:
            return None
        return r.winner.registration.l2_account, r.winner.commitment.proof

    def vote_all(
        self, block: L2Block, decisions: dict[str, list[bool]]
    ) -> QuorumCertificate | None:
        votes = [
            make_vote(
                skey(n), NETWORK_ID, block.hash(), [Verdict(a, 900_000 if a else 10_000) for a in d]
            )
            for n, d in decisions.items()
        ]
        keys = [v.key for v in self.state.verifiers()]
        return try_form_qc(NETWORK_ID, block.hash(), keys, votes)


def good_text(model: bytes, text: str) -> str:
    """What the honest fake executor answers to ``text``."""
    return f"[{model[:2].hex()}] answer to {text}"


def good_answer(model: bytes, asked: InferenceContent, seed: int) -> InferenceContent:
    return asked.answered(good_text(model, asked.input), (), "eos")


def garbage(model: bytes, asked: InferenceContent, seed: int) -> InferenceContent:
    return asked.answered("zxqv garbage", (), "eos")


def fake_judge(model: bytes, content: InferenceContent, seed: int = 0) -> Verdict:
    ok = content.output == good_text(model, content.input)
    return Verdict(ok, 950_000 if ok else 20_000, -1_500 if ok else -9_000)


class Cluster:
    """Verifier and inference nodes (``L2Node``) on a fake L1, with an in-process gossip bus
    that round-trips every message through the network encoding."""

    def __init__(
        self,
        tmp: Path,
        judges: dict[str, Judge],
        executors: dict[str, Generate],
        models: tuple[bytes, ...] = (MODEL,),
        **overrides: object,
    ) -> None:
        params = make_params(
            genesis_verifiers=tuple(
                (
                    _core.schnorr_public_key(skey(n)),
                    _core.hash160(_core.schnorr_public_key(skey(n))),
                )
                for n in judges
            ),
            **{"confirmations": 2, **overrides},
        )
        self.params = params
        self.nodes: dict[str, L2Node] = {}
        for n in judges:
            self.nodes[n] = L2Node(
                tmp / n, params, skey(n), verifier=True, judge=judges[n], synchronous="NORMAL"
            )
        for n, gen in executors.items():
            self.nodes[n] = L2Node(
                tmp / n,
                params,
                skey(n),
                vrf_sk=vkey(n),
                models=set(models),
                generate=gen,
                synchronous="NORMAL",
            )
        self.l1_tip = bytes(32)
        self.l1_height = 0
        self.delivered = 0
        self.tmp = tmp
        self.l1_blocks: list[tuple[bytes, bytes, int, list[Transaction]]] = []
        #: ``(sender, receiver, message) -> deliver now?``; what it refuses waits in held
        self.deliver: Callable[[str, str, Message], bool] | None = None
        self.held: list[tuple[str, str, Message]] = []
        self.offline: set[str] = set()
        #: everything that happened, in order: ``("l1", (hash, prev, height, txs))`` and
        #: ``("msg", (sender, message))`` (replayed in other orders by the arrival tests)
        self.journal: list[tuple[str, Any]] = []
        self.judges = judges

    def fund(self, name: str, amount: int) -> None:
        for node in self.nodes.values():
            with node.state.atomic():
                node.state.credit(acct(name), amount)
                node.state.add_meta("pegged_in", amount)

    def mine(self, outputs: list[list[TxOut]], salt: bytes = b"") -> None:
        """One L1 block holding one transaction per output list; every online node sees
        it."""
        txs = [Transaction(1, (), tuple(o)) for o in outputs if o]
        self.l1_height += 1
        h = sha256(b"L1" + self.l1_tip + self.l1_height.to_bytes(4, "big") + salt)
        prev, self.l1_tip = self.l1_tip, h
        self.l1_blocks.append((h, prev, self.l1_height, txs))
        self.journal.append(("l1", (h, prev, self.l1_height, txs)))
        for name, node in self.nodes.items():
            if self.online(name):
                node.on_l1_block(h, prev, self.l1_height, txs)
        self.pump()

    def reorg(self, depth: int, blocks: list[list[list[TxOut]]]) -> None:
        """An L1 reorganisation: the last ``depth`` blocks are replaced by ``blocks`` (each a
        list of output lists); every online node is fed the new branch from the fork point,
        as ``L1Follower`` does."""
        assert len(blocks) > depth
        del self.l1_blocks[len(self.l1_blocks) - depth :]
        self.l1_height -= depth
        self.l1_tip = self.l1_blocks[-1][0] if self.l1_blocks else bytes(32)
        fork = len(self.l1_blocks)
        for outputs in blocks:
            txs = [Transaction(1, (), tuple(o)) for o in outputs if o]
            self.l1_height += 1
            h = sha256(b"L1 fork" + self.l1_tip + self.l1_height.to_bytes(4, "big"))
            self.l1_blocks.append((h, self.l1_tip, self.l1_height, txs))
            self.l1_tip = h
        for name, node in self.nodes.items():
            if self.online(name):
                for h, prev, height, txs in self.l1_blocks[fork:]:
                    node.on_l1_block(h, prev, height, txs)
        self.pump()

    def catch_up(self, name: str) -> None:
        """``name`` comes back online: it follows the L1 blocks it missed, then syncs L2."""
        self.offline.discard(name)
        node = self.nodes[name]
        heights = {h: i for i, (h, _, _, _) in enumerate(self.l1_blocks)}
        start = heights.get(node.l1_tip, -1) + 1
        for h, prev, height, txs in self.l1_blocks[start:]:
            node.on_l1_block(h, prev, height, txs)
        for peer in self.nodes:
            if peer != name and self.online(peer):
                self.sync(name, peer)
        self.pump()

    def pump(self) -> None:
        """Delivers every outbox message to every other node until all are empty, as the
        P2P layer would: through the wire encoding, each from its sender (so a refused one
        is dropped), with the L2 sync and content fetches the nodes ask for. A message for
        which :attr:`deliver` returns False is kept in :attr:`held` instead."""
        while True:
            moved = False
            for name, node in self.nodes.items():
                while node.outbox:
                    msg = node.outbox.pop(0)
                    wire = decode_payload(encode_payload(msg))
                    assert isinstance(
                        wire, L2TxMsg | L2BlockMsg | L2VoteMsg | L2AdMsg | L2PegSigMsg
                    )
                    self.journal.append(("msg", (name, wire)))
                    for other in self.nodes:
                        if other == name or not self.online(other):
                            continue
                        if self.deliver is not None and not self.deliver(name, other, wire):
                            self.held.append((name, other, wire))
                            continue
                        self.send(name, other, wire)
                    self.delivered += 1
                    moved = True
            for name in self.nodes:
                if self.online(name):
                    moved |= self.fetch(name)
            if not moved:
                return

    def send(self, sender: str, to: str, msg: Message) -> None:
        """One message to one node (a refused one is dropped: its rule is logged)."""
        with contextlib.suppress(FunaiError):
            self.nodes[to].receive(msg, sender)

    def release(self, which: Callable[[str, str, Message], bool] = lambda *_: True) -> None:
        """Delivers the held messages ``which`` selects, then pumps."""
        keep = []
        for sender, to, msg in self.held:
            if which(sender, to, msg):
                self.send(sender, to, msg)
            else:
                keep.append((sender, to, msg))
        self.held = keep
        self.pump()

    def fetch(self, name: str) -> bool:
        """What ``name`` asks its peers for: the L2 blocks after its locator from the peers
        it wants to sync with (rule ``l2-sync``), and the contents its judging waits for."""
        node = self.nodes[name]
        moved = False
        wanted, node.sync_wanted = node.sync_wanted, set()
        for peer in sorted(str(w) for w in wanted if w in self.nodes):
            moved |= self.sync(name, peer) > 0
        for h in node.wanted_blocks():  # siblings a commitment names, asked by hash
            for peer, other in self.nodes.items():
                block = other.blocks.get(h) if peer != name and self.online(peer) else None
                if block is not None:
                    contents = other.producer.contents_of(block)
                    self.send(peer, name, L2BlockMsg.make(block, contents))
                    moved |= h in node.chain.entries
                    break
        txids = node.wanted_contents()
        if txids:
            for peer, other in self.nodes.items():
                if peer != name and self.online(peer):
                    got = other.contents_for(txids)
                    if got and node.receive_contents(got):
                        moved = True
        return moved

    def online(self, name: str) -> bool:
        return name not in self.offline

    def sync(self, name: str, peer: str) -> int:
        """``name`` fetches the L2 blocks it lacks from ``peer`` (l2getblocks/l2blocks)."""
        node, other = self.nodes[name], self.nodes[peer]
        total = 0
        for _ in range(100):
            blocks, qcs = other.blocks_after(node.locator())
            wire = decode_payload(encode_payload(L2BlocksMsg.make(blocks, qcs)))
            assert isinstance(wire, L2BlocksMsg)
            got = node.receive_blocks(*wire.parse(), peer)
            total += got
            if not got:
                break
        return total

    def round(self, bids: dict[str, int]) -> None:
        """Every bidder commits on its tip; L1 also carries any pending anchors."""
        anchors = self.nodes[next(iter(self.judges))].anchor_outputs()
        self.mine([self.nodes[n].commitment_outputs(b) for n, b in bids.items()] + [anchors])
