"""Block templates and mining.

A template takes the chainstate's tip and the mempool's best transactions, pays subsidy plus
fees to the payout output, sets ``time = max(now, median-time-past + 1)`` and the required
``bits``. :func:`solve` searches the 32-bit nonce space with the Rust proof-of-work search
on all cores when it is available (``funai._core.pow_search``), in pure Python otherwise;
when the nonce space is exhausted it rolls the coinbase extra nonce (which changes the
Merkle root) and searches again.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from funai import _core
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainstate import Chainstate
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.header import BlockHeader
from funai.ledger.mempool import Mempool
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import Transaction, TxOut

__all__ = ["MiningStats", "Template", "build_template", "mine_one", "solve", "with_extra_nonce"]

_NONCES = 1 << 32


@dataclass(frozen=True)
class Template:
    """A block to mine: the block with nonce 0 and what it is worth."""

    block: Block
    height: int
    fees: int
    target: int


@dataclass
class MiningStats:
    """Running totals for hash-rate display."""

    hashes: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.hashes / self.seconds if self.seconds > 0 else 0.0


def build_template(
    chain: Chainstate,
    mempool: Mempool | None,
    payout: TxOut,
    *,
    now: int | None = None,
    extra_nonce: bytes = b"",
    txs: list[Transaction] | None = None,
) -> Template:
    """A template on top of the tip (``txs`` overrides the mempool selection)."""
    params = chain.params
    tip = chain.tip
    height = tip.height + 1
    if txs is None:
        budget = params.max_block_size - 2_000  # room for the header, coinbase and framing
        txs = [e.tx for e in mempool.select(budget)] if mempool is not None else []
        fees = sum(mempool.entries[t.txid()].fee for t in txs) if mempool is not None else 0
    else:
        fees = sum(_fee(chain, t, txs) for t in txs)
    reward = l1_subsidy(height, params.halving_interval) + fees
    clock = int(chain.clock()) if now is None else now
    block_time = max(clock, chain.median_time_past(tip) + 1)
    bits = chain.next_bits(tip)
    payout_out = TxOut(payout.kind, reward, payout.payload)
    coinbase = make_coinbase(height, [payout_out], extra_nonce)
    body = [coinbase, *txs]
    coinbase = make_coinbase(height, [payout_out], extra_nonce, witness_root(body))
    body[0] = coinbase
    header = BlockHeader(1, tip.hash, tx_merkle_root(body), block_time, bits, 0)
    return Template(Block(header, tuple(body)), height, fees, decode_compact(bits).target)


def _fee(chain: Chainstate, tx: Transaction, batch: list[Transaction]) -> int:
    created = {t.txid(): t for t in batch}
    value_in = 0
    for txin in tx.inputs:
        coin = chain.get_coin(txin.prevout)
        if coin is not None:
            value_in += coin.out.value
        elif txin.prevout.txid in created:
            value_in += created[txin.prevout.txid].outputs[txin.prevout.index].value
    return value_in - sum(o.value for o in tx.outputs)


def with_extra_nonce(template: Template, extra_nonce: bytes) -> Template:
    """The same template with another coinbase extra nonce (new Merkle root, nonce 0)."""
    block = template.block
    old = block.txs[0]
    assert old.coinbase is not None
    coinbase = replace_coinbase(old, extra_nonce)
    body = (coinbase, *block.txs[1:])
    header = replace(block.header, merkle_root=tx_merkle_root(body), nonce=0)
    return Template(Block(header, body), template.height, template.fees, template.target)


def replace_coinbase(old: Transaction, extra_nonce: bytes) -> Transaction:
    assert old.coinbase is not None
    cb = old.coinbase
    return make_coinbase(cb.height, list(old.outputs), extra_nonce, cb.witness_root)


def _search_python(header: bytes, target: int, start: int, count: int) -> tuple[int | None, int]:
    import hashlib

    mid = hashlib.sha256(header[:64])
    tail = header[64:76]
    for nonce in range(start, min(start + count, _NONCES)):
        h = mid.copy()
        h.update(tail + struct.pack("<I", nonce))
        if hash_to_int(hashlib.sha256(h.digest()).digest()) <= target:
            return nonce, nonce - start + 1
    return None, min(count, _NONCES - start)


def _search(
    header: bytes, target: int, start: int, count: int, threads: int, backend: str = "auto"
) -> tuple[int | None, int]:
    """Searches nonces ``start .. start+count``: (nonce or None, hashes tried)."""
    pow_search: Any = getattr(_core, "pow_search", None)
    if pow_search is None or count < 4096:
        return _search_python(header, target, start, count)
    result = pow_search(
        header,
        target.to_bytes(32, "little"),
        start_nonce=start,
        count=count,
        threads=threads,
        backend=backend,
    )
    return result.nonce, int(result.hashes)


def too_early(template: Template, chain: Chainstate) -> int:
    """Seconds until the template's block time is no longer too far ahead (rule
    ``time-too-new``): a block must come after the median time past, so mining faster than
    one block per second per half of the ``mtp_span`` window (regtest, minimum difficulty)
    runs the block times ahead of the clock; past ``max_future_seconds`` a miner must wait
    instead of mining blocks nobody accepts. 0 when the block can be mined now."""
    limit = int(chain.clock()) + chain.params.rules.max_future_seconds
    return max(0, template.block.header.time - limit)


def solve(
    template: Template,
    *,
    chunk: int = 1 << 22,
    threads: int = 0,
    stats: MiningStats | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[MiningStats], None] | None = None,
    backend: str = "auto",
) -> Block | None:
    """Finds a nonce (rolling the extra nonce as needed); ``None`` if ``should_stop()``.
    ``backend``: the SHA-256d kernel (:func:`funai.pow_choice.choose_backend`)."""
    stats = stats if stats is not None else MiningStats()
    extra = 0
    current = template
    while True:
        raw = current.block.header.serialize()
        start = 0
        while start < _NONCES:
            if should_stop is not None and should_stop():
                return None
            count = min(chunk, _NONCES - start)
            began = time.perf_counter()
            nonce, hashes = _search(
                raw, current.target, start, count, threads or os.cpu_count() or 1, backend
            )
            stats.hashes += hashes
            stats.seconds += time.perf_counter() - began
            if on_progress is not None:
                on_progress(stats)
            if nonce is not None:
                return current.block.with_header(current.block.header.with_nonce(nonce))
            start += count
        extra += 1
        current = with_extra_nonce(template, extra.to_bytes(8, "little"))


def mine_one(
    chain: Chainstate,
    mempool: Mempool | None,
    payout: TxOut,
    *,
    now: int | None = None,
    txs: list[Transaction] | None = None,
) -> Block:
    """Builds, solves and submits one block (for tests and regtest); returns it."""
    template = build_template(chain, mempool, payout, now=now, txs=txs)
    block = solve(template, chunk=1 << 16)
    assert block is not None
    chain.submit_block(block)
    return block
