"""The API's one way to the inference layer: :class:`L2Facade`, typed async methods over a
node's :class:`~funai.node.l2runtime.L2Runtime`.

The API never touches the :class:`~funai.layer2.node.L2Node` itself: every read or write
of it runs here, in a worker thread under the node's lock, the way the runtime runs it
(:meth:`L2Runtime.call` / :meth:`L2Runtime.aquery`: behind the one-slot limiter of
:meth:`L2Gossip.run`, the Trio thread never waits on the lock; the few reads that went
straight to :meth:`L2Runtime.query` in a worker thread still do). The explorer reads
(``/v1/l2/...``) return their JSON shapes, built under the lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import trio

from funai.errors import FunaiError
from funai.layer2.transactions import (
    InferenceContent,
    InferencePayload,
    L2Tx,
    TxKind,
    UnbondPayload,
    sign_payload,
)
from funai.ledger.encoding import CborValue
from funai.ledger.errors import ConsensusError
from funai.ledger.header import display_hash
from funai.node.l2runtime import PaymentRequiredError, Reservation

if TYPE_CHECKING:
    from funai.layer2.block import L2Block
    from funai.layer2.node import L2Node
    from funai.layer2.routing import Route
    from funai.ledger.wallet import Wallet
    from funai.node.l2runtime import L2Observer, L2Runtime, ServedModel
    from funai.node.node import Node

__all__ = [
    "L2Facade",
    "L2RefusedError",
    "PaymentRequiredError",
    "Reservation",
    "block_json",
    "jsonable",
    "l2_facade",
    "tx_json",
]


class L2RefusedError(Exception):
    """The inference layer refuses an operation: ``status``, ``code`` and ``message`` for the
    API's answer, ``extra`` fields (the consensus ``rule``)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def l2_facade(node: Node | None) -> L2Facade | None:
    """The facade of ``node``'s inference layer; None when it runs none."""
    runtime = None if node is None else getattr(node, "l2", None)
    return None if runtime is None else L2Facade(runtime)


# --- JSON views (under the L2 lock) --------------------------------------------------------


def jsonable(v: CborValue | None) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return v


def tx_json(tx: L2Tx) -> dict[str, Any]:
    out: dict[str, Any] = {
        "txid": tx.txid().hex(),
        "kind": tx.kind.name.lower(),
        "sender": tx.sender.hex(),
        "nonce": tx.nonce,
        "fee": tx.fee,
    }
    if isinstance(body := tx.body, InferencePayload):
        out.update(
            {
                "model_id": body.model_id.hex(),
                "request_hash": body.request_hash.hex(),
                "gas": body.gas_used,
                "gas_limit": body.gas_limit,
                "executor_key": body.executor_key.hex(),
                "content_hash": body.content_hash.hex(),
                "user_txid": tx.user_txid().hex(),
            }
        )
    else:
        out["payload"] = jsonable(list(tx.payload))
    return out


def block_json(l2: L2Node, block: L2Block, full: bool) -> dict[str, Any]:
    h = block.header
    bh = block.hash()
    qc = l2.qcs.get(bh)
    out: dict[str, Any] = {
        "hash": bh.hex(),
        "height": h.height,
        "parent": h.parent.hex(),
        "l1_block": display_hash(h.l1_block),
        "producer_key": h.producer_key.hex(),
        "state_root": h.state_root.hex(),
        "tx_root": h.tx_root.hex(),
        "time": h.time,
        "txs": len(block.txs),
        "votes": len(l2.votes.get(bh, [])),
        "canonical": l2.chain.on_canonical(bh),
        "finalized": qc is not None,
        "anchor_l1_height": l2.anchors.anchor_height(bh),
        "confirmed": l2.confirmed(bh),
        # rule equivocation: its producer signed another block for the same election
        "forfeited": l2.state.get("forfeit", h.l1_block) is not None,
    }
    if full:
        out["transactions"] = [tx_json(t) for t in block.txs]
        out["decision"] = None if qc is None else list(qc.decision)
    return out


class L2Facade:
    """Typed async access to one node's inference layer (see the module docstring)."""

    def __init__(self, runtime: L2Runtime) -> None:
        self._rt = runtime

    # --- plain values (no lock) -------------------------------------------------------------
    @property
    def price_per_token(self) -> int:
        return self._rt.price_per_token

    @property
    def network_id(self) -> bytes:
        return self._rt.params.network_id

    @property
    def executor_key(self) -> bytes:
        """This node's L2 key (the executor key of its receipts)."""
        return self._rt.l2.key

    @property
    def pegout_fee(self) -> int:
        return self._rt.params.pegout_fee

    @property
    def bond_target(self) -> int:
        return self._rt.bond_target

    def serves(self, model_id: bytes) -> bool:
        """This node executes ``model_id``."""
        return self._rt.serves(model_id)

    def heights(self) -> tuple[int, int]:
        """(L2 height, L2 mempool size) without waiting (for /metrics)."""
        return self._rt.heights()

    def attach_metrics(self, metrics: L2Observer) -> None:
        """Where the verifier's judge verdicts and vote latency are counted."""
        self._rt.metrics = metrics

    def attach_models(self, served: Iterable[ServedModel]) -> None:
        """The served models finished loading (executor models, the verifier's judge)."""
        self._rt.attach_models(served)

    # --- paying for requests ----------------------------------------------------------------
    def payer_key(self, wallet: Wallet | None) -> bytes:
        """The secret key that pays a request (raises PaymentRequiredError)."""
        return self._rt.payer_key(wallet)

    def release(self, r: Reservation) -> None:
        """Gives a reservation back (never waits on the L2 lock)."""
        self._rt.release(r)

    async def reserve(self, payer_sk: bytes, max_tokens: int) -> Reservation:
        """Sets aside the worst-case gas of ``max_tokens`` (raises PaymentRequiredError)."""
        return await self._rt.reserve(payer_sk, max_tokens)

    async def reserve_gas(self, payer_sk: bytes, max_gas: int) -> Reservation:
        """Sets aside ``max_gas`` of the payer's balance (raises PaymentRequiredError)."""
        return await self._rt.reserve_gas(payer_sk, max_gas)

    async def reserve_signed(
        self, request: L2Tx, model_id: bytes, content: InferenceContent, max_tokens: int
    ) -> Reservation:
        """A request its user signed on another node, checked and reserved (raises L2Error
        or PaymentRequiredError)."""
        r: Reservation = await trio.to_thread.run_sync(
            self._rt.reserve_signed, request, model_id, content, max_tokens
        )
        return r

    async def take_nonce(self, account: bytes) -> int:
        return await self._rt.take_nonce(account)

    async def return_nonce(self, payer_sk: bytes, nonce: int, *, maybe_used: bool) -> None:
        await self._rt.return_nonce(payer_sk, nonce, maybe_used=maybe_used)

    async def sign_reserved(
        self, r: Reservation, model_id: bytes, content: InferenceContent
    ) -> int:
        """Signs the request of a reservation before it runs; its answer's seed."""
        return await self._rt.sign_reserved(r, model_id, content)

    async def settle(self, r: Reservation, content: InferenceContent, tokens: int) -> L2Tx:
        """The inference transaction of a finished request (releases the reservation)."""
        return await self._rt.settle(r, content, tokens)

    async def available(self, account: bytes) -> int:
        """What ``account`` can spend now (balance less pending and reserved)."""
        n: int = await self._rt.call(self._rt.available, account)
        return n

    # --- models and routes ------------------------------------------------------------------
    async def model_active(self, model_id: bytes) -> bool:
        """``model_id`` is active at the next L2 height (rule ``model-active``)."""
        from funai.layer2.models import is_active

        active: bool = await self._rt.aquery(
            lambda n: is_active(n.state, model_id, n.state.height + 1)
        )
        return active

    async def routes(self, model: str | bytes) -> list[Route]:
        """Executors other than this node that serve ``model`` now, cheapest first."""
        found: list[Route] = await trio.to_thread.run_sync(
            self._rt.query, lambda n: n.route(model, int(time.time()))
        )
        return found

    async def network_routes(self) -> dict[bytes, list[Route]]:
        """Every model advertised on the network and the routes to it."""
        now = int(time.time())

        def read(n: L2Node) -> dict[bytes, list[Route]]:
            return {mid: n.route(mid, now) for mid in n.routes.models(now)}

        by_model: dict[bytes, list[Route]] = await self._rt.aquery(read)
        return by_model

    # --- transactions -------------------------------------------------------------------------
    async def submit(self, tx: L2Tx) -> None:
        """Submits a signed L2 transaction and gossips it (raises FunaiError if refused)."""
        await self._rt.call(self._rt.l2.submit, tx)

    async def pool_output(self) -> tuple[int, bytes]:
        """The L1 output ``(kind, payload)`` a peg-in pays now."""
        out: tuple[int, bytes] = await trio.to_thread.run_sync(
            self._rt.query, lambda n: n.pool_output()
        )
        return out

    async def unbond(self, amount: int, keep: int | None) -> tuple[str, int, int]:
        """Signs an UNBOND of ``amount`` of this node's executor bond with its own L2 key and
        submits it: ``(txid, bond left, release height)``. Refused (L2RefusedError) beyond the bond
        less pending unbonds, or below ``keep`` when not None."""
        rt = self._rt

        def work(l2node: L2Node) -> tuple[str, int, int]:
            account = l2node.account
            mine = [t for t in l2node.mempool.values() if t.sender == account]
            pending = sum(b.amount for t in mine if isinstance(b := t.body, UnbondPayload))
            left = l2node.state.bond(account) - pending
            if amount > left:
                raise L2RefusedError(
                    400,
                    "exceeds_bond",
                    f"the executor bond of L2 account {account.hex()} is {max(0, left)} base "
                    "units (less its pending unbonds)",
                )
            if keep is not None and left - amount < keep:
                raise L2RefusedError(
                    409,
                    "bond_target",
                    f"this node is an executor (roles.inference) and keeps its bond at "
                    f"l2.bond = {keep} base units: it would post the bond again at once, "
                    "pegging in L1 coins if its L2 balance is short. Lower l2.bond or set "
                    'roles.inference = false and restart the node first, or send "force": true',
                )
            nonce = max([l2node.state.account(account)[1], *(t.nonce + 1 for t in mine)])
            tx = sign_payload(l2node.sk, UnbondPayload(amount), nonce, l2node.params.network_id)
            try:
                l2node.submit(tx)
            except FunaiError as exc:
                rule = {"rule": exc.rule} if isinstance(exc, ConsensusError) else {}
                raise L2RefusedError(422, "rejected", f"unbond refused: {exc}", **rule) from None
            release = l2node.state.height + 1 + l2node.params.unbonding_delay
            return tx.txid().hex(), left - amount, release

        # the L2 node's lock is taken in a worker thread, never on the Trio thread
        result: tuple[str, int, int] = await trio.to_thread.run_sync(rt.gossip.call, work, rt.l2)
        rt.gossip.flush()
        return result

    # --- explorer reads (``/v1/l2/...``) ------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        """The node's view of the inference layer (``/v1/l2/status``)."""
        st: dict[str, Any] = await trio.to_thread.run_sync(self._rt.status)
        return st

    async def verifiers(self) -> dict[str, Any]:
        def q(l2: L2Node) -> dict[str, Any]:
            return {
                "epoch_length": l2.params.epoch_length,
                "quorum": l2.params.quorum,
                "verifiers": [
                    {
                        "key": v.key.hex(),
                        "account": v.account.hex(),
                        "stake": v.stake,
                        "payout_kind": v.payout_kind,
                        "payout": v.payout.hex(),
                    }
                    for v in l2.state.verifiers()
                ],
            }

        out: dict[str, Any] = await self._rt.aquery(q)
        return out

    async def elections(self, limit: int) -> list[dict[str, Any]]:
        def q(l2: L2Node) -> list[dict[str, Any]]:
            rounds = sorted(l2.sortition.rounds.values(), key=lambda r: -r.height)
            out = []
            seen: set[int] = set()
            for r in rounds:
                if r.height in seen:
                    continue  # an orphaned L1 block's round
                seen.add(r.height)
                block = l2.by_election.get(r.l1_hash)
                w = r.winner
                out.append(
                    {
                        "l1_height": r.height,
                        "l1_hash": display_hash(r.l1_hash),
                        "commitments": len(r.bids),
                        "total_bid": r.total_bids,
                        "winner": None
                        if w is None
                        else {
                            "registration": [w.reg.l1_height, w.reg.tx_index, w.reg.output_index],
                            "account": w.registration.l2_account.hex(),
                            "bid": w.bid,
                            "weight": w.weight,
                        },
                        "l2_block": None if block is None else block.hash().hex(),
                        "l2_height": None if block is None else block.header.height,
                    }
                )
                if len(out) >= limit:
                    break
            return out

        got: list[dict[str, Any]] = await self._rt.aquery(q)
        return got

    async def blocks(self, limit: int) -> list[dict[str, Any]]:
        """The canonical chain's latest ``limit`` blocks, newest first."""

        def q(l2: L2Node) -> list[dict[str, Any]]:
            chain = list(reversed(l2.chain.canonical))[:limit]
            return [block_json(l2, l2.chain.entries[h].block, False) for h in chain]

        got: list[dict[str, Any]] = await self._rt.aquery(q)
        return got

    async def block(self, height: int | None = None, hash_: bytes = b"") -> dict[str, Any] | None:
        """The canonical block at ``height``, or else any stored block ``hash_`` (its
        ``canonical`` says whether it is on the chain); None if there is none."""

        def q(l2: L2Node) -> dict[str, Any] | None:
            if height is not None:
                canonical = l2.chain.canonical
                b = l2.chain.entries[canonical[height]].block if height < len(canonical) else None
            else:
                b = l2.blocks.get(hash_)
            return None if b is None else block_json(l2, b, True)

        got: dict[str, Any] | None = await self._rt.aquery(q)
        return got

    async def tx(self, txid: bytes) -> dict[str, Any] | None:
        """A transaction and its status; None if unknown."""

        def q(l2: L2Node) -> dict[str, Any] | None:
            st = l2.tx_status(txid)
            if st is None:
                return None
            tx = l2.mempool.get(txid)
            if tx is None:
                bh = l2.tx_block[txid]
                tx = next(t for t in l2.blocks[bh].txs if t.txid() == txid)
            return {**tx_json(tx), **{k: jsonable(v) for k, v in st.items()}}

        got: dict[str, Any] | None = await self._rt.aquery(q)
        return got

    async def inference(self, limit: int) -> list[dict[str, Any]]:
        """The latest inference transactions (mempool first) and their status."""

        def q(l2: L2Node) -> list[dict[str, Any]]:
            txs: list[L2Tx] = [t for t in l2.mempool.values() if t.kind is TxKind.INFERENCE]
            for b in sorted(l2.blocks.values(), key=lambda b: -b.header.height):
                if len(txs) >= limit:
                    break
                txs += [t for t in b.txs if t.kind is TxKind.INFERENCE]
            out = []
            for t in txs[:limit]:
                st = l2.tx_status(t.txid()) or {}
                out.append({**tx_json(t), **{k: jsonable(v) for k, v in st.items()}})
            return out

        got: list[dict[str, Any]] = await self._rt.aquery(q)
        return got

    async def pegout(self, txid: bytes) -> dict[str, Any] | None:
        def q(l2: L2Node) -> dict[str, Any] | None:
            st = l2.pegout_status(txid)
            if st is None:
                return None
            out = {k: jsonable(v) for k, v in st.items()}
            if isinstance(st.get("l1_txid"), bytes):
                out["l1_txid"] = display_hash(bytes(st["l1_txid"]))  # as the L1 API shows ids
            return out

        got: dict[str, Any] | None = await self._rt.aquery(q)
        return got

    async def mempool(self) -> list[dict[str, Any]]:
        def q(l2: L2Node) -> list[dict[str, Any]]:
            return [tx_json(t) for t in l2.mempool.values()]

        got: list[dict[str, Any]] = await self._rt.aquery(q)
        return got

    async def account(self, acct: bytes) -> dict[str, Any]:
        def q(l2: L2Node) -> dict[str, Any]:
            balance, nonce = l2.state.account(acct)
            stake = l2.state.stake(acct)
            return {
                "account": acct.hex(),
                "balance": balance,
                "nonce": nonce,
                "bond": l2.state.bond(acct),
                "stake": None if stake is None else jsonable(list(stake)),
            }

        got: dict[str, Any] = await self._rt.aquery(q)
        return got
