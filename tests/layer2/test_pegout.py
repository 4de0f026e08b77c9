"""The peg pool and the peg-out ceremony against a real regtest L1 chainstate: a peg-in to the
verifier quorum's pool is credited (and one to another output is not: ``pegin-pool``), a
finalized PEG_OUT is signed by the verifiers, 3 of 5 signatures make an L1 transaction the L1
validation accepts, 2 do not, outsiders' signatures are dropped, a withdrawal is never paid
twice, and an L1 reorg that drops the payment makes it unpaid again."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.layer2.errors import L2Error
from funai.layer2.follower import L1Follower
from funai.layer2.messages import L2PegSigMsg
from funai.layer2.pegout import Batch
from funai.layer2.pegs import pegin_output
from funai.layer2.service import L2Node
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.block import Block
from funai.ledger.errors import ConsensusError
from funai.ledger.mempool import Mempool
from funai.ledger.params import REGTEST
from funai.ledger.quorum import quorum_output, quorum_payload, quorum_witness
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import COIN, OutPoint, OutputKind, Transaction, TxOut, sighash
from funai.testing.cluster import VERIFIERS, Cluster, acct, fake_judge, good_answer, skey
from tests.layer2.l1kit import GENESIS, L1, MINER

ALICE = _core.hash160(_core.schnorr_public_key(skey("alice")))  # the withdrawal's payout
FEE = 10_000  # pegout_fee of these tests


class World:
    def __init__(self, tmp: Path) -> None:
        self.l1 = L1(tmp / "l1.sqlite")
        self.cluster = Cluster(
            tmp,
            dict.fromkeys(VERIFIERS, fake_judge),
            {"x": good_answer},
            network_id=GENESIS,  # the L1 genesis hash: what the L1 sighash commits to
            l1_coinbase_maturity=REGTEST.coinbase_maturity,
            pegout_fee=FEE,
        )
        self.nodes = self.cluster.nodes
        self.x = self.nodes["x"]
        self.v0 = self.nodes["v0"]
        self.followers = [L1Follower(self.l1.chain, n) for n in self.nodes.values()]

    def step(self) -> None:
        for f in self.followers:
            f.sync()
        self.cluster.pump()

    def mine(self, extra: list[TxOut] | None = None, txs: list[Transaction] | None = None) -> Block:
        block = self.l1.mine(extra, txs)
        self.step()
        return block

    def round(self, txs: list[Transaction] | None = None) -> Block:
        """An L1 block with x's commitment (x builds the next L2 block, the verifiers vote)
        and the anchors of blocks with a QC."""
        return self.mine(self.x.commitment_outputs(COIN // 2) + self.v0.anchor_outputs(), txs)

    def confirm(self) -> None:
        """Anchors the blocks with a QC and buries the anchor ``confirmations`` deep: they
        are final (rule ``l2-finality``), and only then are withdrawals paid on L1."""
        self.mine(self.v0.anchor_outputs())
        for _ in range(self.cluster.params.confirmations - 1):
            self.mine()

    def pool(self) -> tuple[int, bytes]:
        return self.cluster.params.genesis_pool()

    def peg_in(self, coinbase_height: int, amount: int, account: bytes) -> Transaction:
        kind, pool = self.pool()
        cb_value = l1_subsidy(coinbase_height, REGTEST.halving_interval)
        return self.l1.spend_coinbase(
            coinbase_height,
            [
                TxOut(kind, amount, pool),
                pegin_output(account),
                TxOut(int(OutputKind.PAY_TO_KEY_HASH), cb_value - amount - 10_000, MINER),
            ],
        )

    def withdraw(self, nonce: int, amount: int, payout: bytes = ALICE) -> bytes:
        tx = sign_tx(skey("user"), TxKind.PEG_OUT, nonce, [amount, 1, payout], GENESIS)
        self.x.submit(tx)
        self.cluster.pump()
        return tx.txid()

    def drain(self) -> list[Transaction]:
        """What the nodes handed to L1 (every node's L1 outbox), emptied."""
        out = []
        for n in self.nodes.values():
            out += n.l1_outbox
            n.l1_outbox.clear()
        return out

    def supply_ok(self) -> None:
        for n in self.nodes.values():
            assert n.state.total_held() == n.state.total_issued()


def funded(tmp: Path, peg: int = COIN) -> World:
    """x registered, the user pegged in ``peg`` (credited in L2 block 0, finalized)."""
    w = World(tmp)
    w.mine([w.x.registration_output()])
    for _ in range(REGTEST.coinbase_maturity):
        w.mine()
    assert w.x.reg_ref is not None
    w.mine(txs=[w.peg_in(1, peg, acct("user"))])  # height 12
    w.round()  # the peg-in has 2 confirmations: L2 block 0 credits it
    assert w.v0.state.height == 0
    for n in w.nodes.values():
        assert n.state.balance(acct("user")) == peg
        assert n.finalized(n.state.tip())
    return w


# --- the pool ---------------------------------------------------------------------------------


def test_pool_is_the_verifier_quorum(tmp_path: Path) -> None:
    w = World(tmp_path)
    keys = sorted(_core.schnorr_public_key(skey(n)) for n in VERIFIERS)
    kind, payload = w.pool()
    assert (kind, payload) == (int(OutputKind.PAY_TO_QUORUM), quorum_payload(3, keys))
    assert w.v0.pool_output() == (kind, payload)
    status = w.v0.pool_status()
    assert status["payload"] == payload.hex()
    assert status["m"] == 3
    assert status["keys"] == [k.hex() for k in keys]


def test_pegin_to_the_pool_is_credited_and_to_another_output_not(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.mine([w.x.registration_output()])
    kind, pool = w.pool()
    stranger = quorum_payload(1, [_core.schnorr_public_key(skey("mallory"))])
    w.mine(
        [
            TxOut(kind, COIN, pool),
            pegin_output(acct("user")),
        ]
    )
    w.mine([TxOut(kind, COIN, stranger), pegin_output(acct("bob"))])  # not a pool
    w.mine([TxOut(int(OutputKind.PAY_TO_KEY_HASH), COIN, MINER), pegin_output(acct("eve"))])
    w.round()
    w.round()
    for n in w.nodes.values():
        assert n.state.balance(acct("user")) == COIN
        assert n.state.balance(acct("bob")) == 0
        assert n.state.balance(acct("eve")) == 0
    assert len(w.v0.pegins) == 2  # the pay-to-quorum ones; the producer proposes one
    w.supply_ok()
    # a producer that credits the stranger's output anyway makes its block invalid
    from funai.layer2.execution import BlockContext, apply_tx

    op = next(k for k, v in w.v0.pegins.items() if v[4] == stranger)
    tx = sign_tx(skey("x"), TxKind.PEG_IN, 1, [op[0], op[1], acct("bob"), COIN], GENESIS)
    root = w.v0.state.state_root()
    ctx = BlockContext(9, acct("x"), pegins=w.v0.pegin_view)
    with pytest.raises(L2Error, match="pegin-pool"):
        apply_tx(w.v0.state, tx, ctx)
    assert w.v0.state.state_root() == root


# --- the ceremony -----------------------------------------------------------------------------


def test_pegout_signed_by_the_quorum_and_paid_on_l1(tmp_path: Path) -> None:
    w = funded(tmp_path)
    txid = w.withdraw(0, COIN // 2)
    assert w.v0.pegout_status(txid) is None  # in the mempool, no block yet
    w.round()  # L2 block 1 holds the PEG_OUT and gets its QC
    assert w.v0.pegout_status(txid)["status"] == "requested"  # type: ignore[index]
    assert w.drain() == []  # not final yet: nothing leaves L2
    w.confirm()  # anchored and buried: final, the ceremony starts
    for n in w.nodes.values():
        assert n.state.height == 1
        assert n.state.balance(acct("user")) == COIN // 2  # burned on L2 at once
    st = w.v0.pegout_status(txid)
    assert st is not None
    assert st["status"] == "broadcast"
    assert st["signers"] == 5
    assert st["needed"] == 3
    assert st["signed_by_me"] is True
    assert st["l1_value"] == COIN // 2 - FEE
    assert w.x.pegout_status(txid)["status"] == "broadcast"  # type: ignore[index]
    assert w.x.pegout_status(txid)["signed_by_me"] is False  # type: ignore[index]
    sent = w.drain()
    assert len({t.txid() for t in sent}) == 1  # every node built the same transaction
    assert len(sent) == len(w.nodes)  # and assembled it (the executor too)
    payout = sent[0]
    assert payout.txid() == st["l1_txid"]
    kind, pool = w.pool()
    assert payout.outputs == (
        TxOut(int(OutputKind.PAY_TO_KEY_HASH), COIN // 2 - FEE, ALICE),
        TxOut(kind, COIN // 2, pool),  # the change back to the (current) pool
    )
    assert len(payout.inputs) == 1
    assert w.l1.check(payout) == FEE  # the real L1 rules accept it; the fee is pegout_fee
    entry = Mempool(w.l1.chain).accept(payout)  # and the L1 mempool's relay policy
    assert entry.fee == FEE
    assert entry.fee >= entry.size * REGTEST.min_relay_fee_rate
    assert all(len(wit) == 11 and sum(1 for s in wit[6:] if s) == 3 for wit in payout.witnesses)
    block = w.mine(txs=[payout])
    for n in w.nodes.values():
        st = n.pegout_status(txid)
        assert st is not None
        assert st["status"] == "paid"
        assert st["l1_height"] == w.l1.chain.height
        assert st["confirmations"] == 1
    coin = w.l1.chain.get_coin(OutPoint(payout.txid(), 0))
    assert coin is not None
    assert coin.out.value == COIN // 2 - FEE
    assert block.txs[1].txid() == payout.txid()
    # the pool on L1 holds exactly what is pegged in and not paid out
    pool_value = sum(c.out.value for _, c in w.v0.pegouts.pool_coins())
    assert pool_value == w.v0.state.meta("pegged_in") - w.v0.state.meta("pegged_out")
    w.supply_ok()
    for _ in range(5):  # nothing is sent again once paid
        w.mine()
    assert w.drain() == []


def test_two_signatures_are_not_enough(tmp_path: Path) -> None:
    w = funded(tmp_path)
    for name in ("v2", "v3", "v4"):  # only v0 and v1 sign (e.g. the others' models not loaded)
        w.nodes[name].pegouts.can_sign = lambda: False
    txid = w.withdraw(0, COIN // 2)
    w.round()
    w.confirm()
    st = w.v0.pegout_status(txid)
    assert st is not None
    assert (st["status"], st["signers"], st["needed"]) == ("signed", 2, 3)
    assert w.drain() == []
    batch = w.v0.pegouts.batches[st["l1_txid"]]
    # assembled by hand with the 2 signatures, the L1 refuses it
    m, keys, _ = w.v0.state.pool(batch.spent[0].payload)  # type: ignore[misc]
    sigs = {k: s[0] for k, s in batch.sigs.items()}
    assert len(sigs) == 2
    two = batch.tx.with_witnesses((quorum_witness(m, keys, sigs),))
    with pytest.raises(ConsensusError, match="bad-txns-quorum-sigs"):
        w.l1.check(two)
    # a third verifier comes online: it signs after the next L1 block, and it is paid
    w.nodes["v2"].pegouts.can_sign = lambda: True
    w.mine()
    sent = w.drain()
    assert sent
    assert w.l1.check(sent[0]) == FEE
    w.mine(txs=[sent[0]])
    assert w.x.pegout_status(txid)["status"] == "paid"  # type: ignore[index]
    w.supply_ok()


def test_outsider_and_bad_signatures_are_dropped(tmp_path: Path) -> None:
    w = funded(tmp_path)
    for name in ("v1", "v2", "v3", "v4"):
        w.nodes[name].pegouts.can_sign = lambda: False
    txid = w.withdraw(0, COIN // 2)
    w.round()
    w.confirm()
    st = w.x.pegout_status(txid)
    assert st is not None
    assert st["signers"] == 1
    batch = w.x.pegouts.batches[st["l1_txid"]]
    msg = sighash(batch.tx, 0, batch.spent, GENESIS)
    before = dict(batch.sigs)
    mallory = skey("mallory")
    forged = L2PegSigMsg.make(
        batch.tx, _core.schnorr_public_key(mallory), [_core.schnorr_sign(mallory, msg)]
    )
    with pytest.raises(L2Error, match="pegsig-not-verifier"):
        w.x.pegouts.receive(*forged.parse())
    with pytest.raises(L2Error, match="pegsig-not-verifier"):
        w.x.receive(forged)  # from the network: refused, nothing kept, not relayed
    assert forged.id() not in w.x.pegsigs_accepted
    v1_key = _core.schnorr_public_key(skey("v1"))
    bad = L2PegSigMsg.make(batch.tx, v1_key, [_core.schnorr_sign(skey("v1"), bytes(32))])
    with pytest.raises(L2Error, match="pegsig-bad-signature"):
        w.x.pegouts.receive(*bad.parse())
    with pytest.raises(L2Error, match="pegsig-bad-signature"):
        w.x.receive(bad)
    assert bad.id() not in w.x.pegsigs_accepted
    assert batch.sigs == before
    assert w.drain() == []
    # a valid one from a verifier is kept and relayed
    good = L2PegSigMsg.make(batch.tx, v1_key, [_core.schnorr_sign(skey("v1"), msg)])
    w.x.receive(good)
    assert good.id() in w.x.pegsigs_accepted
    assert len(batch.sigs) == 2


def test_a_withdrawal_is_never_paid_twice(tmp_path: Path) -> None:
    w = funded(tmp_path)
    first = w.withdraw(0, COIN // 4)
    w.round()
    w.confirm()
    payout = w.drain()[0]
    w.mine(txs=[payout])
    batch: Batch = w.v0.pegouts.batches[payout.txid()]
    assert batch.withdrawals == [first]
    # another transaction paying the same withdrawal: no verifier signs it
    other = Transaction(1, payout.inputs, (payout.outputs[0],), 0, None, ())
    twin = Batch(other, batch.spent, [first], batch.l2_height)
    for name in VERIFIERS:
        w.nodes[name].pegouts._sign(twin)
        assert twin.sigs == {}
        assert w.nodes[name].pegouts.signed(first) == payout.txid()
    # its inputs are spent on L1 anyway
    with pytest.raises(ConsensusError, match="bad-txns-inputs-missingorspent"):
        w.l1.check(payout)
    # a later withdrawal is paid by a new batch that spends the change, not the old one again
    w.mine()
    second = w.withdraw(1, COIN // 4)
    w.round()
    w.confirm()
    sent = w.drain()
    assert len({t.txid() for t in sent}) == 1
    batch2 = w.v0.pegouts.batches[sent[0].txid()]
    assert batch2.withdrawals == [second]
    assert [i.prevout for i in sent[0].inputs] == [OutPoint(payout.txid(), 1)]
    assert w.l1.check(sent[0]) == FEE
    w.mine(txs=[sent[0]])
    for n in w.nodes.values():
        assert n.pegout_status(first)["status"] == "paid"  # type: ignore[index]
        assert n.pegout_status(second)["status"] == "paid"  # type: ignore[index]
    w.supply_ok()


def test_l1_reorg_that_drops_the_payout_makes_it_unpaid(tmp_path: Path) -> None:
    w = funded(tmp_path)
    txid = w.withdraw(0, COIN // 2)
    w.round()
    w.confirm()
    payout = w.drain()[0]
    fork = w.l1.chain.tip.hash
    paid = w.mine(txs=[payout])
    assert w.v0.pegout_status(txid)["status"] == "paid"  # type: ignore[index]
    # a longer branch without the payout
    b1 = w.l1.mine([], parent=fork, salt=1)
    w.l1.mine([], parent=b1.hash(), salt=1)
    assert paid.hash() not in w.l1.chain.active
    w.step()
    for n in w.nodes.values():
        st = n.pegout_status(txid)
        assert st is not None
        assert st["status"] == "broadcast"
        assert st["paid"] is False
    again = w.drain()
    assert again
    assert {t.txid() for t in again} == {payout.txid()}  # the same transaction, sent again
    w.mine(txs=[again[0]])
    for n in w.nodes.values():
        st = n.pegout_status(txid)
        assert st is not None
        assert st["status"] == "paid"
        assert st["l1_height"] == w.l1.chain.height
    w.supply_ok()


def test_pegout_waits_for_the_pool(tmp_path: Path) -> None:
    """Withdrawals the confirmed pool does not cover wait; a coinbase's pool output counts only
    once mature; then one batch pays them in L2 order."""
    w = funded(tmp_path, peg=COIN // 2)
    kind, pool = w.pool()
    w.mine([TxOut(kind, COIN, pool), pegin_output(acct("user"))])  # in a coinbase
    w.round()
    w.round()
    assert w.v0.state.balance(acct("user")) == COIN // 2 + COIN
    a = w.withdraw(0, COIN // 2)
    b = w.withdraw(1, COIN // 2)
    w.round()
    for txid in (a, b):
        st = w.v0.pegout_status(txid)
        assert st is not None
        assert st["status"] == "requested"  # the coinbase output is not mature yet
    assert w.drain() == []
    for _ in range(REGTEST.coinbase_maturity):
        w.round()  # later finalized blocks retry
    st = w.v0.pegout_status(a)
    assert st is not None
    assert st["status"] == "broadcast"
    sent = w.drain()
    batch = w.v0.pegouts.batches[sent[0].txid()]
    assert batch.withdrawals == [a, b]
    assert len(sent[0].inputs) == 2
    assert w.l1.check(sent[0]) == 2 * FEE
    w.mine(txs=[sent[0]])
    assert w.v0.pegout_status(b)["status"] == "paid"  # type: ignore[index]
    w.supply_ok()


def test_pegout_state_survives_a_restart(tmp_path: Path) -> None:
    w = funded(tmp_path)
    for name in ("v2", "v3", "v4"):
        w.nodes[name].pegouts.can_sign = lambda: False
    txid = w.withdraw(0, COIN // 2)
    w.round()
    w.confirm()
    v0 = w.v0
    l1_txid = v0.pegout_status(txid)["l1_txid"]  # type: ignore[index]
    v0.close()
    again = L2Node(
        tmp_path / "v0", w.cluster.params, skey("v0"), verifier=True, synchronous="NORMAL"
    )
    L1Follower(w.l1.chain, again).sync(replay=True)
    st = again.pegout_status(txid)
    assert st is not None
    assert (st["status"], st["l1_txid"], st["signers"]) == ("signed", l1_txid, 2)
    assert again.pegouts.signed(txid) == l1_txid
    # it never signs that withdrawal in another transaction, even after the restart
    batch = again.pegouts.batches[l1_txid]
    twin = Batch(
        Transaction(1, batch.tx.inputs, batch.tx.outputs[:1], 0, None, ()),
        batch.spent,
        batch.withdrawals,
        batch.l2_height,
    )
    again.pegouts._sign(twin)
    assert twin.sigs == {}
    again.close()


def test_quorum_output_helper_matches_the_pool() -> None:
    keys = [_core.schnorr_public_key(skey(n)) for n in VERIFIERS]
    out = quorum_output(5, 3, keys)
    assert out.kind == OutputKind.PAY_TO_QUORUM
    assert out.payload == quorum_payload(3, sorted(keys))


def test_pegout_route(tmp_path: Path) -> None:
    """``GET /v1/l2/pegouts/{txid}`` (funai/api/l2_routes.py) on the node's L2 state."""
    import types

    import httpx
    import trio
    from starlette.applications import Starlette

    from funai.api.l2_routes import l2_routes

    w = funded(tmp_path)
    txid = w.withdraw(0, COIN // 2)
    w.round()
    w.confirm()

    async def aquery(fn: object) -> object:
        return fn(w.v0)  # type: ignore[operator]

    node = types.SimpleNamespace(l2=types.SimpleNamespace(aquery=aquery))
    app = Starlette(routes=l2_routes(node))  # type: ignore[arg-type]
    got: dict[str, httpx.Response] = {}

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            for ident in (txid.hex(), "00" * 32, "zz"):
                got[ident] = await client.get(f"/v1/l2/pegouts/{ident}")

    trio.run(main)
    body = got[txid.hex()].json()
    st = w.v0.pegout_status(txid)
    assert st is not None
    assert body["status"] == "broadcast"
    assert body["l1_txid"] == bytes(st["l1_txid"])[::-1].hex()
    assert body["payout"] == ALICE.hex()
    assert (body["amount"], body["l1_value"], body["signers"]) == (COIN // 2, COIN // 2 - FEE, 5)
    assert got["00" * 32].status_code == 404
    assert got["zz"].status_code == 400
