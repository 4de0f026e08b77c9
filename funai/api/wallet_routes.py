"""Wallet routes of the node API: the node's L1 wallet (``<datadir>/<network>/wallet.json``).

* ``GET /v1/wallet``: addresses, balance (spendable, immature, pending_out) and the L2 account
  (HASH160 of the first key, the first address's payload).
* ``POST /v1/wallet/address``: a new receiving address (the key is added to the wallet file).
* ``POST /v1/wallet/send`` ``{"to", "amount", "fee_rate"?}``: pay an address.
* ``POST /v1/wallet/pay`` ``{"outputs": [{"kind", "value", "payload"}], "fee_rate"?}``: a
  payment with arbitrary outputs (pay-to-key, pay-to-key-hash, data), in this order.
* ``POST /v1/wallet/peg-in`` ``{"amount", "account"?, "fee_rate"?}``: lock ``amount`` in the
  current verifier set's peg pool for an L2 account (default: the wallet's, its first key's
  HASH160); credited on L2 after ``confirmations`` L1 blocks.
* ``POST /v1/wallet/peg-out`` ``{"amount", "to"?}``: an L2 ``PEG_OUT`` from the wallet's L2
  account, paid on L1 to ``to`` (default: the wallet's first address) less the network's
  ``pegout_fee`` once the verifier quorum signs it; follow it at
  ``GET /v1/l2/pegouts/{txid}``.
* ``POST /v1/l2/unbond`` ``{"amount", "force"?}``: an L2 ``UNBOND`` of the node's own
  executor bond, signed with the node's L2 key (not the wallet's); the coins return to that
  L2 account ``unbonding_delay`` L2 blocks after the block that includes it. On an executor
  (``roles.inference``) that would leave the bond below ``l2.bond`` (which the node posts
  again at once) it answers 409 ``bond_target`` unless ``force`` is true.

Every wallet route needs ``Authorization: Bearer <cookie>``: a bitcoind-style cookie, a random
token in ``<netdir>/api.cookie`` (mode 0600) made when the API starts if it does not exist
(or is readable by others), so only users who can read the node's data directory can use or
inspect the wallet. :func:`read_cookie` reads it for clients. Errors are the node API's JSON
body ``{"error": message, "code": ...}``: 401 ``unauthorized``, 404 ``no_wallet``, 400
``bad_request`` / ``bad_address`` / ``bad_amount`` / ``bad_fee_rate`` / ``bad_output`` /
``bad_account`` / ``insufficient_funds`` / ``exceeds_bond``, 409 ``no_inference_layer`` (peg
and unbond routes on a node without L2) / ``bond_target``, 413 ``too_large``, 422
``rejected`` (the mempool's policy, with ``rule`` and ``detail`` as ``POST /v1/tx``; for
``unbond``, the L2 rule), 503 ``wallet_unavailable`` (unreadable file).

Chainstate access goes through the chain service's thread gate; wallet operations are
serialized by one lock, so concurrent requests never pick the same coins or lose a key.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from funai.api.jsonbody import JsonBodyError, read_json
from funai.errors import FunaiError, MalformedInputError
from funai.layer2.pegs import pegin_output
from funai.layer2.transactions import PegOutPayload, sign_payload
from funai.ledger.address import decode_address
from funai.ledger.datadir import wallet_path
from funai.ledger.errors import MempoolError
from funai.ledger.tx import MAX_DATA_SIZE, MAX_MONEY, OutputKind, Transaction, TxOut
from funai.ledger.wallet import DUST, Wallet, WalletError
from funai.node.l2facade import L2Facade, L2RefusedError, l2_facade

if TYPE_CHECKING:
    from funai.node.node import Node

__all__ = [
    "COOKIE_FILE",
    "DEFAULT_FEE_RATE",
    "MAX_FEE_RATE",
    "MAX_OUTPUTS",
    "ensure_cookie",
    "read_cookie",
    "wallet_routes",
]

COOKIE_FILE = "api.cookie"
DEFAULT_FEE_RATE = 2  # base units per byte, as `funai wallet send`
MAX_FEE_RATE = 100_000  # a guard against fat-fingered fees (0.001 FAI per byte)
MAX_OUTPUTS = 100
MAX_BODY = 64 * 1024

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_PAYLOAD_SIZES = {
    OutputKind.PAY_TO_KEY: 32,
    OutputKind.PAY_TO_KEY_HASH: 20,
    OutputKind.PAY_TO_QUORUM: 32,
}
_SECP256K1_P = 2**256 - 2**32 - 977


# --- the cookie ---------------------------------------------------------------------------


def read_cookie(netdir: Path) -> str:
    """The API cookie of the node whose network directory is ``netdir`` (raises
    :class:`FileNotFoundError` before the node's API has started once)."""
    token = (netdir / COOKIE_FILE).read_text().strip()
    if not token:
        raise ValueError(f"{netdir / COOKIE_FILE} is empty")
    return token


def ensure_cookie(netdir: Path) -> str:
    """The cookie in ``<netdir>/api.cookie``, made (mode 0600, 32 random bytes in hex) if it
    is absent, empty or readable by group or others."""
    path = netdir / COOKIE_FILE
    with contextlib.suppress(FileNotFoundError, ValueError):
        if not path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return read_cookie(netdir)
    netdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(32)
    tmp = path.with_name(f"{COOKIE_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return token


# --- request parsing ----------------------------------------------------------------------


class _RequestError(Exception):
    """An error answer: ``{"error": message, "code": code, **extra}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(
            {"error": self.message, "code": self.code, **self.extra},
            status_code=self.status,
            headers=headers,
        )


async def _json_object(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        data = await read_json(request, MAX_BODY)
    except JsonBodyError as exc:
        code = "too_large" if exc.status == 413 else "bad_request"
        raise _RequestError(exc.status, code, exc.message) from None
    if not isinstance(data, dict):
        raise _RequestError(400, "bad_request", "the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _RequestError(400, "bad_request", f"unknown fields: {', '.join(unknown)}")
    return data


def _int(value: Any, what: str, lo: int, hi: int, code: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _RequestError(400, code, f"{what} must be an integer (base units)")
    if not lo <= value <= hi:
        raise _RequestError(400, code, f"{what} must be in [{lo}, {hi}]")
    return value


def _fee_rate(data: dict[str, Any]) -> int:
    value = data.get("fee_rate")
    if value is None:
        return DEFAULT_FEE_RATE
    return _int(value, "fee_rate", 1, MAX_FEE_RATE, "bad_fee_rate")


def _is_x_only_key(payload: bytes) -> bool:
    """Whether ``payload`` is the x coordinate of a secp256k1 point (else nobody can spend
    what is paid to it)."""
    x = int.from_bytes(payload, "big")
    if x >= _SECP256K1_P:
        return False
    rhs = (pow(x, 3, _SECP256K1_P) + 7) % _SECP256K1_P
    return pow(rhs, (_SECP256K1_P - 1) // 2, _SECP256K1_P) == 1


def _output(item: Any, index: int) -> TxOut:
    what = f"outputs[{index}]"
    if not isinstance(item, dict):
        raise _RequestError(400, "bad_output", f"{what} must be an object")
    unknown = sorted(set(item) - {"kind", "value", "payload"})
    if unknown:
        raise _RequestError(400, "bad_output", f"{what}: unknown fields: {', '.join(unknown)}")
    for key in ("kind", "value", "payload"):
        if key not in item:
            raise _RequestError(400, "bad_output", f"{what}.{key} is required")
    kind = _int(item["kind"], f"{what}.kind", 0, max(OutputKind), "bad_output")
    value = _int(item["value"], f"{what}.value", 0, MAX_MONEY, "bad_output")
    text = item["payload"]
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise _RequestError(400, "bad_output", f"{what}.payload must be a hex string")
    payload = bytes.fromhex(text)
    if kind == OutputKind.DATA:
        if len(payload) > MAX_DATA_SIZE:
            raise _RequestError(400, "bad_output", f"{what}: data payloads are at most 80 bytes")
        if value != 0:
            raise _RequestError(400, "bad_output", f"{what}: data outputs carry no value")
    else:
        size = _PAYLOAD_SIZES[OutputKind(kind)]
        if len(payload) != size:
            raise _RequestError(400, "bad_output", f"{what}: a kind {kind} payload is {size} bytes")
        if value <= DUST:
            raise _RequestError(
                400, "bad_output", f"{what}: value must exceed the dust limit {DUST}"
            )
        if kind == OutputKind.PAY_TO_KEY and not _is_x_only_key(payload):
            raise _RequestError(400, "bad_output", f"{what}: payload is not an x-only public key")
    return TxOut(kind, value, payload)


# --- routes -------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[JSONResponse]]


def wallet_routes(node: Node) -> list[Route]:
    """The wallet routes of ``node``'s API; makes the cookie (see :func:`ensure_cookie`)."""
    cookie = ensure_cookie(node.netdir).encode()
    # One request at a time, and never while the node's own L1 spend is being built and
    # admitted (the inference layer's duties): the lock is the chain service's.
    lock = node.service.wallet_lock

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> JSONResponse:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), cookie
            ):
                return _RequestError(
                    401,
                    "unauthorized",
                    f"the wallet needs Authorization: Bearer <the token in {COOKIE_FILE}>",
                ).response()
            try:
                async with lock:
                    return await handler(request)
            except _RequestError as exc:
                return exc.response()

        return endpoint

    def load() -> Wallet:
        path = wallet_path(node.datadir, node.params)
        try:
            return Wallet.load(path, node.params)
        except (WalletError, OSError, ValueError, KeyError, TypeError) as exc:
            if not path.exists():
                raise _RequestError(404, "no_wallet", "this node has no wallet") from None
            raise _RequestError(
                503, "wallet_unavailable", f"cannot read the wallet: {exc}"
            ) from None

    async def info(request: Request) -> JSONResponse:
        service = node.service
        wallet = await trio.to_thread.run_sync(load)

        def read() -> tuple[int, Any]:
            return service.chain.height, wallet.balance(service.chain, service.mempool)

        height, balance = await service.run(read)
        return JSONResponse(
            {
                "network": node.params.name,
                "height": height,
                "addresses": wallet.addresses(),
                "balance": {
                    "spendable": balance.spendable,
                    "immature": balance.immature,
                    "pending_out": balance.pending_out,
                },
                "l2_account": wallet.order[0].hex(),
            }
        )

    async def new_address(request: Request) -> JSONResponse:
        def make() -> str:
            return load().new_address()

        address = await trio.to_thread.run_sync(make)
        return JSONResponse({"address": address})

    async def submit(build: Callable[[Wallet], Transaction]) -> JSONResponse:
        """Builds a transaction in the chain thread, then admits and relays it."""
        service = node.service
        wallet = await trio.to_thread.run_sync(load)

        def work() -> tuple[Transaction, int]:
            tx = build(wallet)
            value_in = 0
            for txin in tx.inputs:
                coin = service.chain.get_coin(txin.prevout)
                assert coin is not None  # the wallet spends confirmed coins only
                value_in += coin.out.value
            return tx, value_in - sum(o.value for o in tx.outputs)

        try:
            tx, fee = await service.run(work)
        except WalletError as exc:
            message = str(exc)
            if message.startswith("insufficient funds"):
                raise _RequestError(400, "insufficient_funds", message) from None
            if message.startswith("bad address"):
                raise _RequestError(400, "bad_address", message) from None
            if message.startswith("amount"):
                raise _RequestError(400, "bad_amount", message) from None
            raise _RequestError(400, "bad_request", message) from None
        try:
            await service.accept_tx(tx)
        except MempoolError as exc:
            raise _RequestError(
                422, "rejected", "transaction rejected", rule=exc.rule, detail=exc.detail
            ) from None
        return JSONResponse({"txid": tx.txid()[::-1].hex(), "fee": fee, "size": tx.size})

    async def send(request: Request) -> JSONResponse:
        data = await _json_object(request, {"to", "amount", "fee_rate"})
        to = data.get("to")
        if not isinstance(to, str):
            raise _RequestError(400, "bad_address", "to must be an address string")
        try:
            decode_address(to, node.params.hrp)
        except MalformedInputError as exc:
            raise _RequestError(400, "bad_address", f"bad address: {exc}") from None
        if "amount" not in data:
            raise _RequestError(400, "bad_amount", "amount is required")
        amount = _int(data["amount"], "amount", DUST + 1, MAX_MONEY, "bad_amount")
        fee_rate = _fee_rate(data)
        service = node.service
        return await submit(
            lambda w: w.create_transaction(service.chain, service.mempool, to, amount, fee_rate)
        )

    async def pay(request: Request) -> JSONResponse:
        data = await _json_object(request, {"outputs", "fee_rate"})
        items = data.get("outputs")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_OUTPUTS:
            raise _RequestError(
                400, "bad_output", f"outputs must be an array of 1 to {MAX_OUTPUTS} outputs"
            )
        outputs = [_output(item, i) for i, item in enumerate(items)]
        if sum(o.value for o in outputs) > MAX_MONEY:
            raise _RequestError(400, "bad_amount", "the outputs pay more than the money supply")
        fee_rate = _fee_rate(data)
        service = node.service
        return await submit(
            lambda w: w.create_payment(service.chain, service.mempool, outputs, fee_rate)
        )

    def layer2() -> L2Facade:
        l2 = l2_facade(node)
        if l2 is None:
            raise _RequestError(
                409, "no_inference_layer", "this node runs no inference layer (l2.enabled)"
            )
        return l2

    async def peg_in(request: Request) -> JSONResponse:
        data = await _json_object(request, {"amount", "account", "fee_rate"})
        l2 = layer2()
        if "amount" not in data:
            raise _RequestError(400, "bad_amount", "amount is required")
        amount = _int(data["amount"], "amount", DUST + 1, MAX_MONEY, "bad_amount")
        account_hex = data.get("account")
        if account_hex is None:
            account = (await trio.to_thread.run_sync(load)).order[0]
        else:
            try:
                account = bytes.fromhex(account_hex) if isinstance(account_hex, str) else b""
            except ValueError:
                account = b""
            if len(account) != 20:
                raise _RequestError(400, "bad_account", "account must be 40 hex digits")
        pool_kind, pool = await l2.pool_output()
        outputs = [TxOut(pool_kind, amount, pool), pegin_output(account)]
        fee_rate = _fee_rate(data)
        service = node.service
        answer = await submit(
            lambda w: w.create_payment(service.chain, service.mempool, outputs, fee_rate)
        )
        body = json.loads(bytes(answer.body))
        body.update(account=account.hex(), pool={"kind": pool_kind, "payload": pool.hex()})
        return JSONResponse(body)

    async def peg_out(request: Request) -> JSONResponse:
        data = await _json_object(request, {"amount", "to"})
        l2 = layer2()
        wallet = await trio.to_thread.run_sync(load)
        to = data.get("to", wallet.address(0))
        if not isinstance(to, str):
            raise _RequestError(400, "bad_address", "to must be an address string")
        try:
            payout = decode_address(to, node.params.hrp).output(0)
        except MalformedInputError as exc:
            raise _RequestError(400, "bad_address", f"bad address: {exc}") from None
        if "amount" not in data:
            raise _RequestError(400, "bad_amount", "amount is required")
        fee = l2.pegout_fee
        amount = _int(data["amount"], "amount", fee + 1, MAX_MONEY, "bad_amount")
        sk = wallet.secret_key(0)
        account = wallet.order[0]
        available = await l2.available(account)
        if available < amount:
            raise _RequestError(
                400,
                "insufficient_funds",
                f"L2 account {account.hex()} has {max(0, available)} base units available",
            )
        nonce = await l2.take_nonce(account)
        body = PegOutPayload(amount, payout.kind, payout.payload)
        tx = sign_payload(sk, body, nonce, l2.network_id)
        try:
            await l2.submit(tx)
        except FunaiError as exc:
            await l2.return_nonce(sk, nonce, maybe_used=False)
            raise _RequestError(400, "rejected", f"peg-out refused: {exc}") from None
        txid = tx.txid().hex()
        return JSONResponse(
            {
                "txid": txid,
                "amount": amount,
                "pegout_fee": fee,
                "to": to,
                "status": f"/v1/l2/pegouts/{txid}",
            }
        )

    async def unbond(request: Request) -> JSONResponse:
        data = await _json_object(request, {"amount", "force"})
        l2 = layer2()
        if "amount" not in data:
            raise _RequestError(400, "bad_amount", "amount is required")
        amount = _int(data["amount"], "amount", 1, MAX_MONEY, "bad_amount")
        force = data.get("force", False)
        if not isinstance(force, bool):
            raise _RequestError(400, "bad_request", "force must be true or false")
        # an executor (roles.inference) keeps its bond at l2.bond unless forced
        keep = l2.bond_target if node.config.inference and not force else None
        try:
            txid, bond, release = await l2.unbond(amount, keep)
        except L2RefusedError as exc:
            raise _RequestError(exc.status, exc.code, exc.message, **exc.extra) from None
        return JSONResponse(
            {"txid": txid, "amount": amount, "bond": bond, "release_height": release}
        )

    return [
        Route("/v1/l2/unbond", guarded(unbond), methods=["POST"]),
        Route("/v1/wallet/peg-in", guarded(peg_in), methods=["POST"]),
        Route("/v1/wallet/peg-out", guarded(peg_out), methods=["POST"]),
        Route("/v1/wallet", guarded(info)),
        Route("/v1/wallet/address", guarded(new_address), methods=["POST"]),
        Route("/v1/wallet/send", guarded(send), methods=["POST"]),
        Route("/v1/wallet/pay", guarded(pay), methods=["POST"]),
    ]
