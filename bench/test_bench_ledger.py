"""Benchmarks of the ledger layer (pytest-benchmark).

* Header-chain validation of the 8065 real Bitcoin headers (PoW, bits and four retargets,
  MTP, versions, linkage): the Rust validator against the pure-Python reference of the same
  rules, measured in the same run (CPU time of this thread); the issue's target is >= 20x.
* Block connection throughput: transactions per second (BIP340 signature checks, UTXO
  lookups, one SQLite transaction per block) on a synthetic regtest chain.
"""

from __future__ import annotations

import time
import timeit
from pathlib import Path
from typing import Any

import pytest

from funai.ledger.block import Block
from funai.ledger.chainstate import Chainstate
from funai.ledger.headerchain import verify_headers_python, verify_headers_rust
from funai.ledger.params import BITCOIN, REGTEST
from funai.ledger.tx import OutPoint, Transaction
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, pkh_out

VECTORS = Path(__file__).resolve().parents[1] / ".." / "shared" / "vectors"
START = 822_528


@pytest.fixture(scope="module")
def headers() -> bytes:
    path = VECTORS / "bitcoin-mainnet-headers-822528-830592.bin"
    assert path.is_file(), f"missing test vector {path}"
    return path.read_bytes()


def _cpu_s(call: Any, number: int) -> float:
    return timeit.Timer(call, timer=time.thread_time).timeit(number) / number


def test_header_chain_rust_vs_python(benchmark: Any, headers: bytes) -> None:
    rust = _cpu_s(lambda: verify_headers_rust(headers, BITCOIN, START), 20)
    python = _cpu_s(lambda: verify_headers_python(headers, BITCOIN, START), 3)
    ratio = python / rust
    benchmark.extra_info.update(
        rust_ms=rust * 1e3, python_ms=python * 1e3, speedup=ratio, headers=len(headers) // 80
    )
    print(
        f"\nheader chain (8065 headers): rust {rust * 1e3:.2f} ms, "
        f"python {python * 1e3:.1f} ms, speedup {ratio:.1f}x"
    )
    benchmark(verify_headers_rust, headers, BITCOIN, START)
    assert ratio >= 20


def _synthetic_chain(tmp: Path, blocks: int, per_block: int) -> tuple[list[Block], int]:
    """Blocks each spending ``per_block`` outputs (fan-out first, then spends)."""
    k = Kit(tmp / "gen.sqlite", REGTEST, [REGTEST.genesis_time])
    k.mine_many(REGTEST.coinbase_maturity + 1)
    op, coin = k.coinbase_coin(1)
    n = blocks * per_block
    value = (coin.out.value - 100_000) // n
    fan = k.spend([(op, coin.out, SK_A)], [pkh_out(SK_B, value) for _ in range(n)])
    k.mine([fan])
    start = k.chain.height
    for b in range(blocks):
        txs: list[Transaction] = []
        for i in range(per_block):
            idx = b * per_block + i
            out = fan.outputs[idx]
            txs.append(
                k.spend([(OutPoint(fan.txid(), idx), out, SK_B)], [pkh_out(SK_A, value - 300)])
            )
        k.mine(txs)
    chain = [k.chain.block_at(h) for h in range(1, k.chain.height + 1)]
    k.chain.close()
    return [b for b in chain if b is not None], start


def test_block_connection_throughput(benchmark: Any, tmp_path: Path) -> None:
    blocks, start = _synthetic_chain(tmp_path, blocks=10, per_block=40)
    counter = iter(range(10**6))

    def connect_all() -> int:
        chain = Chainstate(tmp_path / f"run{next(counter)}.sqlite", REGTEST, clock=lambda: 2**31)
        for blk in blocks[:start]:
            chain.submit_block(blk)
        began = time.perf_counter()
        for blk in blocks[start:]:
            chain.submit_block(blk)
        elapsed = time.perf_counter() - began
        chain.close()
        connect_all.elapsed = elapsed  # type: ignore[attr-defined]
        return sum(len(b.txs) - 1 for b in blocks[start:])

    txs = benchmark.pedantic(connect_all, rounds=3, iterations=1)
    rate = txs / connect_all.elapsed  # type: ignore[attr-defined]
    benchmark.extra_info.update(transactions=txs, tx_per_s=rate)
    print(f"\nblock connection: {txs} txs in {connect_all.elapsed:.3f} s = {rate:.0f} tx/s")  # type: ignore[attr-defined]
