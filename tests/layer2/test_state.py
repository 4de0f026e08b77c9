"""L2 state: verifier set (top 5, ties, bootstrap, epochs), state root, supply."""

from __future__ import annotations

from pathlib import Path

from funai import _core
from funai.layer2.execution import BlockContext, apply_tx
from funai.layer2.transactions import TxKind, sign_tx
from funai.ledger.supply import HALVING_INTERVAL, L1_INITIAL_SUBSIDY, l2_subsidy, total_supply
from funai.ledger.tx import COIN, MAX_MONEY
from funai.testing.cluster import VERIFIER_NAMES, Net, acct, skey


def stake(net: Net, name: str, amount: int, nonce: int = 0) -> None:
    net.fund(name, amount)
    tx = sign_tx(skey(name), TxKind.STAKE, nonce, [amount, 1, bytes(20)], net.params.network_id)
    apply_tx(net.state, tx, BlockContext(1, acct("prod")))


def test_genesis_set_until_someone_stakes(tmp_path: Path) -> None:
    net = Net(tmp_path / "s.sqlite")
    genesis = [_core.schnorr_public_key(skey(n)) for n in VERIFIER_NAMES]
    assert [v.key for v in net.state.verifiers()] == genesis
    assert net.state.quorum() == 3
    stake(net, "small", net.params.min_stake - 1)  # below the minimum: does not count
    with net.state.atomic():
        net.state.recompute_verifier_set()
    assert [v.key for v in net.state.verifiers()] == genesis


def test_bootstrap_fewer_than_five(tmp_path: Path) -> None:
    net = Net(tmp_path / "s.sqlite")
    stake(net, "a", 200 * COIN)
    stake(net, "b", 300 * COIN)
    with net.state.atomic():
        vs = net.state.recompute_verifier_set()
    assert [v.account for v in vs] == [acct("b"), acct("a")]
    assert net.state.quorum() == 2  # majority of those


def test_top_five_by_stake_with_ties(tmp_path: Path) -> None:
    net = Net(tmp_path / "s.sqlite")
    amounts = {"a": 500, "b": 400, "c": 400, "d": 300, "e": 200, "f": 150, "g": 100}
    for n, a in amounts.items():
        stake(net, n, a * COIN)
    with net.state.atomic():
        vs = net.state.recompute_verifier_set()
    assert len(vs) == 5
    bc = sorted([acct("b"), acct("c")])
    assert [v.account for v in vs] == [acct("a"), *bc, acct("d"), acct("e")]
    assert net.state.quorum() == 3


def test_set_changes_only_at_epoch_boundaries(tmp_path: Path) -> None:
    net = Net(tmp_path / "s.sqlite")
    net.register("prod")
    genesis = [v.key for v in net.state.verifiers()]
    block = net.produce(net.elect({"prod": 5 * COIN}))  # height 0: an epoch boundary
    stake(net, "whale", 1000 * COIN)
    for h in range(1, net.params.epoch_length):
        qc = net.vote_all(block, {n: [] for n in VERIFIER_NAMES})
        block = net.produce(net.elect({"prod": 5 * COIN}), [], qc)
        assert net.state.height == h
        assert [v.key for v in net.state.verifiers()] == genesis
    # the genesis set still certifies the last block of the epoch; the new set starts after
    qc = net.vote_all(block, {n: [] for n in VERIFIER_NAMES})
    net.produce(net.elect({"prod": 5 * COIN}), [], qc)
    assert [v.account for v in net.state.verifiers()] == [acct("whale")]
    assert net.state.total_held() == net.state.total_issued()


def test_state_root_independent_of_insertion_order(tmp_path: Path) -> None:
    a = Net(tmp_path / "a.sqlite")
    b = Net(tmp_path / "b.sqlite")
    with a.state.atomic():
        a.state.credit(acct("x"), 5)
        a.state.credit(acct("y"), 7)
    with b.state.atomic():
        b.state.credit(acct("y"), 7)
        b.state.credit(acct("x"), 5)
    assert a.state.state_root() == b.state.state_root() != bytes(32)
    with b.state.atomic():
        b.state.credit(acct("x"), 1)
    assert a.state.state_root() != b.state.state_root()


def test_atomic_rolls_back(tmp_path: Path) -> None:
    net = Net(tmp_path / "s.sqlite")
    root = net.state.state_root()
    try:
        with net.state.atomic():
            net.state.credit(acct("x"), 5)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert net.state.state_root() == root


def test_supply_cap_both_layers() -> None:
    total = total_supply(L1_INITIAL_SUBSIDY) + total_supply(l2_subsidy(0))
    assert total <= MAX_MONEY
    assert l2_subsidy(0) == 350_000_000
    assert l2_subsidy(HALVING_INTERVAL) == 175_000_000


def test_params_refuse_inconsistent_values() -> None:
    import pytest

    from funai.layer2.params import L2Params

    with pytest.raises(ValueError, match="unbonding_delay"):
        L2Params(epoch_length=10, unbonding_delay=9)
    with pytest.raises(ValueError, match=">= 1"):
        L2Params(verifier_count=0)
    assert L2Params().quorum == 3
