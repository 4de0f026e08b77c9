"""A Clarity 2 smart-contract VM (Rust, ``funai._core``) with a pluggable state store.

See ``docs/clarity.md``. The main entry point is :class:`ClarityVM`.
"""

from __future__ import annotations

from funai.clarity.chain import ChainView, SimpleChain
from funai.clarity.errors import (
    ClarityAnalysisError,
    ClarityError,
    ClarityRuntimeError,
    Diagnostic,
)
from funai.clarity.principals import (
    VERSION_MAINNET,
    VERSION_TESTNET,
    contract_principal,
    decode_principal,
    principal_from_hash160,
    version_for_network,
)
from funai.clarity.store import HistoricalStore, MemoryStore, StateStore
from funai.clarity.vm import (
    DEFAULT_SENDER,
    Call,
    CallBatch,
    CallResult,
    ClarityVM,
    Deployment,
    ascii_,
    int_,
    literal,
    principal,
    uint,
)

__all__ = [
    "DEFAULT_SENDER",
    "VERSION_MAINNET",
    "VERSION_TESTNET",
    "Call",
    "CallBatch",
    "CallResult",
    "ChainView",
    "ClarityAnalysisError",
    "ClarityError",
    "ClarityRuntimeError",
    "ClarityVM",
    "Deployment",
    "Diagnostic",
    "HistoricalStore",
    "MemoryStore",
    "SimpleChain",
    "StateStore",
    "ascii_",
    "contract_principal",
    "decode_principal",
    "int_",
    "literal",
    "principal",
    "principal_from_hash160",
    "uint",
    "version_for_network",
]
