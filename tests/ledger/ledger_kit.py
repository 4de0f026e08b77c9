"""Helpers for the ledger tests: regtest chains (minimum difficulty, instant mining)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from funai import _core
from funai.ledger.address import hash160
from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.chainstate import Chainstate
from funai.ledger.compact import decode_compact, hash_to_int
from funai.ledger.errors import ConsensusError
from funai.ledger.header import BlockHeader
from funai.ledger.mempool import Mempool
from funai.ledger.miner import build_template, solve
from funai.ledger.params import ChainParams
from funai.ledger.tx import OutPoint, OutputKind, Transaction, TxIn, TxOut, sighash
from funai.ledger.validation import Coin

# Deterministic test keys.
SK_A = (1).to_bytes(32, "big")
SK_B = (2).to_bytes(32, "big")


def pkh_out(sk: bytes, value: int) -> TxOut:
    return TxOut(int(OutputKind.PAY_TO_KEY_HASH), value, hash160(_core.schnorr_public_key(sk)))


def pk_out(sk: bytes, value: int) -> TxOut:
    return TxOut(int(OutputKind.PAY_TO_KEY), value, _core.schnorr_public_key(sk))


def grind(header: BlockHeader) -> BlockHeader:
    """The header with the first nonce that meets its own bits (regtest: ~2 tries)."""
    target = decode_compact(header.bits).target
    nonce = 0
    while hash_to_int(header.with_nonce(nonce).hash()) > target:
        nonce += 1
    return header.with_nonce(nonce)


class Kit:
    """A regtest chainstate + mempool with helpers to mine, spend and tamper."""

    def __init__(self, path: Path, params: ChainParams, clock: list[int]) -> None:
        self.params = params
        self.path = path
        self.clock = clock
        self.chain = Chainstate(path, params, clock=lambda: self.clock[0], synchronous="NORMAL")
        self.mempool = Mempool(self.chain)

    @property
    def genesis(self) -> bytes:
        return self.chain.genesis_hash

    def tick(self, seconds: int = 600) -> None:
        self.clock[0] += seconds

    def mine(
        self, txs: list[Transaction] | None = None, sk: bytes = SK_A, use_mempool: bool = False
    ) -> Block:
        self.tick()
        template = build_template(
            self.chain,
            self.mempool if use_mempool else None,
            pkh_out(sk, 0),
            txs=None if use_mempool else (txs or []),
        )
        block = solve(template, chunk=1 << 12)
        assert block is not None
        status = self.chain.submit_block(block)
        assert status == "connected", status
        return block

    def mine_many(self, n: int, sk: bytes = SK_A) -> list[Block]:
        return [self.mine(sk=sk) for _ in range(n)]

    def coinbase_coin(self, height: int) -> tuple[OutPoint, Coin]:
        block = self.chain.block_at(height)
        assert block is not None
        op = OutPoint(block.txs[0].txid(), 0)
        coin = self.chain.get_coin(op)
        assert coin is not None
        return op, coin

    def spend(
        self,
        inputs: list[tuple[OutPoint, TxOut, bytes]],
        outputs: list[TxOut],
        *,
        lock_time: int = 0,
        genesis: bytes | None = None,
    ) -> Transaction:
        """A signed transaction; inputs are (outpoint, spent output, secret key)."""
        unsigned = Transaction(1, tuple(TxIn(op) for op, _, _ in inputs), tuple(outputs), lock_time)
        spent = [o for _, o, _ in inputs]
        witnesses: list[tuple[bytes, ...]] = []
        for i, (_, out, sk) in enumerate(inputs):
            sig = _core.schnorr_sign(sk, sighash(unsigned, i, spent, genesis or self.genesis))
            if out.kind == OutputKind.PAY_TO_KEY:
                witnesses.append((sig,))
            else:
                witnesses.append((_core.schnorr_public_key(sk), sig))
        return unsigned.with_witnesses(tuple(witnesses))

    def block_with(
        self,
        txs: list[Transaction],
        *,
        coinbase_value: int | None = None,
        height: int | None = None,
    ) -> Block:
        """A solved block on the tip with ``txs`` (coinbase value/height overridable)."""
        self.tick()
        template = build_template(self.chain, None, pkh_out(SK_A, 0), txs=txs)
        block = template.block
        if coinbase_value is not None or height is not None:
            cb = block.txs[0]
            assert cb.coinbase is not None
            outs = [
                TxOut(
                    cb.outputs[0].kind,
                    coinbase_value if coinbase_value is not None else cb.outputs[0].value,
                    cb.outputs[0].payload,
                )
            ]
            cb_height = height if height is not None else cb.coinbase.height
            # The witness root ignores the coinbase itself, so ``cb`` can stand in for it.
            new_cb = make_coinbase(cb_height, outs, b"", witness_root([cb, *txs]))
            body = [new_cb, *txs]
            block = Block(
                dataclasses.replace(block.header, merkle_root=tx_merkle_root(body)), tuple(body)
            )
        return Block(grind(block.header), block.txs)

    def expect_reject(self, block: Block, rule: str) -> None:
        before = (self.chain.tip.hash, self.chain.utxo_set_hash())
        with pytest.raises(ConsensusError) as info:
            self.chain.submit_block(block)
        assert info.value.rule == rule, info.value
        assert (self.chain.tip.hash, self.chain.utxo_set_hash()) == before
