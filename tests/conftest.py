"""Fixtures shared by the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[2] / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The shared test-vector directory (``../shared/vectors``). Missing vectors fail the
    tests that need them; they are never skipped."""
    assert VECTORS_DIR.is_dir(), f"test vectors not found at {VECTORS_DIR}"
    return VECTORS_DIR
