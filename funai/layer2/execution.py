"""The L2 state transition of one transaction: every rule by name (docs/layer2.md).

:func:`apply_tx` checks then applies a transaction inside a savepoint: a violated rule raises
:class:`~funai.layer2.errors.L2Error` and leaves the state untouched.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from funai import _core
from funai.clarity.chain import SimpleChain
from funai.clarity.errors import ClarityAnalysisError, ClarityRuntimeError
from funai.clarity.store import Write
from funai.clarity.vm import ClarityVM
from funai.errors import FunaiError
from funai.hashing import sha256
from funai.layer2 import models
from funai.layer2.block import L2Header
from funai.layer2.errors import L2Error
from funai.layer2.state import L2State
from funai.layer2.transactions import (
    BondPayload,
    CallPayload,
    DeployPayload,
    EquivocationPayload,
    InferencePayload,
    L2Tx,
    ModelProposePayload,
    ModelVotePayload,
    PegInPayload,
    PegOutPayload,
    StakePayload,
    TransferPayload,
    UnbondPayload,
    UnstakePayload,
    account_of,
    receipt_message,
)
from funai.layer2.votes import Elected
from funai.ledger.encoding import decode
from funai.ledger.supply import l2_subsidy
from funai.ledger.tx import OutputKind
from funai.vrf import proof_to_hash as vrf_proof_to_hash

__all__ = [
    "BlockContext",
    "BurnView",
    "ContractChain",
    "PegInView",
    "apply_tx",
    "clarity_core",
]

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
    time: int = 0  # the block header's time (Clarity 4's stacks-block-time)
    pegins: PegInView | None = None
    #: the L1 blocks Clarity's ``get-burn-block-info?`` reads; None: a placeholder view
    #: (mempool admission and tests)
    burn: BurnView | None = None
    forfeit: set[bytes] = field(default_factory=set)
    #: the elected producer of an election on this block's chain (rule
    #: ``equivocation-not-elected``); None refuses every EQUIVOCATION
    elected: Elected | None = None


_CORES: weakref.WeakKeyDictionary[L2State, _core.ClarityVm] = weakref.WeakKeyDictionary()


#: Rule ``contract-tx-limit``: what one contract transaction on the inference chain may use.
#: Tighter than the Clarity VM's default (the reference's, 15,000 reads and writes and 15 MB
#: written per transaction), because a contract transaction here pays a flat fee, not its
#: cost: one transaction may not make every node store more than 1 MB.
CONTRACT_TX_LIMIT = {
    "runtime": 5_000_000,
    "read_count": 1_000,
    "read_length": 2_000_000,
    "write_count": 500,
    "write_length": 1_000_000,
}


def clarity_core(state: L2State) -> _core.ClarityVm:
    """The Clarity VM every contract transaction on ``state`` runs in, ready for the next one.

    One per state, so a contract is parsed and analysed once rather than at every call (a
    fresh VM per transaction re-analysed the called contract each time: 50-100 ms for a
    600 kB contract, charged nothing, on every node). The state rolls back (dry runs, failed
    transactions, undone blocks), so every use of a cached contract is checked against its
    stored record (``validate_cache``). Each transaction gets a fresh block budget, as a VM
    of its own had."""
    core = _CORES.get(state)
    if core is None:
        core = _core.ClarityVm(False)
        core.validate_cache = True
        core.call_limit = CONTRACT_TX_LIMIT
        _CORES[state] = core
    core.new_block()
    return core


class _ClarityStore:
    """The L2 state as the Clarity VM's StateStore (namespace ``clarity``), with its
    history (rule ``clarity-history``)."""

    def __init__(self, state: L2State) -> None:
        self.state = state

    def get(self, key: bytes) -> bytes | None:
        v = self.state.get("clarity", key)
        return None if v is None else bytes(v)

    def get_at(self, key: bytes, height: int) -> bytes | None:
        """``key`` at the end of the block at Clarity height ``height`` (L2 height - 1)."""
        return self.state.clarity_at(key, height - 1)

    def apply(self, writes: Sequence[Write]) -> None:
        for k, v in writes:
            self.state.put("clarity", k, v)


@dataclass
class ContractChain:
    """The chains as a contract of L2 block ``height`` sees them.

    Rule ``clarity-block-view``: Clarity's block height is the L2 height plus one (the
    first L2 block is Clarity block 1, as the first Stacks block is), so ``block-height``
    is ``height`` and ``get-block-info?`` answers for the applied blocks before it,
    Clarity heights 1 to ``height - 1``: ``id-header-hash`` and ``header-hash`` the L2
    block hash, ``burnchain-header-hash`` its electing L1 block, ``time`` its header's (the
    electing L1 block's time, rule ``block-time``; ``stacks-block-time`` is this block's),
    ``miner-address`` its producer's account, ``vrf-seed`` the election seed its VRF proof
    gives (rule ``seed-chain``), ``block-reward`` its producer subsidy, ``miner-spend-*``
    zero (an election burns nothing). ``at-block`` takes an ``id-header-hash`` of those.

    Rule ``clarity-burn-view``: ``burn-block-height`` is the height of the block's electing
    L1 block, and ``get-burn-block-info? header-hash`` reads the active L1 chain at or below
    it (the hash, SHA-256d of the 80-byte header, internal byte order); later heights are
    none. Without ``burn`` (mempool dry runs) the L1 side is a placeholder."""

    height: int
    burn_height: int
    burn: BurnView | None
    state: L2State
    time: int = 0

    def block_height(self) -> int:
        return self.height

    def block_time(self) -> int:
        """``stacks-block-time``: the time field of the block's header."""
        return self.time

    def burn_block_height(self) -> int:
        return self.burn_height

    def _header(self, height: int) -> tuple[bytes, L2Header] | None:
        """The hash and header of the applied block at Clarity height ``height``."""
        if not 1 <= height < self.height:
            return None
        row = self.state.header_at(height - 1)
        return None if row is None else (row[0], L2Header.from_cbor(decode(row[2])))

    def block_info(self, prop: str, height: int) -> int | bytes | str | None:
        found = self._header(height)
        if found is None:
            return None
        block_hash, h = found
        if prop in ("id-header-hash", "header-hash"):
            return block_hash
        if prop == "burnchain-header-hash":
            return h.l1_block
        if prop == "time":
            return h.time
        if prop == "miner-address":
            return principal(account_of(h.producer_key))
        if prop == "vrf-seed":
            return sha256(b"FAI2/seed" + vrf_proof_to_hash(h.vrf_proof))
        if prop == "block-reward":
            return l2_subsidy(h.height, self.state.params.halving_interval)
        if prop in ("miner-spend-total", "miner-spend-winner"):
            return 0
        return None

    def burn_block_info(self, prop: str, height: int) -> int | bytes | str | None:
        if self.burn is None:
            return SimpleChain(burn_height=self.burn_height + 1).burn_block_info(prop, height)
        if prop != "header-hash" or not 0 <= height <= self.burn_height:
            return None
        return self.burn(height)

    def at_block(self, block_hash: bytes) -> tuple[int, int] | None:
        """``(Clarity height, burn height)`` of an applied block before this one."""
        found = self.state.block_of(block_hash)
        if found is None or found[0] + 1 >= self.height:
            return None
        return found[0] + 1, found[1]


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
    body = tx.body
    spend = tx.fee + body.debit  # the amount moved (an inference: the gas used)
    if bal < spend:
        raise L2Error("tx-insufficient-funds", f"needs {spend}, has {bal}")
    state.set_account(sender, bal - tx.fee, nonce + 1)
    if tx.fee:
        state.credit(ctx.producer, tx.fee)
    if isinstance(body, TransferPayload):
        state.debit(sender, body.amount)
        state.credit(body.to, body.amount)
    elif isinstance(body, StakePayload):
        prev = state.stake(sender)
        amount = body.amount + (0 if prev is None else prev[0])
        state.debit(sender, body.amount)
        state.set_stake(sender, amount, body.payout_kind, body.payout, tx.sender_key)
    elif isinstance(body, UnstakePayload):
        st = state.stake(sender)
        if st is None or st[0] < body.amount:
            raise L2Error("unstake-exceeds-stake", "unstaking more than is staked")
        state.set_stake(sender, st[0] - body.amount, st[1], st[2], st[3])
        state.add_unbonding(sender, ctx.height + state.params.unbonding_delay, body.amount)
    elif isinstance(body, BondPayload):
        state.debit(sender, body.amount)
        state.set_bond(sender, state.bond(sender) + body.amount)
    elif isinstance(body, UnbondPayload):
        bond = state.bond(sender)
        if bond < body.amount:
            raise L2Error("unbond-exceeds-bond", f"unbonding {body.amount}, the bond is {bond}")
        state.set_bond(sender, bond - body.amount)
        state.add_unbonding(sender, ctx.height + state.params.unbonding_delay, body.amount)
    elif isinstance(body, InferencePayload):
        _apply_inference(state, tx, body, ctx)
    elif isinstance(body, ModelProposePayload):
        if state.get("model", body.model_id) is not None or body.model_id in (
            state.params.genesis_models
        ):
            raise L2Error("model-proposal-exists", body.model_id.hex())
        state.put("model", body.model_id, [models.PROPOSED, 0, body.description])
    elif isinstance(body, ModelVotePayload):
        _apply_model_vote(state, tx, body, ctx)
    elif isinstance(body, PegInPayload):
        _apply_pegin(state, tx, body, ctx)
    elif isinstance(body, PegOutPayload):
        if body.amount <= state.params.pegout_fee:
            raise L2Error(
                "pegout-below-fee", f"{body.amount} <= pegout_fee {state.params.pegout_fee}"
            )
        state.debit(sender, body.amount)
        state.put("pegout", tx.txid(), [body.amount, body.payout_kind, body.payout])
        state.add_meta("pegged_out", body.amount)
    elif isinstance(body, DeployPayload | CallPayload):
        _apply_clarity(state, tx, body, ctx)
    elif isinstance(body, EquivocationPayload):
        from funai.layer2.equivocation import check_equivocation

        election = check_equivocation(
            state.params.network_id, body, ctx.elected or (lambda _l1: None)
        )
        if state.get("forfeit", election) is not None:
            raise L2Error("equivocation-duplicate", "this election is already forfeited")
        state.put("forfeit", election, [1])
        ctx.forfeit.add(election)


def _apply_inference(state: L2State, tx: L2Tx, body: InferencePayload, ctx: BlockContext) -> None:
    gas, gas_limit = body.gas_used, body.gas_limit
    if not models.is_active(state, body.model_id, ctx.height):
        raise L2Error("inference-model-inactive", body.model_id.hex())
    if gas > gas_limit:
        raise L2Error("inference-gas-over-limit", f"charges {gas}, the user allowed {gas_limit}")
    msg = receipt_message(state.params.network_id, tx.user_txid(), body.content_hash, gas)
    if not _core.schnorr_verify(body.executor_key, msg, body.executor_sig):
        raise L2Error("inference-bad-receipt", "executor signature does not verify")
    executor = account_of(body.executor_key)
    if state.bond(executor) < state.params.min_bond:
        raise L2Error("inference-executor-unbonded", "executor bond below min_bond")
    if executor == tx.sender:
        raise L2Error("inference-self-execution", "executor and user are one account")
    state.debit(tx.sender, gas)
    state.put("escrow", tx.txid(), [tx.sender, executor, gas])


def _apply_model_vote(state: L2State, tx: L2Tx, body: ModelVotePayload, ctx: BlockContext) -> None:
    model_id = body.model_id
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


def _apply_pegin(state: L2State, tx: L2Tx, body: PegInPayload, ctx: BlockContext) -> None:
    amount, to = body.amount, body.to
    if tx.sender != ctx.producer:
        raise L2Error("pegin-not-producer", "only the block producer includes peg-ins")
    outpoint = body.l1_txid + body.l1_index.to_bytes(4, "big")
    if state.get("pegin", outpoint) is not None:
        raise L2Error("pegin-duplicate", "this L1 output was already credited")
    seen = None if ctx.pegins is None else ctx.pegins(body.l1_txid, body.l1_index)
    if seen is None or seen[0] != amount or seen[1] != to:
        raise L2Error("pegin-unknown", "no such peg-in output on L1")
    if seen[3] != OutputKind.PAY_TO_QUORUM or state.pool(seen[4]) is None:
        raise L2Error("pegin-pool", "the output does not pay the peg pool of a known set")
    if seen[2] < state.params.confirmations:
        raise L2Error("pegin-unconfirmed", f"{seen[2]} < {state.params.confirmations}")
    state.put("pegin", outpoint, [amount])
    state.credit(to, amount)
    state.add_meta("pegged_in", amount)


def _apply_clarity(
    state: L2State, tx: L2Tx, body: DeployPayload | CallPayload, ctx: BlockContext
) -> None:
    chain = ContractChain(ctx.height + 1, ctx.burn_height, ctx.burn, state, ctx.time)
    vm = ClarityVM(_ClarityStore(state), chain, core=clarity_core(state))
    sender = principal(tx.sender)
    try:
        if isinstance(body, DeployPayload):
            vm.deploy(body.name, body.source, sender=sender, clarity_version=body.clarity_version)
        else:
            res = vm.call(body.contract_id, body.function, *body.args, sender=sender)
            if res.aborted:
                raise L2Error("contract-call-aborted", res.error or "")
    except (ClarityAnalysisError, ClarityRuntimeError) as exc:
        raise L2Error("contract-rejected", str(exc)) from None
    except FunaiError as exc:
        if isinstance(exc, L2Error):
            raise
        raise L2Error("contract-rejected", str(exc)) from None
