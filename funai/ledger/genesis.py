"""Genesis blocks: built from a network's parameters (params know no block type).

As rust-bitcoin's ``constants::genesis_block``: :func:`genesis_block` builds the block
deterministically from :class:`~funai.ledger.params.ChainParams` (one coinbase with a data
output carrying the network's message, zero pre-mine), and :func:`genesis_hash` is its hash,
which is also the network id committed to by every signature.
"""

from __future__ import annotations

import functools

from funai.ledger.block import Block, make_coinbase, tx_merkle_root, witness_root
from funai.ledger.header import BlockHeader
from funai.ledger.params import ChainParams
from funai.ledger.tx import OutputKind, TxOut

__all__ = ["genesis_block", "genesis_hash"]


@functools.cache
def genesis_block(params: ChainParams) -> Block:
    """The network's genesis block: one coinbase with a data output carrying its message.

    It pays nothing (zero pre-mine) and its outputs never enter the UTXO set.
    """
    coinbase = make_coinbase(
        0, [TxOut(int(OutputKind.DATA), 0, params.genesis_message)], b"", witness_root([])
    )
    header = BlockHeader(
        version=1,
        prev_hash=bytes(32),
        merkle_root=tx_merkle_root([coinbase]),
        time=params.genesis_time,
        bits=params.genesis_bits,
        nonce=params.genesis_nonce,
    )
    return Block(header, (coinbase,))


def genesis_hash(params: ChainParams) -> bytes:
    """Hash of the genesis block; also the network id committed to by every signature."""
    return genesis_block(params).header.hash()
