"""Crash safety: SIGKILL a process at random moments while it connects blocks (including a
reorg); after restarts its UTXO set equals that of a node that never crashed."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from funai.ledger.chainstate import Chainstate
from funai.ledger.encoding import encode
from funai.ledger.params import REGTEST
from funai.ledger.tx import OutPoint
from tests.ledger.ledger_kit import SK_A, SK_B, Kit, pkh_out

CHILD = Path(__file__).with_name("crash_child.py")


def _make_blocks(tmp_path: Path) -> tuple[list[bytes], int]:
    """A chain with spends, then a longer competing branch (a 4-deep reorg)."""
    clock = [REGTEST.genesis_time]
    a = Kit(tmp_path / "gen_a.sqlite", REGTEST, clock)
    a.mine_many(REGTEST.coinbase_maturity + 1)
    for h in range(1, 60):
        op, coin = a.coinbase_coin(h)
        pay = a.spend(
            [(op, coin.out, SK_A)], [pkh_out(SK_B, 100_000_000), pkh_out(SK_A, 49_990_000)]
        )
        txs = [pay]
        if h > 1:  # spend the previous payment's first output too
            prev = a.chain.block_at(a.chain.height).txs[1]  # type: ignore[union-attr]
            txs.append(
                a.spend(
                    [(OutPoint(prev.txid(), 0), prev.outputs[0], SK_B)],
                    [pkh_out(SK_B, prev.outputs[0].value - 5_000)],
                )
            )
        a.mine(txs)
    fork = a.chain.height - 4
    b = Kit(tmp_path / "gen_b.sqlite", REGTEST, clock)
    main = [a.chain.block_at(h).serialize() for h in range(1, a.chain.height + 1)]  # type: ignore[union-attr]
    for h in range(1, fork + 1):
        b.chain.submit_block(a.chain.block_at(h))  # type: ignore[arg-type]
    b.mine_many(6, sk=SK_B)
    side = [b.chain.block_at(h).serialize() for h in range(fork + 1, b.chain.height + 1)]  # type: ignore[union-attr]
    a.chain.close()
    b.chain.close()
    return main + side, clock[0]


def test_sigkill_while_connecting(tmp_path: Path) -> None:
    blocks, clock = _make_blocks(tmp_path)
    blocks_file = tmp_path / "blocks.cbor"
    blocks_file.write_bytes(encode(blocks))

    reference = Chainstate(tmp_path / "reference.sqlite", REGTEST, clock=lambda: clock)
    from funai.ledger.block import Block

    for data in blocks:
        reference.submit_block(Block.deserialize(data))
    expected = (reference.tip.hash, reference.utxo_set_hash())
    reference.close()

    db = tmp_path / "victim.sqlite"
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    kills = 0
    heights: set[int] = set()
    deadline = time.monotonic() + 25
    while True:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(db), str(blocks_file), str(clock)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        if time.monotonic() < deadline and kills < 8:
            # Let it connect a random number of blocks, then kill it at a random moment
            # (often in the middle of the next block's storage transactions).
            for _ in range(rng.randint(0, 8)):
                if not proc.stdout.readline():
                    break
            time.sleep(rng.uniform(0.0, 0.02))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc.stdout.close()
                kills += 1
                with sqlite3.connect(db) as conn:
                    heights.add(conn.execute("SELECT COUNT(*) FROM active").fetchone()[0])
                continue
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        assert "done" in out
        break
    assert kills >= 5
    assert len(heights - {0, 1}) >= 2, heights  # killed mid-chain, more than once
    victim = Chainstate(db, REGTEST, clock=lambda: clock)
    assert (victim.tip.hash, victim.utxo_set_hash()) == expected
    victim.close()
