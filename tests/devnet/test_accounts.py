"""The devnet's well-known developer accounts and API key: the same keys on every machine
(as anvil's or Hardhat's), wallets the node loads, an API key the node accepts for its
wallet, the "test keys, never use them on main" warning, and no such accounts on main."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from funai import _core
from funai.api.auth import KEYS_FILE, list_keys
from funai.devnet.accounts import (
    DEV_API_KEY,
    WARNING,
    dev_accounts,
    install_api_key,
    openai_snippet,
    write_wallet,
)
from funai.devnet.launcher import NodeSpec
from funai.devnet.ready import check_ports, prepare_dev_l2
from funai.layer2.transactions import account_of
from funai.ledger.params import get_params
from funai.ledger.wallet import Wallet


def test_accounts_are_deterministic_and_distinct() -> None:
    a, b = dev_accounts(), dev_accounts()
    assert a == b
    assert len(a) == 4
    assert len({x.secret_key for x in a}) == 4
    # pinned: documented in docs/node.md, so they must never change
    assert a[0].secret_key == "f538085b43a6497c732c70569153a95c683626cf5b51e9c6cb1a392dc7dad6b3"
    assert a[1].address == "tfai1qnxfy0vaf0xccwctfrjcdchq5qgj2mcxvxumvmp"
    for x in a:
        pk = _core.schnorr_public_key(bytes.fromhex(x.secret_key))
        assert pk.hex() == x.public_key
        assert account_of(pk).hex() == x.l2_account
        assert x.address.startswith("tfai1")


def test_no_developer_accounts_on_main() -> None:
    with pytest.raises(ValueError, match="only on devnet and regtest"):
        dev_accounts("main")


def test_warning_says_test_keys_never_main() -> None:
    assert "test keys" in WARNING
    assert "never use them on main" in WARNING


def test_wallet_file_loads_with_the_account_key(tmp_path: Path) -> None:
    acct = dev_accounts()[1]
    path = write_wallet(tmp_path / "w" / "account1.json", acct)
    assert path.stat().st_mode & 0o077 == 0
    wallet = Wallet.load(path, get_params("devnet"))
    assert wallet.address(0) == acct.address
    assert wallet.secret_key(0).hex() == acct.secret_key


def test_api_key_maps_to_the_account_wallet(tmp_path: Path) -> None:
    wallet = write_wallet(tmp_path / "account1.json", dev_accounts()[1])
    netdir = tmp_path / "node" / "devnet"
    install_api_key(netdir, wallet)
    install_api_key(netdir, wallet)  # idempotent
    keys = list_keys(netdir / KEYS_FILE)
    assert len(keys) == 1
    assert keys[0].wallet == wallet.resolve()
    assert DEV_API_KEY.startswith("fai-")


def test_snippet_is_runnable_python() -> None:
    code = openai_snippet("http://127.0.0.1:29634/v1", "smollm2-135m-instruct")
    compile(code, "<snippet>", "exec")
    assert DEV_API_KEY in code
    assert 'base_url="http://127.0.0.1:29634/v1"' in code


def test_prepare_makes_the_miner_wallet_account_0_and_fixed_ports(tmp_path: Path) -> None:
    specs = [NodeSpec("miner", {"miner": True}), NodeSpec("verifier0", {"verifier": True})]
    (tmp_path / "miner" / "devnet").mkdir(parents=True)
    (tmp_path / "miner" / "devnet" / "chainstate.sqlite").write_text("old run")
    accounts = prepare_dev_l2(tmp_path, specs, "devnet", 0)
    assert not (tmp_path / "miner" / "devnet" / "chainstate.sqlite").exists()  # from genesis
    miner_wallet = Wallet.load(tmp_path / "miner" / "devnet" / "wallet.json", get_params("devnet"))
    assert miner_wallet.address(0) == accounts[0].address
    assert "api_listen" not in specs[0].settings
    base = _free_port_pair()
    accounts = prepare_dev_l2(tmp_path, specs, "devnet", base)
    assert specs[0].settings["api_listen"] == f"127.0.0.1:{base}"
    assert specs[1].settings["api_listen"] == f"127.0.0.1:{base + 1}"


def _free_port_pair() -> int:
    """Two free consecutive ports below Linux's ephemeral range (32768-60999), where the
    outgoing connections of other tests cannot take them (a fixed 47123 sometimes could)."""
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(20_000, 32_000)
        try:
            check_ports("127.0.0.1", base, 2)
        except RuntimeError:
            continue
        return base
    raise AssertionError("no two free consecutive ports in 20000-32000")
