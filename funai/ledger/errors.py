"""Ledger validation errors: every consensus rule has a machine-readable name.

The names follow Bitcoin Core's reject reasons where a rule is Bitcoin's (``high-hash``,
``bad-diffbits``, ``bad-txns-inputs-missingorspent`` ...), so each rule can be found by name in
the code, the tests and ``docs/ledger.md``.
"""

from __future__ import annotations

from funai.errors import VerificationError

__all__ = ["ConsensusError", "HeaderChainError", "MempoolError"]


class ConsensusError(VerificationError):
    """A block, header or transaction breaks the consensus rule named ``rule``."""

    def __init__(self, rule: str, detail: str = "", *, height: int | None = None) -> None:
        self.rule = rule
        self.detail = detail
        self.height = height
        where = f" at height {height}" if height is not None else ""
        super().__init__(f"{rule}{where}" + (f": {detail}" if detail else ""))


class HeaderChainError(ConsensusError):
    """A header in a batch of consecutive headers breaks ``rule`` at ``height``."""

    height: int

    def __init__(self, rule: str, detail: str, *, height: int) -> None:
        super().__init__(rule, detail, height=height)


class MempoolError(ConsensusError):
    """A transaction is refused by the mempool (policy or consensus), named by ``rule``."""
