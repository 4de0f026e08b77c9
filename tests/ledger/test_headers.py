"""Header rules: compact targets, retarget, PoW, MTP, future time, versions, linkage; the real
Bitcoin headers (Rust and pure-Python validators) and tampered copies; the CLI."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from funai import _core
from funai.cli import app
from funai.hashing import sha256d
from funai.ledger.compact import (
    block_work,
    decode_compact,
    encode_compact,
    median_time_past,
    retarget,
)
from funai.ledger.errors import HeaderChainError
from funai.ledger.header import BlockHeader
from funai.ledger.headerchain import (
    verify_headers,
    verify_headers_python,
    verify_headers_rust,
)
from funai.ledger.params import BITCOIN, DEVNET, NETWORKS, REGTEST, HeaderRules

START = 822_528
FILE = "bitcoin-mainnet-headers-822528-830592.bin"
BACKENDS = [verify_headers_python, verify_headers_rust]


@pytest.fixture(scope="module")
def real_headers(vectors_dir: Path) -> bytes:
    path = vectors_dir / FILE
    assert path.is_file(), f"missing test vector {path}"
    data = path.read_bytes()
    assert len(data) == 8065 * 80
    return data


# --- compact encoding -------------------------------------------------------------------

# (bits, target, re-encoded bits, negative, overflow): Bitcoin Core's arith_uint256 tests.
COMPACT_CASES = [
    (0x00000000, 0, 0, False, False),
    (0x00123456, 0, 0, False, False),
    (0x01003456, 0, 0, False, False),
    (0x02000056, 0, 0, False, False),
    (0x03000000, 0, 0, False, False),
    (0x04000000, 0, 0, False, False),
    (0x00923456, 0, 0, False, False),
    (0x01803456, 0, 0, False, False),
    (0x02800056, 0, 0, False, False),
    (0x03800000, 0, 0, False, False),
    (0x04800000, 0, 0, False, False),
    (0x01123456, 0x12, 0x01120000, False, False),
    (0x02123456, 0x1234, 0x02123400, False, False),
    (0x03123456, 0x123456, 0x03123456, False, False),
    (0x04123456, 0x12345600, 0x04123456, False, False),
    (0x04923456, 0x12345600, 0x04123456, True, False),
    (0x05009234, 0x92340000, 0x05009234, False, False),
    (0x20123456, 0x123456 << 232, 0x20123456, False, False),
]


@pytest.mark.parametrize(("bits", "target", "back", "negative", "overflow"), COMPACT_CASES)
def test_compact_matches_bitcoin_core(
    bits: int, target: int, back: int, negative: bool, overflow: bool
) -> None:
    d = decode_compact(bits)
    assert (d.target, d.negative, d.overflow) == (target, negative, overflow)
    assert encode_compact(d.target) == back
    rust_target, rust_neg, rust_over = _core.compact_decode(bits)
    assert (int.from_bytes(rust_target, "little"), rust_neg, rust_over) == (
        target,
        negative,
        overflow,
    )


def test_compact_overflow_flags() -> None:
    assert decode_compact(0xFF123456).overflow
    assert decode_compact(0x23000001).overflow  # size > 34
    assert not decode_compact(0x22000001).overflow  # 1 << 248 fits
    assert decode_compact(0x22000100).overflow  # word > 0xff and size > 33
    assert not decode_compact(0x21000100).overflow
    assert decode_compact(0x21010000).overflow  # word > 0xffff and size > 32
    assert not decode_compact(0x20010000).overflow
    assert encode_compact(0x80) == 0x02008000  # sign bit forces one more size byte


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_compact_encode_python_equals_rust(target: int) -> None:
    bits = encode_compact(target)
    assert _core.compact_encode(target.to_bytes(32, "little")) == bits
    # Decoding loses precision below the top 23 bits but never increases the target.
    assert decode_compact(bits).target <= target
    assert not decode_compact(bits).negative


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_compact_decode_python_equals_rust(bits: int) -> None:
    d = decode_compact(bits)
    t, neg, over = _core.compact_decode(bits)
    assert (int.from_bytes(t, "little"), neg, over) == (d.target, d.negative, d.overflow)


# --- retarget ---------------------------------------------------------------------------

TS = 2016 * 600


@pytest.mark.parametrize(
    ("bits", "first", "last", "expected"),
    [  # Bitcoin Core's pow_tests.cpp
        (0x1D00FFFF, 1261130161, 1262152739, 0x1D00D86A),  # get_next_work
        (0x1D00FFFF, 1231006505, 1233061996, 0x1D00FFFF),  # capped at the PoW limit
        (0x1C05A3F4, 1279008237, 1279297671, 0x1C0168FD),  # lower clamp (actual < timespan/4)
        (0x1C387F6F, 1263163443, 1269211443, 0x1D00E1FD),  # upper clamp (actual > 4 timespan)
    ],
)
def test_retarget_matches_bitcoin_core(bits: int, first: int, last: int, expected: int) -> None:
    assert retarget(bits, first, last, TS, BITCOIN.pow_limit) == expected
    limit = BITCOIN.pow_limit.to_bytes(32, "little")
    assert _core.retarget_bits(bits, first, last, TS, limit) == expected


def test_retarget_clamps_are_four_times() -> None:
    bits = 0x1C387F6F
    t = decode_compact(bits).target
    assert retarget(bits, 0, 1, TS, BITCOIN.pow_limit) == encode_compact(t * (TS // 4) // TS)
    assert retarget(bits, 0, 10**9, TS, BITCOIN.pow_limit) == encode_compact(t * 4)
    # The clamped results are the same as exactly 4x faster / slower.
    assert retarget(bits, 0, 1, TS, BITCOIN.pow_limit) == retarget(
        bits, 0, TS // 4, TS, BITCOIN.pow_limit
    )
    assert retarget(bits, 0, 10**9, TS, BITCOIN.pow_limit) == retarget(
        bits, 0, TS * 4, TS, BITCOIN.pow_limit
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0x1A000001, max_value=0x1D00FFFF),
    st.integers(min_value=-(10**7), max_value=10**8),
)
def test_retarget_python_equals_rust(bits: int, span: int) -> None:
    limit = BITCOIN.pow_limit
    assert retarget(bits, 10**9, 10**9 + span, TS, limit) == _core.retarget_bits(
        bits, 10**9, 10**9 + span, TS, limit.to_bytes(32, "little")
    )


def test_params_avoid_retarget_overflow() -> None:
    """Exact arithmetic equals Bitcoin's 256-bit one when pow_limit * 4 * timespan < 2^256."""
    for p in NETWORKS.values():
        assert p.pow_limit * 4 * p.rules.target_timespan < 2**256 or not p.rules.retarget
        assert decode_compact(p.genesis_bits).target <= p.pow_limit


def test_work_and_median() -> None:
    assert block_work(decode_compact(0x1D00FFFF).target) == 0x100010001
    assert median_time_past([5, 1, 3]) == 3
    assert median_time_past([4, 1, 3, 2]) == 3


# --- the real Bitcoin headers -------------------------------------------------------------


@pytest.mark.parametrize("check", BACKENDS)
def test_real_headers_pass(real_headers: bytes, check: object) -> None:
    assert callable(check)
    check(real_headers, BITCOIN, START)


def test_real_headers_contain_four_checked_retargets(real_headers: bytes) -> None:
    result = verify_headers(real_headers, BITCOIN, START)
    assert result.count == 8065
    assert result.unchecked_retargets == 0
    boundaries = [h for h in range(START + 1, START + 8065) if h % 2016 == 0]
    assert boundaries == [824544, 826560, 828576, 830592]
    bits = [
        int.from_bytes(real_headers[(h - START) * 80 + 72 : (h - START) * 80 + 76], "little")
        for h in [START, *boundaries]
    ]
    assert len(set(bits)) == 5  # every retarget changed the difficulty


def _tamper(data: bytes, height: int, offset: int, new: bytes) -> bytes:
    i = (height - START) * 80 + offset
    out = bytearray(data)
    assert bytes(out[i : i + len(new)]) != new
    out[i : i + len(new)] = new
    return bytes(out)


def _flip(data: bytes, height: int, offset: int) -> bytes:
    i = (height - START) * 80 + offset
    return _tamper(data, height, offset, bytes([data[i] ^ 0x01]))


# (height, how) for a spread of fields and heights, including the first and last header and
# the retarget boundaries.
TAMPERS = [
    (START, "nonce"),
    (START + 1, "version"),
    (START + 700, "prev"),
    (824_544, "bits"),
    (824_545, "merkle"),
    (826_559, "time"),
    (826_560, "bits"),
    (828_000, "nonce"),
    (828_576, "time"),
    (830_000, "merkle"),
    (830_591, "bits"),
    (830_592, "nonce"),
]


def _apply(data: bytes, height: int, how: str) -> bytes:
    offsets = {"version": 0, "prev": 10, "merkle": 40, "time": 68, "bits": 72, "nonce": 76}
    if how == "bits":  # a plausible lie: the previous difficulty (or slightly easier)
        i = (height - START) * 80 + 72
        old = int.from_bytes(data[i : i + 4], "little")
        return _tamper(data, height, 72, struct.pack("<I", old + 1))
    return _flip(data, height, offsets[how])


@pytest.mark.parametrize(("height", "how"), TAMPERS)
@pytest.mark.parametrize("check", BACKENDS)
def test_tampered_header_fails_at_its_height(
    real_headers: bytes, height: int, how: str, check: object
) -> None:
    assert callable(check)
    bad = _apply(real_headers, height, how)
    with pytest.raises(HeaderChainError) as info:
        check(bad, BITCOIN, START)
    assert info.value.height == height, info.value


def test_retarget_boundary_with_valid_pow_but_wrong_bits_is_caught(real_headers: bytes) -> None:
    """Keep the real header at 824544 but claim the old difficulty: bits rule, not PoW."""
    i = (824_544 - START) * 80
    old_bits = real_headers[i - 80 + 72 : i - 80 + 76]
    bad = _tamper(real_headers, 824_544, 72, old_bits)
    for check in BACKENDS:
        with pytest.raises(HeaderChainError) as info:
            check(bad, BITCOIN, START)
        assert (info.value.height, info.value.rule) == (824_544, "bad-diffbits")


def test_wrong_start_height_fails(real_headers: bytes) -> None:
    with pytest.raises(HeaderChainError) as info:
        verify_headers(real_headers, BITCOIN, START + 1)
    assert info.value.rule == "bad-diffbits"


def test_truncated_file_is_malformed(real_headers: bytes) -> None:
    from funai.errors import MalformedInputError

    with pytest.raises(MalformedInputError):
        verify_headers(real_headers[:-1], BITCOIN, START)


def test_prev_hash_anchor(real_headers: bytes) -> None:
    actual_prev = real_headers[4:36]
    verify_headers(real_headers[:800], BITCOIN, START, prev_hash=actual_prev)
    with pytest.raises(HeaderChainError) as info:
        verify_headers(real_headers[:800], BITCOIN, START, prev_hash=bytes(32))
    assert (info.value.height, info.value.rule) == (START, "bad-prevblk")


# --- synthetic chains for the time and version rules ---------------------------------------


def _chain(rules: HeaderRules, times: list[int], bits: int, version: int = 1) -> bytes:
    out = b""
    prev = bytes(32)
    for t in times:
        h = BlockHeader(version, prev, bytes(32), t, bits, 0)
        target = decode_compact(bits).target
        nonce = 0
        while int.from_bytes(h.with_nonce(nonce).hash(), "little") > target:
            nonce += 1
        h = h.with_nonce(nonce)
        out += h.serialize()
        prev = h.hash()
    return out


REG = REGTEST.rules


@pytest.mark.parametrize("check", BACKENDS)
def test_median_time_past_rule(check: object) -> None:
    assert callable(check)
    times = [1000 + 10 * i for i in range(12)]
    check(_chain(REG, times, 0x207FFFFF), REG, 1)
    bad = [*times[:11], 1050]  # median of the previous 11 is 1050: not strictly after
    with pytest.raises(HeaderChainError) as info:
        check(_chain(REG, bad, 0x207FFFFF), REG, 1)
    assert (info.value.height, info.value.rule) == (12, "time-too-old")


@pytest.mark.parametrize("check", BACKENDS)
def test_future_time_rule(check: object) -> None:
    assert callable(check)
    now = 10_000
    ok = _chain(REG, [now - 5, now + 7200], 0x207FFFFF)
    check(ok, REG, 1, now=now)
    bad = _chain(REG, [now - 5, now + 7201], 0x207FFFFF)
    with pytest.raises(HeaderChainError) as info:
        check(bad, REG, 1, now=now)
    assert (info.value.height, info.value.rule) == (2, "time-too-new")


@pytest.mark.parametrize("check", BACKENDS)
def test_version_rule(check: object) -> None:
    assert callable(check)
    rules = dataclasses.replace(REG, min_versions=((0, 1), (5, 2)))
    data = _chain(rules, [1000 + i for i in range(6)], 0x207FFFFF, version=1)
    with pytest.raises(HeaderChainError) as info:
        check(data, rules, 0)
    assert (info.value.height, info.value.rule) == (5, "bad-version")


@pytest.mark.parametrize("check", BACKENDS)
def test_bits_must_not_change_between_retargets(check: object) -> None:
    assert callable(check)
    a = _chain(REG, [1000, 1001], 0x207FFFFF)
    b = _chain(REG, [1002], 0x207FFFFE)
    # Relink b to a.
    hb = BlockHeader.parse(b)
    hb = dataclasses.replace(hb, prev_hash=sha256d(a[80:]))
    target = decode_compact(hb.bits).target
    nonce = 0
    while int.from_bytes(hb.with_nonce(nonce).hash(), "little") > target:
        nonce += 1
    data = a + hb.with_nonce(nonce).serialize()
    with pytest.raises(HeaderChainError) as info:
        check(data, REG, 1)
    assert (info.value.height, info.value.rule) == (3, "bad-diffbits")


@pytest.mark.parametrize("check", BACKENDS)
def test_target_above_limit_rejected(check: object) -> None:
    assert callable(check)
    data = _chain(REG, [1000], 0x2100FFFF)  # easier than regtest's limit
    with pytest.raises(HeaderChainError) as info:
        check(data, REG, 1)
    assert info.value.rule == "bad-target"


@pytest.mark.parametrize("check", BACKENDS)
def test_timewarp_rule(check: object) -> None:
    """devnet: the first block of a period may not be > 600 s older than its parent."""
    assert callable(check)
    rules = dataclasses.replace(DEVNET.rules, pow_limit=REGTEST.pow_limit)
    base = [10_000 + i for i in range(35)] + [20_000]  # heights 0..35; a jump at the end
    data = _chain(rules, base, 0x207FFFFF)
    new_bits = retarget(0x207FFFFF, base[0], base[-1], rules.target_timespan, rules.pow_limit)

    def child(t: int) -> bytes:
        h = BlockHeader(1, sha256d(data[-80:]), bytes(32), t, new_bits, 0)
        target = decode_compact(new_bits).target
        nonce = 0
        while int.from_bytes(h.with_nonce(nonce).hash(), "little") > target:
            nonce += 1
        return data + h.with_nonce(nonce).serialize()

    check(child(20_000 - 600), rules, 0)  # exactly the grace: fine
    with pytest.raises(HeaderChainError) as info:
        check(child(20_000 - 601), rules, 0)
    assert (info.value.height, info.value.rule) == (36, "time-timewarp-attack")


# --- the CLI ----------------------------------------------------------------------------

runner = CliRunner()


def test_cli_accepts_real_file(vectors_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "headers",
            "verify",
            str(vectors_dir / FILE),
            "--params",
            "bitcoin",
            "--start-height",
            str(START),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "8065 headers" in result.output
    assert "4 retargets checked" in result.output


@pytest.mark.parametrize(("height", "how"), TAMPERS[::3])
def test_cli_rejects_tampered_file(
    real_headers: bytes, tmp_path: Path, height: int, how: str
) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(_apply(real_headers, height, how))
    result = runner.invoke(
        app, ["headers", "verify", str(path), "--params", "bitcoin", "--start-height", str(START)]
    )
    assert result.exit_code == 1
    assert f"height {height}" in result.output
