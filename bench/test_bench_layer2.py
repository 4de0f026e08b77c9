"""Inference-layer benchmarks.

* Consensus only (no model): one L2 block of 200 inference transactions through build,
  apply, five votes and the quorum certificate, against the baseline of only checking the
  400 signatures those transactions carry; the state root over 10,000 accounts.
* Pipeline (the default model on the CPU, in-process: 5 verifier nodes and 1 inference
  node on an in-process bus; the multi-process devnet version needs the node wiring):
  requests executed at once, then the L2 block, 5 verifiers judging, the QC and the next
  block settling it. ``extra_info`` holds the split (inference, judging, consensus and
  storage = the rest), transactions per second, and the overhead ratio of the whole
  pipeline over running the model alone (``overhead_ratio``; and
  ``overhead_ratio_parallel_verifiers`` counting one verifier's judging, as when the five
  run on their own machines). First run on 2 shared CPU cores: 4 requests of 24 tokens,
  0.16 tx/s; inference 6.7 s, judging 18.8 s (5 x 4 judgements), consensus and storage
  0.14 s; overhead ratio 3.8 (1.6 with parallel verifiers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from funai import _core
from funai.layer2.transactions import (
    BondPayload,
    InferenceContent,
    InferencePayload,
    make_inference,
    receipt_message,
    sign_payload,
)
from funai.ledger.tx import COIN
from funai.testing.cluster import MODEL, VERIFIER_NAMES, Net, acct, skey
from tests.inference_fixtures import model, model_dir  # noqa: F401

pytest.importorskip("pytest_benchmark")

N_TX = 200


def _setup(path: Path) -> tuple[Net, list]:  # type: ignore[type-arg]
    net = Net(path)
    net.register("prod")
    for i in range(N_TX):
        net.fund(f"user{i}", 10 * COIN)
    net.fund("exec", 100 * COIN)
    nid = net.params.network_id
    bond = sign_payload(skey("exec"), BondPayload(20 * COIN), 0, nid)
    block = net.produce(net.elect({"prod": 5 * COIN}), [bond])
    qc = net.vote_all(block, {n: [] for n in VERIFIER_NAMES})
    txs = [
        make_inference(
            skey(f"user{i}"), skey("exec"), 0, MODEL, InferenceContent(f"q{i}", f"a{i}"), COIN, nid
        )
        for i in range(N_TX)
    ]
    return net, [qc, txs]


def test_bench_l2_block_pipeline(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(10**6))

    def setup():  # type: ignore[no-untyped-def]
        net, (qc, txs) = _setup(tmp_path / f"b{next(counter)}.sqlite")
        return (net, qc, txs), {}

    def run(net, qc, txs) -> None:  # type: ignore[no-untyped-def]
        block = net.produce(net.elect({"prod": 5 * COIN}), txs, qc)
        assert len(block.txs) == N_TX
        assert net.vote_all(block, {n: [True] * N_TX for n in VERIFIER_NAMES}) is not None

    benchmark.pedantic(run, setup=setup, rounds=3)


def test_bench_l2_signature_baseline(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    net, (_, txs) = _setup(tmp_path / "base.sqlite")
    nid = net.params.network_id

    def run() -> None:
        for tx in txs:
            tx.verify_signature(nid)
            p = tx.payload_as(InferencePayload)
            assert _core.schnorr_verify(
                p.executor_key,
                receipt_message(nid, tx.user_txid(), p.content_hash, p.gas_used),
                p.executor_sig,
            )

    benchmark.pedantic(run, rounds=3)


def test_bench_l2_state_root(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    net = Net(tmp_path / "root.sqlite")
    with net.state.atomic():
        for i in range(10_000):
            net.state.credit(acct(f"a{i}"), i + 1)
    benchmark.pedantic(net.state.state_root, rounds=3)


N_PIPE = 4


def test_bench_l2_pipeline_with_model(benchmark, tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import time

    from funai.layer2.judging import engine_generate, engine_judge
    from funai.layer2.node import sign_request
    from funai.layer2.request_params import RequestParams
    from funai.testing.cluster import VERIFIERS, Cluster

    gen = engine_generate(model)
    params = RequestParams(max_tokens=24, temperature_ppm=700_000, top_p_ppm=900_000)
    judge = engine_judge(model)
    spent = {"inference": 0.0, "judging": 0.0}

    def timed_gen(*a):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return gen(*a)
        finally:
            spent["inference"] += time.perf_counter() - t

    def timed_judge(*a):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return judge(*a)
        finally:
            spent["judging"] += time.perf_counter() - t

    counter = iter(range(10**6))

    def setup():  # type: ignore[no-untyped-def]
        c = Cluster(
            tmp_path / f"c{next(counter)}", dict.fromkeys(VERIFIERS, timed_judge), {"x": timed_gen}
        )
        c.mine([[c.nodes["x"].registration_output()]])
        c.fund("user", 100 * COIN)
        c.fund("x", 50 * COIN)
        c.nodes["x"].submit(sign_payload(skey("x"), BondPayload(20 * COIN), 0, c.params.network_id))
        c.pump()
        c.round({"x": 5 * COIN})
        spent.update(inference=0.0, judging=0.0)
        return (c,), {}

    totals: list[float] = []

    def run(c) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        x = c.nodes["x"]
        nid = c.params.network_id
        for i in range(N_PIPE):
            q = f"Name a famous city number {i}."
            x.execute(
                sign_request(skey("user"), i, MODEL, COIN, q, nid, params=params), q, params=params
            )
        c.pump()
        c.round({"x": 5 * COIN})  # the block with the requests, judged and voted on
        tip = c.nodes["v0"].state.tip()
        assert c.nodes["v0"].finalized(tip)
        c.round({"x": 5 * COIN})  # the next block settles it
        totals.append(time.perf_counter() - t0)

    benchmark.pedantic(run, setup=setup, rounds=1)
    total = min(totals)
    inf, jud = spent["inference"], spent["judging"]
    benchmark.extra_info.update(
        {
            "tx_per_s": round(N_PIPE / total, 3),
            "inference_s": round(inf, 3),
            "judging_s": round(jud, 3),
            "consensus_and_storage_s": round(max(0.0, total - inf - jud), 3),
            "overhead_ratio": round(total / inf, 2) if inf else None,
            # the five verifiers judge one after another here; on five machines in parallel:
            "overhead_ratio_parallel_verifiers": (
                round((total - jud + jud / len(VERIFIERS)) / inf, 2) if inf else None
            ),
        }
    )


# --- undo (rule l2-undo): the cost of recording undo data and of disconnecting ------------
def _built(path: Path):  # type: ignore[no-untyped-def]
    from funai.layer2.consensus import build_block

    net, (qc, txs) = _setup(path)
    rnd = net.elect({"prod": 5 * COIN})
    block = build_block(net.state, skey("prod"), rnd, txs, qc, elected=net.elected)
    return net, rnd, block


def test_bench_l2_apply_baseline_no_journal(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Baseline: applying the 200-inference block as before undo data existed."""
    from funai.layer2.consensus import apply_block

    counter = iter(range(10**6))

    def setup():  # type: ignore[no-untyped-def]
        return _built(tmp_path / f"n{next(counter)}.sqlite"), {}

    def run(net, rnd, block) -> None:  # type: ignore[no-untyped-def]
        with net.state.atomic():
            apply_block(net.state, block, rnd, elected=net.elected)

    benchmark.pedantic(run, setup=setup, rounds=5)


def test_bench_l2_apply_with_undo_journal(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same block applied while the journal records every row's previous value."""
    from funai.layer2.consensus import apply_block

    counter = iter(range(10**6))

    def setup():  # type: ignore[no-untyped-def]
        return _built(tmp_path / f"j{next(counter)}.sqlite"), {}

    def run(net, rnd, block) -> None:  # type: ignore[no-untyped-def]
        with net.state.atomic(), net.state.journal() as undo:
            apply_block(net.state, block, rnd, elected=net.elected)
        assert undo

    benchmark.pedantic(run, setup=setup, rounds=5)


def test_bench_l2_undo_block(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Disconnecting that block: restoring the rows its journal recorded."""
    from funai.layer2.consensus import apply_block

    counter = iter(range(10**6))

    def setup():  # type: ignore[no-untyped-def]
        net, rnd, block = _built(tmp_path / f"u{next(counter)}.sqlite")
        before = net.state.state_root()
        with net.state.atomic(), net.state.journal() as undo:
            apply_block(net.state, block, rnd, elected=net.elected)
        return (net, undo[0], before), {}

    def run(net, data, before) -> None:  # type: ignore[no-untyped-def]
        with net.state.atomic():
            net.state.undo(data)
        assert net.state.state_root() == before

    benchmark.pedantic(run, setup=setup, rounds=5)
