"""The one exception hierarchy of FUN AI.

Errors raised by the Rust core (``funai._core``) arrive as these classes, never as panics.
"""

from __future__ import annotations

__all__ = ["CancelledError", "FunaiError", "MalformedInputError", "VerificationError"]


class FunaiError(Exception):
    """Base class of every error that FUN AI raises on purpose."""


class MalformedInputError(FunaiError, ValueError):
    """Input is not well formed: wrong length, non-canonical encoding, invalid point."""


class VerificationError(FunaiError):
    """Well-formed input that does not verify: a bad proof or signature."""


class CancelledError(FunaiError):
    """A long computation was cancelled before it finished."""
