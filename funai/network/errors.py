"""Errors raised by the network layer."""

from __future__ import annotations

from funai.errors import FunaiError, MalformedInputError

__all__ = ["HandshakeError", "Misbehaviour", "ProtocolError"]


class ProtocolError(MalformedInputError):
    """A peer broke the wire protocol; ``score`` is the misbehaviour it costs (100 = ban)."""

    def __init__(self, reason: str, detail: str = "", *, score: int = 100) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.score = score


class HandshakeError(FunaiError):
    """The handshake failed (wrong network, genesis, version or signature)."""

    def __init__(self, reason: str, detail: str = "", *, score: int = 0) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.score = score


class Misbehaviour(FunaiError):  # noqa: N818 (the protocol's own word)
    """Valid framing but bad content (invalid block, unrequested data, ...)."""

    def __init__(self, reason: str, score: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.score = score
