"""Paper section 9 end to end: an L2 contract mints a token only for an L1 payment proven
with a Merkle proof against the L1 block it was mined in.

A real regtest L1 chainstate (PoW blocks, a signed spend of a mature coinbase) feeds five
verifier nodes and a producer through ``L1Follower`` as in a devnet (in process, the gossip
round-tripped through the wire encoding); the contracts are deployed and called with
ordinary L2 transactions, and every node reaches the same state.
"""

from __future__ import annotations

from pathlib import Path

from funai.clarity import ClarityVM
from funai.clarity.library import library_source
from funai.layer2.execution import _ClarityStore, principal
from funai.layer2.follower import L1Follower
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.proof import clarity_tx, tx_proof
from funai.ledger.tx import COIN, OutputKind, TxOut
from funai.testing.cluster import VERIFIERS, Cluster, acct, fake_judge, good_answer, skey
from tests.layer2.l1kit import L1

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "l1-payment" / "paid-token.clar"
SHOP_KEY = bytes([1]) * 32


def test_l2_contract_mints_after_a_proven_l1_payment(tmp_path: Path) -> None:
    l1 = L1(tmp_path / "l1.sqlite")
    cluster = Cluster(tmp_path, dict.fromkeys(VERIFIERS, fake_judge), {"x": good_answer})
    followers = [L1Follower(l1.chain, n) for n in cluster.nodes.values()]
    x, v0 = cluster.nodes["x"], cluster.nodes["v0"]
    nonces = {"user": 0, "eve": 0}

    def step() -> None:
        for f in followers:
            f.sync()
        cluster.pump()

    def l2_round() -> None:
        """One L1 block electing x; x produces an L2 block with its mempool."""
        l1.mine(x.commitment_outputs(COIN // 10))
        step()

    def submit(who: str, kind: TxKind, payload: list[object]) -> None:
        tx = sign_tx(skey(who), kind, nonces[who], payload, cluster.params.network_id)
        nonces[who] += 1
        v0.submit(tx)
        cluster.pump()

    l1.mine([x.registration_output()])
    for _ in range(11):  # the coinbase of block 1 matures
        l1.mine()
    step()
    user = principal(acct("user"))
    # L1: the user pays the shop 1 FAI and names its L2 principal in a data output
    pay = l1.spend_coinbase(
        1,
        [
            TxOut(int(OutputKind.PAY_TO_KEY), COIN, SHOP_KEY),
            TxOut(int(OutputKind.DATA), 0, acct("user")),
            TxOut(int(OutputKind.PAY_TO_KEY), COIN // 4, bytes([2]) * 32),
        ],
    )
    other = l1.spend_coinbase(2, [TxOut(int(OutputKind.PAY_TO_KEY), COIN // 2, bytes([3]) * 32)])
    assert l1.check(pay) > 0  # real signatures and amounts
    paid_block = l1.mine(txs=[pay, other])
    paid_height = l1.chain.height
    step()
    # L2: deploy the library and the token (the token names the library: deployed after)
    submit("user", TxKind.DEPLOY, ["fai-l1-proofs", library_source("fai-l1-proofs")])
    l2_round()
    submit("user", TxKind.DEPLOY, ["paid-token", EXAMPLE.read_text()])
    l2_round()
    token = f"{user}.paid-token"
    vm = ClarityVM(_ClarityStore(v0.state))
    assert vm.interface(token) is not None
    proof = tx_proof(paid_block, paid_height, pay.txid())
    args = [*proof.clarity_args(), "u0", "u1"]
    # eve replays the user's proof: the payment names the user, not eve
    submit("eve", TxKind.CALL, [token, "claim", args])
    # a tampered payment (10 FAI instead of 1) does not hash to a mined transaction
    forged = list(args)
    forged[2] = clarity_tx(pay).replace(f"value: u{COIN}", f"value: u{10 * COIN}")
    submit("user", TxKind.CALL, [token, "claim", forged])
    # the real claim, then a second claim of the same output
    submit("user", TxKind.CALL, [token, "claim", args])
    submit("user", TxKind.CALL, [token, "claim", args])
    l2_round()
    for node in cluster.nodes.values():
        view = ClarityVM(_ClarityStore(node.state))
        assert view.read_only(token, "get-balance", f"'{user}").result == f"u{COIN}"
        assert view.read_only(token, "get-balance", f"'{principal(acct('eve'))}").result == "u0"
    assert len({n.state.state_root() for n in cluster.nodes.values()}) == 1
    # every call was included (err responses commit nothing but are mined)
    included = [t for b in (v0.blocks[h] for h in v0.chain.canonical) for t in b.txs]
    assert sum(1 for t in included if t.kind is TxKind.CALL) == 4
    # rule block-time: each L2 block carries its electing L1 block's header time
    for h in v0.chain.canonical:
        header = v0.blocks[h].header
        l1_block = l1.chain.get_block(header.l1_block)
        assert l1_block is not None
        assert header.time == l1_block.header.time > 0
