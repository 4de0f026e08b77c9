"""L2 state in SQLite, and its deterministic state root.

All consensus state is one table ``l2_state(ns, key, value)``; ``value`` is deterministic
CBOR. Namespaces (docs/layer2.md lists the value layouts):

``acct`` account -> [balance, nonce] · ``stake`` account -> [amount, payout_kind,
payout_payload, key] · ``unbond`` release_height(8 BE)||account -> [amount] · ``bond``
account -> [amount] · ``vset`` b"" -> [[key, payout_kind, payout_payload, stake], ...] ·
``model`` model_id -> [status, activation_height, description] · ``mvote``
model_id||account -> [1] · ``escrow`` txid -> [user, executor, gas] · ``pegin`` L1
outpoint -> [amount] · ``pegout`` txid -> [amount, payout_kind, payout_payload] · ``pool``
L1 pay-to-quorum payload -> [m, [keys], height first recorded] (every verifier set the chain
has had: its peg pool) · ``clarity`` key -> raw value · ``meta`` name -> [...] (height, tip,
supply counters).

Rule ``state-root``: the Merkle root (``funai.hashing.merkle_root``) of
``SHA-256(encode([ns, key, value]))`` over every row in ``(ns, key)`` order; 32 zero bytes
for an empty state. Every L2 block header commits to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from funai.hashing import merkle_root, sha256
from funai.layer2.params import L2Params, pool_payload, pool_quorum
from funai.layer2.transactions import account_of
from funai.ledger.encoding import CborValue, decode, encode

__all__ = ["L2State", "Verifier"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS l2_state ("
    "ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key))",
    # the undo journal of the block being applied: the value each touched row had before it
    # (NULL: the row did not exist); rolled back with the savepoint that wrote it
    "CREATE TABLE IF NOT EXISTS l2_journal ("
    "ns TEXT NOT NULL, key BLOB NOT NULL, old BLOB, PRIMARY KEY (ns, key))",
    # rule ``clarity-history``: the value every ``clarity`` row had at the end of each
    # applied block that wrote it (NULL: deleted), for ``at-block``
    "CREATE TABLE IF NOT EXISTS l2_clarity_history ("
    "key BLOB NOT NULL, height INTEGER NOT NULL, value BLOB, PRIMARY KEY (key, height))",
    # the applied chain's blocks by height: hash, electing L1 height and header (what
    # ``get-block-info?`` and ``at-block`` read)
    "CREATE TABLE IF NOT EXISTS l2_headers ("
    "height INTEGER PRIMARY KEY, hash BLOB NOT NULL, burn_height INTEGER NOT NULL, "
    "header BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS l2_headers_by_hash ON l2_headers (hash)",
)
_UNIT_NS = {"clarity"}  # values stored raw, not CBOR


@dataclass(frozen=True, slots=True)
class Verifier:
    """A member of the verifier set."""

    key: bytes  # x-only Schnorr key: signs votes and peg-outs
    payout_kind: int  # 0: L1 pay-to-key, 1: pay-to-key-hash
    payout: bytes  # L1 payout payload (commitments pay it)
    stake: int

    @property
    def account(self) -> bytes:
        return account_of(self.key)


class L2State:
    """Typed access to the L2 state; callers wrap changes in :meth:`atomic`."""

    def __init__(self, conn: sqlite3.Connection, params: L2Params) -> None:
        self.conn = conn
        self.params = params
        for ddl in _SCHEMA:
            conn.execute(ddl)
        #: while True, every write records the row's previous value in ``l2_journal``
        #: (:meth:`journal`), so that a block can be undone (:meth:`undo`)
        self.journaling = False

    # --- raw access -------------------------------------------------------------------
    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A savepoint: everything inside commits together or not at all (nests)."""
        self.conn.execute("SAVEPOINT l2")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO l2")
            self.conn.execute("RELEASE l2")
            raise
        self.conn.execute("RELEASE l2")

    def get(self, ns: str, key: bytes) -> CborValue:
        row = self.conn.execute(
            "SELECT value FROM l2_state WHERE ns = ? AND key = ?", (ns, key)
        ).fetchone()
        if row is None:
            return None
        return bytes(row[0]) if ns in _UNIT_NS else decode(bytes(row[0]))

    def put(self, ns: str, key: bytes, value: CborValue) -> None:
        if self.journaling:
            self.conn.execute(
                "INSERT OR IGNORE INTO l2_journal (ns, key, old) VALUES (?, ?, "
                "(SELECT value FROM l2_state WHERE ns = ? AND key = ?))",
                (ns, key, ns, key),
            )
        if value is None:
            self.conn.execute("DELETE FROM l2_state WHERE ns = ? AND key = ?", (ns, key))
            return
        raw = value if ns in _UNIT_NS else encode(value)
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_state (ns, key, value) VALUES (?, ?, ?)", (ns, key, raw)
        )

    def scan(self, ns: str) -> list[tuple[bytes, CborValue]]:
        rows = self.conn.execute(
            "SELECT key, value FROM l2_state WHERE ns = ? ORDER BY key", (ns,)
        ).fetchall()
        return [(bytes(k), bytes(v) if ns in _UNIT_NS else decode(bytes(v))) for k, v in rows]

    # --- undo (rule ``l2-undo``) -------------------------------------------------------
    @contextmanager
    def journal(self, height: int | None = None) -> Iterator[list[bytes]]:
        """Records the previous value of every row written inside the block; on a normal
        exit the list it yields holds the undo data (:meth:`undo` restores them). With the
        block's ``height``, the new value of every ``clarity`` row it wrote joins the
        history ``at-block`` reads (rule ``clarity-history``)."""
        self.conn.execute("DELETE FROM l2_journal")
        self.journaling = True
        out: list[bytes] = []
        try:
            yield out
        finally:
            self.journaling = False
        rows = self.conn.execute("SELECT ns, key, old FROM l2_journal ORDER BY ns, key")
        out.append(encode([[ns, bytes(k), None if o is None else bytes(o)] for ns, k, o in rows]))
        if height is not None:
            self.conn.execute(
                "INSERT OR REPLACE INTO l2_clarity_history (key, height, value) "
                "SELECT j.key, ?, s.value FROM l2_journal j LEFT JOIN l2_state s "
                "ON s.ns = j.ns AND s.key = j.key WHERE j.ns = 'clarity'",
                (height,),
            )
        self.conn.execute("DELETE FROM l2_journal")

    def undo(self, data: bytes) -> None:
        """Puts back the rows a block's journal recorded (inside the caller's savepoint),
        and forgets the block's Clarity history and header."""
        rows = decode(data)
        if not isinstance(rows, list):
            raise ValueError("corrupt undo data")
        undone = self.height
        self.conn.execute("DELETE FROM l2_clarity_history WHERE height = ?", (undone,))
        self.conn.execute("DELETE FROM l2_headers WHERE height = ?", (undone,))
        for ns, key, old in rows:
            if old is None:
                self.conn.execute("DELETE FROM l2_state WHERE ns = ? AND key = ?", (ns, key))
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO l2_state (ns, key, value) VALUES (?, ?, ?)",
                    (ns, key, old),
                )

    # --- the applied chain, as contracts read it ---------------------------------------
    def record_header(
        self, height: int, block_hash: bytes, burn_height: int, header: bytes
    ) -> None:
        """Keeps an applied block's header (inside the savepoint that applies it)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO l2_headers (height, hash, burn_height, header) "
            "VALUES (?, ?, ?, ?)",
            (height, block_hash, burn_height, header),
        )

    def header_at(self, height: int) -> tuple[bytes, int, bytes] | None:
        """``(hash, electing L1 height, serialized header)`` of the applied block at
        ``height``, or None."""
        if not 0 <= height <= self.height:
            return None
        row = self.conn.execute(
            "SELECT hash, burn_height, header FROM l2_headers WHERE height = ?", (height,)
        ).fetchone()
        return None if row is None else (bytes(row[0]), int(row[1]), bytes(row[2]))

    def block_of(self, block_hash: bytes) -> tuple[int, int] | None:
        """``(height, electing L1 height)`` of the applied block ``block_hash``, or None
        (not on this chain)."""
        row = self.conn.execute(
            "SELECT height, burn_height FROM l2_headers WHERE hash = ? AND height <= ?",
            (block_hash, self.height),
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def clarity_at(self, key: bytes, height: int) -> bytes | None:
        """Rule ``clarity-history``: the ``clarity`` row ``key`` at the end of the applied
        block at ``height``."""
        row = self.conn.execute(
            "SELECT value FROM l2_clarity_history WHERE key = ? AND height <= ? "
            "ORDER BY height DESC LIMIT 1",
            (key, height),
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def state_root(self) -> bytes:
        """Rule ``state-root``."""
        leaves = [
            sha256(encode([ns, bytes(k), bytes(v)]))
            for ns, k, v in self.conn.execute(
                "SELECT ns, key, value FROM l2_state ORDER BY ns, key"
            )
        ]
        return merkle_root(leaves) if leaves else bytes(32)

    # --- meta -------------------------------------------------------------------------
    def meta(self, name: str, default: int = 0) -> int:
        v = self.get("meta", name.encode())
        return default if v is None else int(v[0])

    def set_meta(self, name: str, value: int) -> None:
        self.put("meta", name.encode(), [value])

    def add_meta(self, name: str, delta: int) -> None:
        self.set_meta(name, self.meta(name) + delta)

    @property
    def height(self) -> int:
        """Height of the last applied L2 block (-1 before genesis)."""
        return self.meta("height", -1)

    def tip(self) -> bytes:
        v = self.get("meta", b"tip")
        return bytes(32) if v is None else bytes(v[0])

    def set_tip(self, height: int, block_hash: bytes) -> None:
        self.set_meta("height", height)
        self.put("meta", b"tip", [block_hash])

    # --- accounts ---------------------------------------------------------------------
    def account(self, acct: bytes) -> tuple[int, int]:
        """``(balance, nonce)``."""
        v = self.get("acct", acct)
        return (0, 0) if v is None else (int(v[0]), int(v[1]))

    def balance(self, acct: bytes) -> int:
        return self.account(acct)[0]

    def set_account(self, acct: bytes, balance: int, nonce: int) -> None:
        if balance < 0:
            raise AssertionError("negative balance")  # callers check first
        self.put("acct", acct, None if balance == 0 and nonce == 0 else [balance, nonce])

    def credit(self, acct: bytes, amount: int) -> None:
        bal, nonce = self.account(acct)
        self.set_account(acct, bal + amount, nonce)

    def debit(self, acct: bytes, amount: int) -> None:
        bal, nonce = self.account(acct)
        self.set_account(acct, bal - amount, nonce)

    # --- stakes, unbonding, bonds -------------------------------------------------------
    def stake(self, acct: bytes) -> tuple[int, int, bytes, bytes] | None:
        v = self.get("stake", acct)
        return None if v is None else (int(v[0]), int(v[1]), bytes(v[2]), bytes(v[3]))

    def set_stake(self, acct: bytes, amount: int, kind: int, payout: bytes, key: bytes) -> None:
        self.put("stake", acct, None if amount == 0 else [amount, kind, payout, key])

    def add_unbonding(self, acct: bytes, release: int, amount: int) -> None:
        k = release.to_bytes(8, "big") + acct
        prev = self.get("unbond", k)
        self.put("unbond", k, [amount + (0 if prev is None else int(prev[0]))])

    def release_unbonded(self, height: int) -> int:
        """Rule ``unbonding-release``: credits every unbonding due at or before ``height``."""
        total = 0
        for k, v in self.scan("unbond"):
            if int.from_bytes(k[:8], "big") > height:
                break
            self.credit(k[8:], int(v[0]))
            self.put("unbond", k, None)
            total += int(v[0])
        return total

    def bond(self, acct: bytes) -> int:
        v = self.get("bond", acct)
        return 0 if v is None else int(v[0])

    def set_bond(self, acct: bytes, amount: int) -> None:
        self.put("bond", acct, None if amount == 0 else [amount])

    # --- verifier set -------------------------------------------------------------------
    def verifiers(self) -> list[Verifier]:
        v = self.get("vset", b"")
        if v is None:
            return [
                Verifier(k, 1 if len(p) == 20 else 0, p, 0)
                for k, p in self.params.genesis_verifiers
            ]
        return [Verifier(bytes(a), int(b), bytes(c), int(d)) for a, b, c, d in v]

    def quorum(self) -> int:
        """Rule ``quorum``: a majority of the current set (3 of 5)."""
        return len(self.verifiers()) // 2 + 1

    def recompute_verifier_set(self) -> list[Verifier]:
        """Rule ``verifier-set``: the ``verifier_count`` largest stakes of at least
        ``min_stake`` (ties: smaller account first); while fewer qualify, every qualifying
        staker (bootstrap, DESIGN 4.8); with none, the current set stays (the genesis set
        until someone stakes)."""
        ranked = sorted(
            (
                (-int(v[0]), acct, Verifier(bytes(v[3]), int(v[1]), bytes(v[2]), int(v[0])))
                for acct, v in self.scan("stake")
                if int(v[0]) >= self.params.min_stake
            ),
            key=lambda t: (t[0], t[1]),
        )
        chosen = [t[2] for t in ranked[: self.params.verifier_count]]
        if chosen:
            self.put("vset", b"", [[v.key, v.payout_kind, v.payout, v.stake] for v in chosen])
        return self.verifiers()

    # --- peg pools ----------------------------------------------------------------------
    def current_pool(self) -> bytes:
        """The L1 pay-to-quorum payload of the current verifier set's peg pool (empty
        without a verifier set)."""
        keys = [v.key for v in self.verifiers()]
        return pool_payload(keys) if keys else b""

    def record_pool(self, height: int) -> bytes:
        """Rule ``pool``: records the current set's peg pool (at genesis and at every epoch
        boundary) unless already known; returns its payload."""
        keys = sorted(v.key for v in self.verifiers())
        if not keys:
            return b""  # no verifier set (a network without genesis verifiers): no pool
        payload = pool_payload(keys)
        if self.get("pool", payload) is None:
            self.put("pool", payload, [pool_quorum(keys), list(keys), height])
        return payload

    def pool(self, payload: bytes) -> tuple[int, list[bytes], int] | None:
        """A known pool: ``(m, sorted keys, L2 height first recorded)``, or None."""
        v = self.get("pool", payload)
        if v is None:
            return None
        return int(v[0]), [bytes(k) for k in v[1]], int(v[2])

    # --- totals (supply invariant) ------------------------------------------------------
    def total_held(self) -> int:
        """Every unit held on L2: balances, stakes, unbonding, bonds and escrow."""
        total = sum(int(v[0]) for _, v in self.scan("acct"))
        total += sum(int(v[0]) for _, v in self.scan("stake"))
        total += sum(int(v[0]) for _, v in self.scan("unbond"))
        total += sum(int(v[0]) for _, v in self.scan("bond"))
        total += sum(int(v[2]) for _, v in self.scan("escrow"))
        return total

    def total_issued(self) -> int:
        """Minted subsidies + peg-ins - peg-outs: must equal :meth:`total_held`."""
        return self.meta("minted") + self.meta("pegged_in") - self.meta("pegged_out")


def payouts(verifiers: Sequence[Verifier]) -> list[tuple[int, bytes]]:
    """The L1 ``(output kind, payload)`` of each verifier's payout address."""
    return [(v.payout_kind, v.payout) for v in verifiers]
