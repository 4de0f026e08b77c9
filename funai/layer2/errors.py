"""L2 rule errors: every violated rule has a machine-readable name (``docs/layer2.md``)."""

from __future__ import annotations

from funai.ledger.errors import ConsensusError

__all__ = ["L2Error"]


class L2Error(ConsensusError):
    """An L2 message, transaction or block breaks the rule named ``rule``; nothing changed."""
