"""Where a network's ledger files live inside the data directory.

``<datadir>/<network>/chainstate.sqlite`` (block index, blocks, UTXO set, undo data and the
shared mempool table) and ``<datadir>/<network>/wallet.json`` (keys, mode 0600).
"""

from __future__ import annotations

from pathlib import Path

from funai.ledger.chainstate import Chainstate
from funai.ledger.mempool import Mempool
from funai.ledger.params import ChainParams

__all__ = ["chain_path", "open_node", "parse_amount", "wallet_path"]

COIN_DECIMALS = 8
_UNIT = 100_000_000


def network_dir(datadir: Path, params: ChainParams) -> Path:
    path = datadir / params.name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def chain_path(datadir: Path, params: ChainParams) -> Path:
    return network_dir(datadir, params) / "chainstate.sqlite"


def wallet_path(datadir: Path, params: ChainParams) -> Path:
    return network_dir(datadir, params) / "wallet.json"


def open_node(datadir: Path, params: ChainParams) -> tuple[Chainstate, Mempool]:
    """The chainstate and mempool of ``params``' network in ``datadir``."""
    chain = Chainstate(chain_path(datadir, params), params)
    return chain, Mempool(chain)


def parse_amount(text: str) -> int:
    """``"1.5"`` FAI -> 150000000 base units, exactly (no floats); at most 8 decimals."""
    text = text.strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() and not (whole == "" and frac):
        raise ValueError(f"not an amount: {text!r}")
    if frac and (not frac.isdigit() or len(frac) > COIN_DECIMALS):
        raise ValueError(f"at most {COIN_DECIMALS} decimals: {text!r}")
    return int(whole or "0") * _UNIT + int(frac.ljust(COIN_DECIMALS, "0") or "0")


def format_amount(units: int) -> str:
    """Base units as a FAI decimal string."""
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), _UNIT)
    return f"{sign}{q}.{r:08d}"
