"""API keys for the OpenAI-compatible endpoints: each key maps to a local wallet.

Keys live in ``<datadir>/<network>/api_keys.json`` (mode 0600; only SHA-256 hashes of the keys
are stored), made with ``funai api-key new --wallet PATH``. Rules (see docs/api.md):

* no key file (or no keys) on devnet/regtest: open access (local development);
* no key file on main/test: every completion is refused with 401, so nothing is served free;
* otherwise ``Authorization: Bearer <key>`` is required (401 ``missing_api_key`` /
  ``invalid_api_key``), and the key's wallet must hold spendable L1 coins (402
  ``insufficient_funds`` otherwise). With the inference layer running (devnet, regtest) the
  wallet's first key is the paying L2 account: each request is charged ``price_per_token``
  per token in its inference transaction, and refused with 402 when the account cannot cover
  prompt + ``max_tokens`` (:mod:`funai.node.l2runtime`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from funai.api.openai.errors import ApiError
from funai.ledger.wallet import Wallet, WalletError

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = ["KEYS_FILE", "ApiKeys", "KeyEntry", "key_hash", "new_key", "revoke_key"]

KEYS_FILE = "api_keys.json"
KEY_PREFIX = "fai-"
_OPEN_NETWORKS = ("devnet", "regtest")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyEntry:
    hash: str
    wallet: Path
    label: str
    created: int


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"version": 1, "keys": {}}
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise ValueError(f"{path}: not an API key file")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def new_key(path: Path, wallet: Path, label: str = "") -> str:
    """Adds a key for ``wallet`` to the key file ``path``; returns the key (shown once)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    data = _read(path)
    data["keys"][key_hash(key)] = {
        "wallet": str(wallet.expanduser().resolve()),
        "label": label,
        "created": int(time.time()),
    }
    _write(path, data)
    return key


def revoke_key(path: Path, prefix: str) -> int:
    """Removes the keys whose hash starts with ``prefix`` (at least 8 hex digits)."""
    if len(prefix) < 8:
        raise ValueError("give at least 8 hex digits of the key hash")
    data = _read(path)
    gone = [h for h in data["keys"] if h.startswith(prefix)]
    for h in gone:
        del data["keys"][h]
    _write(path, data)
    return len(gone)


def list_keys(path: Path) -> list[KeyEntry]:
    return [
        KeyEntry(h, Path(v["wallet"]), str(v.get("label", "")), int(v.get("created", 0)))
        for h, v in sorted(_read(path)["keys"].items())
    ]


class ApiKeys:
    """The node's key file, re-read when it changes."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.path = node.netdir / KEYS_FILE
        self._mtime: float | None = None
        self._keys: dict[str, KeyEntry] = {}
        self._wallets: dict[Path, Wallet] = {}

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._keys = None, {}
            return
        if mtime != self._mtime:
            self._keys = {e.hash: e for e in list_keys(self.path)}
            self._wallets.clear()
            self._mtime = mtime

    async def authorize(self, request: Request) -> tuple[ApiError | None, Wallet | None]:
        """``(None, wallet)`` when the request may be served (``wallet``: the key's wallet,
        None for open access), else ``(error, None)``. With the inference layer running, the
        wallet pays from its L2 account (checked per request by the executor); without it,
        the wallet must hold spendable L1 coins."""
        err, wallet = await self._authorize(request)
        return err, (None if err is not None else wallet)

    async def _authorize(self, request: Request) -> tuple[ApiError | None, Wallet | None]:
        try:
            self._refresh()
        except (ValueError, OSError) as exc:
            return ApiError(
                500, f"the node's API key file is unreadable: {exc}", type_="server_error"
            ), None
        if not self._keys:
            if self.node.params.name in _OPEN_NETWORKS:
                return None, None
            return ApiError(
                401,
                "This node serves completions only to API keys; create one "
                "with `funai api-key new --wallet PATH`.",
                type_="invalid_request_error",
                code="missing_api_key",
            ), None
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ApiError(
                401,
                "An API key is required (Authorization: Bearer <key>).",
                type_="invalid_request_error",
                code="missing_api_key",
            ), None
        entry = self._keys.get(key_hash(token.strip()))
        if entry is None:
            return ApiError(
                401,
                "Incorrect API key provided.",
                type_="invalid_request_error",
                code="invalid_api_key",
            ), None
        wallet = self._wallets.get(entry.wallet)
        if wallet is None:
            try:
                wallet = Wallet.load(entry.wallet, self.node.params)
            except (WalletError, OSError, ValueError) as exc:
                return ApiError(
                    402,
                    f"The API key's wallet cannot be used: {exc}",
                    type_="insufficient_quota",
                    code="wallet_unavailable",
                ), None
            self._wallets[entry.wallet] = wallet
        from funai.node.l2facade import l2_facade  # not at import: `funai api-key` stays light

        if l2_facade(self.node) is not None:
            return None, wallet
        service = self.node.service
        balance = await service.run(wallet.balance, service.chain, service.mempool)
        if balance.spendable <= 0:
            return ApiError(
                402,
                f"The wallet of this API key ({wallet.address(0)}) has no spendable funds "
                f"(immature {balance.immature}, pending {balance.pending_out}); fund it first.",
                type_="insufficient_quota",
                code="insufficient_funds",
            ), None
        return None, wallet
