"""Well-known developer accounts of a local devnet (as anvil's or Hardhat's test accounts).

Their secret keys are derived from a fixed label, so they are the same on every machine and
in every run: ``sk_i = SHA-256("funai-devnet-developer-account-v1" || u32be(i))``. Each is an
L1 wallet (a ``tfai1...`` address) whose first key is also its L2 account (HASH160 of the
x-only public key). ``funai devnet --l2`` mines to account 0 (the miner's wallet), pays
accounts 1.. on L1, pegs FAI into every account's L2 balance and installs the well-known API
key :data:`DEV_API_KEY` on every node, paying from account 1.

These keys are public: **test keys, never use them on main** (nor on test). The devnet's
wallets and keys are refused on any other network.
"""

from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funai import _core
from funai.api.auth import KEYS_FILE, key_hash
from funai.layer2.transactions import account_of
from funai.ledger.address import encode_address
from funai.ledger.params import get_params

__all__ = [
    "DEV_ACCOUNTS",
    "DEV_API_KEY",
    "DEV_API_KEY_ACCOUNT",
    "WARNING",
    "DevAccount",
    "dev_accounts",
    "install_api_key",
    "openai_snippet",
    "write_wallet",
]

#: How many developer accounts a devnet prints and funds.
DEV_ACCOUNTS = 4
#: The devnet's well-known OpenAI API key (every node of ``funai devnet --l2`` accepts it).
DEV_API_KEY = "fai-devnet-test-key-0000000000000000"
#: The developer account the API key pays from.
DEV_API_KEY_ACCOUNT = 1
WARNING = (
    "WARNING: these are well-known test keys, published in the source: never use them on main "
    "(or test); anyone can spend what they hold."
)
_LABEL = b"funai-devnet-developer-account-v1"


@dataclass(frozen=True)
class DevAccount:
    index: int
    secret_key: str  # hex, 32 bytes (BIP340)
    public_key: str  # hex, x-only
    address: str  # L1 address on the network
    l2_account: str  # hex, 20 bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "secret_key": self.secret_key,
            "public_key": self.public_key,
            "address": self.address,
            "l2_account": self.l2_account,
        }


def _secret(index: int) -> bytes:
    return _core.sha256(_LABEL + struct.pack(">I", index))


def dev_accounts(network: str = "devnet", count: int = DEV_ACCOUNTS) -> list[DevAccount]:
    """The first ``count`` developer accounts (only devnet and regtest have them)."""
    params = get_params(network)
    if params.name not in ("devnet", "regtest"):
        raise ValueError("developer accounts exist only on devnet and regtest")
    out = []
    for i in range(count):
        sk = _secret(i)
        pk = _core.schnorr_public_key(sk)
        out.append(
            DevAccount(
                i,
                sk.hex(),
                pk.hex(),
                encode_address(params.hrp, 0, _core.hash160(pk)),
                account_of(pk).hex(),
            )
        )
    return out


def write_wallet(path: Path, account: DevAccount, network: str = "devnet") -> Path:
    """The wallet file (mode 0600) holding ``account``'s key, as ``funai wallet`` writes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(
        {"network": get_params(network).name, "secret_keys": [account.secret_key]}, indent=1
    )
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def install_api_key(netdir: Path, wallet: Path, key: str = DEV_API_KEY) -> None:
    """Makes ``key`` an API key of the node whose network directory is ``netdir``, paying
    from ``wallet`` (the node re-reads its key file when it changes)."""
    path = netdir / KEYS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {"version": 1, "keys": {}}
    data.setdefault("keys", {})[key_hash(key)] = {
        "wallet": str(wallet.expanduser().resolve()),
        "label": "devnet developer account (test key)",
        "created": int(time.time()),
    }
    netdir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def openai_snippet(base_url: str, model: str, key: str = DEV_API_KEY) -> str:
    """A copy-paste Python snippet that asks the devnet through the official client."""
    return (
        "from openai import OpenAI\n"
        f'client = OpenAI(base_url="{base_url}", api_key="{key}")\n'
        f'r = client.chat.completions.create(model="{model}",\n'
        '                                   messages=[{"role": "user", "content": "Hi"}])\n'
        'print(r.choices[0].message.content, r.model_extra["funai"]["inference_txid"])'
    )
