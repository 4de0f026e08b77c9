"""Block subsidies of both layers (DESIGN section 3).

L1: 1.5 FAI per block; L2: 3.5 FAI per block; both halve (integer right shift) every
2,100,000 blocks of their own chain and reach zero after 64 halvings. The sum over both
layers is a little under 21,000,000 FAI (``tests/ledger/test_supply.py`` proves it).
"""

from __future__ import annotations

from funai.ledger.tx import COIN

__all__ = [
    "HALVING_INTERVAL",
    "L1_INITIAL_SUBSIDY",
    "L2_INITIAL_SUBSIDY",
    "l1_subsidy",
    "l2_subsidy",
    "subsidy",
    "total_supply",
]

HALVING_INTERVAL = 2_100_000
L1_INITIAL_SUBSIDY = 3 * COIN // 2  # 1.5 FAI
L2_INITIAL_SUBSIDY = 7 * COIN // 2  # 3.5 FAI


def subsidy(initial: int, height: int, halving_interval: int = HALVING_INTERVAL) -> int:
    """``initial`` halved once per ``halving_interval`` blocks (0 after 64 halvings)."""
    if height < 0:
        raise ValueError("negative height")
    halvings = height // halving_interval
    return 0 if halvings >= 64 else initial >> halvings


def l1_subsidy(height: int, halving_interval: int = HALVING_INTERVAL) -> int:
    """Ledger-layer block subsidy at ``height`` (the genesis block pays none)."""
    return 0 if height == 0 else subsidy(L1_INITIAL_SUBSIDY, height, halving_interval)


def l2_subsidy(height: int, halving_interval: int = HALVING_INTERVAL) -> int:
    """Inference-layer block subsidy at ``height`` (reused by the inference layer)."""
    return subsidy(L2_INITIAL_SUBSIDY, height, halving_interval)


def total_supply(initial: int, halving_interval: int = HALVING_INTERVAL) -> int:
    """Sum of every subsidy of one layer, era by era (each era's blocks pay the same)."""
    total = 0
    era = 0
    while (amount := subsidy(initial, era * halving_interval, halving_interval)) > 0:
        total += amount * halving_interval
        era += 1
    return total
