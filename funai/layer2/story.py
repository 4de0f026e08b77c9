"""The whole inference-layer story in one process, step by step (for ``funai demo``).

:func:`run_story` builds a regtest L1 chain (its blocks carry the L2 messages in their
coinbase: registrations, a peg-in, commitments paying the verifiers, anchors), five
verifier nodes and two inference nodes (:class:`~funai.layer2.service.L2Node`, each with its
own databases) joined by an in-process gossip bus that round-trips every message through
the network encoding, and walks through: registration, peg-in, election, a request with its
immediate answer, the L2 block, the votes and quorum certificate, the anchor in L1, the
confirmation and the reclamation of the content. ``on_step(title, details)`` narrates; the
result is a JSON-ready dict with at least ``response``, ``l2_height``, ``votes_accept``,
``finalized``, ``anchor_l1_height``, ``confirmed`` and ``reclaimed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from funai import _core
from funai.hashing import sha256
from funai.layer2.follower import L1Follower
from funai.layer2.params import L2Params
from funai.layer2.pegs import pegin_output
from funai.layer2.service import Generate, Judge, L2Node, sign_request
from funai.layer2.transactions import BondPayload, TxKind, account_of, sign_payload
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainstate import Chainstate
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import COIN, OutputKind, TxOut
from funai.network.messages import decode_payload, encode_payload

__all__ = ["DEMO_MODEL", "run_story"]

#: The model id the story uses (BLAKE3 of a label: the story does not read model files).
DEMO_MODEL = _core.blake3(b"funai demo model")
Step = Callable[[str, dict[str, Any]], None]


def _key(label: str) -> bytes:
    return sha256(b"funai demo key:" + label.encode())


class _Devnet:
    def __init__(self, workdir: Path, generate: Generate, judge: Judge) -> None:
        self.verifiers = [f"verifier{i}" for i in range(5)]
        self.params = L2Params(
            network_id=REGTEST.genesis_hash(),
            genesis_models=(DEMO_MODEL,),
            genesis_verifiers=tuple(
                (
                    _core.schnorr_public_key(_key(n)),
                    _core.hash160(_core.schnorr_public_key(_key(n))),
                )
                for n in self.verifiers
            ),
            confirmations=2,
            min_bond=COIN // 10,
            bond_penalty=COIN // 100,
        )
        self.clock = [REGTEST.genesis_time]
        self.chain = Chainstate(
            workdir / "l1.sqlite", REGTEST, clock=lambda: self.clock[0], synchronous="NORMAL"
        )
        self.nodes: dict[str, L2Node] = {}
        for n in self.verifiers:
            self.nodes[n] = L2Node(
                workdir / n,
                self.params,
                _key(n),
                verifier=True,
                judge=judge,
                synchronous="NORMAL",
            )
        for n in ("inference-a", "inference-b"):
            self.nodes[n] = L2Node(
                workdir / n,
                self.params,
                _key(n),
                vrf_sk=_key("vrf " + n),
                models={DEMO_MODEL},
                generate=generate,
                synchronous="NORMAL",
            )
        self.followers = [L1Follower(self.chain, node) for node in self.nodes.values()]
        self.miner = _core.hash160(_core.schnorr_public_key(_key("miner")))

    def close(self) -> None:
        for node in self.nodes.values():
            node.close()
        self.chain.close()

    def mine(self, extra: list[TxOut]) -> Block:
        """One L1 block whose coinbase carries ``extra``; every node follows it."""
        self.clock[0] += 600
        entry = self.chain.tip
        height = entry.height + 1
        reward = l1_subsidy(height, REGTEST.halving_interval)
        outs = [
            TxOut(
                int(OutputKind.PAY_TO_KEY_HASH), reward - sum(o.value for o in extra), self.miner
            ),
            *extra,
        ]
        cb = make_coinbase(height, outs, b"", witness_root([make_coinbase(height, outs)]))
        when = max(self.clock[0], self.chain.median_time_past(entry) + 1)
        header = BlockHeader(
            1, entry.hash, tx_merkle_root([cb]), when, self.chain.next_bits(entry), 0
        )
        target = decode_compact(header.bits).target
        nonce = 0
        while hash_to_int(header.with_nonce(nonce).hash()) > target:
            nonce += 1
        block = Block(header.with_nonce(nonce), (cb,))
        status = self.chain.submit_block(block)
        if status != "connected":
            raise RuntimeError(f"demo L1 block not connected: {status}")
        for f in self.followers:
            f.sync()
        self.pump()
        return block

    def pump(self) -> int:
        """Delivers every outbox message to every other node until all are empty."""
        delivered = 0
        moved = True
        while moved:
            moved = False
            for name, node in self.nodes.items():
                while node.outbox:
                    wire = decode_payload(encode_payload(node.outbox.pop(0)))
                    for other, peer in self.nodes.items():
                        if other != name and not isinstance(wire, tuple):
                            peer.receive(wire)
                    delivered += 1
                    moved = True
        return delivered


def run_story(
    workdir: Path,
    *,
    generate: Generate,
    judge: Judge,
    prompt: str = "What is the capital of France?",
    on_step: Step | None = None,
) -> dict[str, Any]:
    """Runs the lifecycle; returns its summary (see the module docstring)."""
    say: Step = on_step or (lambda title, details: None)
    started = time.perf_counter()
    net = _Devnet(workdir, generate, judge)
    try:
        a, v0 = net.nodes["inference-a"], net.nodes["verifier0"]
        pool_kind, pool = net.params.genesis_pool()
        user = _key("user")
        user_acct = account_of(_core.schnorr_public_key(user))

        net.mine([a.registration_output()])
        net.mine([net.nodes["inference-b"].registration_output()])
        say(
            "registration",
            {
                "l1_height": net.chain.height,
                "registered": 2,
                "what": "both inference nodes published their VRF keys in L1",
            },
        )
        net.mine([TxOut(pool_kind, COIN // 2, pool), pegin_output(user_acct)])
        net.mine([TxOut(pool_kind, COIN // 2, pool), pegin_output(a.account)])
        say(
            "peg-in",
            {
                "amount_fai": "0.5 + 0.5",
                "what": "coins locked on L1 for the user and "
                "the executor, credited on L2 after 2 confirmations",
            },
        )

        def round_(bidders: list[str], extra: list[TxOut] | None = None) -> None:
            outs: list[TxOut] = []
            for n in bidders:
                outs += net.nodes[n].commitment_outputs(COIN // 2)
            net.mine(outs + (extra or []))

        round_(["inference-a", "inference-b"])
        rnd = v0.sortition.rounds[net.chain.tip.hash]
        say(
            "election",
            {
                "l1_height": net.chain.height,
                "commitments": len(rnd.bids),
                "winner": None if rnd.winner is None else rnd.winner.reg.l1_height,
                "l2_height": v0.state.height,
            },
        )
        bond = sign_payload(
            _key("inference-a"),
            BondPayload(COIN // 5),
            a.state.account(a.account)[1],
            net.params.network_id,
        )
        a.submit(bond)
        net.pump()
        round_(["inference-a", "inference-b"])
        say("bond", {"executor_bond": v0.state.bond(a.account), "l2_height": v0.state.height})

        request = sign_request(user, 0, DEMO_MODEL, COIN // 10, prompt, net.params.network_id)
        t = time.perf_counter()
        response, tx = a.execute(request, prompt)
        say(
            "request",
            {
                "prompt": prompt,
                "response": response,
                "seconds": round(time.perf_counter() - t, 3),
                "receipt": tx.txid().hex(),
                "what": "executed at once by inference-a, which signed the receipt",
            },
        )
        net.pump()
        round_(["inference-a", "inference-b"])
        l2_hash = next(h for h, b in v0.blocks.items() if any(x.txid() == tx.txid() for x in b.txs))
        block = v0.blocks[l2_hash]
        qc = v0.qcs.get(l2_hash)
        index = [x.txid() for x in block.txs if x.kind is TxKind.INFERENCE].index(tx.txid())
        votes_accept = sum(
            1 for votes in [v0.votes.get(l2_hash, [])] for v in votes if v.verdicts[index].accept
        )
        say(
            "l2 block and votes",
            {
                "l2_height": block.header.height,
                "txs": len(block.txs),
                "votes_accept": votes_accept,
                "finalized": qc is not None,
            },
        )
        round_(["inference-a"], v0.anchor_outputs())  # settles the block, anchors it
        anchor_height = v0.anchors.anchor_height(l2_hash)
        say("anchor", {"l2_block": l2_hash.hex(), "anchor_l1_height": anchor_height})
        net.mine([])
        confirmed = all(n.confirmed(l2_hash) for n in net.nodes.values())
        reclaimed = all(n.content.get(tx.txid()) is None for n in net.nodes.values())
        say("confirmation and reclamation", {"confirmed": confirmed, "reclaimed": reclaimed})
        return {
            "response": response,
            "l2_height": block.header.height,
            "votes_accept": votes_accept,
            "finalized": qc is not None,
            "anchor_l1_height": anchor_height,
            "confirmed": confirmed,
            "reclaimed": reclaimed,
            "executor_balance": v0.state.balance(a.account),
            "l1_height": net.chain.height,
            "l2_tip_height": v0.state.height,
            "state_roots_agree": len({n.state.state_root() for n in net.nodes.values()}) == 1,
            "seconds": round(time.perf_counter() - started, 3),
        }
    finally:
        net.close()
