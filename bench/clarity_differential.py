"""Differential runs of ClarityVM against the reference implementation (stacks-core).

Usage::

    PYTHONPATH=. python bench/clarity_differential.py ORACLE {expressions,buffers,contracts}
        [--seed 1] [-n 3000] [--snapshot GIT_DIR] [--epoch 3.4]

``ORACLE`` is a program built locally from stacks-core's ``clarity`` crate (GPL, so it is not
part of this repository; docs/clarity-corpus.md says how to build one in a few lines): it
reads Clarity programs from stdin separated by lines ``;;;;``, runs each as a Clarity 2
contract at the epoch given in ``ORACLE_EPOCH`` (``clarity::vm::execute_with_parameters``)
and prints one line per program: ``OK <hex of the consensus serialization> <display>`` or
``ERR <error>``. Each program here ends with ``(to-consensus-buff? EXPR)``, evaluated by this
VM too, and the two answers are compared: both abort, or both give the same bytes.

Modes: ``expressions``: random well-typed expressions (arithmetic at the edges, strings,
buffers, lists, optionals, conversions, hashes); ``buffers``: ``from-consensus-buff?`` of
valid and mutated serializations, ``principal-construct?``/``-destruct?`` and secp256k1
functions on random and real signatures; ``contracts``: real mainnet contracts without
dependencies (and without sender, block or chain builtins, whose answers differ by
construction), each read-only function with simple argument types called with random
arguments. The reference runs without type checking, so an expression this VM refuses at
analysis is reported but is not a divergence by itself. No network is used; this file is
not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from funai.clarity import ClarityAnalysisError, ClarityRuntimeError, ClarityVM
from funai.clarity.project import _N, _pub  # secp256k1 for the test signatures

IMAX, IMIN, UMAX = 2**127 - 1, -(2**127), 2**128 - 1
INTS = (0, 1, -1, 7, -100, 255, 2**64, IMAX, IMIN, IMAX - 1, 2**126)
UINTS = (0, 1, 2, 3, 8, 64, 127, 128, 256, 2**64, UMAX, 2**127)
TEXTS: tuple[str, ...] = ("", "a", "abc", "123", "-42", "+5", "00012", " 7", "-0", "\\\\")
TEXTS += ("\\n", "9" * 39, str(IMAX), str(IMIN), str(UMAX), str(UMAX + 1))
UTF8_TEXTS = ('u""', 'u"a"', 'u"h\\u{e9}"', 'u"\\u{263a}"', 'u"\\u{1F600}x"', 'u"-7"')
# A type: "int", "uint", "bool", "ascii", "utf8", "buff", ("list", t) or ("opt", t).
T = str | tuple[str, str]
TOP_TYPES: list[T] = [
    "int",
    "uint",
    "bool",
    "ascii",
    "utf8",
    "buff",
    ("list", "int"),
    ("opt", "int"),
]
SERIALIZED: list[T] = ["int", "ascii", ("list", "int")]


class Expressions:
    """Random well-typed Clarity 2 expressions."""

    def __init__(self, r: random.Random) -> None:
        self.r = r

    def lit(self, t: T) -> str:
        r = self.r
        if t == "int":
            return str(r.choice([*INTS, r.randint(-1000, 1000), r.randint(IMIN, IMAX)]))
        if t == "uint":
            return "u" + str(r.choice([*UINTS, r.randint(0, 1000), r.randint(0, UMAX)]))
        if t == "bool":
            return r.choice(["true", "false"])
        if t == "ascii":
            return '"' + r.choice(TEXTS) + '"'
        if t == "utf8":
            return r.choice(UTF8_TEXTS)
        return "0x" + r.randbytes(r.choice([0, 1, 2, 8, 15, 16, 17, 20, 32, 33])).hex()

    def small(self) -> str:
        return self.r.choice(["u0", "u1", "u2", "u3", "u5", "u10", "u100", f"u{UMAX}"])

    def gen(self, t: T, d: int = 0) -> str:
        r = self.r
        if isinstance(t, tuple):
            return self.gen_compound(t, d)
        if d >= 4 or r.random() < 0.3:
            return self.lit(t)

        def g(u: T) -> str:
            return self.gen(u, d + 1)

        i, u, s, b, li = "int", "uint", "ascii", "buff", ("list", "int")
        forms: dict[str, list[Callable[[], str]]] = {
            "int": [
                *[
                    lambda o=o: f"({o} {g(i)} {g(i)})"
                    for o in ("+", "-", "*", "/", "mod", "bit-and", "bit-or", "bit-xor", "xor")
                ],
                lambda: f"(- {g(i)})",
                lambda: f"(sqrti {g(i)})",
                lambda: f"(log2 {g(i)})",
                lambda: f"(pow {g(i)} {r.choice(['0', '1', '2', '3', '-1', '64', '127', '128'])})",
                lambda: f"(bit-not {g(i)})",
                lambda: f"(bit-shift-left {g(i)} {g(u)})",
                lambda: f"(bit-shift-right {g(i)} {g(u)})",
                lambda: f"(to-int {g(u)})",
                lambda: f"(buff-to-int-le 0x{r.randbytes(r.choice([0, 1, 8, 16])).hex()})",
                lambda: f"(buff-to-int-be 0x{r.randbytes(r.choice([0, 1, 8, 16])).hex()})",
                lambda: f"(default-to 0 (string-to-int? {g(s)}))",
                lambda: f"(default-to 0 (string-to-int? {g('utf8')}))",
                lambda: f"(fold + {g(li)} {g(i)})",
                lambda: f"(default-to 7 (element-at? {g(li)} {g(u)}))",
                lambda: f"(match (string-to-int? {g(s)}) x (+ x 1) 0)",
                lambda: f"(if {g('bool')} {g(i)} {g(i)})",
                lambda: f"(get a (merge {{a: {g(i)}, b: {g(u)}}} {{a: {g(i)}}}))",
            ],
            "uint": [
                *[
                    lambda o=o: f"({o} {g(u)} {g(u)})"
                    for o in ("+", "-", "*", "/", "mod", "bit-and", "bit-or", "bit-xor")
                ],
                lambda: f"(pow {g(u)} {r.choice(['u0', 'u1', 'u2', 'u64', 'u128', 'u129'])})",
                lambda: f"(sqrti {g(u)})",
                lambda: f"(log2 {g(u)})",
                lambda: f"(to-uint {g(i)})",
                lambda: f"(bit-shift-left {g(u)} {g(u)})",
                lambda: f"(len {g(s)})",
                lambda: f"(len {g('utf8')})",
                lambda: f"(len {g(b)})",
                lambda: f"(len {g(li)})",
                lambda: f"(buff-to-uint-be 0x{r.randbytes(r.choice([0, 1, 8, 16])).hex()})",
                lambda: f"(default-to u0 (string-to-uint? {g(s)}))",
                lambda: f"(default-to u9 (index-of? {g(li)} {g(i)}))",
                lambda: f'(default-to u9 (index-of? {g(s)} "a"))',
                lambda: f"(fold + {g(('list', 'uint'))} {g(u)})",
            ],
            "bool": [
                lambda: f"(< {g(i)} {g(i)})",
                lambda: f"(>= {g(u)} {g(u)})",
                lambda: f"(> {g(s)} {g(s)})",
                lambda: f"(<= {g(b)} {g(b)})",
                lambda: f"(is-eq {g(li)} {g(li)})",
                lambda: f"(and {g('bool')} {g('bool')})",
                lambda: f"(not {g('bool')})",
                lambda: f"(is-some {g(('opt', 'int'))})",
            ],
            "ascii": [
                lambda: f"(concat {g(s)} {g(s)})",
                lambda: f"(int-to-ascii {g(i)})",
                lambda: f'(default-to "" (slice? {g(s)} {self.small()} {self.small()}))',
                lambda: f'(default-to "z" (element-at? {g(s)} {self.small()}))',
                lambda: f'(default-to "r" (replace-at? {g(s)} {self.small()} "Q"))',
            ],
            "utf8": [
                lambda: f"(concat {g('utf8')} {g('utf8')})",
                lambda: f"(int-to-utf8 {g(i)})",
                lambda: f'(default-to u"" (slice? {g("utf8")} {self.small()} {self.small()}))',
            ],
            "buff": [
                lambda: f"(concat {g(b)} {g(b)})",
                *[
                    lambda h=h: f"({h} {g(r.choice([i, u, b]))})"
                    for h in ("sha256", "keccak256", "sha512", "sha512/256", "hash160")
                ],
                lambda: f"(unwrap-panic (to-consensus-buff? {g(r.choice(SERIALIZED))}))",
                lambda: f"(default-to 0x (slice? {g(b)} {self.small()} {self.small()}))",
                lambda: f"(default-to 0xee (replace-at? {g(b)} {self.small()} 0x01))",
            ],
        }
        return r.choice(forms[t])()

    def gen_compound(self, t: tuple[str, str], d: int) -> str:
        r, kind, et = self.r, t[0], t[1]
        if kind == "opt":
            return r.choice(
                [
                    f"(some {self.gen(et, d + 1)})",
                    f"(element-at? {self.gen(('list', et), d + 1)} {self.small()})",
                ]
            )
        items = [self.gen(et, d + 1) for _ in range(r.randint(1, 4))]
        if d >= 4 or r.random() < 0.5:
            return "(list " + " ".join(items) + ")"
        lst = "(list " + " ".join(items) + ")"
        return r.choice(
            [
                f"(append {lst} {self.gen(et, d + 1)})",
                f"(concat {lst} {lst})",
                f"(default-to {lst} (slice? {lst} {self.small()} {self.small()}))",
            ]
        )

    def top(self) -> str:
        return self.gen(self.r.choice(TOP_TYPES))


def _serialized(r: random.Random) -> tuple[str, bytes]:
    """A type and a serialized value of (mostly) that type."""

    def i16(v: int, signed: bool = True) -> bytes:
        return v.to_bytes(16, "big", signed=signed)

    def n4(n: int) -> bytes:
        return n.to_bytes(4, "big")

    tup = [(b"a", b"\x00" + i16(1)), (b"b", b"\x02" + n4(2) + b"\xab\xcd")]
    r.shuffle(tup)
    tup += r.choice([[], [(b"c", b"\x03")], [(b"b", b"\x03")], [(b"1x", b"\x03")]])
    name = r.choice([b"token", b"x" * 40, b"x" * 41, b"Bad", b"1abc", b"a-b_c", b""])
    choices = [
        ("int", b"\x00" + i16(r.choice([0, -1, IMAX, IMIN]))),
        ("uint", b"\x01" + i16(r.choice([0, UMAX]), False)),
        ("(buff 4)", b"\x02" + n4(n := r.choice([0, 4, 5])) + r.randbytes(n)),
        ("(string-ascii 10)", b"\x0d" + n4(3) + r.choice([b"abc", b"a\x0cb", b"\x7f\x01a"])),
        ("(string-utf8 4)", b"\x0e" + n4(2) + r.choice(["\u00e9".encode(), b"\xc3\x28"])),
        (
            "(list 3 int)",
            b"\x0b" + n4(k := r.randint(0, 4)) + b"".join(b"\x00" + i16(x) for x in range(k)),
        ),
        ("(optional int)", r.choice([b"\x09", b"\x0a\x00" + i16(5), b"\x0a\x01" + i16(5, False)])),
        ("(response int uint)", r.choice([b"\x07\x00" + i16(5), b"\x08\x01" + i16(6, False)])),
        (
            "{a: int, b: (buff 4)}",
            b"\x0c" + n4(len(tup)) + b"".join(bytes([len(k)]) + k + v for k, v in tup),
        ),
        ("principal", b"\x05" + bytes([r.choice([22, 26, 31, 32])]) + r.randbytes(20)),
        ("principal", b"\x06\x1a" + bytes(20) + bytes([len(name)]) + name),
    ]
    return r.choice(choices)


def _mutated(b: bytes, r: random.Random) -> bytes:
    m = r.random()
    if m < 0.5 or not b:
        return b
    if m < 0.65:
        return b[: r.randrange(len(b))]
    if m < 0.8:
        return b + bytes([r.randrange(256)])
    i = r.randrange(len(b))
    return b[:i] + bytes([r.randrange(256)]) + b[i + 1 :]


def _signature_calls(r: random.Random) -> list[str]:
    """secp256k1 calls on a real signature: low and high S, recovery ids right and wrong,
    65th bytes that are not recovery ids, short keys and hashes."""
    priv = r.randrange(1, _N)
    key = _pub(priv)
    h = hashlib.sha256(r.randbytes(8)).digest()
    k = r.randrange(1, _N)
    rp = _pub(k)  # R = k*G, compressed: its x and the parity of its y
    sig_r = int.from_bytes(rp[1:], "big") % _N
    s = pow(k, -1, _N) * (int.from_bytes(h, "big") + sig_r * priv) % _N
    rid = rp[0] & 1
    out = []
    for sv, rv in ((s, rid), (_N - s, rid ^ 1)):
        sig = sig_r.to_bytes(32, "big") + sv.to_bytes(32, "big")
        for tail in (bytes([rv]), b"", bytes([rv ^ 1]), b"\x1b", b"\x04"):
            out.append(f"(secp256k1-recover? 0x{h.hex()} 0x{(sig + tail).hex()})")
            out.append(f"(secp256k1-verify 0x{h.hex()} 0x{(sig + tail).hex()} 0x{key.hex()})")
        out.append(f"(secp256k1-verify 0x{h.hex()} 0x{sig.hex()} 0x{key[:20].hex()})")
        out.append(f"(secp256k1-recover? 0x{h[:20].hex()} 0x{sig.hex()}00)")
    return out


def buffer_expressions(r: random.Random, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        k = r.random()
        if k < 0.6:
            t, b = _serialized(r)
            out.append(f"(from-consensus-buff? {t} 0x{_mutated(b, r).hex()})")
        elif k < 0.9:
            c = (
                f"(principal-construct? 0x{r.choice([22, 26, 20, 0, 31]):02x} "
                f"0x{r.randbytes(r.choice([20, 20, 19, 0])).hex()}"
                + r.choice(["", ' "token"', ' "Bad"', ' "1a"', ' ""', ' "' + "x" * 40 + '"'])
                + ")"
            )
            out.append(r.choice([c, f"(principal-destruct? (unwrap-panic {c}))"]))
        else:
            out.extend(_signature_calls(r))
    return out[:n]


_SKIP = re.compile(
    r"block-height|burn-block|stacks-block|tenure-height|get-block-info|get-stacks-block|"
    r"get-burn-block|tx-sender|contract-caller|as-contract|stx-|contract-call|at-block|"
    r"tx-sponsor|chain-id|is-in-mainnet|current-contract"
)


def _argument(t: str, r: random.Random, depth: int = 0) -> str | None:
    """A random literal of the type ``t`` (as the contract interface writes it)."""
    simple = {
        "int": lambda: str(r.choice([0, 1, -1, 100, 10**6, 2**64, -(2**100), IMAX, IMIN])),
        "uint": lambda: f"u{r.choice([0, 1, 5, 100, 10**6, 10**8, 2**64, UMAX])}",
        "bool": lambda: r.choice(["true", "false"]),
        "principal": lambda: r.choice(
            [
                "'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM",
                "'SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7",
                "'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.token",
            ]
        ),
    }
    if t in simple:
        return simple[t]()
    if m := re.fullmatch(r"\(buff (\d+)\)", t):
        n = min(int(m[1]), r.choice([0, 1, 20, 32, 33, 65, int(m[1])]))
        return "0x" + r.randbytes(n).hex()
    if m := re.fullmatch(r"\(string-ascii (\d+)\)", t):
        n = min(int(m[1]), r.choice([0, 1, 3, 10, int(m[1])]))
        return '"' + "".join(r.choice("abcXYZ019-_ ") for _ in range(n)) + '"'
    if (m := re.fullmatch(r"\(list (\d+) (.+)\)", t)) and depth < 2:
        items = [_argument(m[2], r, depth + 1) for _ in range(min(int(m[1]), r.randint(0, 3)))]
        if any(i is None for i in items):
            return None
        return "(list " + " ".join(i for i in items if i) + ")"
    if (m := re.fullmatch(r"\(optional (.+)\)", t)) and depth < 2:
        v = _argument(m[1], r, depth + 1)
        return None if v is None else r.choice(["none", f"(some {v})"])
    return None


def contract_runs(
    snapshot: Path, r: random.Random, contracts: int, per_fn: int
) -> tuple[list[str], list[tuple[ClarityVM, str, str]]]:
    """(oracle programs, (VM, our expression, label)) for real contracts' read-only calls."""
    from clarity_deployed_sample import Snapshot  # beside this file

    from funai.clarity.project import references, soft_references

    snap = Snapshot(snapshot)
    keys = sorted(snap.paths)
    r.shuffle(keys)
    programs: list[str] = []
    ours: list[tuple[ClarityVM, str, str]] = []
    used = 0
    for cid in keys:
        if used >= contracts:
            break
        src = snap.source(cid)
        if not src or len(src) > 60_000 or _SKIP.search(src):
            continue
        issuer = cid.rsplit(".", 1)[0]
        if soft_references(src, issuer) or any(
            x.contract_id != cid for x in references(src, issuer)
        ):
            continue
        vm = ClarityVM()
        try:
            deployed = vm.deploy("c", src)
        except (ClarityAnalysisError, ClarityRuntimeError):
            continue
        functions = (vm.interface(deployed.contract_id) or {}).get("functions", [])
        used += 1
        for fn in (f for f in functions if f["access"] == "read_only"):
            for _ in range(per_fn):
                args = [_argument(a["type"], r) for a in fn["args"]]
                if any(a is None for a in args):
                    break
                call = " ".join([fn["name"], *(a for a in args if a)])
                programs.append(f"{src}\n(to-consensus-buff? ({call}))")
                ours.append((vm, f"(to-consensus-buff? (contract-call? .c {call}))", cid))
    return programs, ours


def compare(
    oracle: str, epoch: str, programs: list[str], ours: list[tuple[ClarityVM, str, str]]
) -> int:
    """Runs both sides; prints each divergence; returns how many."""
    out = subprocess.run(
        [oracle],
        input="\n;;;;\n".join(programs) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "ORACLE_EPOCH": epoch},
        check=True,
    ).stdout.splitlines()
    assert len(out) == len(programs), (len(out), len(programs))
    diverged = 0
    for (vm, expr, label), answer in zip(ours, out, strict=True):
        try:
            got = vm.eval(expr)
            mine = ("OK", got.result) if got.result is not None else ("ERR", got.error or "")
        except ClarityAnalysisError as exc:
            mine = ("ANALYSIS", str(exc))
        ref = ("OK", answer.split(" ", 2)[2]) if answer.startswith("OK ") else ("ERR", answer)
        vm.new_block()
        if mine[0] != ref[0] or (mine[0] == "OK" and mine[1] != ref[1]):
            diverged += 1
            print(
                f"{label}: {expr[:160]}\n  here:      {mine[0]} {mine[1][:160]}\n"
                f"  reference: {ref[1][:160]}"
            )
    return diverged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("oracle")
    ap.add_argument("mode", choices=["expressions", "buffers", "contracts"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-n", type=int, default=3000, help="expressions, or contracts to call")
    ap.add_argument("--snapshot", type=Path, help="clarity-deployed-contracts git dir")
    ap.add_argument("--epoch", default="3.4", help="the reference's epoch (this VM's: 3.4)")
    args = ap.parse_args(argv)
    r = random.Random(args.seed)
    if args.mode == "contracts":
        if args.snapshot is None:
            ap.error("contracts needs --snapshot")
        programs, ours = contract_runs(args.snapshot, r, args.n, 3)
    else:
        vm = ClarityVM()
        if args.mode == "expressions":
            gen = Expressions(r)
            exprs = [gen.top() for _ in range(args.n)]
        else:
            exprs = buffer_expressions(r, args.n)
        programs = [f"(to-consensus-buff? {e})" for e in exprs]
        ours = [(vm, p, args.mode) for p in programs]
    diverged = compare(args.oracle, args.epoch, programs, ours)
    print(f"{len(programs)} compared, {diverged} divergent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
