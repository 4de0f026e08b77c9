"""Rule ``coinbase-maturity`` (:func:`funai.ledger.maturity.is_mature`), the one check that L1
validation, the wallet and the L2 peg-out batches share."""

from __future__ import annotations

import pytest

from funai.ledger.maturity import is_mature
from funai.ledger.params import REGTEST


@pytest.mark.parametrize("maturity", [1, 10, 100])
def test_coinbase_matures_at_exactly_maturity_blocks(maturity: int) -> None:
    coin_height = 50
    # the boundary: one block short is refused, ``maturity`` blocks above is accepted
    assert not is_mature(coin_height, True, coin_height + maturity - 1, maturity)
    assert is_mature(coin_height, True, coin_height + maturity, maturity)
    assert is_mature(coin_height, True, coin_height + maturity + 1, maturity)
    assert not is_mature(coin_height, True, coin_height, maturity)


def test_other_coins_are_spendable_at_once() -> None:
    assert is_mature(50, False, 50, REGTEST.coinbase_maturity)
    assert is_mature(50, False, 51, 100)


def test_zero_maturity_accepts_a_coinbase_at_once() -> None:
    assert is_mature(7, True, 7, 0)
