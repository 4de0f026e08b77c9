"""Consensus parameters of each network, and the ``bitcoin`` header-rule set.

* ``main``: 600 s spacing, 2016-block retarget, 100-block coinbase maturity.
* ``test``: as ``main`` with its own genesis block and ``tfai`` addresses.
* ``devnet``: 5 s spacing, retarget every 36 blocks, 10-block maturity.
* ``regtest``: minimum difficulty (about two hashes a block), no retarget, 10-block maturity.
* ``bitcoin``: header rules only (:class:`HeaderRules`), Bitcoin mainnet's, used to check the
  header validator against real data (``funai headers verify --params bitcoin``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from funai.ledger.compact import decode_compact

__all__ = [
    "BITCOIN",
    "DEVNET",
    "MAIN",
    "NETWORKS",
    "REGTEST",
    "TEST",
    "ChainParams",
    "HeaderRules",
    "get_params",
    "header_rules",
]


@dataclass(frozen=True, slots=True)
class HeaderRules:
    """The rules a header chain obeys (everything :mod:`funai.ledger.headerchain` checks)."""

    name: str
    pow_limit: int
    retarget_interval: int
    target_spacing: int
    retarget: bool
    # (height, minimum version) pairs, ascending: from that height on, version >= minimum.
    min_versions: tuple[tuple[int, int], ...] = ((0, 1),)
    max_future_seconds: int = 2 * 60 * 60
    mtp_span: int = 11
    # BIP54-style time-warp fix: the first block of a retarget period may not be more than
    # this many seconds older than its parent (``None``: no such rule, as Bitcoin today).
    timewarp_grace: int | None = None

    @property
    def target_timespan(self) -> int:
        """Seconds one retarget period should take."""
        return self.retarget_interval * self.target_spacing

    def min_version(self, height: int) -> int:
        """The minimum header version at ``height``."""
        minimum = -(2**31)
        for start, version in self.min_versions:
            if height >= start:
                minimum = version
        return minimum


@dataclass(frozen=True, slots=True)
class ChainParams:
    """A FUN AI network: header rules, block rules, economics and its genesis block."""

    name: str
    hrp: str
    rules: HeaderRules
    genesis_time: int
    genesis_bits: int
    genesis_nonce: int
    genesis_message: bytes
    coinbase_maturity: int
    max_block_size: int = 1_000_000
    halving_interval: int = 2_100_000
    max_orphans: int = 100
    min_relay_fee_rate: int = 1  # base units per byte
    mempool_max_bytes: int = 50_000_000
    extra: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def pow_limit(self) -> int:
        return self.rules.pow_limit


# Bitcoin mainnet: powLimit = 0x00000000ffff... (bits 0x1d00ffff). Minimum versions from
# BIP34 (v2), BIP66 (v3) and BIP65 (v4) activation heights.
BITCOIN = HeaderRules(
    name="bitcoin",
    pow_limit=decode_compact(0x1D00FFFF).target,
    retarget_interval=2016,
    target_spacing=600,
    retarget=True,
    min_versions=((0, 1), (227_931, 2), (363_725, 3), (388_381, 4)),
)

_MAIN_POW_LIMIT = decode_compact(0x1E00FFFF).target  # 0xffff << 216: about 2^24 hashes

MAIN = ChainParams(
    name="main",
    hrp="fai",
    rules=HeaderRules(
        name="main",
        pow_limit=_MAIN_POW_LIMIT,
        retarget_interval=2016,
        target_spacing=600,
        retarget=True,
        timewarp_grace=7200,
    ),
    genesis_time=1_767_225_600,  # 2026-01-01T00:00:00Z
    genesis_bits=0x1E00FFFF,
    genesis_nonce=729_217,
    genesis_message=b"FUN AI main: formlessness, unfeelingness, namelessness",
    coinbase_maturity=100,
)

TEST = ChainParams(
    name="test",
    hrp="tfai",
    rules=HeaderRules(
        name="test",
        pow_limit=_MAIN_POW_LIMIT,
        retarget_interval=2016,
        target_spacing=600,
        retarget=True,
        timewarp_grace=7200,
    ),
    genesis_time=1_767_225_601,
    genesis_bits=0x1E00FFFF,
    genesis_nonce=28_564_137,
    genesis_message=b"FUN AI test network",
    coinbase_maturity=100,
)

DEVNET = ChainParams(
    name="devnet",
    hrp="tfai",
    rules=HeaderRules(
        name="devnet",
        pow_limit=decode_compact(0x1F00FFFF).target,  # 0xffff << 224
        retarget_interval=36,
        target_spacing=5,
        retarget=True,
        timewarp_grace=600,
    ),
    genesis_time=1_767_225_602,
    genesis_bits=0x1E0FFFFF,  # about 2^20 hashes
    genesis_nonce=1_400_163,
    genesis_message=b"FUN AI devnet",
    coinbase_maturity=10,
)

REGTEST = ChainParams(
    name="regtest",
    hrp="tfai",
    rules=HeaderRules(
        name="regtest",
        pow_limit=decode_compact(0x207FFFFF).target,  # 0x7fffff << 232: about 2 hashes
        retarget_interval=2016,
        target_spacing=600,
        retarget=False,
    ),
    genesis_time=1_767_225_603,
    genesis_bits=0x207FFFFF,
    genesis_nonce=1,
    genesis_message=b"FUN AI regtest",
    coinbase_maturity=10,
)

NETWORKS: dict[str, ChainParams] = {p.name: p for p in (MAIN, TEST, DEVNET, REGTEST)}


def get_params(name: str) -> ChainParams:
    """The network named ``name`` (``main``, ``test``, ``devnet``, ``regtest``)."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r} (one of {', '.join(NETWORKS)})") from None


def header_rules(name: str) -> HeaderRules:
    """Header rules by name: a network's, or ``bitcoin``."""
    if name == "bitcoin":
        return BITCOIN
    return get_params(name).rules
