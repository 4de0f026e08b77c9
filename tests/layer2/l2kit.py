"""An in-process L2 network for the layer-2 tests: keys, a fake L1 chain, one L2 state."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from funai import _core
from funai.hashing import sha256
from funai.layer2.block import L2Block
from funai.layer2.commitment import Commitment
from funai.layer2.consensus import apply_block, build_block
from funai.layer2.messages import L2AdMsg, L2BlockMsg, L2PegSigMsg, L2TxMsg, L2VoteMsg
from funai.layer2.params import L2Params
from funai.layer2.registration import Registration, RegRef
from funai.layer2.service import Generate, Judge, L2Node
from funai.layer2.sortition import Round, Sortition
from funai.layer2.state import L2State
from funai.layer2.transactions import InferenceContent, L2Tx, account_of
from funai.layer2.votes import QuorumCertificate, Verdict, make_vote, try_form_qc
from funai.ledger.tx import COIN, OutputKind, Transaction, TxOut
from funai.network.messages import decode_payload, encode_payload
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
        block = build_block(self.state, skey(name), rnd, list(txs), qc, 1_700_000_000)
        apply_block(self.state, block, rnd)
        return block

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


def good_answer(model: bytes, text: str, context: str, system: str) -> str:
    return f"[{model[:2].hex()}] answer to {text}"


def garbage(model: bytes, text: str, context: str, system: str) -> str:
    return "zxqv garbage"


def fake_judge(model: bytes, content: InferenceContent) -> Verdict:
    ok = content.output == good_answer(model, content.input, content.context, "")
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
        self.judges = judges

    def fund(self, name: str, amount: int) -> None:
        for node in self.nodes.values():
            with node.state.atomic():
                node.state.credit(acct(name), amount)
                node.state.add_meta("pegged_in", amount)

    def mine(self, outputs: list[list[TxOut]]) -> None:
        """One L1 block holding one transaction per output list; every node sees it."""
        txs = [Transaction(1, (), tuple(o)) for o in outputs if o]
        self.l1_height += 1
        h = sha256(b"L1" + self.l1_tip + self.l1_height.to_bytes(4, "big"))
        prev, self.l1_tip = self.l1_tip, h
        self.l1_blocks.append((h, prev, self.l1_height, txs))
        for node in self.nodes.values():
            node.on_l1_block(h, prev, self.l1_height, txs)
        self.pump()

    def pump(self) -> None:
        """Delivers every outbox message to every other node until all are empty."""
        while True:
            moved = False
            for name, node in self.nodes.items():
                while node.outbox:
                    msg = node.outbox.pop(0)
                    wire = decode_payload(encode_payload(msg))
                    assert isinstance(
                        wire, L2TxMsg | L2BlockMsg | L2VoteMsg | L2AdMsg | L2PegSigMsg
                    )
                    for other, peer in self.nodes.items():
                        if other != name:
                            peer.receive(wire)
                    self.delivered += 1
                    moved = True
            if not moved:
                return

    def round(self, bids: dict[str, int]) -> None:
        """Every bidder commits on its tip; L1 also carries any pending anchors."""
        anchors = self.nodes[next(iter(self.judges))].anchor_outputs()
        self.mine([self.nodes[n].commitment_outputs(b) for n, b in bids.items()] + [anchors])
