"""Consensus validation of transactions, headers and blocks. Every rule has a name.

Context-free checks (:func:`check_transaction`, :func:`check_block`), header checks against
the parent's context (:func:`check_header_context`) and checks against the UTXO set
(:func:`check_tx_inputs`, :func:`connect_block_txs`). All raise
:class:`~funai.ledger.errors.ConsensusError` carrying the rule's name; none changes state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from funai import _core
from funai.errors import MalformedInputError
from funai.ledger.address import hash160
from funai.ledger.block import Block, tx_merkle_root, witness_root
from funai.ledger.compact import decode_compact, hash_to_int, median_time_past, retarget
from funai.ledger.errors import ConsensusError
from funai.ledger.header import BlockHeader
from funai.ledger.maturity import is_mature
from funai.ledger.params import ChainParams, HeaderRules
from funai.ledger.quorum import check_quorum_witness
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import (
    MAX_DATA_SIZE,
    MAX_EXTRA_NONCE,
    MAX_MONEY,
    OutPoint,
    OutputKind,
    Transaction,
    TxOut,
    sighash,
)

__all__ = [
    "MUTATION_RULES",
    "Coin",
    "HeaderContext",
    "block_mutation",
    "check_block",
    "check_header_context",
    "check_pow",
    "check_transaction",
    "check_tx_inputs",
    "connect_block_txs",
    "expected_bits",
    "header_context",
]

_PAYLOAD_SIZES = {
    OutputKind.PAY_TO_KEY: 32,
    OutputKind.PAY_TO_KEY_HASH: 20,
    OutputKind.PAY_TO_QUORUM: 32,
}


@dataclass(frozen=True, slots=True)
class Coin:
    """An unspent output and where it was created."""

    out: TxOut
    height: int
    coinbase: bool


# --- transactions (context-free) ---------------------------------------------------------


def check_transaction(tx: Transaction, params: ChainParams) -> None:
    """Rules every transaction obeys wherever it appears."""
    if tx.is_coinbase:
        assert tx.coinbase is not None
        if tx.inputs:
            raise ConsensusError("bad-cb-inputs", "a coinbase spends nothing")
        if tx.witnesses:
            raise ConsensusError("bad-txns-witness-count", "a coinbase has no witnesses")
        if len(tx.coinbase.extra_nonce) > MAX_EXTRA_NONCE:
            raise ConsensusError("bad-cb-length", "extra nonce longer than 100 bytes")
    else:
        if not tx.inputs:
            raise ConsensusError("bad-txns-vin-empty")
        if len(tx.witnesses) != len(tx.inputs):
            raise ConsensusError("bad-txns-witness-count", "one witness per input")
    if not tx.outputs:
        raise ConsensusError("bad-txns-vout-empty")
    total = 0
    for out in tx.outputs:
        if out.value < 0 or out.value > MAX_MONEY:
            raise ConsensusError("bad-txns-vout-toolarge", f"output value {out.value}")
        total += out.value
        if total > MAX_MONEY:
            raise ConsensusError("bad-txns-txouttotal-toolarge")
        if out.kind == OutputKind.DATA:
            if len(out.payload) > MAX_DATA_SIZE:
                raise ConsensusError(
                    "bad-txns-data-size", f"data output of {len(out.payload)} bytes > 80"
                )
            if out.value != 0:
                raise ConsensusError("bad-txns-data-value", "data outputs carry no value")
        elif out.kind in _PAYLOAD_SIZES:
            if len(out.payload) != _PAYLOAD_SIZES[OutputKind(out.kind)]:
                raise ConsensusError("bad-txns-payload-size", f"output kind {out.kind}")
        else:
            raise ConsensusError("bad-txns-output-kind", f"unknown output kind {out.kind}")
    seen: set[OutPoint] = set()
    for txin in tx.inputs:
        if txin.prevout in seen:
            raise ConsensusError("bad-txns-inputs-duplicate")
        seen.add(txin.prevout)
    if tx.size > params.max_block_size:
        raise ConsensusError("bad-txns-oversize")


# --- headers ----------------------------------------------------------------------------


def check_pow(header: BlockHeader, rules: HeaderRules, block_hash: bytes | None = None) -> int:
    """``bad-target`` / ``high-hash``; returns the target."""
    decoded = decode_compact(header.bits)
    if (
        decoded.negative
        or decoded.overflow
        or decoded.target == 0
        or (decoded.target > rules.pow_limit)
    ):
        raise ConsensusError("bad-target", f"bits {header.bits:08x}")
    if hash_to_int(block_hash or header.hash()) > decoded.target:
        raise ConsensusError("high-hash", "proof of work above target")
    return decoded.target


@dataclass(frozen=True, slots=True)
class HeaderContext:
    """What a header's parent chain tells about it."""

    height: int  # height of the new header
    prev_hash: bytes
    prev_bits: int
    prev_times: list[int]  # times of up to mtp_span previous blocks (any order)
    prev_time: int
    period_first_time: int | None  # time of block height - interval, at boundaries


class ChainEntry(Protocol):
    """A header's place in a block or header tree (what :func:`header_context` reads)."""

    @property
    def hash(self) -> bytes: ...
    @property
    def prev(self) -> bytes: ...
    @property
    def height(self) -> int: ...
    @property
    def header(self) -> BlockHeader: ...


EntryT = TypeVar("EntryT", bound=ChainEntry)


def header_context(
    rules: HeaderRules,
    prev: EntryT,
    parent_of: Callable[[bytes], EntryT | None],
    ancestor: Callable[[EntryT, int], EntryT],
) -> HeaderContext:
    """The context a child of ``prev`` is checked against: the times of up to ``mtp_span``
    ancestors (median time past) and, at a retarget boundary, the time of the period's first
    block. ``parent_of`` looks an entry up by hash; ``ancestor(entry, height)`` walks back."""
    height = prev.height + 1
    times = []
    cur: EntryT | None = prev
    for _ in range(rules.mtp_span):
        if cur is None:
            break
        times.append(cur.header.time)
        cur = parent_of(cur.prev) if cur.height > 0 else None
    first_time = None
    if rules.retarget and height % rules.retarget_interval == 0:
        first_time = ancestor(prev, height - rules.retarget_interval).header.time
    return HeaderContext(height, prev.hash, prev.header.bits, times, prev.header.time, first_time)


def expected_bits(rules: HeaderRules, ctx: HeaderContext) -> int:
    """The ``bits`` a header at ``ctx.height`` must carry."""
    if not rules.retarget or ctx.height % rules.retarget_interval != 0:
        return ctx.prev_bits
    if ctx.period_first_time is None:
        raise ValueError("retarget needs the period's first block time")
    return retarget(
        ctx.prev_bits, ctx.period_first_time, ctx.prev_time, rules.target_timespan, rules.pow_limit
    )


def check_header_context(
    header: BlockHeader, rules: HeaderRules, ctx: HeaderContext, now: int | None
) -> None:
    """Linkage, version, bits, MTP, time warp and future-time rules against the parent."""
    if header.prev_hash != ctx.prev_hash:
        raise ConsensusError("bad-prevblk")
    if header.version < rules.min_version(ctx.height):
        raise ConsensusError("bad-version", f"version {header.version}")
    want = expected_bits(rules, ctx)
    if header.bits != want:
        raise ConsensusError("bad-diffbits", f"bits {header.bits:08x}, expected {want:08x}")
    mtp = median_time_past(ctx.prev_times)
    if header.time <= mtp:
        raise ConsensusError("time-too-old", f"time {header.time} <= median time past {mtp}")
    if (
        rules.timewarp_grace is not None
        and rules.retarget
        and ctx.height % rules.retarget_interval == 0
        and header.time < ctx.prev_time - rules.timewarp_grace
    ):
        raise ConsensusError("time-timewarp-attack")
    if now is not None and header.time > now + rules.max_future_seconds:
        raise ConsensusError("time-too-new", f"time {header.time} > now {now} + 2 h")


# --- blocks (context-free) ----------------------------------------------------------------


def check_block(block: Block, params: ChainParams) -> None:
    """Size, coinbase placement, transactions, duplicates, Merkle root, witness commitment, PoW."""
    check_pow(block.header, params.rules, block.hash())
    if block.size > params.max_block_size:
        raise ConsensusError("bad-blk-length", f"{block.size} bytes > {params.max_block_size}")
    if not block.txs or not block.txs[0].is_coinbase:
        raise ConsensusError("bad-cb-missing", "first transaction must be the coinbase")
    if any(tx.is_coinbase for tx in block.txs[1:]):
        raise ConsensusError("bad-cb-multiple")
    for tx in block.txs:
        check_transaction(tx, params)
    txids = [tx.txid() for tx in block.txs]
    if len(set(txids)) != len(txids):
        raise ConsensusError("bad-txns-duplicate", "a transaction appears twice")
    if tx_merkle_root(block.txs) != block.header.merkle_root:
        raise ConsensusError("bad-txnmrklroot", "Merkle root mismatch")
    coinbase = block.txs[0].coinbase
    assert coinbase is not None
    if coinbase.witness_root != witness_root(block.txs):
        raise ConsensusError("bad-witness-commitment", "witness root mismatch")


def block_mutation(block: Block) -> str | None:
    """The rule a block's body breaks against its own header, or None (Core's
    ``IsBlockMutated``): a body that does not match the header's Merkle root, repeats a
    transaction (CVE-2012-2459) or whose witnesses do not match the coinbase commitment.
    Such a block says nothing about the header: another peer may hold the genuine body, so
    the header must not be marked invalid for it."""
    if not block.txs:
        return "bad-blk-empty"
    txids = [tx.txid() for tx in block.txs]
    if len(set(txids)) != len(txids):
        return "bad-txns-duplicate"
    if tx_merkle_root(block.txs) != block.header.merkle_root:
        return "bad-txnmrklroot"
    coinbase = block.txs[0].coinbase
    if coinbase is not None and coinbase.witness_root != witness_root(block.txs):
        return "bad-witness-commitment"
    return None


#: Rules of :func:`check_block` that only say the body was mutated in transit.
MUTATION_RULES = frozenset(
    {"bad-blk-empty", "bad-txns-duplicate", "bad-txnmrklroot", "bad-witness-commitment"}
)


# --- inputs, signatures, connection -------------------------------------------------------


def _verify_sig(pk: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pk) != 32 or len(sig) != 64:
        return False
    try:
        return _core.schnorr_verify(pk, msg, sig)
    except MalformedInputError:
        return False


def check_tx_inputs(
    tx: Transaction,
    height: int,
    get_coin: Callable[[OutPoint], Coin | None],
    params: ChainParams,
    genesis_hash: bytes,
    *,
    verify_signatures: bool = True,
) -> tuple[int, list[Coin]]:
    """Checks a non-coinbase transaction against the coins it spends; returns (fee, coins).

    ``height`` is the height of the block that would contain it.
    """
    if tx.lock_time > height:
        raise ConsensusError("bad-txns-nonfinal", f"lock time {tx.lock_time} > height {height}")
    coins: list[Coin] = []
    for txin in tx.inputs:
        coin = get_coin(txin.prevout)
        if coin is None:
            raise ConsensusError(
                "bad-txns-inputs-missingorspent",
                f"{txin.prevout.txid[::-1].hex()}:{txin.prevout.index}",
            )
        if not is_mature(coin.height, coin.coinbase, height, params.coinbase_maturity):
            raise ConsensusError(
                "bad-txns-premature-spend-of-coinbase",
                f"coinbase from height {coin.height} spent at {height}",
            )
        coins.append(coin)
    value_in = sum(c.out.value for c in coins)
    value_out = sum(o.value for o in tx.outputs)
    if value_in > MAX_MONEY:
        raise ConsensusError("bad-txns-inputvalues-outofrange")
    if value_in < value_out:
        raise ConsensusError("bad-txns-in-belowout", f"in {value_in} < out {value_out}")
    if verify_signatures:
        spent = [c.out for c in coins]
        for index, (coin, witness) in enumerate(zip(coins, tx.witnesses, strict=True)):
            msg = sighash(tx, index, spent, genesis_hash)
            if coin.out.kind == OutputKind.PAY_TO_KEY:
                if len(witness) != 1:
                    raise ConsensusError("bad-txns-witness", f"input {index}: want [signature]")
                pk, sig = coin.out.payload, witness[0]
            elif coin.out.kind == OutputKind.PAY_TO_KEY_HASH:
                if len(witness) != 2:
                    raise ConsensusError(
                        "bad-txns-witness", f"input {index}: want [key, signature]"
                    )
                pk, sig = witness
                if hash160(pk) != coin.out.payload:
                    raise ConsensusError("bad-txns-pubkey-hash", f"input {index}")
            elif coin.out.kind == OutputKind.PAY_TO_QUORUM:
                check_quorum_witness(coin.out.payload, witness, msg, index)
                continue
            else:  # data outputs never enter the UTXO set
                raise ConsensusError("bad-txns-inputs-missingorspent", "spends a data output")
            if not _verify_sig(pk, msg, sig):
                raise ConsensusError("bad-txns-sig", f"input {index}: invalid signature")
    return value_in - value_out, coins


def connect_block_txs(
    block: Block,
    height: int,
    get_coin: Callable[[OutPoint], Coin | None],
    params: ChainParams,
    genesis_hash: bytes,
) -> tuple[list[tuple[OutPoint, Coin]], list[tuple[OutPoint, Coin]]]:
    """Applies a block's transactions to a view; returns (spent coins, created coins).

    Raises on double spends (within the block or of already-spent coins), missing inputs,
    immature coinbase spends, bad signatures, overspending and an excessive coinbase. The
    caller writes the result (and the spent coins as undo data) in one storage transaction.
    """
    coinbase = block.txs[0]
    assert coinbase.coinbase is not None
    if coinbase.coinbase.height != height:
        raise ConsensusError("bad-cb-height", f"coinbase says {coinbase.coinbase.height}")
    created: dict[OutPoint, Coin] = {}
    spent: list[tuple[OutPoint, Coin]] = []
    spent_here: set[OutPoint] = set()

    def view(op: OutPoint) -> Coin | None:
        if op in spent_here:
            return None
        if op in created:
            return created[op]
        return get_coin(op)

    fees = 0
    for tx in block.txs[1:]:
        fee, coins = check_tx_inputs(tx, height, view, params, genesis_hash)
        fees += fee
        for txin, coin in zip(tx.inputs, coins, strict=True):
            spent_here.add(txin.prevout)
            if txin.prevout in created:
                del created[txin.prevout]
            else:
                spent.append((txin.prevout, coin))
        _add_outputs(tx, height, created, get_coin)
    reward = sum(o.value for o in coinbase.outputs)
    allowed = l1_subsidy(height, params.halving_interval) + fees
    if reward > allowed:
        raise ConsensusError("bad-cb-amount", f"coinbase pays {reward} > {allowed}")
    _add_outputs(coinbase, height, created, get_coin)
    return spent, list(created.items())


def _add_outputs(
    tx: Transaction,
    height: int,
    created: dict[OutPoint, Coin],
    get_coin: Callable[[OutPoint], Coin | None],
) -> None:
    txid = tx.txid()
    for index, out in enumerate(tx.outputs):
        if out.kind == OutputKind.DATA:
            continue
        op = OutPoint(txid, index)
        if op in created or get_coin(op) is not None:
            raise ConsensusError("bad-txns-BIP30", "output would overwrite an unspent output")
        created[op] = Coin(out, height, tx.is_coinbase)
