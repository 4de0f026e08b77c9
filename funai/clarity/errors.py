"""Exceptions of the Clarity VM."""

from __future__ import annotations

from dataclasses import dataclass

from funai.errors import FunaiError

__all__ = ["ClarityAnalysisError", "ClarityError", "ClarityRuntimeError", "Diagnostic"]


@dataclass(frozen=True)
class Diagnostic:
    """One analysis error at a 1-based line and column."""

    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.col}: {self.message}"


class ClarityError(FunaiError):
    """Base class of the Clarity VM's errors."""


class ClarityAnalysisError(ClarityError):
    """A contract, expression or argument failed parsing or type checking."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(str(d) for d in diagnostics) or "analysis failed")


class ClarityRuntimeError(ClarityError):
    """A deploy aborted at runtime (its writes were not applied)."""
