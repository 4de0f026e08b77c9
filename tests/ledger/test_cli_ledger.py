"""`funai wallet` and `funai mine` on regtest: mine, mature, send, confirm."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funai.cli import app
from funai.ledger.datadir import format_amount, parse_amount

runner = CliRunner()


def _run(datadir: Path, *args: str) -> str:
    result = runner.invoke(app, ["--datadir", str(datadir), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_mine_and_send(tmp_path: Path) -> None:
    out = _run(tmp_path, "wallet", "new", "--network", "regtest")
    addr = out.strip().splitlines()[-1]
    assert addr.startswith("tfai1")
    key_file = tmp_path / "regtest" / "wallet.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        "already exists"
        in runner.invoke(
            app, ["--datadir", str(tmp_path), "wallet", "new", "--network", "regtest"]
        ).output
    )

    _run(tmp_path, "mine", "--network", "regtest", "--blocks", "11")
    bal = _run(tmp_path, "wallet", "balance", "--network", "regtest")
    assert "spendable  3.00000000 FAI" in bal  # coinbases 1 and 2 are mature at height 12
    assert "immature   13.50000000 FAI" in bal

    other = _run(tmp_path, "wallet", "address", "--new", "--network", "regtest").strip()
    sent = _run(tmp_path, "wallet", "send", other, "2.5", "--fee-rate", "3", "--network", "regtest")
    assert "sent 2.50000000 FAI" in sent
    bal = _run(tmp_path, "wallet", "balance", "--network", "regtest")
    assert "pending    3.00000000 FAI" in bal

    _run(tmp_path, "mine", "--network", "regtest", "--blocks", "1")
    bal = _run(tmp_path, "wallet", "balance", "--network", "regtest")
    # Both addresses are ours: 2.5 to the new one, change back; the fee went to our coinbase.
    assert "pending    0.00000000 FAI" in bal

    bad = runner.invoke(
        app, ["--datadir", str(tmp_path), "wallet", "send", other, "1000", "--network", "regtest"]
    )
    assert bad.exit_code == 1
    assert "insufficient funds" in bad.output


def test_wallet_refuses_world_readable_keys(tmp_path: Path) -> None:
    _run(tmp_path, "wallet", "new", "--network", "regtest")
    key_file = tmp_path / "regtest" / "wallet.json"
    key_file.chmod(0o644)
    result = runner.invoke(
        app, ["--datadir", str(tmp_path), "wallet", "address", "--network", "regtest"]
    )
    assert result.exit_code == 1
    assert "readable by others" in result.output


@pytest.mark.parametrize(
    ("text", "units"), [("1", 10**8), ("1.5", 150_000_000), ("0.00000001", 1), (".5", 50_000_000)]
)
def test_amounts(text: str, units: int) -> None:
    assert parse_amount(text) == units
    assert parse_amount(format_amount(units)) == units


@pytest.mark.parametrize("text", ["", "1.123456789", "-1", "1e3", "abc", "1.2.3"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimals"):
        parse_amount(text)
