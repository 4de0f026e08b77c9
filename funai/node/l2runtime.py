"""The inference layer inside a running node (``funai node``): roles from ``node.toml``.

:class:`L2Runtime` owns the node's :class:`~funai.layer2.node.L2Node` (``<netdir>/l2/``),
joins it to the P2P network and the L1 chain (:class:`~funai.layer2.p2p.L2Gossip`) and does
each role's duties:

* every node follows L1, applies L2 blocks, forms quorum certificates, tracks anchors and
  reclaims confirmed content, and puts the peg-out L1 transactions it assembled from the
  verifier quorum's signatures into its L1 mempool (:meth:`pegouts`);
* **verifier** (``roles.verifier``): judges every inference transaction of each block with
  the loaded models and votes (its key: ``l2.test_key`` on a test network, else
  ``<netdir>/l2.key``);
* **inference** (``roles.inference``): executes API requests for the models it serves (the
  OpenAI endpoints call :meth:`reserve` and :meth:`settle`), and as a block producer, after
  every L1 block, publishes from the node's L1 wallet one transaction with what is due:
  its registration (VRF key in ``<netdir>/vrf.key``), a peg-in that funds its executor bond,
  its commitment (``l2.bid`` split over the verifiers) and the anchors of finalized blocks
  not anchored yet; it posts the bond (``l2.bond``) once the peg-in is credited.

API requests are paid from an L2 account: the first key of the wallet behind the request's
API key (or, on an open devnet, the node's own wallet), whose HASH160 is both its L1 address
and its L2 account. The user pays ``price_per_token`` per prompt and completion token; a
request whose worst case (prompt + max_tokens) the account cannot cover is refused before it
runs (HTTP 402).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import trio

from funai import _core
from funai.errors import FunaiError
from funai.layer2.errors import L2Error
from funai.layer2.mempool import spend_of
from funai.layer2.node import L2Node, sign_request
from funai.layer2.p2p import L2Gossip
from funai.layer2.params import L2Params, test_verifier_key
from funai.layer2.pegs import pegin_output
from funai.layer2.routing import ModelOffer
from funai.layer2.transactions import (
    BondPayload,
    InferenceContent,
    InferencePayload,
    L2Tx,
    TransferPayload,
    TxKind,
    account_of,
    sign_payload,
)
from funai.layer2.votes import Verdict
from funai.ledger.datadir import wallet_path
from funai.ledger.tx import Transaction, TxOut
from funai.ledger.wallet import Wallet, WalletError
from funai.node.keyfile import load_secret

if TYPE_CHECKING:
    from funai.inference.model import LoadedModel
    from funai.node.node import Node

__all__ = ["L2Observer", "L2Runtime", "PaymentRequiredError", "Reservation", "ServedModel"]


class L2Observer(Protocol):
    """What the inference layer reports to the node's metrics (the API's ``NodeMetrics``)."""

    def observe_verdict(self, model: str, verdict: str) -> None: ...

    def observe_vote_latency(self, seconds: float) -> None: ...


class ServedModel(Protocol):
    """A model the node serves, as the API's model registry holds it."""

    name: str
    model_id: str
    status: str

    @property
    def model(self) -> LoadedModel: ...


log = logging.getLogger("funai.layer2")

#: L1 blocks to wait for a published registration, peg-in or anchor before publishing again.
RESEND_AFTER = 4


class PaymentRequiredError(FunaiError):
    """The paying L2 account cannot cover a request's worst-case gas."""

    def __init__(self, account: bytes, available: int, needed: int) -> None:
        super().__init__(
            f"L2 account {account.hex()} has {available} base units available; this request "
            f"may cost up to {needed} (peg in FAI with POST /v1/wallet/peg-in or "
            "`funai wallet peg-in`)"
        )
        self.account = account
        self.available = available
        self.needed = needed


@dataclass
class Reservation:
    """Gas set aside for one running request: ``request`` is signed here from ``payer_sk``
    before the answer is generated (:meth:`L2Runtime.sign_reserved`, so the answer's seed is
    fixed first, rule ``inference-seed``), or a request its user signed elsewhere (a
    forwarding node; ``payer_sk`` empty)."""

    payer_sk: bytes
    account: bytes
    max_gas: int
    request: L2Tx | None = None
    #: the nonce of a request signed here (-1: none), given back if it is never settled
    nonce: int = -1
    settled: bool = False


class L2Runtime:
    """The inference layer of one running node (see the module docstring)."""

    def __init__(self, node: Node, params: L2Params) -> None:
        cfg = node.config
        self.node = node
        self.params = params
        netdir = node.netdir
        if cfg.l2_test_key >= 0:
            sk = test_verifier_key(cfg.l2_test_key)
        else:
            sk = load_secret(netdir / "l2.key", lambda: _core.schnorr_keygen()[0])
        vrf_sk = (
            load_secret(netdir / "vrf.key", lambda: _core.vrf_keygen()[0])
            if cfg.inference
            else None
        )
        self.l2 = L2Node(
            netdir / "l2",
            params,
            sk,
            vrf_sk=vrf_sk,
            synchronous=cfg.synchronous,
            judge_inline=False,  # judged by judge_loop, outside the L2 lock
        )
        self.gossip = L2Gossip(node.net, node.service, self.l2)
        self.bond_target = cfg.l2_bond or params.min_bond
        self.price_per_token = cfg.price_per_token
        self.reserved: dict[bytes, int] = {}
        self._books = threading.Lock()  # guards ``reserved`` only (held for microseconds)
        self.next_nonce: dict[bytes, int] = {}
        #: nonces of requests signed here that were never settled (see ``release``)
        self._unused_nonces: list[tuple[bytes, int]] = []
        self.sent: dict[str, int] = {}  # what was published -> L1 height it was sent at
        self.last_duty = "starting"
        self.models_ready = trio.Event()
        self.offers: list[ModelOffer] = []  # what this executor advertises (attach_models)
        self.metrics: L2Observer | None = None  # set by the API (judge verdicts, vote latency)
        self.snapshot = (self.l2.state.height, 0)  # (L2 height, L2 mempool) for /metrics
        self._tip = trio.Event()
        node.service.tip_listeners.append(self._on_tip)

    # --- roles ----------------------------------------------------------------------------
    def attach_models(self, served: Iterable[ServedModel]) -> None:
        """The served models finished loading: executor models and the verifier's judge."""
        from funai.layer2.judging import engine_judge

        served = list(served)
        ready = {bytes.fromhex(m.model_id): m.model for m in served if m.status == "ready"}
        judges = {mid: engine_judge(model) for mid, model in ready.items()}

        names = {mid: m.name for m in served if m.model_id for mid in [bytes.fromhex(m.model_id)]}

        def judge(model_id: bytes, content: InferenceContent, seed: int) -> Verdict:
            run = judges.get(model_id)
            if run is None:
                log.warning("no model to judge with", extra={"fields": {"model": model_id.hex()}})
                verdict = Verdict(False)
            else:
                verdict = run(model_id, content, seed)
            if self.metrics is not None:
                label = names.get(model_id, model_id.hex()[:16])
                self.metrics.observe_verdict(label, "accept" if verdict.accept else "reject")
            return verdict

        def voted(seconds: float) -> None:
            if self.metrics is not None:
                self.metrics.observe_vote_latency(seconds)

        self.offers = [ModelOffer(mid, names[mid], self.price_per_token) for mid in sorted(ready)]
        # plain attribute writes, read by the node under its lock: no need to wait for it here
        if self.node.config.inference:
            self.l2.models = set(ready)
        if self.node.config.verifier:
            self.l2.judge = judge
            self.l2.on_vote = voted
            self.l2.verifier = True
        self.models_ready.set()
        self.gossip.judging.set()  # blocks applied before the models loaded
        log.info(
            "inference layer roles ready",
            extra={"fields": {"models": [m.hex() for m in ready], "verifier": self.l2.verifier}},
        )

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Runs ``fn(*args)`` on the L2 node (in a worker thread, under its lock: the Trio
        thread never waits on the lock itself)."""
        result = await self.gossip.run(fn, *args)
        self.gossip.flush()
        return result

    async def judge_loop(self) -> None:
        """The verifier's judging, outside the L2 lock: takes the blocks whose contents are
        all here, runs the judge in a worker thread while the node goes on, then signs and
        gossips the vote (``funai.layer2.verifier``)."""
        verifying = self.l2.verifying
        while True:
            await self.gossip.judging.wait()
            self.gossip.judging = trio.Event()
            judge = self.l2.judge
            if judge is None:
                continue
            jobs = await self.call(verifying.ready)
            for job in jobs:
                t = time.perf_counter()
                verdicts = await trio.to_thread.run_sync(verifying.judge, job, judge)
                self.l2.timings["judging"] += time.perf_counter() - t
                await self.call(self._cast, job, verdicts)

    def _cast(self, job: Any, verdicts: list[Verdict]) -> None:
        self.l2.verifying.cast(job, verdicts)

    async def run(self) -> None:
        """Catches up with L1, then does the producer's duties after every L1 block."""
        await self.gossip.start()
        self._tip.set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.judge_loop)
            await self._duty_loop()

    async def _duty_loop(self) -> None:
        while True:
            await self._tip.wait()
            self._tip = trio.Event()
            await self.pegouts()
            if self.l2.vrf_sk is None:
                continue
            try:
                await self.duties()
            except (FunaiError, WalletError) as exc:
                self.last_duty = f"error: {exc}"
                log.warning("producer duty failed", extra={"fields": {"error": str(exc)}})

    async def _on_tip(self, connected: list[tuple[bytes, int]]) -> None:
        self._tip.set()

    def _take_l1_outbox(self) -> list[Transaction]:
        out, self.l2.l1_outbox = self.l2.l1_outbox, []
        return out

    async def pegouts(self) -> None:
        """Every node: puts the peg-out L1 transactions it assembled from the verifier
        quorum's signatures (``L2Node.l1_outbox``) into its L1 mempool, which relays them."""
        txs = await self.gossip.run(self._take_l1_outbox)
        for tx in txs:
            try:
                await self.node.service.accept_tx(tx)
            except FunaiError as exc:  # already in the pool, or already mined
                log.info(
                    "peg-out transaction not admitted",
                    extra={"fields": {"txid": tx.txid()[::-1].hex(), "error": str(exc)}},
                )
                continue
            log.info("peg-out transaction sent", extra={"fields": {"txid": tx.txid()[::-1].hex()}})

    def public_url(self) -> str | None:
        """The API base URL this executor advertises (``api.public_url``, else the bound
        address unless it is a wildcard one that peers cannot dial)."""
        url = self.node.config.api_public_url or self.node.api_url
        if not url or "://0.0.0.0" in url or "://[::]" in url:
            return None
        return url.rstrip("/")

    async def advertise(self) -> None:
        """An executor re-advertises its models to the network every ``l2.advert_interval``
        seconds (``routing.py``), so nodes that do not serve a model can route to it."""
        await self.models_ready.wait()
        url = self.public_url()
        if not self.node.config.inference or not self.offers:
            return
        if url is None:
            log.warning("no api.public_url: this executor's models are not advertised")
            return
        while True:
            try:
                await self.gossip.run(self.l2.advertise, url, self.offers, int(time.time()))
            except FunaiError as exc:
                log.warning("advert failed", extra={"fields": {"error": str(exc)}})
            self.gossip.flush()
            await trio.sleep(self.node.config.l2_advert_interval)

    # --- producer -------------------------------------------------------------------------
    def _wallet(self) -> Wallet | None:
        path = wallet_path(self.node.datadir, self.node.params)
        try:
            return Wallet.load(path, self.node.params)
        except WalletError:
            return None

    def _due(self, what: str, height: int) -> bool:
        at = self.sent.get(what)
        return at is None or height - at >= RESEND_AFTER

    def _build_duties(self) -> Transaction | None:
        """One L1 transaction with everything due (runs on the chain thread)."""
        chain, mempool = self.node.service.chain, self.node.service.mempool
        wallet = self._wallet()
        if wallet is None:
            self.last_duty = "idle: the node has no L1 wallet"
            return None
        height = chain.height
        outs: list[TxOut] = []
        what: list[str] = []
        with self.gossip.lock:
            l2 = self.l2
            if l2.reg_ref is None and self._due("registration", height):
                outs.append(l2.registration_output())
                what.append("registration")
            balance = l2.state.balance(l2.account)
            bond = l2.state.bond(l2.account)
            pending_bond = any(
                t.kind is TxKind.BOND and t.sender == l2.account for t in l2.mempool.values()
            )
            if bond < self.bond_target and not pending_bond:
                if balance >= self.bond_target - bond:
                    posted = BondPayload(self.bond_target - bond)
                    btx = sign_payload(
                        l2.sk, posted, l2.state.account(l2.account)[1], self.params.network_id
                    )
                    l2.submit(btx)
                    log.info("posted executor bond", extra={"fields": {"amount": posted.amount}})
                elif self._due("peg-in", height):
                    pool_kind, pool = l2.pool_output()  # the current set's peg pool
                    outs += [
                        TxOut(pool_kind, self.bond_target - bond - balance, pool),
                        pegin_output(l2.account),
                    ]
                    what.append("peg-in")
            if l2.reg_ref is not None and self.node.config.l2_bid > 0:
                outs += l2.commitment_outputs(self.node.config.l2_bid)
                what.append("commitment")
            for anchor in l2.anchor_outputs():
                key = "anchor:" + anchor.payload.hex()
                if self._due(key, height):
                    outs.append(anchor)
                    what.append(key)
        if not outs:
            self.last_duty = "idle: nothing due"
            return None
        try:
            tx = wallet.create_payment(chain, mempool, outs, self.node.config.l2_fee_rate)
        except WalletError as exc:
            self.last_duty = f"waiting for L1 funds: {exc}"
            return None
        for w in what:
            self.sent[w] = height
        self.last_duty = "published " + ", ".join(w.split(":")[0] for w in what)
        return tx

    async def duties(self) -> None:
        service = self.node.service
        # The wallet API spends from the same wallet: choosing coins and admitting the spend
        # under one lock keeps the two from choosing the same coin (the second would be
        # refused as a mempool conflict).
        async with service.wallet_lock:
            tx = await service.run(self._build_duties)
            self.gossip.flush()
            if tx is not None:
                await service.accept_tx(tx)
        if tx is not None:
            log.info(
                "published", extra={"fields": {"txid": tx.txid().hex(), "what": self.last_duty}}
            )

    # --- executor (the API) -----------------------------------------------------------------
    def payer_key(self, wallet: Wallet | None) -> bytes:
        """The secret key that pays a request: the wallet's first key, or the node's own."""
        if wallet is None:
            wallet = self._wallet()
        if wallet is None:
            raise PaymentRequiredError(bytes(20), 0, 1)
        return wallet.secret_key(0)

    def available(self, account: bytes) -> int:
        """Balance minus what this account's mempool transactions and running requests may
        take (call with the L2 lock held, from a worker thread)."""
        balance = self.l2.state.balance(account)
        pending = sum(spend_of(t) for t in self.l2.mempool.of_sender(account))
        with self._books:
            return balance - pending - self.reserved.get(account, 0)

    async def reserve(self, payer_sk: bytes, max_tokens: int) -> Reservation:
        """Sets aside the worst-case gas of a request (raises PaymentRequiredError)."""
        return await self.reserve_gas(payer_sk, self.price_per_token * max_tokens)

    async def reserve_gas(self, payer_sk: bytes, max_gas: int) -> Reservation:
        """Sets aside ``max_gas`` of the payer's balance (raises PaymentRequiredError)."""
        account = account_of(_core.schnorr_public_key(payer_sk))
        result: Reservation = await self.gossip.run(self._reserve, account, max_gas, payer_sk)
        return result

    def _reserve(
        self, account: bytes, max_gas: int, payer_sk: bytes = b"", request: L2Tx | None = None
    ) -> Reservation:
        """(Under the L2 lock.)"""
        available = self.available(account)
        if available < max_gas or (max_gas == 0 and available < 0):
            raise PaymentRequiredError(account, max(0, available), max_gas)
        with self._books:
            self.reserved[account] = self.reserved.get(account, 0) + max_gas
        return Reservation(payer_sk, account, max_gas, request)

    def reserve_signed(
        self, request: L2Tx, model_id: bytes, content: InferenceContent, max_tokens: int
    ) -> Reservation:
        """A request its user signed on another node (which forwarded it here): checked as
        any executor checks a request before running it (``check_request``); its gas limit
        must cover ``max_tokens`` at this node's price. Raises L2Error (the request is
        invalid) or PaymentRequiredError (the limit or the user's balance is too small).
        Runs in a worker thread."""
        body = request.body
        if not isinstance(body, InferencePayload) or body.model_id != model_id:
            raise L2Error("inference-bad-request", "not a request for this model")
        limit, need = body.gas_limit, self.price_per_token * max_tokens
        if limit < need:
            raise PaymentRequiredError(request.sender, limit, need)
        self.gossip.call(self.l2.check_request, request, content.request_only())
        return self.gossip.call(self._reserve, request.sender, limit, b"", request)

    def release(self, r: Reservation) -> None:
        """Gives a reservation back (never waits on the L2 lock). The nonce of a request
        signed here that was never settled is returned at the next nonce taken."""
        with self._books:
            if r.payer_sk and r.nonce >= 0 and not r.settled:
                self._unused_nonces.append((r.payer_sk, r.nonce))
                r.nonce = -1
            left = self.reserved.get(r.account, 0) - r.max_gas
            if left > 0:
                self.reserved[r.account] = left
            else:
                self.reserved.pop(r.account, None)

    def _nonce(self, account: bytes) -> int:
        """(Under the L2 lock.)"""
        with self._books:
            unused, self._unused_nonces = self._unused_nonces, []
        for payer_sk, nonce in reversed(unused):  # the latest first: each may simply rewind
            self._return_nonce(payer_sk, nonce, False)
        state_nonce = self.l2.state.account(account)[1]
        pool = [t.nonce + 1 for t in self.l2.mempool.of_sender(account)]
        return max([state_nonce, self.next_nonce.get(account, 0), *pool])

    def _take_nonce(self, account: bytes) -> int:
        nonce = self._nonce(account)
        self.next_nonce[account] = nonce + 1
        return nonce

    async def take_nonce(self, account: bytes) -> int:
        """The next nonce of ``account`` for a request signed here, reserved for it."""
        nonce: int = await self.gossip.run(self._take_nonce, account)
        return nonce

    def _return_nonce(self, payer_sk: bytes, nonce: int, maybe_used: bool) -> None:
        account = account_of(_core.schnorr_public_key(payer_sk))
        if not maybe_used and self.next_nonce.get(account) == nonce + 1:
            self.next_nonce[account] = nonce
            return
        filler = sign_payload(payer_sk, TransferPayload(account, 1), nonce, self.params.network_id)
        try:
            self.l2.submit(filler)
        except FunaiError as exc:
            log.warning("could not fill nonce %d of %s: %s", nonce, account.hex(), exc)

    async def return_nonce(self, payer_sk: bytes, nonce: int, *, maybe_used: bool) -> None:
        """A request signed with ``nonce`` produced no transaction here. If no later nonce
        was taken and no executor can hold the request, the nonce is simply free again;
        otherwise the hole is filled (a transfer of one base unit to the account itself),
        so the account's later transactions stay valid; if the executor did record the
        request after all, exactly one of the two gets into a block."""
        await self.call(self._return_nonce, payer_sk, nonce, maybe_used)

    def _sign_reserved(self, r: Reservation, model_id: bytes, content: InferenceContent) -> int:
        """(Under the L2 lock.)"""
        nonce = self._take_nonce(r.account)
        request = sign_request(
            r.payer_sk,
            nonce,
            model_id,
            r.max_gas,
            content.input,
            self.params.network_id,
            context=content.context,
            system_prompt=content.system_prompt,
            params=content.params,
        )
        try:
            self.l2.check_request(request, content.request_only())
        except BaseException:
            self._return_nonce(r.payer_sk, nonce, False)
            raise
        r.request, r.nonce = request, nonce
        return self.l2.seed_of(request, content)

    async def sign_reserved(
        self, r: Reservation, model_id: bytes, content: InferenceContent
    ) -> int:
        """Signs the user's request for a reservation paid here (gas limit: the reservation),
        before anything is generated, and returns the seed its answer must be drawn with
        (rule ``inference-seed``). A request signed by its user elsewhere was checked when
        it was reserved (:meth:`reserve_signed`): its seed follows from it."""
        if r.request is not None and not r.payer_sk:
            return self.l2.seed_of(r.request, content)
        seed: int = await self.call(self._sign_reserved, r, model_id, content)
        return seed

    def _settle(self, r: Reservation, content: InferenceContent, gas: int) -> L2Tx:
        """(Under the L2 lock.)"""
        if r.request is None:
            raise L2Error("inference-bad-request", "the request was not signed before running")
        self.l2.check_request(r.request, content.request_only())
        tx = self.l2.complete(r.request, content, gas)
        r.settled = True
        return tx

    async def settle(self, r: Reservation, content: InferenceContent, tokens: int) -> L2Tx:
        """The inference transaction of a finished request: the request signed before it
        ran (:meth:`sign_reserved`), completed with the executor's receipt charging the
        actual gas (``tokens * price_per_token``, at most the limit), queued for gossip.
        Releases the reservation."""
        gas = min(r.max_gas, self.price_per_token * tokens)
        try:
            tx: L2Tx = await self.call(self._settle, r, content, gas)
        finally:
            self.release(r)
        return tx

    def serves(self, model_id: bytes) -> bool:
        return model_id in self.l2.models

    # --- queries ----------------------------------------------------------------------------
    def query(self, fn: Callable[[L2Node], Any]) -> Any:
        """Runs a read-only query on the L2 node under its lock (from a worker thread)."""
        with self.gossip.lock:
            return fn(self.l2)

    async def aquery(self, fn: Callable[[L2Node], Any]) -> Any:
        """:meth:`query` from the Trio thread: in a worker thread, behind the L2 limiter."""
        return await self.gossip.run(fn, self.l2)

    def heights(self) -> tuple[int, int]:
        """(L2 height, L2 mempool size) without waiting: the last values seen when the L2
        node is busy (for /metrics, which runs on the event loop)."""
        if self.gossip.lock.acquire(blocking=False):
            try:
                self.snapshot = (self.l2.state.height, len(self.l2.mempool))
            finally:
                self.gossip.lock.release()
        return self.snapshot

    def status(self) -> dict[str, Any]:
        def read(l2: L2Node) -> dict[str, Any]:
            balance, nonce = l2.state.account(l2.account)
            return {
                "height": l2.state.height,
                "tip": l2.state.tip().hex(),
                "state_root": l2.state.state_root().hex(),
                "l1_height": l2.l1_height,
                "l1_tip": l2.l1_tip.hex(),
                "account": l2.account.hex(),
                "key": l2.key.hex(),
                "balance": balance,
                "nonce": nonce,
                "bond": l2.state.bond(l2.account),
                "registered": None if l2.reg_ref is None else l2.reg_ref.l1_height,
                "verifier": l2.verifier,
                "in_verifier_set": any(v.key == l2.key for v in l2.state.verifiers()),
                "models": sorted(m.hex() for m in l2.models),
                "mempool": len(l2.mempool),
                "blocks": len(l2.blocks),
                "finalized": len(l2.qcs),
                "final_height": (
                    None if l2.chain.final is None else l2.chain.entries[l2.chain.final].height
                ),
                "waiting_blocks": len(l2.early_blocks) + len(l2.orphans),
                "anchored": len(l2.anchored),
                "reclaimed": len(l2.reclaimed),
                "evidence": len(l2.evidence),
                "price_per_token": self.price_per_token,
                "timings": {k: round(v, 6) for k, v in l2.timings.items()},
                "producer": None if l2.vrf_sk is None else self.last_duty,
                "pool": l2.pool_status(),
            }

        result: dict[str, Any] = self.query(read)
        return result
