"""Settling a block's rewards and penalties with its QC (funai/layer2/rewards.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.hashing import sha256
from funai.layer2.errors import L2Error
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.rewards import pending, record_pending, settle
from funai.layer2.state import L2State
from funai.layer2.transactions import InferenceContent, L2Tx, TxKind, make_inference, sign_tx
from funai.layer2.votes import QuorumCertificate, Verdict, make_vote
from funai.ledger.supply import L2_INITIAL_SUBSIDY
from funai.ledger.tx import COIN
from funai.testing.cluster import MODEL, NETWORK_ID, VERIFIER_NAMES, Net, acct, make_params, skey

GAS = 2 * COIN
BOND = 20 * COIN
L1_BLOCK = sha256(b"electing l1 block")
BLOCK_HASH = sha256(b"the pending block")


def new_state(tmp_path: Path, **params: object) -> L2State:
    net = Net(tmp_path / "r.sqlite", params=make_params(**params))
    net.fund("user", 100 * COIN)
    net.fund("exec", 50 * COIN)
    apply_tx(net.state, sign_tx(skey("exec"), TxKind.BOND, 0, [BOND], NETWORK_ID), ctx())
    return net.state


def ctx(height: int = 1) -> BlockContext:
    return BlockContext(height, acct("feecollector"))


def infer(state: L2State, n: int, gas: int = GAS) -> bytes:
    """Applies the user's ``n``-th inference (gas escrowed); returns its txid."""
    content = InferenceContent(f"question {n}", f"answer {n}")
    tx: L2Tx = make_inference(skey("user"), skey("exec"), n, MODEL, content, gas, NETWORK_ID)
    apply_tx(state, tx, ctx())
    return tx.txid()


def pend(state: L2State, txids: list[bytes], height: int = 1) -> None:
    """Block ``height`` (hash BLOCK_HASH, produced by "prod") becomes the tip, pending."""
    with state.atomic():
        state.set_tip(height, BLOCK_HASH)
        record_pending(state, height, acct("prod"), L1_BLOCK, txids)


def qc_for(
    decision: list[bool], names: list[str] = VERIFIER_NAMES[:3], bh: bytes = BLOCK_HASH
) -> QuorumCertificate:
    votes = [make_vote(skey(n), NETWORK_ID, bh, [Verdict(d) for d in decision]) for n in names]
    return QuorumCertificate(bh, tuple(decision), tuple(votes))


def do_settle(state: L2State, qc: QuorumCertificate | None) -> dict[str, int]:
    with state.atomic():
        return settle(state, qc)


def snapshot(state: L2State) -> dict[str, int]:
    return {
        "prod": state.balance(acct("prod")),
        "user": state.balance(acct("user")),
        "exec": state.balance(acct("exec")),
        "bond": state.bond(acct("exec")),
        "held": state.total_held(),
        "minted": state.meta("minted"),
    }


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before}


def test_record_pending_keeps_the_verifier_set_and_txids(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    txids = [infer(state, 0), infer(state, 1)]
    assert pending(state) is None
    pend(state, txids, height=4)
    keys = [_core.schnorr_public_key(skey(n)) for n in VERIFIER_NAMES]
    assert pending(state) == (4, acct("prod"), L1_BLOCK, keys, txids)


def test_nothing_pending(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    root = state.state_root()
    assert do_settle(state, None) == {}
    assert state.state_root() == root
    with pytest.raises(L2Error, match="block-unexpected-qc"):
        do_settle(state, qc_for([]))
    assert state.state_root() == root


def test_pending_needs_the_parent_qc(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    pend(state, [infer(state, 0)])
    root = state.state_root()
    with pytest.raises(L2Error, match="block-missing-parent-qc"):
        do_settle(state, None)
    assert state.state_root() == root
    assert pending(state) is not None


def test_accepted_inference_pays_producer_subsidy_and_executor_gas(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    txid = infer(state, 0)
    assert state.get("escrow", txid) == [acct("user"), acct("exec"), GAS]
    pend(state, [txid])
    before = snapshot(state)
    out = do_settle(state, qc_for([True]))
    subsidy = L2_INITIAL_SUBSIDY
    assert out == {"subsidy": subsidy, "gas": GAS, "penalty": 0, "accepted": 1, "rejected": 0}
    assert delta(before, snapshot(state)) == {
        "prod": subsidy,
        "user": 0,
        "exec": GAS,
        "bond": 0,
        "held": subsidy,  # only the subsidy is new: the gas moved out of escrow
        "minted": subsidy,
    }
    assert state.get("escrow", txid) is None
    assert pending(state) is None
    assert state.total_held() == state.total_issued()


def test_rejected_inference_refunds_gas_and_moves_the_penalty(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    txid = infer(state, 0)
    pend(state, [txid])
    before = snapshot(state)
    out = do_settle(state, qc_for([False]))
    penalty = state.params.bond_penalty
    assert out == {
        "subsidy": L2_INITIAL_SUBSIDY,
        "gas": 0,
        "penalty": penalty,
        "accepted": 0,
        "rejected": 1,
    }
    assert delta(before, snapshot(state)) == {
        "prod": L2_INITIAL_SUBSIDY,
        "user": GAS + penalty,
        "exec": 0,
        "bond": -penalty,
        "held": L2_INITIAL_SUBSIDY,
        "minted": L2_INITIAL_SUBSIDY,
    }
    assert state.get("escrow", txid) is None
    assert state.total_held() == state.total_issued()


def test_penalty_is_capped_at_the_remaining_bond(tmp_path: Path) -> None:
    state = new_state(tmp_path, bond_penalty=COIN)
    txid = infer(state, 0)
    with state.atomic():  # the executor unbonded most of it after its answer was included
        state.set_bond(acct("exec"), 3)
        state.add_unbonding(acct("exec"), 100, BOND - 3)
    pend(state, [txid])
    before = snapshot(state)
    out = do_settle(state, qc_for([False]))
    assert out["penalty"] == 3
    d = delta(before, snapshot(state))
    assert (d["user"], d["bond"], d["held"]) == (GAS + 3, -3, L2_INITIAL_SUBSIDY)
    assert state.bond(acct("exec")) == 0
    assert state.get("bond", acct("exec")) is None  # a zero bond leaves no row


def test_mixed_decision_settles_each_inference_in_block_order(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    txids = [infer(state, 0, GAS), infer(state, 1, 3 * COIN), infer(state, 2, 5)]
    pend(state, txids)
    before = snapshot(state)
    out = do_settle(state, qc_for([True, False, True]))
    penalty = state.params.bond_penalty
    assert out == {
        "subsidy": L2_INITIAL_SUBSIDY,
        "gas": GAS + 5,
        "penalty": penalty,
        "accepted": 2,
        "rejected": 1,
    }
    d = delta(before, snapshot(state))
    assert (d["exec"], d["user"], d["bond"]) == (GAS + 5, 3 * COIN + penalty, -penalty)
    # no unit created or lost besides the subsidy
    assert d["held"] == d["minted"] == out["subsidy"]
    assert all(state.get("escrow", t) is None for t in txids)


@pytest.mark.parametrize(
    ("height", "expected"),
    [
        (0, L2_INITIAL_SUBSIDY),
        (3, L2_INITIAL_SUBSIDY),  # last block of the first era
        (4, L2_INITIAL_SUBSIDY // 2),  # first halving
        (7, L2_INITIAL_SUBSIDY // 2),
        (8, L2_INITIAL_SUBSIDY // 4),
        (4 * 9, 683_593),  # 350_000_000 >> 9 = 683593.75: the remainder is not minted
        (4 * 64, 0),  # after 64 halvings, nothing
    ],
)
def test_subsidy_halving_boundary(tmp_path: Path, height: int, expected: int) -> None:
    state = new_state(tmp_path, halving_interval=4)
    pend(state, [], height=height)
    before = snapshot(state)
    out = do_settle(state, qc_for([]))
    assert out["subsidy"] == expected
    assert isinstance(out["subsidy"], int)
    d = delta(before, snapshot(state))
    assert d["prod"] == d["minted"] == d["held"] == expected
    assert state.total_held() == state.total_issued()


def test_forfeited_election_gets_no_subsidy_but_settles_gas(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    txid = infer(state, 0)
    pend(state, [txid])
    with state.atomic():
        state.put("forfeit", L1_BLOCK, [1])  # rule equivocation
    before = snapshot(state)
    out = do_settle(state, qc_for([True]))
    assert out["subsidy"] == 0
    assert out["gas"] == GAS
    d = delta(before, snapshot(state))
    assert (d["prod"], d["minted"], d["held"], d["exec"]) == (0, 0, 0, GAS)
    assert pending(state) is None


def test_qc_must_certify_the_tip_with_one_bit_per_inference(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    pend(state, [infer(state, 0)])
    root = state.state_root()
    with pytest.raises(L2Error, match="qc-wrong-block"):
        do_settle(state, qc_for([True], bh=sha256(b"a sibling")))
    with pytest.raises(L2Error, match="qc-bad-decision"):
        do_settle(state, qc_for([True, True]))
    with pytest.raises(L2Error, match="qc-bad-decision"):
        do_settle(state, qc_for([]))
    with pytest.raises(L2Error, match="qc-no-quorum"):
        do_settle(state, QuorumCertificate(BLOCK_HASH, (True,), qc_for([True]).votes[:2]))
    assert state.state_root() == root


def test_qc_is_checked_against_the_set_recorded_with_the_block(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    pend(state, [])
    newcomers = ["new0", "new1", "new2"]
    with state.atomic():  # the set changes (an epoch boundary) after the block was recorded
        state.put(
            "vset",
            b"",
            [[_core.schnorr_public_key(skey(n)), 1, bytes(20), 100 * COIN] for n in newcomers],
        )
    root = state.state_root()
    with pytest.raises(L2Error, match="qc-not-verifier"):
        do_settle(state, qc_for([], names=newcomers))
    assert state.state_root() == root
    assert do_settle(state, qc_for([]))["subsidy"] == L2_INITIAL_SUBSIDY


def test_empty_verifier_set_can_never_settle(tmp_path: Path) -> None:
    state = new_state(tmp_path, genesis_verifiers=())
    pend(state, [])
    assert pending(state) == (1, acct("prod"), L1_BLOCK, [], [])
    root = state.state_root()
    with pytest.raises(L2Error, match="qc-no-quorum"):
        do_settle(state, QuorumCertificate(BLOCK_HASH, (), ()))
    assert state.state_root() == root
