"""The Python API of the Clarity VM: deploy, calls, store, chain, costs, hostile input, CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funai import _core
from funai.clarity import (
    DEFAULT_SENDER,
    ClarityAnalysisError,
    ClarityRuntimeError,
    ClarityVM,
    MemoryStore,
    SimpleChain,
    contract_principal,
    decode_principal,
    principal_from_hash160,
    uint,
)
from funai.cli import app

W1 = "ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5"
CONTRACTS = Path(__file__).resolve().parent / "contracts"
COUNTER = """
(define-data-var n uint u0)
(define-public (inc (by uint))
  (begin (var-set n (+ (var-get n) by)) (asserts! (< (var-get n) u100) (err u1)) (ok (var-get n))))
(define-read-only (get-n) (var-get n))
(define-public (twice) (begin (var-set n u0) (var-set n (+ (var-get n) u1)) (ok (var-get n))))
(define-read-only (loop (l (list 1000 int))) (fold + l 0))
"""


@pytest.fixture
def vm() -> ClarityVM:
    v = ClarityVM()
    v.store.set_balance(DEFAULT_SENDER, 10**12)
    return v


def test_deploy_returns_interface(vm: ClarityVM) -> None:
    d = vm.deploy("counter", COUNTER)
    assert d.contract_id == f"{DEFAULT_SENDER}.counter"
    fns = {f["name"]: f for f in d.interface["functions"]}
    assert fns["inc"]["access"] == "public"
    assert fns["inc"]["args"] == [{"name": "by", "type": "uint"}]
    assert fns["get-n"]["outputs"] == "uint"
    assert vm.interface(d.contract_id) == d.interface
    with pytest.raises(ClarityAnalysisError, match="already exists"):
        vm.deploy("counter", COUNTER)


def test_analysis_errors_have_positions(vm: ClarityVM) -> None:
    with pytest.raises(ClarityAnalysisError) as info:
        vm.deploy("bad", "(define-public (f)\n  (ok (+ 1 u1)))\n(define-read-only (g) (nope))")
    diags = info.value.diagnostics
    assert [(d.line, d.col) for d in diags] == [(2, 7), (3, 23)]
    assert "unknown or unsupported function 'nope'" in diags[1].message


def test_calls_commit_only_on_ok(vm: ClarityVM) -> None:
    cid = vm.deploy("counter", COUNTER).contract_id
    r = vm.call(cid, "inc", uint(5))
    assert (r.result, r.committed, r.is_ok) == ("(ok u5)", True, True)
    assert r.writes
    r = vm.call(cid, "inc", uint(500))
    assert (r.result, r.committed, r.is_err, r.writes) == ("(err u1)", False, True, [])
    assert vm.read_only(cid, "get-n").result == "u5"
    with pytest.raises(ClarityAnalysisError, match="not read-only"):
        vm.read_only(cid, "inc", uint(1))
    with pytest.raises(ClarityAnalysisError, match="expected type uint"):
        vm.call(cid, "inc", "5")
    with pytest.raises(ClarityAnalysisError, match="expected 1 argument"):
        vm.call(cid, "inc")


def test_runtime_error_rolls_back(vm: ClarityVM) -> None:
    cid = vm.deploy(
        "boom",
        "(define-data-var x uint u0)\n"
        "(define-public (f (d uint)) (begin (var-set x u9) (ok (/ u1 d))))\n"
        "(define-read-only (get-x) (var-get x))",
    ).contract_id
    r = vm.call(cid, "f", uint(0))
    assert r.aborted
    assert "division by zero" in (r.error or "")
    assert vm.read_only(cid, "get-x").result == "u0"


def test_deploy_runtime_abort(vm: ClarityVM) -> None:
    with pytest.raises(ClarityRuntimeError, match="unwrap-panic"):
        vm.deploy("abort", "(define-constant c (unwrap-panic none))")
    assert vm.interface(f"{DEFAULT_SENDER}.abort") is None


def test_cost_limits() -> None:
    vm = ClarityVM(call_limit={"runtime": 2_000})
    cid = vm.deploy("counter", COUNTER).contract_id
    big = "(list " + " ".join(["1"] * 1000) + ")"
    r = vm.read_only(cid, "loop", big)
    assert r.aborted
    assert "cost limit exceeded: runtime" in (r.error or "")
    assert vm.call_limit["runtime"] == 2_000
    with pytest.raises(ValueError, match="unknown cost field"):
        ClarityVM(call_limit={"bogus": 1})


def test_block_limit_and_new_block() -> None:
    vm = ClarityVM(block_limit={"write_count": 3})
    cid = vm.deploy("counter", COUNTER).contract_id
    assert vm.call(cid, "inc", uint(1)).result == "(ok u1)"
    r = vm.call(cid, "inc", uint(1))
    assert r.aborted
    assert "write_count" in (r.error or "")
    assert vm.block_used["write_count"] >= 3
    vm.new_block()
    assert vm.call(cid, "inc", uint(1)).result == "(ok u2)"


class CountingStore(MemoryStore):
    """A custom store: counts reads and applied batches."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.batches = 0

    def get(self, key: bytes) -> bytes | None:
        self.reads += 1
        return super().get(key)

    def apply(self, writes: Sequence[tuple[bytes, bytes | None]]) -> None:
        self.batches += 1
        super().apply(writes)


def test_pluggable_store_survives_a_new_vm() -> None:
    store = CountingStore()
    vm = ClarityVM(store)
    cid = vm.deploy("counter", COUNTER).contract_id
    vm.call(cid, "inc", uint(3))
    assert store.batches == 2
    assert store.reads > 0
    fresh = ClarityVM(store)  # contracts reload from the store
    assert fresh.read_only(cid, "get-n").result == "u3"


def test_store_errors_propagate() -> None:
    class Broken(MemoryStore):
        def get(self, key: bytes) -> bytes | None:
            if key.startswith(b"v\x00"):
                raise OSError("disk on fire")
            return super().get(key)

    vm = ClarityVM(Broken())
    cid = vm.deploy("counter", COUNTER).contract_id
    with pytest.raises(OSError, match="disk on fire"):
        vm.read_only(cid, "get-n")


def test_call_many_is_calls_in_turn() -> None:
    """A batch gives every call the outcome of calling it alone in turn (each sees the
    writes of the committed calls before it) and leaves the store in the same state."""
    calls: list[tuple[str, str, Sequence[object], str]] = [
        ("counter", "inc", [uint(5)], DEFAULT_SENDER),
        ("counter", "inc", [uint(7)], W1),
        ("counter", "inc", [uint(500)], DEFAULT_SENDER),  # err: not committed
        ("counter", "inc", ["true"], DEFAULT_SENDER),  # refused: argument type
        ("counter", "missing", [], DEFAULT_SENDER),  # refused: no such function
        ("counter", "inc", [uint(1)], DEFAULT_SENDER),
        ("counter", "twice", [], W1),  # writes n twice: the outcome gives its last value once
    ]
    one, many = ClarityVM(), ClarityVM()
    ids = [v.deploy("counter", COUNTER).contract_id for v in (one, many)]
    calls = [(ids[0], f, a, s) for _, f, a, s in calls]
    singles = []
    for cid, f, args, sender in calls:
        try:
            singles.append(one.call(cid, f, *args, sender=sender))
        except ClarityAnalysisError as exc:
            singles.append(exc)  # type: ignore[arg-type]
    batch = many.call_many(calls)
    assert len(batch) == len(calls)
    assert batch.committed == 4
    assert many.store.data == one.store.data
    for got, want in zip(batch, singles, strict=True):
        if isinstance(want, ClarityAnalysisError):
            assert got.aborted
            assert not got.committed
            assert got.error == f"call refused: {'; '.join(map(str, want.diagnostics))}"
        else:
            assert got == want
    assert [r.result for r in batch[-2:]] == ["(ok u13)", "(ok u1)"]
    assert len(batch[-1].writes) == 1
    assert batch[-1] is batch[6]
    assert many.block_used == one.block_used
    with pytest.raises(IndexError):
        batch[7]


def test_asset_events_name_their_asset() -> None:
    """A token event reads as {type, contract, asset_identifier ("contract::token"), then
    its own fields}, through `call` and through `call_many` alike."""
    src = (CONTRACTS / "sip010-token.clar").read_text()
    events = []
    for batch in (False, True):
        vm = ClarityVM()
        vm.deploy("sip010-trait", (CONTRACTS / "sip010-trait.clar").read_text())
        cid = vm.deploy("sip010-token", src).contract_id
        vm.call(cid, "mint", "u100", f"'{DEFAULT_SENDER}")
        args = ("u7", f"'{DEFAULT_SENDER}", f"'{W1}", "none")
        if batch:
            out = vm.call_many([(cid, "transfer", args, DEFAULT_SENDER)])[0]
        else:
            out = vm.call(cid, "transfer", *args)
        assert out.committed
        events.append(out.events)
    assert events[0] == events[1]
    assert events[0] == [
        {
            "type": "ft_transfer_event",
            "contract": cid,
            "asset_identifier": f'"{cid}::fai-coin"',
            "sender": f"'{DEFAULT_SENDER}",
            "recipient": f"'{W1}",
            "amount": "u7",
        }
    ]
    assert list(events[0][0])[:3] == ["type", "contract", "asset_identifier"]


def test_call_many_takes_python_values_and_leaves_the_store_alone_on_failure() -> None:
    vm = ClarityVM()
    cid = vm.deploy(
        "echo", "(define-public (echo (b (buff 4)) (f bool)) (ok {b: b, f: f}))"
    ).contract_id
    batch = vm.call_many(
        [
            (cid, "echo", [b"\x01\x02", True], DEFAULT_SENDER),
            ("not-a-principal", "echo", ["0x", "true"], DEFAULT_SENDER),
            (cid, "echo", ["0x", "true"], "SPnope"),
            (cid, "echo", ["0x01", "false"], W1),
        ]
    )
    assert batch[0].result == "(ok {b: 0x0102, f: true})"
    assert batch[1].error is not None
    assert batch[1].error.startswith("call refused: 1:1: bad contract id:")
    assert batch[2].error is not None
    assert batch[2].error.startswith("call refused: 1:1: bad sender:")
    assert batch[3].result == "(ok {b: 0x01, f: false})"
    assert batch.committed == 2
    with pytest.raises(TypeError, match="tuple or list"):
        vm.call_many([[cid, "echo"]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="cannot pass int"):
        vm.call_many([(cid, "echo", [5, True], DEFAULT_SENDER)])
    assert vm.call_many([[cid, "echo", ["0x", "true"], W1]])[0].committed  # type: ignore[list-item]
    # arguments from any iterable (beyond the annotated Sequence), Python values among them;
    # texts built per call (not the same objects from one call to the next) are each read
    made = vm.call_many(
        [(cid, "echo", (a for a in (bytes([i]), f"{i % 2 == 0}".lower())), W1) for i in (1, 2)]  # type: ignore[misc]
    )
    assert [r.result for r in made] == ["(ok {b: 0x01, f: false})", "(ok {b: 0x02, f: true})"]
    with pytest.raises(TypeError, match="tuple or list"):
        vm.call_many([(cid, "echo", ["0x", "true"], 7)])  # type: ignore[list-item]

    class Broken(MemoryStore):
        """Fails reading the map entry of key u3."""

        def get(self, key: bytes) -> bytes | None:
            if key.startswith(b"m\x00") and key.endswith(_core.clarity_encode_uint(3)):
                raise OSError("disk on fire")
            return super().get(key)

    store = Broken()
    vm = ClarityVM(store)
    cid = vm.deploy(
        "keys",
        """(define-map m uint uint)
           (define-public (put (k uint))
             (begin (map-set m k (+ u1 (default-to u0 (map-get? m k)))) (ok k)))""",
    ).contract_id
    before = dict(store.data)
    with pytest.raises(OSError, match="disk on fire"):
        vm.call_many([(cid, "put", [uint(k)], DEFAULT_SENDER) for k in (1, 2, 3, 4)])
    assert store.data == before


def test_chain_data_from_python() -> None:
    chain = SimpleChain(height=3, burn_height=9, burn_blocks={4: {"header-hash": b"\x11" * 32}})
    vm = ClarityVM(chain=chain)
    assert vm.eval("burn-block-height").result == "u9"
    assert vm.eval("(get-burn-block-info? header-hash u4)").result == "(some 0x" + "11" * 32 + ")"
    assert vm.eval("(get-block-info? time u5)").result == "none"
    chain.advance(3)
    assert vm.eval("(get-block-info? time u5)").result == "(some u1700000050)"


def test_bad_chain_value_is_a_host_error() -> None:
    chain = SimpleChain(burn_height=9, burn_blocks={1: {"header-hash": 5}})
    r = ClarityVM(chain=chain).eval("(get-burn-block-info? header-hash u1)")
    assert r.aborted
    assert "bad value" in (r.error or "")


def test_principals_map_to_hash160() -> None:
    h = bytes.fromhex("a46ff88886c2ef9762d970b4d2c63678835bd39d")
    assert principal_from_hash160(h, "main") == "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7"
    st = principal_from_hash160(h, "regtest")
    assert st.startswith("ST")
    assert decode_principal(st) == (26, h, None)
    assert decode_principal("'" + contract_principal(st, "tok"))[2] == "tok"
    with pytest.raises(ValueError, match="checksum"):
        decode_principal("SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8")
    with pytest.raises(ValueError, match="contract name"):
        contract_principal(st, "1bad")
    with pytest.raises(ValueError, match="20 bytes"):
        _core.clarity_principal_encode(26, b"\x00" * 19)


def test_stx_is_the_fai_balance(vm: ClarityVM) -> None:
    r = vm.eval(f"(stx-transfer? u150000000 tx-sender '{W1})")
    assert r.result == "(ok true)"
    assert vm.balance(W1) == 150_000_000
    assert vm.store.balance(DEFAULT_SENDER) == 10**12 - 150_000_000


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("(define-constant x " + "(+ 1 " * 100 + "1" + ")" * 100 + ")", "nested deeper"),
        ("(define-constant x u" + "9" * 60 + ")", "out of range"),
        ('(define-constant x "' + "a" * (1 << 20) + '")', "limit"),
        ("(define-data-var v (list 4294967295 int) (list))", "larger than the limit"),
        ("(define-map m (buff 4294967295) int)", "larger than the limit"),
        ("(define-private (f (x int)) (f x))", "recursi"),
        ("(define-read-only (f) (concat (list 1) " * 1 + "(list 2)))", ""),
    ],
)
def test_hostile_contracts_are_refused(vm: ClarityVM, source: str, message: str) -> None:
    if not message:
        vm.check(source)
        return
    with pytest.raises(ClarityAnalysisError, match=message):
        vm.check(source)


def test_runaway_evaluation_is_stopped(vm: ClarityVM) -> None:
    src = """
(define-private (inner (x int) (acc int)) (+ acc x))
(define-private (outer (x int) (acc int)) (fold inner (list 1 2 3 4 5 6 7 8 9 10) acc))
(define-read-only (burn (l (list 1000 int))) (fold outer l 0))
"""
    cid = vm.deploy("burner", src).contract_id
    big = "(list " + " ".join(["1"] * 1000) + ")"
    r = vm.read_only(cid, "burn", big)
    assert r.result == "55000"
    vm2 = ClarityVM(call_limit={"runtime": 50_000})
    cid2 = vm2.deploy("burner", src).contract_id
    assert vm2.read_only(cid2, "burn", big).aborted


def test_malformed_serialized_values() -> None:
    with pytest.raises(ValueError, match=r"truncated|unknown"):
        _core.clarity_decode_value(b"\x0b\xff\xff\xff\xff")
    assert _core.clarity_decode_value(_core.clarity_encode_uint(7)) == "u7"


def test_cli_check_and_run(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "counter.clar"
    good.write_text(COUNTER)
    res = runner.invoke(app, ["clarity", "check", str(good)])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.clar"
    bad.write_text("(define-public (f) (ok (+ 1 u1)))")
    res = runner.invoke(app, ["clarity", "check", str(bad)])
    assert res.exit_code == 1
    assert "bad.clar:1:24: error:" in res.output
    res = runner.invoke(
        app,
        [
            "clarity",
            "run",
            str(good),
            "(contract-call? .counter inc u2)",
            "(contract-call? .counter inc u200)",
            "(contract-call? .counter get-n)",
            "(some 5)",
            "(unwrap-panic none)",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[:4] == ["(ok u2)", "(err u1)", "u2", "(some 5)"]
    assert lines[4].startswith("error:")
    res = runner.invoke(
        app,
        ["clarity", "run", str(good), "--name", "c2", "--json", "(contract-call? .c2 inc u1)"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out[0]["result"] == "(ok u1)"
    assert out[0]["events"] == []
    res = runner.invoke(app, ["clarity", "run", str(good), "(+ 1 u1)"])
    assert res.exit_code == 1
