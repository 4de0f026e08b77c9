"""Fixtures for the ledger tests: regtest chains (minimum difficulty, instant mining)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from funai.ledger.params import REGTEST
from tests.ledger.ledger_kit import Kit


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    k = Kit(tmp_path / "chain.sqlite", REGTEST, [REGTEST.genesis_time])
    yield k
    k.chain.close()


@pytest.fixture
def funded(kit: Kit) -> Kit:
    """A regtest chain where the coinbases of heights 1 and 2 (paid to SK_A) are mature."""
    kit.mine_many(REGTEST.coinbase_maturity + 1)
    return kit
