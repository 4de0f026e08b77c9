"""The state transition of one transaction (funai/layer2/execution.py): each kind changes
exactly the rows it should; every rejection leaves the state (root) unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.clarity import ClarityVM
from funai.errors import MalformedInputError
from funai.hashing import sha256
from funai.layer2 import models
from funai.layer2.block import L2Header, block_sig_message
from funai.layer2.errors import L2Error
from funai.layer2.execution import (
    BlockContext,
    ContractChain,
    _ClarityStore,
    apply_tx,
    principal,
)
from funai.layer2.state import L2State
from funai.layer2.transactions import InferenceContent, L2Tx, TxKind, make_inference, sign_tx
from funai.ledger.tx import COIN, OutputKind
from funai.testing.cluster import MODEL, MODEL_B, NETWORK_ID, VERIFIER_NAMES, Net, acct, skey

Row = tuple[str, bytes]


@pytest.fixture
def state(tmp_path: Path) -> L2State:
    net = Net(tmp_path / "x.sqlite")
    net.fund("user", 100 * COIN)
    net.fund("exec", 100 * COIN)
    for v in VERIFIER_NAMES[:3]:
        net.fund(v, COIN)
    return net.state


def ctx(height: int = 1, producer: str = "prod", **kw: object) -> BlockContext:
    return BlockContext(height, acct(producer), **kw)  # type: ignore[arg-type]


def tx(name: str, kind: TxKind, nonce: int, payload: list[object], fee: int = 0) -> L2Tx:
    return sign_tx(skey(name), kind, nonce, payload, NETWORK_ID, fee)


def rows(state: L2State) -> dict[Row, object]:
    out: dict[Row, object] = {}
    for ns, key, _ in state.conn.execute("SELECT ns, key, value FROM l2_state"):
        out[(ns, bytes(key))] = state.get(ns, bytes(key))
    return out


def applied(
    state: L2State, t: L2Tx, c: BlockContext | None = None
) -> dict[Row, tuple[object, object]]:
    """Applies ``t``; returns every changed row: ``(ns, key) -> (before, after)``."""
    before = rows(state)
    apply_tx(state, t, c or ctx())
    after = rows(state)
    return {
        k: (before.get(k), after.get(k))
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }


def refused(state: L2State, t: L2Tx, rule: str, c: BlockContext | None = None) -> None:
    root, before = state.state_root(), rows(state)
    with pytest.raises(L2Error) as err:
        apply_tx(state, t, c or ctx())
    assert err.value.rule == rule
    assert state.state_root() == root
    assert rows(state) == before


def unbond_key(release: int, who: str) -> bytes:
    return release.to_bytes(8, "big") + acct(who)


# --- each kind changes exactly what it should ---------------------------------------------


def test_transfer_with_fee(state: L2State) -> None:
    t = tx("user", TxKind.TRANSFER, 0, [acct("bob"), 10 * COIN], fee=COIN)
    assert applied(state, t) == {
        ("acct", acct("user")): ([100 * COIN, 0], [89 * COIN, 1]),
        ("acct", acct("bob")): (None, [10 * COIN, 0]),
        ("acct", acct("prod")): (None, [COIN, 0]),
    }


def test_transfer_to_self_and_fee_to_self(state: L2State) -> None:
    t = tx("user", TxKind.TRANSFER, 0, [acct("user"), 10 * COIN], fee=COIN)
    # the producer is the sender: only the nonce moves
    assert applied(state, t, ctx(producer="user")) == {
        ("acct", acct("user")): ([100 * COIN, 0], [100 * COIN, 1]),
    }


def test_transfer_of_the_whole_balance(state: L2State) -> None:
    t = tx("user", TxKind.TRANSFER, 0, [acct("bob"), 99 * COIN], fee=COIN)
    assert applied(state, t) == {
        ("acct", acct("user")): ([100 * COIN, 0], [0, 1]),  # the nonce keeps the row
        ("acct", acct("bob")): (None, [99 * COIN, 0]),
        ("acct", acct("prod")): (None, [COIN, 0]),
    }


def test_stake_adds_to_an_existing_stake(state: L2State) -> None:
    key = _core.schnorr_public_key(skey("user"))
    payout, payout2 = bytes(20), _core.hash160(b"new payout")
    assert applied(state, tx("user", TxKind.STAKE, 0, [60 * COIN, 1, payout])) == {
        ("acct", acct("user")): ([100 * COIN, 0], [40 * COIN, 1]),
        ("stake", acct("user")): (None, [60 * COIN, 1, payout, key]),
    }
    assert applied(state, tx("user", TxKind.STAKE, 1, [5 * COIN, 1, payout2])) == {
        ("acct", acct("user")): ([40 * COIN, 1], [35 * COIN, 2]),
        ("stake", acct("user")): ([60 * COIN, 1, payout, key], [65 * COIN, 1, payout2, key]),
    }


def test_unstake_moves_stake_to_unbonding(state: L2State) -> None:
    key = _core.schnorr_public_key(skey("user"))
    apply_tx(state, tx("user", TxKind.STAKE, 0, [60 * COIN, 1, bytes(20)]), ctx())
    release = 4 + state.params.unbonding_delay
    assert applied(state, tx("user", TxKind.UNSTAKE, 1, [20 * COIN]), ctx(4)) == {
        ("acct", acct("user")): ([40 * COIN, 1], [40 * COIN, 2]),
        ("stake", acct("user")): ([60 * COIN, 1, bytes(20), key], [40 * COIN, 1, bytes(20), key]),
        ("unbond", unbond_key(release, "user")): (None, [20 * COIN]),
    }
    # the rest, in the same block: added to the same unbonding row, the stake row goes
    assert applied(state, tx("user", TxKind.UNSTAKE, 2, [40 * COIN]), ctx(4)) == {
        ("acct", acct("user")): ([40 * COIN, 2], [40 * COIN, 3]),
        ("stake", acct("user")): ([40 * COIN, 1, bytes(20), key], None),
        ("unbond", unbond_key(release, "user")): ([20 * COIN], [60 * COIN]),
    }


def test_bond_and_unbond(state: L2State) -> None:
    assert applied(state, tx("exec", TxKind.BOND, 0, [20 * COIN])) == {
        ("acct", acct("exec")): ([100 * COIN, 0], [80 * COIN, 1]),
        ("bond", acct("exec")): (None, [20 * COIN]),
    }
    release = 7 + state.params.unbonding_delay
    assert applied(state, tx("exec", TxKind.UNBOND, 1, [20 * COIN]), ctx(7)) == {
        ("acct", acct("exec")): ([80 * COIN, 1], [80 * COIN, 2]),
        ("bond", acct("exec")): ([20 * COIN], None),
        ("unbond", unbond_key(release, "exec")): (None, [20 * COIN]),
    }


def test_inference_escrows_the_gas_used(state: L2State) -> None:
    apply_tx(state, tx("exec", TxKind.BOND, 0, [10 * COIN]), ctx())
    content = InferenceContent("q", "a")
    t = make_inference(
        skey("user"), skey("exec"), 0, MODEL, content, 5 * COIN, NETWORK_ID, COIN, gas_used=COIN
    )
    assert applied(state, t) == {
        ("acct", acct("user")): ([100 * COIN, 0], [98 * COIN, 1]),  # fee + gas used
        ("acct", acct("prod")): (None, [COIN, 0]),
        ("escrow", t.txid()): (None, [acct("user"), acct("exec"), COIN]),
    }


def test_model_propose_and_vote_to_approval(state: L2State) -> None:
    desc = "model b"
    assert applied(state, tx("user", TxKind.MODEL_PROPOSE, 0, [MODEL_B, desc])) == {
        ("acct", acct("user")): ([100 * COIN, 0], [100 * COIN, 1]),
        ("model", MODEL_B): (None, [models.PROPOSED, 0, desc]),
    }
    v0, v1, v2 = VERIFIER_NAMES[:3]
    assert applied(state, tx(v0, TxKind.MODEL_VOTE, 0, [MODEL_B]), ctx(10)) == {
        ("acct", acct(v0)): ([COIN, 0], [COIN, 1]),
        ("mvote", MODEL_B + acct(v0)): (None, [1]),
    }
    apply_tx(state, tx(v1, TxKind.MODEL_VOTE, 0, [MODEL_B]), ctx(10))
    activation = 11 + state.params.model_activation_delay
    assert applied(state, tx(v2, TxKind.MODEL_VOTE, 0, [MODEL_B]), ctx(11)) == {
        ("acct", acct(v2)): ([COIN, 0], [COIN, 1]),
        ("mvote", MODEL_B + acct(v2)): (None, [1]),
        ("model", MODEL_B): ([models.PROPOSED, 0, desc], [models.APPROVED, activation, desc]),
    }


def test_model_vote_after_approval_changes_no_activation(state: L2State) -> None:
    apply_tx(state, tx("user", TxKind.MODEL_PROPOSE, 0, [MODEL_B, "b"]), ctx())
    for v in VERIFIER_NAMES[:3]:
        apply_tx(state, tx(v, TxKind.MODEL_VOTE, 0, [MODEL_B]), ctx(10))
    net_v3 = VERIFIER_NAMES[3]
    changed = applied(state, tx(net_v3, TxKind.MODEL_VOTE, 0, [MODEL_B]), ctx(50))
    assert ("model", MODEL_B) not in changed  # activation stays at 10 + delay
    assert changed[("mvote", MODEL_B + acct(net_v3))] == (None, [1])


def test_peg_out(state: L2State) -> None:
    t = tx("user", TxKind.PEG_OUT, 0, [30 * COIN, 1, bytes(20)])
    assert applied(state, t) == {
        ("acct", acct("user")): ([100 * COIN, 0], [70 * COIN, 1]),
        ("pegout", t.txid()): (None, [30 * COIN, 1, bytes(20)]),
        ("meta", b"pegged_out"): (None, [30 * COIN]),
    }


def test_peg_in(state: L2State) -> None:
    with state.atomic():
        pool = state.record_pool(0)
    l1_txid = sha256(b"l1 tx")
    q = int(OutputKind.PAY_TO_QUORUM)

    def view(txid: bytes, index: int) -> tuple[int, bytes, int, int, bytes] | None:
        return (7 * COIN, acct("carol"), 6, q, pool) if (txid, index) == (l1_txid, 3) else None

    pegged = state.meta("pegged_in")
    t = tx("prod", TxKind.PEG_IN, 0, [l1_txid, 3, acct("carol"), 7 * COIN])
    assert applied(state, t, ctx(pegins=view)) == {
        ("acct", acct("prod")): (None, [0, 1]),
        ("acct", acct("carol")): (None, [7 * COIN, 0]),
        ("pegin", l1_txid + (3).to_bytes(4, "big")): (None, [7 * COIN]),
        ("meta", b"pegged_in"): ([pegged], [pegged + 7 * COIN]),
    }
    assert state.total_held() == state.total_issued()


COUNTER = """
(define-data-var count uint u0)
(define-public (inc (n uint)) (begin (var-set count (+ (var-get count) n)) (ok (var-get count))))
(define-public (fail) (begin (var-set count u99) (err u7)))
(define-public (boom) (ok (/ u1 u0)))
"""


def test_deploy_and_call_touch_only_clarity_rows_and_the_nonce(state: L2State) -> None:
    changed = applied(state, tx("user", TxKind.DEPLOY, 0, ["counter", COUNTER]))
    assert changed.pop(("acct", acct("user"))) == ([100 * COIN, 0], [100 * COIN, 1])
    assert changed
    assert {ns for ns, _ in changed} == {"clarity"}
    cid = f"{principal(acct('user'))}.counter"
    changed = applied(state, tx("user", TxKind.CALL, 1, [cid, "inc", ["u5"]]))
    assert changed.pop(("acct", acct("user"))) == ([100 * COIN, 1], [100 * COIN, 2])
    assert len(changed) == 1
    assert {ns for ns, _ in changed} == {"clarity"}
    # an err response is a valid transaction: nonce and fee taken, its writes dropped
    assert applied(state, tx("user", TxKind.CALL, 2, [cid, "fail", []], fee=COIN)) == {
        ("acct", acct("user")): ([100 * COIN, 2], [99 * COIN, 3]),
        ("acct", acct("prod")): (None, [COIN, 0]),
    }
    # a runtime error aborts the call: refused whole, no nonce, no fee
    refused(state, tx("user", TxKind.CALL, 3, [cid, "boom", []], fee=COIN), "contract-call-aborted")
    refused(state, tx("user", TxKind.CALL, 3, [cid, "inc", ["5"]]), "contract-rejected")
    refused(state, tx("user", TxKind.CALL, 3, [cid + "x", "inc", ["u1"]]), "contract-rejected")


VAULT4 = """
(define-public (deposit (amount uint)) (stx-transfer? amount tx-sender current-contract))
(define-public (withdraw (amount uint))
  (let ((me tx-sender))
    (as-contract? ((with-stx u100)) (try! (stx-transfer? amount tx-sender me)))))
(define-read-only (now) stacks-block-time)
"""


def test_deploy_names_its_clarity_version(state: L2State) -> None:
    """A DEPLOY may carry a Clarity version (here 4); without one the code is Clarity 2."""
    refused(state, tx("user", TxKind.DEPLOY, 0, ["vault", VAULT4]), "contract-rejected")
    applied(state, tx("user", TxKind.DEPLOY, 0, ["vault", VAULT4, 4]))
    cid = f"{principal(acct('user'))}.vault"
    store = _ClarityStore(state)
    store.apply(
        [(_core.clarity_balance_key(principal(acct("user"))), _core.clarity_encode_uint(500))]
    )
    applied(state, tx("user", TxKind.CALL, 1, [cid, "deposit", ["u300"]]))
    applied(state, tx("user", TxKind.CALL, 2, [cid, "withdraw", ["u150"]]))  # (err u0)
    applied(state, tx("user", TxKind.CALL, 3, [cid, "withdraw", ["u100"]]))
    vm = ClarityVM(store)
    assert (vm.balance(cid), vm.balance(principal(acct("user")))) == (200, 300)
    # stacks-block-time is the block's header time (rule block-time)
    chain = ContractChain(5, 0, None, state, 1_700_000_123)
    assert ClarityVM(store, chain).read_only(cid, "now").result == "u1700000123"


# --- equivocation -------------------------------------------------------------------------

PROOF = bytes(range(80))
ELECTION = sha256(b"election")


def _evidence() -> list[object]:
    key = _core.schnorr_public_key(skey("prod"))
    out: list[object] = []
    for t in (1, 2):
        h = L2Header(1, bytes(32), ELECTION, PROOF, key, bytes(32), bytes(32), t)
        sig = _core.schnorr_sign(skey("prod"), block_sig_message(NETWORK_ID, h.hash()), None)
        out += [h.serialize(), sig]
    return out


def _elected(l1: bytes) -> tuple[bytes, bytes] | None:
    return (acct("prod"), PROOF) if l1 == ELECTION else None


def test_equivocation_records_the_forfeit(state: L2State) -> None:
    c = ctx(producer="other", elected=_elected)
    assert applied(state, tx("user", TxKind.EQUIVOCATION, 0, _evidence()), c) == {
        ("acct", acct("user")): ([100 * COIN, 0], [100 * COIN, 1]),
        ("forfeit", ELECTION): (None, [1]),
    }
    assert c.forfeit == {ELECTION}
    refused(state, tx("exec", TxKind.EQUIVOCATION, 0, _evidence()), "equivocation-duplicate", c)


def test_equivocation_without_an_election_view_is_refused(state: L2State) -> None:
    c = ctx()
    refused(state, tx("user", TxKind.EQUIVOCATION, 0, _evidence()), "equivocation-not-elected", c)
    assert c.forfeit == set()


# --- common rejections ----------------------------------------------------------------------


@pytest.mark.parametrize("nonce", [1, 2**62], ids=["next", "far"])
def test_tx_bad_nonce_ahead(state: L2State, nonce: int) -> None:
    refused(state, tx("user", TxKind.TRANSFER, nonce, [acct("bob"), COIN]), "tx-bad-nonce")


def test_tx_bad_nonce_replayed(state: L2State) -> None:
    apply_tx(state, tx("user", TxKind.TRANSFER, 0, [acct("bob"), COIN]), ctx())
    apply_tx(state, tx("user", TxKind.TRANSFER, 1, [acct("bob"), COIN]), ctx())
    refused(state, tx("user", TxKind.TRANSFER, 0, [acct("bob"), COIN]), "tx-bad-nonce")


@pytest.mark.parametrize(
    ("kind", "payload", "fee"),
    [
        (TxKind.TRANSFER, [acct("bob"), 100 * COIN], 1),
        (TxKind.TRANSFER, [acct("bob"), 1], 100 * COIN),
        (TxKind.STAKE, [100 * COIN + 1, 1, bytes(20)], 0),
        (TxKind.BOND, [100 * COIN], 1),
        (TxKind.PEG_OUT, [100 * COIN + 1, 1, bytes(20)], 0),
        (TxKind.MODEL_PROPOSE, [MODEL_B, "b"], 100 * COIN + 1),
    ],
    ids=["transfer", "transfer-fee", "stake", "bond-fee", "peg-out", "fee-alone"],
)
def test_tx_insufficient_funds_one_unit_short(
    state: L2State, kind: TxKind, payload: list[object], fee: int
) -> None:
    refused(state, tx("user", kind, 0, payload, fee), "tx-insufficient-funds")


def test_exactly_the_balance_is_enough(state: L2State) -> None:
    apply_tx(state, tx("user", TxKind.BOND, 0, [100 * COIN - 1], fee=1), ctx())
    assert state.account(acct("user")) == (0, 1)
    assert state.bond(acct("user")) == 100 * COIN - 1


def test_unknown_account(state: L2State) -> None:
    # no row: balance 0, nonce 0: only what costs nothing can pass
    refused(state, tx("nobody", TxKind.TRANSFER, 0, [acct("bob"), 1]), "tx-insufficient-funds")
    refused(state, tx("nobody", TxKind.TRANSFER, 1, [acct("bob"), 1]), "tx-bad-nonce")
    refused(state, tx("nobody", TxKind.UNSTAKE, 0, [1]), "unstake-exceeds-stake")
    refused(state, tx("nobody", TxKind.UNBOND, 0, [1]), "unbond-exceeds-bond")
    refused(state, tx("nobody", TxKind.MODEL_VOTE, 0, [MODEL_B]), "model-vote-not-verifier")
    # a free transaction creates the account row with its nonce
    assert applied(state, tx("nobody", TxKind.MODEL_PROPOSE, 0, [MODEL_B, "b"])) == {
        ("acct", acct("nobody")): (None, [0, 1]),
        ("model", MODEL_B): (None, [models.PROPOSED, 0, "b"]),
    }


def test_bad_signature_and_another_network(state: L2State) -> None:
    good = tx("user", TxKind.TRANSFER, 0, [acct("bob"), COIN])
    forged = L2Tx(good.kind, good.sender_key, 0, 0, (acct("mallory"), COIN), good.signature)
    refused(state, forged, "tx-bad-signature")
    other = sign_tx(skey("user"), TxKind.TRANSFER, 0, [acct("bob"), COIN], sha256(b"other"))
    refused(state, other, "tx-bad-signature")


def test_a_later_rule_rolls_back_fee_and_nonce(state: L2State) -> None:
    # the fee and nonce are written before the kind's own rule runs: all of it rolls back
    refused(state, tx("user", TxKind.UNSTAKE, 0, [COIN], fee=COIN), "unstake-exceeds-stake")
    refused(state, tx("user", TxKind.UNBOND, 0, [COIN], fee=COIN), "unbond-exceeds-bond")
    refused(
        state,
        tx("user", TxKind.PEG_OUT, 0, [state.params.pegout_fee, 1, bytes(20)], fee=1),
        "pegout-below-fee",
    )
    refused(
        state, tx("user", TxKind.MODEL_PROPOSE, 0, [MODEL, "dup"], fee=1), "model-proposal-exists"
    )
    refused(state, tx("user", TxKind.MODEL_VOTE, 0, [MODEL_B], fee=1), "model-vote-not-verifier")
    refused(
        state,
        tx("user", TxKind.PEG_IN, 0, [sha256(b"x"), 0, acct("user"), 1], fee=1),
        "pegin-not-producer",
    )
    assert state.account(acct("user")) == (100 * COIN, 0)
    assert state.balance(acct("prod")) == 0


def test_inference_rejections_leave_no_escrow(state: L2State) -> None:
    content = InferenceContent("q", "a")
    t = make_inference(skey("user"), skey("exec"), 0, MODEL, content, COIN, NETWORK_ID, fee=1)
    refused(state, t, "inference-executor-unbonded")
    apply_tx(state, tx("exec", TxKind.BOND, 0, [state.params.min_bond - 1]), ctx())
    refused(state, t, "inference-executor-unbonded")  # one unit below min_bond
    apply_tx(state, tx("exec", TxKind.BOND, 1, [1]), ctx())
    assert state.get("escrow", t.txid()) is None
    apply_tx(state, t, ctx())  # exactly min_bond is enough
    assert state.get("escrow", t.txid()) == [acct("user"), acct("exec"), COIN]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (TxKind.BOND, [acct("bob"), 5]),  # a TRANSFER payload
        (TxKind.TRANSFER, [5]),  # a BOND payload
        (TxKind.UNSTAKE, [0]),
        (TxKind.STAKE, [COIN, 1, bytes(32)]),  # key-hash payout of 32 bytes
        (TxKind.MODEL_VOTE, [MODEL[:31]]),
        (TxKind.PEG_IN, [sha256(b"x"), -1, acct("bob"), 1]),
        (TxKind.CALL, ["c", "f", [5]]),
    ],
)
def test_a_payload_of_the_wrong_shape_never_reaches_execution(
    kind: TxKind, payload: list[object]
) -> None:
    with pytest.raises(MalformedInputError):
        tx("user", kind, 0, payload)
