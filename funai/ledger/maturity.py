"""Rule ``coinbase-maturity``: when a coin made by a coinbase may be spent.

A coinbase's outputs are spendable only by a transaction in a block at least ``maturity``
blocks above the coinbase's own (``spend_height - coin_height >= maturity``); any other
coin at once. L1 block validation (rule ``bad-txns-premature-spend-of-coinbase``), the
wallet's spendable balance and the L2 peg-out batches (L1 pool outputs) all ask this one
function.
"""

from __future__ import annotations

__all__ = ["is_mature"]


def is_mature(coin_height: int, coinbase: bool, spend_height: int, maturity: int) -> bool:
    """Whether a coin made at ``coin_height`` (``coinbase``: by a coinbase) may be spent by a
    transaction in the block at ``spend_height``."""
    return not coinbase or spend_height - coin_height >= maturity
