"""Attack: contract calls on the inference chain must not re-analyse the called contract.

Before the fix every contract transaction ran in a fresh Clarity VM, so each call parsed and
type-checked the called contract (and what it uses) again: 50-100 ms for a 600 kB contract,
charged nothing, on every node that dry-runs or applies the transaction, for one minimal
transaction each. Now one VM per state keeps the analysed contracts, and because the state
rolls back (mempool dry runs, failed transactions, undone blocks) every use of a cached
contract is checked against its stored record: a contract rolled back and deployed again
under the same name with other code is the new code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.clarity import ClarityVM, MemoryStore
from funai.layer2.errors import L2Error
from funai.layer2.execution import (
    BlockContext,
    _ClarityStore,
    apply_tx,
    clarity_core,
    principal,
)
from funai.layer2.state import L2State
from funai.layer2.transactions import L2Tx, TxKind, sign_tx
from funai.ledger.tx import COIN
from funai.testing.cluster import NETWORK_ID, Net, acct, skey

HEAVY = "\n".join(f"(define-read-only (f{i} (x uint)) (+ x u{i}))" for i in range(2000))
HEAVY += "\n(define-public (poke) (ok u1))\n"


class _DryRunError(Exception):
    pass


@pytest.fixture
def state(tmp_path: Path) -> L2State:
    net = Net(tmp_path / "x.sqlite")
    net.fund("user", 100 * COIN)
    return net.state


def _tx(nonce: int, kind: TxKind, payload: list[object]) -> L2Tx:
    return sign_tx(skey("user"), kind, nonce, payload, NETWORK_ID, 0)


def _ctx() -> BlockContext:
    return BlockContext(1, acct("prod"))


def _dry_run(state: L2State, *txs: L2Tx) -> None:
    """Applies ``txs`` and rolls them back, as the mempool's admission check does."""
    try:
        with state.atomic():
            for t in txs:
                apply_tx(state, t, _ctx())
            raise _DryRunError
    except _DryRunError:
        pass


def test_calls_reuse_the_analysis(state: L2State) -> None:
    apply_tx(state, _tx(0, TxKind.DEPLOY, ["heavy", HEAVY]), _ctx())
    cid = f"{principal(acct('user'))}.heavy"
    loads = clarity_core(state).contract_loads
    for nonce in range(1, 21):
        # a mempool-style dry run, then the real application
        _dry_run(state, _tx(nonce, TxKind.CALL, [cid, "poke", []]))
        apply_tx(state, _tx(nonce, TxKind.CALL, [cid, "poke", []]), _ctx())
    assert clarity_core(state).contract_loads == loads  # analysed at deploy, never again
    assert state.account(acct("user"))[1] == 21


def test_a_contract_replaced_after_a_rollback_is_the_new_code(state: L2State) -> None:
    cid = f"{principal(acct('user'))}.answer"
    old = "(define-read-only (value) u1)\n(define-public (ask) (ok (value)))\n"
    new = "(define-read-only (value) u2)\n(define-public (ask) (ok (value)))\n"
    _dry_run(
        state,
        _tx(0, TxKind.DEPLOY, ["answer", old]),
        _tx(1, TxKind.CALL, [cid, "ask", []]),
    )
    # rolled back: the contract does not exist, though the shared VM analysed it
    with pytest.raises(L2Error, match="no such contract"):
        apply_tx(state, _tx(0, TxKind.CALL, [cid, "ask", []]), _ctx())
    # the same principal gets other code behind the shared VM's back (another VM deploys it)
    ClarityVM(_ClarityStore(state)).deploy("answer", new, sender=principal(acct("user")))
    shared = ClarityVM(_ClarityStore(state), core=clarity_core(state))
    assert shared.read_only(cid, "value").result == "u2"
    apply_tx(state, _tx(0, TxKind.CALL, [cid, "ask", []]), _ctx())


def test_the_record_check_is_what_keeps_the_cache_right(tmp_path: Path) -> None:
    """The same sequence without the check: the shared VM would run the old code."""
    store = MemoryStore()
    core = _core.ClarityVm(False)
    core.validate_cache = False
    vm = ClarityVM(store, core=core)
    cid = vm.deploy("answer", "(define-read-only (value) u1)").contract_id
    store.data.clear()  # the deploy rolled back
    ClarityVM(store).deploy("answer", "(define-read-only (value) u2)")
    assert vm.read_only(cid, "value").result == "u1"  # stale
    core.validate_cache = True
    assert vm.read_only(cid, "value").result == "u2"
