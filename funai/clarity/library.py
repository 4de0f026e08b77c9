"""Clarity library contracts shipped with the package (``funai/clarity/contracts``).

``fai-l1-proofs``: prove that a FAI ledger (L1) transaction was mined in a ledger block
(docs/clarity.md, "Verifying L1 transactions").
"""

from __future__ import annotations

from importlib import resources

__all__ = ["LIBRARY", "library_source"]

#: Names of the shipped library contracts.
LIBRARY = ("fai-l1-proofs",)


def library_source(name: str) -> str:
    """The source of a shipped library contract."""
    if name not in LIBRARY:
        raise KeyError(f"no library contract {name!r} (have: {', '.join(LIBRARY)})")
    return (resources.files("funai.clarity") / "contracts" / f"{name}.clar").read_text("utf-8")
