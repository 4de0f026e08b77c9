"""Merkle inclusion proofs of L1 transactions, for the Clarity library ``fai-l1-proofs``.

The ledger's transaction tree (``funai._core.merkle_root``): leaf ``SHA-256d(0x00 || txid)``,
node ``SHA-256d(0x01 || left || right)``, an odd last node moves up unchanged. A proof is the
list of ``(sibling, sibling_is_left)`` from the leaf up, one step per level where the path
has a sibling (none where its node was promoted).

:func:`tx_proof` bundles what a contract needs (ledger height, the 80-byte header, the
transaction decoded, the path) and renders it as Clarity arguments
(:meth:`TxProof.clarity_args`) or JSON (:meth:`TxProof.to_json`, the node API's
``GET /v1/l1/tx/{txid}/proof``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funai.errors import MalformedInputError
from funai.hashing import sha256d
from funai.ledger.block import Block
from funai.ledger.tx import Transaction

if TYPE_CHECKING:
    from funai.ledger.chainstate import Chainstate

__all__ = [
    "MAX_PROOF_INPUTS",
    "MAX_PROOF_OUTPUTS",
    "TxProof",
    "clarity_proof",
    "clarity_tx",
    "find_tx_proof",
    "merkle_proof",
    "root_from_proof",
    "tx_proof",
]

#: The library contract's list bounds (a transaction beyond them cannot be proven there).
MAX_PROOF_INPUTS = 32
MAX_PROOF_OUTPUTS = 16
MAX_PROOF_DEPTH = 32

ProofStep = tuple[bytes, bool]


def _leaf(txid: bytes) -> bytes:
    return sha256d(b"\x00" + txid)


def _node(left: bytes, right: bytes) -> bytes:
    return sha256d(b"\x01" + left + right)


def merkle_proof(txids: Sequence[bytes] | Block, txid: bytes) -> list[ProofStep]:
    """The path of ``txid`` in the tree of ``txids`` (or of a block's transactions).

    Raises :class:`~funai.errors.MalformedInputError` when ``txid`` is not a leaf."""
    leaves = [t.txid() for t in txids.txs] if isinstance(txids, Block) else list(txids)
    try:
        index = leaves.index(txid)
    except ValueError:
        raise MalformedInputError("the transaction is not in that block") from None
    level = [_leaf(t) for t in leaves]
    proof: list[ProofStep] = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append((level[sibling], sibling < index))
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        index //= 2
    return proof


def root_from_proof(txid: bytes, proof: Sequence[ProofStep]) -> bytes:
    """The Merkle root the path leads to (what the contract recomputes)."""
    acc = _leaf(txid)
    for sibling, left in proof:
        acc = _node(sibling, acc) if left else _node(acc, sibling)
    return acc


def clarity_tx(tx: Transaction) -> str:
    """The transaction as the library's TX tuple (Clarity literal), witnesses left out."""
    if len(tx.inputs) > MAX_PROOF_INPUTS or len(tx.outputs) > MAX_PROOF_OUTPUTS:
        raise MalformedInputError(
            f"fai-l1-proofs takes at most {MAX_PROOF_INPUTS} inputs and {MAX_PROOF_OUTPUTS} outputs"
        )
    ins = " ".join(
        f"{{txid: 0x{i.prevout.txid.hex()}, index: u{i.prevout.index}}}" for i in tx.inputs
    )
    outs = " ".join(
        f"{{kind: u{o.kind}, value: u{o.value}, payload: 0x{o.payload.hex()}}}" for o in tx.outputs
    )
    if tx.coinbase is None:
        cb = "none"
    else:
        c = tx.coinbase
        cb = (
            f"(some {{height: u{c.height}, extra-nonce: 0x{c.extra_nonce.hex()}, "
            f"witness-root: 0x{c.witness_root.hex()}}})"
        )
    return (
        f"{{version: u{tx.version}, ins: (list {ins}), outs: (list {outs}), "
        f"lock-time: u{tx.lock_time}, coinbase: {cb}}}"
    )


def clarity_proof(proof: Sequence[ProofStep]) -> str:
    """A path as the library's PROOF list (Clarity literal)."""
    if len(proof) > MAX_PROOF_DEPTH:
        raise MalformedInputError(f"a proof has at most {MAX_PROOF_DEPTH} steps")
    steps = " ".join(
        f"{{hash: 0x{h.hex()}, left: {'true' if left else 'false'}}}" for h, left in proof
    )
    return f"(list {steps})"


@dataclass(frozen=True)
class TxProof:
    """That ``tx`` was mined in the ledger block at ``height`` whose header is ``header``."""

    height: int
    header: bytes
    tx: Transaction
    proof: list[ProofStep]

    def clarity_args(self) -> tuple[str, str, str, str]:
        """``height header tx proof``: the arguments of ``verify-tx-mined``."""
        return (
            f"u{self.height}",
            "0x" + self.header.hex(),
            clarity_tx(self.tx),
            clarity_proof(self.proof),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON (hex bytes; ``txid`` and ``block_hash`` in display order, reversed as
        elsewhere in the API; ``proof`` hashes in internal order, as the contract takes them)."""
        block_hash = sha256d(self.header)
        return {
            "txid": self.tx.txid()[::-1].hex(),
            "height": self.height,
            "block_hash": block_hash[::-1].hex(),
            "header": self.header.hex(),
            "tx": self.tx.serialize().hex(),
            "proof": [{"hash": h.hex(), "left": left} for h, left in self.proof],
            "clarity": dict(
                zip(("height", "header", "tx", "proof"), self.clarity_args(), strict=True)
            ),
        }


def tx_proof(block: Block, height: int, txid: bytes) -> TxProof:
    """The proof that transaction ``txid`` (internal byte order) is in ``block`` at
    ``height``."""
    proof = merkle_proof(block, txid)
    tx = next(t for t in block.txs if t.txid() == txid)
    return TxProof(height, block.header.serialize(), tx, proof)


#: How far back from the tip :func:`find_tx_proof` looks without a height.
SEARCH_DEPTH = 1000


def find_tx_proof(
    chain: Chainstate, txid: bytes, height: int | None = None, depth: int = SEARCH_DEPTH
) -> TxProof | None:
    """The proof of ``txid`` (internal byte order) in the active chain: in the block at
    ``height``, or else in the last ``depth`` blocks (newest first); None if not found."""
    tip = len(chain.active) - 1
    heights = [height] if height is not None else range(tip, max(-1, tip - depth), -1)
    for h in heights:
        block = chain.block_at(h)
        if block is not None and any(t.txid() == txid for t in block.txs):
            return tx_proof(block, h, txid)
    return None
