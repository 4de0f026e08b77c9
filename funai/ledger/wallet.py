"""A simple key wallet: BIP340 keys in a file readable only by its owner.

The key file (JSON, mode 0600, in a 0700 directory) holds the secret keys; every key gives a
pay-to-key-hash address. Balances come from the chainstate's UTXO set; spending selects
coins (exact single coin if one covers amount + fee, else largest first), adds change to a
fresh address, pays ``fee_rate`` base units per byte of the signed transaction and signs
every input over the tagged sighash.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from funai import _core
from funai.errors import FunaiError, MalformedInputError
from funai.ledger.address import Address, decode_address, encode_address, hash160
from funai.ledger.chainstate import Chainstate
from funai.ledger.genesis import genesis_hash
from funai.ledger.mempool import Mempool
from funai.ledger.params import ChainParams
from funai.ledger.tx import OutPoint, OutputKind, Transaction, TxIn, TxOut, sighash
from funai.ledger.validation import Coin

__all__ = ["Balance", "Wallet", "WalletError"]

DUST = 546


class WalletError(FunaiError):
    """The wallet cannot do what was asked (no file, insufficient funds ...)."""


@dataclass(frozen=True, slots=True)
class Balance:
    """Spendable, immature (young coinbase) and pending (spent by pool transactions) amounts."""

    spendable: int
    immature: int
    pending_out: int


class Wallet:
    """Keys of one network, stored at ``path``."""

    def __init__(self, path: Path, params: ChainParams, secrets: list[bytes]) -> None:
        self.path = path
        self.params = params
        self.keys: dict[bytes, tuple[bytes, bytes]] = {}
        self.order: list[bytes] = []
        for sk in secrets:
            self._add(sk)

    def _add(self, sk: bytes) -> bytes:
        pk = _core.schnorr_public_key(sk)
        h = hash160(pk)
        self.keys[h] = (sk, pk)
        self.order.append(h)
        return h

    # --- files --------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, params: ChainParams) -> Wallet:
        """A new wallet with one key; refuses to overwrite an existing file."""
        if path.exists():
            raise WalletError(f"{path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        wallet = cls(path, params, [])
        wallet._add(_core.schnorr_keygen()[0])
        wallet.save(create=True)
        return wallet

    @classmethod
    def load(cls, path: Path, params: ChainParams) -> Wallet:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise WalletError(f"no wallet at {path} (run `funai wallet new`)") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise WalletError(f"{path} is readable by others; chmod 600 it")
        data = json.loads(path.read_text())
        if data.get("network") != params.name:
            raise WalletError(f"{path} is a {data.get('network')} wallet, not {params.name}")
        return cls(path, params, [bytes.fromhex(s) for s in data["secret_keys"]])

    def save(self, *, create: bool = False) -> None:
        """Writes the key file atomically with mode 0600."""
        text = json.dumps(
            {
                "network": self.params.name,
                "secret_keys": [self.keys[h][0].hex() for h in self.order],
            },
            indent=1,
        )
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if create and self.path.exists():
            tmp.unlink()
            raise WalletError(f"{self.path} already exists")
        os.replace(tmp, self.path)

    # --- addresses ----------------------------------------------------------------------

    def address(self, index: int = -1) -> str:
        return encode_address(self.params.hrp, 0, self.order[index])

    def addresses(self) -> list[str]:
        return [encode_address(self.params.hrp, 0, h) for h in self.order]

    def new_address(self) -> str:
        self._add(_core.schnorr_keygen()[0])
        self.save()
        return self.address()

    # --- coins --------------------------------------------------------------------------

    def coins(self, chain: Chainstate) -> list[tuple[OutPoint, Coin]]:
        return [
            (op, c)
            for op, c in chain.coins_for_payloads(list(self.keys))
            if c.out.kind == OutputKind.PAY_TO_KEY_HASH
        ]

    def _mature(self, chain: Chainstate, coin: Coin) -> bool:
        return not coin.coinbase or chain.height + 1 - coin.height >= self.params.coinbase_maturity

    def balance(self, chain: Chainstate, mempool: Mempool | None = None) -> Balance:
        spendable = immature = pending = 0
        for op, coin in self.coins(chain):
            if mempool is not None and op in mempool.spends:
                pending += coin.out.value
            elif self._mature(chain, coin):
                spendable += coin.out.value
            else:
                immature += coin.out.value
        return Balance(spendable, immature, pending)

    def create_transaction(
        self, chain: Chainstate, mempool: Mempool | None, to: str, amount: int, fee_rate: int
    ) -> Transaction:
        """A signed transaction paying ``amount`` to ``to`` with change back to this wallet."""
        if amount <= DUST:
            raise WalletError(f"amount must exceed the dust limit of {DUST} base units")
        try:
            dest: Address = decode_address(to, self.params.hrp)
        except MalformedInputError as exc:
            raise WalletError(f"bad address: {exc}") from None
        return self.create_payment(chain, mempool, [dest.output(amount)], fee_rate)

    def create_payment(
        self, chain: Chainstate, mempool: Mempool | None, outputs: list[TxOut], fee_rate: int
    ) -> Transaction:
        """A signed transaction with ``outputs`` (payments and data outputs, in this order)
        and change back to this wallet's first address; spends only mature, confirmed coins
        not already spent by a pool transaction."""
        if not outputs:
            raise WalletError("a payment needs at least one output")
        amount = sum(o.value for o in outputs)
        available = [
            (op, c)
            for op, c in self.coins(chain)
            if self._mature(chain, c) and (mempool is None or op not in mempool.spends)
        ]
        change_hash = self.order[0]
        for chosen in self._candidates(available, amount, fee_rate):
            value_in = sum(c.out.value for _, c in chosen)
            outs = [*outputs, TxOut(int(OutputKind.PAY_TO_KEY_HASH), 0, change_hash)]
            fee = fee_rate * (self._sign(chosen, outs).size + 16)
            change = value_in - amount - fee
            if change < 0:
                continue
            if change > DUST:
                outs[-1] = TxOut(int(OutputKind.PAY_TO_KEY_HASH), change, change_hash)
            else:
                outs.pop()
            return self._sign(chosen, outs)
        total = sum(c.out.value for _, c in available)
        raise WalletError(f"insufficient funds: {total} spendable, {amount} + fee needed")

    def secret_key(self, index: int = 0) -> bytes:
        """The secret key of address ``index`` (its x-only public key's HASH160 is both the
        L1 address payload and the L2 account)."""
        return self.keys[self.order[index]][0]

    @staticmethod
    def _candidates(
        coins: list[tuple[OutPoint, Coin]], amount: int, fee_rate: int
    ) -> list[list[tuple[OutPoint, Coin]]]:
        """Coin sets to try: the smallest single coin that clearly covers it, then largest first."""
        by_value = sorted(coins, key=lambda oc: oc[1].out.value)
        margin = fee_rate * 400
        out: list[list[tuple[OutPoint, Coin]]] = [
            [oc] for oc in by_value if oc[1].out.value >= amount + margin
        ][:1]
        acc: list[tuple[OutPoint, Coin]] = []
        for oc in reversed(by_value):
            acc.append(oc)
            if sum(c.out.value for _, c in acc) >= amount:
                out.append(list(acc))
        return out

    def _sign(self, chosen: list[tuple[OutPoint, Coin]], outputs: list[TxOut]) -> Transaction:
        unsigned = Transaction(1, tuple(TxIn(op) for op, _ in chosen), tuple(outputs), 0, None, ())
        spent = [c.out for _, c in chosen]
        genesis = genesis_hash(self.params)
        witnesses = []
        for index, (_, coin) in enumerate(chosen):
            sk, pk = self.keys[coin.out.payload]
            msg = sighash(unsigned, index, spent, genesis)
            witnesses.append((pk, _core.schnorr_sign(sk, msg)))
        return unsigned.with_witnesses(tuple(witnesses))
