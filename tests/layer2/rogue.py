"""Dishonest devnet nodes: ``funai node`` processes with one behaviour patched.

A test gives a :class:`~funai.devnet.launcher.NodeSpec` the ``code`` of :func:`launch_code`; the
child process imports this module, applies the patches of its roles, then runs the ``funai``
command line as usual (``sys.argv[1:]``). Roles:

* ``accept-all``: a verifier whose judge accepts every answer (without running the model);
* ``reject-all``: a verifier whose judge rejects every answer;
* ``garbage``: an executor whose answers are :data:`GARBAGE` whatever the request (the
  request is still generated, for its token counts; only the text is swapped), and which does
  not top up its executor bond once posted (so a penalty stays visible in its bond);
* ``bad-receipt``: an executor that records every request as usual (a valid transaction is
  gossiped) but answers the client with a receipt whose signature does not verify;
* ``equivocate``: a producer that, the first time it is elected, signs and gossips a second
  block for the same election (the same block with ``time + 1``, sent right after the
  first), then stops bidding.
* ``silent``: a producer that bids (its commitments go out after every L1 block as usual)
  but never builds a block when elected.
* ``substitute``: an executor that serves a cheaper substitute under the genuine model's
  name and id: the model directory in ``$FUNAI_ROGUE_SUBSTITUTE`` (e.g. the model with one
  decoder layer dropped), with the request's seed and parameters, its answers otherwise
  honest.
* ``edit``: an executor that edits its answers after generating them (appends
  :data:`EDIT` to the text and its tokens) and signs the edited answer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

#: What the ``garbage`` executor answers: the real judge rejects it for any question
#: (``loglik`` near -3.7 against the threshold -1.25; checked by the devnet test).
GARBAGE = "Bananas are yellow. Bananas are yellow."

#: What the ``edit`` executor appends to every answer.
EDIT = " Visit funai.example for more."

ROLES = (
    "accept-all",
    "reject-all",
    "garbage",
    "equivocate",
    "bad-receipt",
    "silent",
    "substitute",
    "edit",
)


def launch_code(*roles: str) -> str:
    """The ``python -c`` code of a node process with ``roles`` patched."""
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown rogue role {role!r}")
    here = str(Path(__file__).resolve().parent)
    return f"import sys; sys.path.insert(0, {here!r}); import rogue; rogue.run({list(roles)!r})"


def _fixed_judge(accept: bool) -> None:
    import funai.layer2.judging as judging
    from funai.layer2.transactions import InferenceContent
    from funai.layer2.votes import Verdict

    def engine_judge(model: Any, cfg: Any = None, **_kw: Any) -> Any:
        def run(model_id: bytes, content: InferenceContent, seed: int) -> Verdict:
            return Verdict(accept, 1_000_000 if accept else 0, 0 if accept else -(10**6))

        return run

    judging.engine_judge = engine_judge  # L2Runtime.attach_models imports it when models load


def _garbage_executor() -> None:
    from funai.inference.engine import InferenceEngine
    from funai.inference.generate import Completion

    honest_generate = InferenceEngine.generate

    async def generate(
        self: InferenceEngine, prompt: Any, params: Any = None, **kw: Any
    ) -> Completion:
        done = await honest_generate(self, prompt, params, **kw)
        ids = tuple(self.model.encode(GARBAGE))
        return Completion(GARBAGE, ids, "eos", done.prompt_tokens)

    InferenceEngine.generate = generate  # type: ignore[method-assign]
    _no_bond_top_up()


def _no_bond_top_up() -> None:
    """Never tops the executor bond up once posted (so a penalty stays visible in it)."""
    from funai.node.l2runtime import L2Runtime

    build = L2Runtime._build_duties

    def build_duties(self: L2Runtime) -> Any:
        with self.gossip.lock:
            bonded = self.l2.state.bond(self.l2.account) >= self.params.min_bond
        if bonded:
            self.bond_target = 1  # never top the bond up again
        return build(self)

    L2Runtime._build_duties = build_duties  # type: ignore[method-assign]


def _substitute_executor() -> None:
    import dataclasses
    import os

    import funai.inference as inference
    from funai.inference.model import LoadedModel

    honest_load = inference.load_model
    substitute = os.environ["FUNAI_ROGUE_SUBSTITUTE"]

    def load_model(path: Any, **kw: Any) -> LoadedModel:
        real = honest_load(path, **kw)
        cheap = honest_load(substitute, **kw)
        print(f"rogue: serving {substitute} as {real.model_id}", file=sys.stderr, flush=True)
        return dataclasses.replace(cheap, path=real.path, name=real.name, model_id=real.model_id)

    inference.load_model = load_model  # the API imports it when models load
    _no_bond_top_up()


def _editing_executor() -> None:
    from funai.inference.engine import InferenceEngine
    from funai.inference.generate import Completion

    honest_generate = InferenceEngine.generate

    async def generate(
        self: InferenceEngine, prompt: Any, params: Any = None, **kw: Any
    ) -> Completion:
        done = await honest_generate(self, prompt, params, **kw)
        ids = done.token_ids + tuple(self.model.encode(EDIT))
        return Completion(done.text + EDIT, ids, done.finish_reason, done.prompt_tokens)

    InferenceEngine.generate = generate  # type: ignore[method-assign]
    _no_bond_top_up()


def _equivocating_producer() -> None:
    import dataclasses

    from funai import _core
    from funai.layer2.block import L2Block, block_sig_message
    from funai.layer2.messages import L2BlockMsg
    from funai.layer2.producer import Producer
    from funai.layer2.service import L2Node

    done: list[bytes] = []  # the election it equivocated in
    honest_produce = Producer.maybe_produce
    honest_commit = L2Node.commitment_outputs

    def produce(self: Producer, rnd: Any) -> None:
        node = self.node
        before = len(node.outbox)
        honest_produce(self, rnd)
        sent = [m for m in node.outbox[before:] if isinstance(m, L2BlockMsg)]
        if done or not sent:
            return
        block, contents = sent[-1].parse()
        h = block.header
        twin = dataclasses.replace(h, time=h.time + 1)
        sig = _core.schnorr_sign(node.sk, block_sig_message(node.params.network_id, twin.hash()))
        node.outbox.append(
            L2BlockMsg.make(L2Block(twin, sig, block.txs, block.parent_qc), contents)
        )
        done.append(h.l1_block)
        print(f"rogue: equivocated in election {h.l1_block.hex()}", file=sys.stderr, flush=True)

    def commitment_outputs(self: L2Node, bid: int) -> Any:
        return [] if done else honest_commit(self, bid)

    Producer.maybe_produce = produce  # type: ignore[method-assign]
    L2Node.commitment_outputs = commitment_outputs  # type: ignore[method-assign]


def _bad_receipt_executor() -> None:
    from funai.layer2.transactions import L2Tx
    from funai.node.l2runtime import L2Runtime

    honest = L2Runtime.settle

    async def settle(self: L2Runtime, *args: Any) -> L2Tx:
        tx = await honest(self, *args)
        p = list(tx.payload)
        p[5] = bytes([p[5][0] ^ 1]) + p[5][1:]  # the receipt signature, as the client sees it
        return L2Tx(tx.kind, tx.sender_key, tx.nonce, tx.fee, tuple(p), tx.signature)

    L2Runtime.settle = settle  # type: ignore[method-assign, assignment]


def _silent_producer() -> None:
    from funai.layer2.producer import Producer
    from funai.layer2.sortition import Round

    def produce(self: Producer, rnd: Round) -> None:
        w = rnd.winner
        if w is not None and w.reg == self.node.reg_ref and rnd.l1_hash not in self.produced:
            self.produced.add(rnd.l1_hash)
            print(f"rogue: silent in election {rnd.l1_hash.hex()}", file=sys.stderr, flush=True)

    Producer.maybe_produce = produce  # type: ignore[method-assign]


def run(roles: list[str]) -> None:
    for role in roles:
        if role == "accept-all":
            _fixed_judge(True)
        elif role == "reject-all":
            _fixed_judge(False)
        elif role == "garbage":
            _garbage_executor()
        elif role == "equivocate":
            _equivocating_producer()
        elif role == "bad-receipt":
            _bad_receipt_executor()
        elif role == "silent":
            _silent_producer()
        elif role == "substitute":
            _substitute_executor()
        elif role == "edit":
            _editing_executor()
        else:
            raise SystemExit(f"unknown rogue role {role!r}")
    print(f"rogue node: {', '.join(roles)}", file=sys.stderr, flush=True)
    from funai.cli import main

    main()
