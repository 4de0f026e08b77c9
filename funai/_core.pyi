"""Typed stubs of the Rust extension ``funai._core`` (checked by ``mypy.stubtest``)."""

__version__: str
#: The builtins and keywords Clarity 2 added (rust/clarity/ops.rs).
CLARITY2_ONLY: list[str]

# --- hashing (rust/py/hashing.rs) -------------------------------------------------------

def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""

def sha256d(data: bytes) -> bytes:
    """SHA-256 applied twice (Bitcoin's block and transaction hash)."""

def blake3(data: bytes) -> bytes:
    """BLAKE3 (32 bytes) of ``data``."""

def merkle_root(leaves: list[bytes]) -> bytes:
    """Merkle root of 32-byte leaves; raises MalformedInputError for a leaf of another size."""

# --- proof of work (rust/py/pow.rs) -----------------------------------------------------
# An 80-byte header's nonce is bytes 76..80 (little-endian u32); a nonce is valid when
# SHA-256d(header), as a little-endian integer, is <= the 32-byte little-endian target.

from typing import final as _final  # noqa: E402

@_final
class CancelToken:
    """Stops a running ``pow_search`` from any thread (it then raises CancelledError)."""

    def __new__(cls) -> CancelToken: ...
    def cancel(self) -> None:
        """Asks every search using this token to stop; the token stays cancelled."""

    @property
    def cancelled(self) -> bool: ...

@_final
class PowResult:
    """What ``pow_search`` found and did."""

    @property
    def nonce(self) -> int | None:
        """The smallest valid nonce of the range, or None."""

    @property
    def hash(self) -> bytes | None:
        """SHA-256d of the header with ``nonce`` in place, or None."""

    @property
    def hashes(self) -> int:
        """Nonces hashed."""

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds."""

    @property
    def backend(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def timed_out(self) -> bool:
        """``seconds`` ran out before the range was covered (and nothing was found)."""

def pow_search(
    header: bytes,
    target: bytes,
    start_nonce: int = 0,
    count: int | None = None,
    threads: int = 0,
    backend: str = "auto",
    cancel: CancelToken | None = None,
    seconds: float | None = None,
) -> PowResult:
    """The smallest nonce in ``start_nonce .. start_nonce + count`` (default: up to
    0xFFFFFFFF) whose header hash meets ``target``, on ``threads`` threads (0 = all cores).
    Releases the GIL; raises CancelledError (token), KeyboardInterrupt (Ctrl-C),
    MalformedInputError (bad lengths, ranges, or backend)."""

def pow_backends() -> list[str]:
    """The backends this CPU can run, fastest first (e.g. ``["sha-ni", "avx2", "scalar"]``)."""

def pow_best_backend() -> str:
    """The backend ``pow_search(backend="auto")`` uses."""

def pow_cpu_features() -> list[str]:
    """The CPU features the search detected (e.g. ``"sha"``, ``"avx2"``)."""

def hash_meets_target(hash: bytes, target: bytes) -> bool:
    """Whether a 32-byte hash is <= a 32-byte target, both little-endian integers."""

# --- ECVRF, Schnorr, Ed25519 (rust/py/crypto.rs) ----------------------------------------
# Bytes in, bytes out. Wrong lengths and invalid encodings raise MalformedInputError.

def vrf_keygen() -> tuple[bytes, bytes]:
    """A fresh ECVRF-EDWARDS25519-SHA512-TAI key pair ``(secret seed, public key)``."""

def vrf_public_key(sk: bytes) -> bytes:
    """The 32-byte ECVRF public key of a 32-byte secret seed."""

def vrf_prove(sk: bytes, alpha: bytes) -> bytes:
    """The 80-byte RFC 9381 proof ``Gamma || c || s`` of ``alpha``."""

def vrf_verify(pk: bytes, alpha: bytes, proof: bytes) -> bytes:
    """The 64-byte output beta; VerificationError if the proof does not verify."""

def vrf_proof_to_hash(proof: bytes) -> bytes:
    """The 64-byte output beta of a proof, without verifying it."""

def schnorr_keygen() -> tuple[bytes, bytes]:
    """A fresh BIP340 key pair ``(secret key, x-only public key)``."""

def schnorr_public_key(sk: bytes) -> bytes:
    """The 32-byte x-only public key; the secret key must be in [1, n-1]."""

def schnorr_sign(sk: bytes, msg: bytes, aux_rand: bytes | None = None) -> bytes:
    """The 64-byte BIP340 signature of ``msg`` (any length); fresh aux_rand when None."""

def schnorr_verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """BIP340 verification: False for a well-formed but invalid signature."""

def ed25519_keygen() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair ``(secret seed, public key)``."""

def ed25519_public_key(sk: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte secret seed."""

def ed25519_sign(sk: bytes, msg: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``msg``."""

def ed25519_verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """Strict Ed25519 verification (``verify_strict``): False when invalid."""

# --- Clarity VM (rust/py/clarity.rs) -----------------------------------------------------

from collections.abc import Callable, Sequence  # noqa: E402
from typing import final  # noqa: E402

@final
class ClarityVm:
    """The Clarity VM: analysed-contract cache, cost budgets, network flag."""

    def __new__(cls, mainnet: bool = False) -> ClarityVm: ...
    @property
    def mainnet(self) -> bool: ...
    @property
    def call_limit(self) -> dict[str, int]: ...
    @call_limit.setter
    def call_limit(self, limit: dict[str, int]) -> None: ...
    @property
    def block_limit(self) -> dict[str, int]: ...
    @block_limit.setter
    def block_limit(self, limit: dict[str, int]) -> None: ...
    @property
    def block_used(self) -> dict[str, int]: ...
    @property
    def validate_cache(self) -> bool: ...
    @validate_cache.setter
    def validate_cache(self, on: bool) -> None: ...
    @property
    def contract_loads(self) -> int: ...
    def new_block(self) -> None: ...
    def clear_cache(self) -> None: ...
    def check(
        self, host: object, contract_id: str, source: str, clarity_version: int = 2
    ) -> dict[str, object]: ...
    def deploy(
        self, host: object, name: str, source: str, sender: str, clarity_version: int = 2
    ) -> dict[str, object]: ...
    def interface(self, host: object, contract_id: str) -> dict[str, object] | None: ...
    def call(
        self,
        host: object,
        contract_id: str,
        function: str,
        args: list[str],
        sender: str,
        read_only: bool = False,
    ) -> dict[str, object]: ...
    def eval(
        self, host: object, source: str, sender: str, read_only: bool = False
    ) -> dict[str, object]: ...
    def call_batch(
        self,
        host: object,
        calls: Sequence[Sequence[object]],
        literal: Callable[[object], str],
    ) -> ClarityBatch: ...

@final
class ClarityBatch:
    """Outcomes of ``ClarityVm.call_batch``, converted on access."""

    def __len__(self) -> int: ...
    @property
    def committed(self) -> int: ...
    def outcome(self, index: int) -> dict[str, object]: ...
    def writes(self) -> list[tuple[bytes, bytes | None]]: ...

def clarity_principal_decode(text: str) -> tuple[int, bytes, str | None]:
    """(version, hash160, contract name or None) of a c32check principal."""

def clarity_principal_encode(version: int, hash160: bytes, name: str | None = None) -> str:
    """c32check text of (version, hash160[, contract name])."""

def clarity_balance_key(principal_text: str) -> bytes:
    """State key of a principal's FAI balance (what stx-get-balance reads)."""

def clarity_encode_uint(value: int) -> bytes:
    """Consensus serialization of a uint."""

def clarity_decode_uint(data: bytes) -> int | None:
    """A stored uint, or None."""

def clarity_decode_value(data: bytes) -> str:
    """Clarity literal text of a consensus-serialized value."""

# --- ledger (rust/py/ledger.rs) ------------------------------------------------------------

def hash160(data: bytes) -> bytes:
    """HASH160 = RIPEMD-160(SHA-256(data)) (pay-to-key-hash outputs and addresses)."""

def compact_decode(bits: int) -> tuple[bytes, bool, bool]:
    """Bitcoin's ``SetCompact``: (target as 32 little-endian bytes, negative, overflow)."""

def compact_encode(target: bytes) -> int:
    """Bitcoin's ``GetCompact`` of a target given as 32 little-endian bytes."""

def retarget_bits(
    last_bits: int, first_time: int, last_time: int, target_timespan: int, pow_limit: bytes
) -> int:
    """Bitcoin's retarget (4x clamps, exact arithmetic, capped at ``pow_limit``)."""

def verify_headers(
    headers: bytes,
    start_height: int,
    *,
    pow_limit: bytes,
    retarget_interval: int,
    target_timespan: int,
    retarget: bool,
    min_versions: list[tuple[int, int]],
    max_future_seconds: int,
    mtp_span: int,
    timewarp_grace: int | None = None,
    now: int | None = None,
    prev_hash: bytes | None = None,
    first: int = 0,
    last: int | None = None,
) -> tuple[int, str, str] | None:
    """Validates headers ``first..last``; ``None`` or the first (height, rule, detail)."""
