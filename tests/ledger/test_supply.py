"""Supply: every subsidy of both layers, summed until it reaches zero, is <= 21M FAI."""

from __future__ import annotations

from funai.ledger.supply import (
    HALVING_INTERVAL,
    L1_INITIAL_SUBSIDY,
    L2_INITIAL_SUBSIDY,
    l1_subsidy,
    l2_subsidy,
    total_supply,
)
from funai.ledger.tx import COIN, MAX_MONEY


def test_initial_subsidies() -> None:
    assert l1_subsidy(1) == 150_000_000 == 3 * COIN // 2
    assert l2_subsidy(0) == 350_000_000
    assert l1_subsidy(0) == 0  # genesis: zero pre-mine


def test_halving_schedule() -> None:
    assert l1_subsidy(HALVING_INTERVAL - 1) == 150_000_000
    assert l1_subsidy(HALVING_INTERVAL) == 75_000_000
    assert l2_subsidy(HALVING_INTERVAL * 2) == 87_500_000
    assert l1_subsidy(HALVING_INTERVAL * 64) == 0
    assert l2_subsidy(HALVING_INTERVAL * 200) == 0


def test_total_supply_of_both_layers_is_capped() -> None:
    # Sum era by era, each era's blocks checked to pay the same at both ends.
    total = 0
    for initial, subsidy in ((L1_INITIAL_SUBSIDY, l2_subsidy), (L2_INITIAL_SUBSIDY, l2_subsidy)):
        era = 0
        layer = 0
        while True:
            first = era * HALVING_INTERVAL
            amount = initial >> era if era < 64 else 0
            if initial == L2_INITIAL_SUBSIDY:
                assert subsidy(first) == subsidy(first + HALVING_INTERVAL - 1) == amount
            else:
                assert (
                    l1_subsidy(max(first, 1)) == l1_subsidy(first + HALVING_INTERVAL - 1) == amount
                )
            if amount == 0:
                break
            layer += amount * HALVING_INTERVAL
            era += 1
        assert layer == total_supply(initial)
        total += layer
    assert total <= 21_000_000 * COIN == MAX_MONEY
    # The L1 genesis pays nothing, so the actual total is 1.5 FAI lower still.
    assert 21_000_000 * COIN - total < 2 * COIN  # integer halving loses under 2 FAI
