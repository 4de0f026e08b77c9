"""A real regtest L1 chainstate for the layer-2 tests: blocks whose coinbase carries L2
outputs (registrations, commitments, peg-ins, anchors) and real transactions."""

from __future__ import annotations

from pathlib import Path

from funai import _core
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainstate import Chainstate
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.genesis import genesis_hash
from funai.ledger.header import BlockHeader
from funai.ledger.params import REGTEST
from funai.ledger.supply import l1_subsidy
from funai.ledger.tx import OutPoint, OutputKind, Transaction, TxIn, TxOut, sighash
from funai.ledger.validation import check_tx_inputs
from funai.testing.cluster import skey

MINER_SK = skey("miner")
MINER_PK = _core.schnorr_public_key(MINER_SK)
MINER = _core.hash160(MINER_PK)
GENESIS = genesis_hash(REGTEST)


class L1:
    """A regtest chainstate; blocks carry L2 outputs in the coinbase and real transactions."""

    def __init__(self, path: Path) -> None:
        self.clock = [REGTEST.genesis_time]
        self.chain = Chainstate(path, REGTEST, clock=lambda: self.clock[0], synchronous="NORMAL")

    def mine(
        self,
        extra: list[TxOut] | None = None,
        txs: list[Transaction] | None = None,
        parent: bytes | None = None,
        salt: int = 0,
    ) -> Block:
        extra, txs = extra or [], txs or []
        self.clock[0] += 600
        entry = self.chain.index[parent] if parent is not None else self.chain.tip
        height = entry.height + 1
        reward = l1_subsidy(height, REGTEST.halving_interval)
        outs = [
            TxOut(int(OutputKind.PAY_TO_KEY_HASH), reward - sum(o.value for o in extra), MINER),
            *extra,
        ]
        nonce = salt.to_bytes(4, "big")
        cb = make_coinbase(height, outs, nonce, witness_root([make_coinbase(height, outs), *txs]))
        header = BlockHeader(
            1,
            entry.hash,
            tx_merkle_root([cb, *txs]),
            max(self.clock[0], self.chain.median_time_past(entry) + 1),
            self.chain.next_bits(entry),
            0,
        )
        target = decode_compact(header.bits).target
        n = 0
        while hash_to_int(header.with_nonce(n).hash()) > target:
            n += 1
        block = Block(header.with_nonce(n), (cb, *txs))
        status = self.chain.submit_block(block)
        assert status == "connected" or parent is not None, status
        return block

    def spend_coinbase(self, height: int, outputs: list[TxOut]) -> Transaction:
        """The miner spends its coinbase of ``height`` (P2KH) to ``outputs``."""
        block = self.chain.block_at(height)
        assert block is not None
        cb = block.txs[0]
        unsigned = Transaction(1, (TxIn(OutPoint(cb.txid(), 0)),), tuple(outputs))
        msg = sighash(unsigned, 0, [cb.outputs[0]], GENESIS)
        return unsigned.with_witnesses(((MINER_PK, _core.schnorr_sign(MINER_SK, msg)),))

    def check(self, tx: Transaction) -> int:
        """The real L1 input checks (signatures included) at the next height; the fee."""
        fee, _ = check_tx_inputs(
            tx, self.chain.height + 1, self.chain.get_coin, REGTEST, self.chain.genesis_hash
        )
        return fee
