"""Miner templates: extra-nonce rolling, retargets through the chainstate, genesis blocks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from funai.ledger.compact import decode_compact, encode_compact, hash_to_int, retarget
from funai.ledger.genesis import genesis_block
from funai.ledger.miner import build_template, solve, with_extra_nonce
from funai.ledger.params import NETWORKS, REGTEST, HeaderRules
from funai.ledger.validation import check_block
from tests.ledger.ledger_kit import SK_A, Kit, grind, pkh_out


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_genesis_blocks_are_valid(name: str) -> None:
    params = NETWORKS[name]
    genesis = genesis_block(params)
    check_block(genesis, params)
    assert hash_to_int(genesis.hash()) <= decode_compact(params.genesis_bits).target


def test_extra_nonce_changes_merkle_root(kit: Kit) -> None:
    template = build_template(kit.chain, None, pkh_out(SK_A, 0))
    rolled = with_extra_nonce(template, b"\x01")
    assert rolled.block.header.merkle_root != template.block.header.merkle_root
    assert rolled.block.txs[0].coinbase.extra_nonce == b"\x01"  # type: ignore[union-attr]
    block = solve(rolled, chunk=1 << 12)
    assert block is not None
    kit.tick()
    assert kit.chain.submit_block(block) == "connected"


def _retarget_params() -> object:
    rules = HeaderRules(
        name="retarget-test",
        pow_limit=REGTEST.pow_limit,
        retarget_interval=4,
        target_spacing=600,
        retarget=True,
        timewarp_grace=7200,
    )
    params = dataclasses.replace(
        REGTEST, name="retarget-test", rules=rules, genesis_bits=0x200FFFFF
    )
    nonce = 0
    while hash_to_int(genesis_block(dataclasses.replace(params, genesis_nonce=nonce)).hash()) > (
        decode_compact(0x200FFFFF).target
    ):
        nonce += 1
    return dataclasses.replace(params, genesis_nonce=nonce)


def test_retarget_through_chainstate(tmp_path: Path) -> None:
    params = _retarget_params()
    k = Kit(tmp_path / "r.sqlite", params, [REGTEST.genesis_time])  # type: ignore[arg-type]
    for _ in range(3):  # heights 1..3, one a minute: 10x too fast
        k.clock[0] += 60
        template = build_template(k.chain, None, pkh_out(SK_A, 0))
        block = solve(template, chunk=1 << 12)
        assert block is not None
        k.chain.submit_block(block)
    k.clock[0] += 60
    template = build_template(k.chain, None, pkh_out(SK_A, 0))
    g = k.chain.block_at(0)
    last = k.chain.block_at(3)
    assert g is not None
    assert last is not None
    want = retarget(0x200FFFFF, g.header.time, last.header.time, 2400, REGTEST.pow_limit)
    assert template.block.header.bits == want != 0x200FFFFF
    old = decode_compact(0x200FFFFF).target
    assert want == encode_compact(old * 600 // 2400)  # clamped to a quarter of the span
    stale = template.block.with_header(
        grind(dataclasses.replace(template.block.header, bits=0x200FFFFF))
    )
    k.expect_reject(stale, "bad-diffbits")
    block = solve(template, chunk=1 << 12)
    assert block is not None
    assert k.chain.submit_block(block) == "connected"
    k.chain.close()


def test_miner_waits_when_block_times_run_ahead(kit: Kit) -> None:
    """Mining faster than the median-time-past rule lets time advance pushes block times
    ahead of the clock; past max_future_seconds a mined block would be refused
    (time-too-new), so the miner must wait instead (too_early)."""
    from funai.ledger.errors import ConsensusError
    from funai.ledger.miner import too_early

    kit.mine_many(12)
    template = build_template(kit.chain, None, pkh_out(SK_A, 0))
    assert too_early(template, kit.chain) == 0
    # the clock falls behind the chain's median time past by more than 2 h
    mtp = kit.chain.median_time_past(kit.chain.tip)
    kit.clock[0] = mtp - REGTEST.rules.max_future_seconds - 100
    template = build_template(kit.chain, None, pkh_out(SK_A, 0))
    wait = too_early(template, kit.chain)
    assert template.block.header.time == mtp + 1
    assert wait == 101
    block = solve(template, chunk=1 << 12)
    assert block is not None
    tip = kit.chain.tip.hash
    with pytest.raises(ConsensusError, match="time-too-new"):
        kit.chain.submit_block(block)
    assert kit.chain.tip.hash == tip
    kit.clock[0] += wait
    assert too_early(template, kit.chain) == 0
    kit.chain.submit_block(block)
    assert kit.chain.tip.hash == block.hash()
