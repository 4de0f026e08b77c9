"""Clarity's ``at-block`` on the inference chain: a contract reads the state at the end of
a past L2 block (rule ``clarity-history``), and ``get-block-info?`` names the real blocks
(rule ``clarity-block-view``), on every node alike, across an L1 reorganisation that undoes
blocks and a node that restarts.

Before, ``at-block`` aborted every call that evaluated it and ``get-block-info?`` gave
placeholder hashes of the height."""

from __future__ import annotations

from pathlib import Path

from funai.clarity import ClarityVM
from funai.hashing import sha256
from funai.layer2.block import L2Header
from funai.layer2.execution import _ClarityStore, principal
from funai.layer2.node import L2Node
from funai.layer2.transactions import CallPayload, TxKind, sign_tx
from funai.ledger.encoding import decode
from funai.testing.cluster import acct, skey
from funai.vrf import proof_to_hash
from tests.layer2.attackkit import World, started

SOURCE = """
(define-data-var n uint u0)
(define-map seen uint {n: uint, height: uint, burn: uint})
(define-map info uint {id: (buff 32), time: uint, miner: principal, seed: (buff 32),
                       burn-hash: (buff 32)})
(define-read-only (id (h uint)) (unwrap-panic (get-block-info? id-header-hash h)))
(define-public (bump) (begin (var-set n (+ (var-get n) u1)) (ok (var-get n))))
(define-public (record (h uint))
  (begin
    (map-set seen h (at-block (id h) {n: (var-get n), height: block-height,
                                      burn: burn-block-height}))
    (map-set info h {id: (id h),
                     time: (unwrap-panic (get-block-info? time h)),
                     miner: (unwrap-panic (get-block-info? miner-address h)),
                     seed: (unwrap-panic (get-block-info? vrf-seed h)),
                     burn-hash: (unwrap-panic (get-block-info? burnchain-header-hash h))})
    (ok true)))
(define-read-only (get-seen (h uint)) (map-get? seen h))
(define-read-only (get-info (h uint)) (map-get? info h))
(define-read-only (count) (var-get n))
"""


class _Contract:
    def __init__(self, w: World) -> None:
        self.w = w
        self.nonce = 0
        self.id = f"{principal(acct('user'))}.hist"
        self.send(TxKind.DEPLOY, ["hist", SOURCE])

    def send(self, kind: TxKind, payload: list[object]) -> None:
        tx = sign_tx(skey("user"), kind, self.nonce, payload, self.w.params.network_id)
        self.nonce += 1
        self.w.v0.submit(tx)
        self.w.pump()

    def call(self, function: str, *args: str) -> None:
        self.send(TxKind.CALL, [self.id, function, list(args)])

    def read(self, node: L2Node, function: str, *args: str) -> str | None:
        vm = ClarityVM(_ClarityStore(node.state))
        return vm.read_only(self.id, function, *args).result


def _bumped_blocks(w: World, c: _Contract, blocks: int) -> dict[int, int]:
    """One ``bump`` per L2 block; the counter at the end of each block by Clarity height."""
    after: dict[int, int] = {}
    for _ in range(blocks):
        c.call("bump")
        w.round()
        after[w.v0.state.height + 1] = int(str(c.read(w.v0, "count")).removeprefix("u"))
    return after


def test_at_block_reads_past_state_on_every_node(tmp_path: Path) -> None:
    w = started(tmp_path)
    c = _Contract(w)
    w.round()  # deployed
    after = _bumped_blocks(w, c, 3)
    assert sorted(after.values()) == [1, 2, 3]
    for h in after:
        c.call("record", f"u{h}")
    w.round()
    for name, node in w.nodes.items():
        for h, n in after.items():
            seen = c.read(node, "get-seen", f"u{h}")
            row = node.state.header_at(h - 1)
            assert row is not None
            burn = row[1]
            assert seen == f"(some {{burn: u{burn}, height: u{h}, n: u{n}}})", (name, h, seen)
            header = L2Header.from_cbor(decode(row[2]))
            assert row[0] == node.chain.canonical[h - 1]
            info = c.read(node, "get-info", f"u{h}")
            seed = sha256(b"FAI2/seed" + proof_to_hash(header.vrf_proof))
            assert info == (
                f"(some {{burn-hash: 0x{header.l1_block.hex()}, id: 0x{row[0].hex()}, "
                f"miner: '{principal(acct('good'))}, seed: 0x{seed.hex()}, "
                f"time: u{header.time}}})"
            ), (name, info)
    # the current block and later ones are not past blocks: the call aborts
    now = w.v0.state.height + 2
    c.call("record", f"u{now}")
    w.round()
    assert c.read(w.v0, "get-seen", f"u{now}") == "none"
    w.same_everywhere()


def _bumps_by_height(node: L2Node, contract: str) -> dict[int, int]:
    """Ground truth from the blocks themselves: the counter at the end of each canonical
    block (Clarity height = L2 height + 1) is the number of ``bump`` calls mined so far."""
    out, n = {}, 0
    for height, h in enumerate(node.chain.canonical):
        for tx in node.blocks[h].txs:
            body = tx.body
            if isinstance(body, CallPayload) and (body.contract_id, body.function) == (
                contract,
                "bump",
            ):
                n += 1
        out[height + 1] = n
    return out


def test_at_block_history_follows_a_reorg_and_a_restart(tmp_path: Path) -> None:
    w = started(tmp_path)
    c = _Contract(w)
    w.round()
    _bumped_blocks(w, c, 3)
    top = w.v0.state.height
    row = w.v0.state.header_at(top)
    assert row is not None
    # L1 reorganises: the blocks of the last two elections leave the chain, undone with
    # their history; their bumps go back to the mempool
    w.reorg(2, [[], [], []])
    for node in w.nodes.values():
        assert node.state.height < top
        assert node.state.header_at(top) is None
        assert node.state.block_of(row[0]) is None
        assert node.state.conn.execute(
            "SELECT COUNT(*) FROM l2_clarity_history WHERE height > ?", (node.state.height,)
        ).fetchone() == (0,)
    # the chain goes on: the bumps are mined again, at other heights, then one more
    w.round()
    w.round()
    c.nonce = w.v0.state.account(acct("user"))[1]
    c.call("bump")
    w.round()
    truth = _bumps_by_height(w.v0, c.id)
    assert max(truth.values()) == 4
    past = [h for h in truth if h > 1]  # block 1 is before the deploy
    for h in past:
        c.call("record", f"u{h}")
    w.round()
    for name, node in w.nodes.items():
        for h in past:
            seen = c.read(node, "get-seen", f"u{h}")
            assert seen is not None
            assert f"n: u{truth[h]}}}" in seen, (name, h, seen)
    w.same_everywhere()
    # a node that restarts reads the same history from its database
    w.nodes["v1"].close()
    again = L2Node(tmp_path / "v1", w.params, skey("v1"), verifier=True, synchronous="NORMAL")
    again.replay_l1(w.l1_blocks)
    assert again.state.state_root() == w.v0.state.state_root()
    for h in past:
        assert again.state.header_at(h - 1) == w.v0.state.header_at(h - 1)
        key = b"v\x00" + c.id.encode() + b"\x00n"
        assert again.state.clarity_at(key, h - 1) == w.v0.state.clarity_at(key, h - 1)
