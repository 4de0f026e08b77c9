"""The L2 state transition of one transaction: every rule by name (docs/layer2.md).

:func:`apply_tx` checks then applies a transaction inside a savepoint: a violated rule raises
:class:`~funai.layer2.errors.L2Error` and leaves the state untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from funai import _core
from funai.clarity.chain import SimpleChain
from funai.clarity.errors import ClarityAnalysisError, ClarityRuntimeError
from funai.clarity.store import Write
from funai.clarity.vm import ClarityVM
from funai.errors import FunaiError
from funai.layer2 import models
from funai.layer2.errors import L2Error
from funai.layer2.state import L2State
from funai.layer2.transactions import L2Tx, TxKind, account_of, receipt_message
from funai.layer2.votes import Elected
from funai.ledger.tx import OutputKind

__all__ = ["BlockContext", "BurnView", "ContractChain", "PegInView", "apply_tx"]

#: ``(l1_txid, index) -> (amount, l2 account, confirmations, output kind, output payload)``
#: of a peg-in output on the active L1 chain, or None.
PegInView = Callable[[bytes, int], "tuple[int, bytes, int, int, bytes] | None"]
#: ``l1_height -> block hash`` (internal byte order) on the active L1 chain at or below the
#: block's electing L1 block (rule ``clarity-burn-view``), or None.
BurnView = Callable[[int], "bytes | None"]


@dataclass
class BlockContext:
    """What a transaction sees of its block."""

    height: int
    producer: bytes  # producer's account
    burn_height: int = 0  # the electing L1 block's height (Clarity's burn-block-height)
    pegins: PegInView | None = None
    #: the L1 blocks Clarity's ``get-burn-block-info?`` reads; None: a placeholder view
    #: (mempool admission and tests)
    burn: BurnView | None = None
    forfeit: set[bytes] = field(default_factory=set)
    #: the elected producer of an election on this block's chain (rule
    #: ``equivocation-not-elected``); None refuses every EQUIVOCATION
    elected: Elected | None = None


class _ClarityStore:
    """The L2 state as the Clarity VM's StateStore (namespace ``clarity``)."""

    def __init__(self, state: L2State) -> None:
        self.state = state

    def get(self, key: bytes) -> bytes | None:
        v = self.state.get("clarity", key)
        return None if v is None else bytes(v)

    def apply(self, writes: list[Write]) -> None:
        for k, v in writes:
            self.state.put("clarity", k, v)


@dataclass
class ContractChain:
    """The chains as a contract of L2 block ``height`` sees them (rule ``clarity-burn-view``):
    ``burn-block-height`` is the height of the block's electing L1 block, and
    ``get-burn-block-info? header-hash`` reads the active L1 chain at or below it (the
    hash, SHA-256d of the 80-byte header, internal byte order); later heights are none.
    ``get-block-info?`` keeps :class:`~funai.clarity.chain.SimpleChain`'s placeholders."""

    height: int
    burn_height: int
    burn: BurnView

    def block_height(self) -> int:
        return self.height

    def burn_block_height(self) -> int:
        return self.burn_height

    def block_info(self, prop: str, height: int) -> int | bytes | str | None:
        return SimpleChain(height=self.height).block_info(prop, height)

    def burn_block_info(self, prop: str, height: int) -> int | bytes | str | None:
        if prop != "header-hash" or not 0 <= height <= self.burn_height:
            return None
        return self.burn(height)


def principal(acct: bytes) -> str:
    """The Clarity principal of an L2 account (test-network version 26)."""
    return _core.clarity_principal_encode(26, acct)


def apply_tx(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    """Validates and applies ``tx`` atomically."""
    with state.atomic():
        _apply(state, tx, ctx)


def _apply(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    tx.verify_signature(state.params.network_id)
    sender = tx.sender
    bal, nonce = state.account(sender)
    if tx.nonce != nonce:
        raise L2Error("tx-bad-nonce", f"expected {nonce}, got {tx.nonce}")
    p = tx.payload
    spend = tx.fee + _amount_spent(tx)
    if bal < spend:
        raise L2Error("tx-insufficient-funds", f"needs {spend}, has {bal}")
    state.set_account(sender, bal - tx.fee, nonce + 1)
    if tx.fee:
        state.credit(ctx.producer, tx.fee)
    kind = tx.kind
    if kind is TxKind.TRANSFER:
        state.debit(sender, int(p[1]))
        state.credit(bytes(p[0]), int(p[1]))
    elif kind is TxKind.STAKE:
        prev = state.stake(sender)
        amount = int(p[0]) + (0 if prev is None else prev[0])
        state.debit(sender, int(p[0]))
        state.set_stake(sender, amount, int(p[1]), bytes(p[2]), tx.sender_key)
    elif kind is TxKind.UNSTAKE:
        st = state.stake(sender)
        if st is None or st[0] < int(p[0]):
            raise L2Error("unstake-exceeds-stake", "unstaking more than is staked")
        state.set_stake(sender, st[0] - int(p[0]), st[1], st[2], st[3])
        state.add_unbonding(sender, ctx.height + state.params.unbonding_delay, int(p[0]))
    elif kind is TxKind.BOND:
        state.debit(sender, int(p[0]))
        state.set_bond(sender, state.bond(sender) + int(p[0]))
    elif kind is TxKind.UNBOND:
        bond = state.bond(sender)
        if bond < int(p[0]):
            raise L2Error("unbond-exceeds-bond", f"unbonding {p[0]}, the bond is {bond}")
        state.set_bond(sender, bond - int(p[0]))
        state.add_unbonding(sender, ctx.height + state.params.unbonding_delay, int(p[0]))
    elif kind is TxKind.INFERENCE:
        _apply_inference(state, tx, ctx)
    elif kind is TxKind.MODEL_PROPOSE:
        if state.get("model", bytes(p[0])) is not None or bytes(p[0]) in (
            state.params.genesis_models
        ):
            raise L2Error("model-proposal-exists", bytes(p[0]).hex())
        state.put("model", bytes(p[0]), [models.PROPOSED, 0, p[1]])
    elif kind is TxKind.MODEL_VOTE:
        _apply_model_vote(state, tx, ctx)
    elif kind is TxKind.PEG_IN:
        _apply_pegin(state, tx, ctx)
    elif kind is TxKind.PEG_OUT:
        if int(p[0]) <= state.params.pegout_fee:
            raise L2Error("pegout-below-fee", f"{p[0]} <= pegout_fee {state.params.pegout_fee}")
        state.debit(sender, int(p[0]))
        state.put("pegout", tx.txid(), [int(p[0]), int(p[1]), bytes(p[2])])
        state.add_meta("pegged_out", int(p[0]))
    elif kind in (TxKind.DEPLOY, TxKind.CALL):
        _apply_clarity(state, tx, ctx)
    elif kind is TxKind.EQUIVOCATION:
        from funai.layer2.votes import check_equivocation

        election = check_equivocation(state.params.network_id, p, ctx.elected or (lambda _l1: None))
        if state.get("forfeit", election) is not None:
            raise L2Error("equivocation-duplicate", "this election is already forfeited")
        state.put("forfeit", election, [1])
        ctx.forfeit.add(election)


def _amount_spent(tx: L2Tx) -> int:
    p = tx.payload
    if tx.kind in (TxKind.TRANSFER,):
        return int(p[1])
    if tx.kind in (TxKind.STAKE, TxKind.BOND, TxKind.PEG_OUT):
        return int(p[0])
    if tx.kind is TxKind.INFERENCE:
        return int(p[6])  # gas used (the limit only bounds it)
    return 0


def _apply_inference(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    model_id, _rhash, gas_limit, exec_key, chash, rsig, gas = tx.payload
    if not models.is_active(state, bytes(model_id), ctx.height):
        raise L2Error("inference-model-inactive", bytes(model_id).hex())
    if int(gas) > int(gas_limit):
        raise L2Error("inference-gas-over-limit", f"charges {gas}, the user allowed {gas_limit}")
    msg = receipt_message(state.params.network_id, tx.user_txid(), bytes(chash), int(gas))
    if not _core.schnorr_verify(bytes(exec_key), msg, bytes(rsig)):
        raise L2Error("inference-bad-receipt", "executor signature does not verify")
    executor = account_of(bytes(exec_key))
    if state.bond(executor) < state.params.min_bond:
        raise L2Error("inference-executor-unbonded", "executor bond below min_bond")
    if executor == tx.sender:
        raise L2Error("inference-self-execution", "executor and user are one account")
    state.debit(tx.sender, int(gas))
    state.put("escrow", tx.txid(), [tx.sender, executor, int(gas)])


def _apply_model_vote(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    model_id = bytes(tx.payload[0])
    accounts = {v.account for v in state.verifiers()}
    if tx.sender not in accounts:
        raise L2Error("model-vote-not-verifier", "only current verifiers vote")
    st = models.model_status(state, model_id)
    if st is None:
        raise L2Error("model-vote-unknown", model_id.hex())
    if state.get("mvote", model_id + tx.sender) is not None:
        raise L2Error("model-vote-duplicate", "one vote per verifier")
    state.put("mvote", model_id + tx.sender, [1])
    votes = sum(1 for k, _ in state.scan("mvote") if k[:32] == model_id and k[32:] in accounts)
    if st[0] == models.PROPOSED and votes >= state.quorum():
        desc = state.get("model", model_id)[2]
        activation = ctx.height + state.params.model_activation_delay
        state.put("model", model_id, [models.APPROVED, activation, desc])


def _apply_pegin(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    l1_txid, index, to, amount = tx.payload
    if tx.sender != ctx.producer:
        raise L2Error("pegin-not-producer", "only the block producer includes peg-ins")
    outpoint = bytes(l1_txid) + int(index).to_bytes(4, "big")
    if state.get("pegin", outpoint) is not None:
        raise L2Error("pegin-duplicate", "this L1 output was already credited")
    seen = None if ctx.pegins is None else ctx.pegins(bytes(l1_txid), int(index))
    if seen is None or seen[0] != int(amount) or seen[1] != bytes(to):
        raise L2Error("pegin-unknown", "no such peg-in output on L1")
    if seen[3] != OutputKind.PAY_TO_QUORUM or state.pool(seen[4]) is None:
        raise L2Error("pegin-pool", "the output does not pay the peg pool of a known set")
    if seen[2] < state.params.confirmations:
        raise L2Error("pegin-unconfirmed", f"{seen[2]} < {state.params.confirmations}")
    state.put("pegin", outpoint, [int(amount)])
    state.credit(bytes(to), int(amount))
    state.add_meta("pegged_in", int(amount))


def _apply_clarity(state: L2State, tx: L2Tx, ctx: BlockContext) -> None:
    chain: SimpleChain | ContractChain = SimpleChain(height=ctx.height + 1)
    if ctx.burn is not None:
        chain = ContractChain(ctx.height + 1, ctx.burn_height, ctx.burn)
    vm = ClarityVM(_ClarityStore(state), chain)  # type: ignore[arg-type]
    sender = principal(tx.sender)
    try:
        if tx.kind is TxKind.DEPLOY:
            vm.deploy(str(tx.payload[0]), str(tx.payload[1]), sender=sender)
        else:
            res = vm.call(str(tx.payload[0]), str(tx.payload[1]), *tx.payload[2], sender=sender)
            if res.aborted:
                raise L2Error("contract-call-aborted", res.error or "")
    except (ClarityAnalysisError, ClarityRuntimeError) as exc:
        raise L2Error("contract-rejected", str(exc)) from None
    except FunaiError as exc:
        if isinstance(exc, L2Error):
            raise
        raise L2Error("contract-rejected", str(exc)) from None
