"""The sampling part of a signed inference request, and the seed of its answer (DESIGN 6,
"Replay of seeded sampling").

Everything that decides which tokens an answer may hold is signed by the user before any
output exists (rule ``request-params``): the maximum number of tokens, temperature, top-k,
top-p, repetition penalty, stop strings, an optional seed the user chose, and whether the
input is a raw prompt (a completion) or a chat turn. Fractions are integers in millionths
(``*_ppm``) so the request's encoding and hash are the same on every machine; the sampler
gets ``ppm / 10**6`` (one correctly rounded division, the same float everywhere).

Rule ``inference-seed``: the seed of an answer is the user's seed when the request names
one, otherwise the first 8 bytes (big-endian) of ``tagged_hash("FAI2/seed", network_id ||
user_txid)``: fixed by the user's signed request, never chosen by the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from funai.errors import MalformedInputError
from funai.inference.sampling import SamplingParams
from funai.ledger.encoding import CborValue
from funai.ledger.tx import tagged_hash

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "MAX_REQUEST_TOKENS",
    "MAX_STOP_STRINGS",
    "RequestParams",
    "inference_seed",
    "params_from_json",
]

PPM = 1_000_000
#: Tokens an answer may have when a request does not say.
DEFAULT_MAX_TOKENS = 64
#: The most tokens one request may ask for (no model's context is larger).
MAX_REQUEST_TOKENS = 1 << 20
MAX_STOP_STRINGS = 4
MAX_STOP_BYTES = 256
#: temperature <= 100, repetition penalty <= 100 (in millionths)
MAX_FACTOR_PPM = 100 * PPM


def _ppm(x: float) -> int:
    return round(x * PPM)


@dataclass(frozen=True)
class RequestParams:
    """How the answer to a request is sampled (signed with the request)."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature_ppm: int = 0
    top_k: int = 0
    top_p_ppm: int = PPM
    repetition_penalty_ppm: int = PPM
    stop: tuple[str, ...] = field(default_factory=tuple)
    #: the user's seed; None: derived from the request (rule ``inference-seed``)
    seed: int | None = None
    #: True: the input is the whole prompt (a completion), no chat template
    raw: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop))
        self.validate()

    def validate(self) -> None:
        """Rule ``request-params``: every field in range (raises MalformedInputError)."""

        def whole(name: str, v: object, lo: int, hi: int) -> None:
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise MalformedInputError(f"request {name} must be an integer in [{lo}, {hi}]")

        whole("max_tokens", self.max_tokens, 1, MAX_REQUEST_TOKENS)
        whole("temperature_ppm", self.temperature_ppm, 0, MAX_FACTOR_PPM)
        whole("top_k", self.top_k, 0, 1 << 20)
        whole("top_p_ppm", self.top_p_ppm, 1, PPM)
        whole("repetition_penalty_ppm", self.repetition_penalty_ppm, 1, MAX_FACTOR_PPM)
        if self.seed is not None:
            whole("seed", self.seed, 0, 2**64 - 1)
        if not isinstance(self.raw, bool):
            raise MalformedInputError("request raw must be a boolean")
        if len(self.stop) > MAX_STOP_STRINGS or not all(
            isinstance(s, str) and 0 < len(s.encode("utf-8", "surrogatepass")) <= MAX_STOP_BYTES
            for s in self.stop
        ):
            raise MalformedInputError(
                f"request stop: at most {MAX_STOP_STRINGS} non-empty strings of "
                f"<= {MAX_STOP_BYTES} bytes"
            )

    # --- encoding ----------------------------------------------------------------------
    def to_cbor(self) -> list[CborValue]:
        return [
            self.max_tokens,
            self.temperature_ppm,
            self.top_k,
            self.top_p_ppm,
            self.repetition_penalty_ppm,
            list(self.stop),
            -1 if self.seed is None else self.seed,
            1 if self.raw else 0,
        ]

    @classmethod
    def from_cbor(cls, v: CborValue) -> RequestParams:
        if not isinstance(v, list) or len(v) != 8:
            raise MalformedInputError("request params are a list of 8 items")
        mt, temp, top_k, top_p, rep, stop, seed, raw = v
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise MalformedInputError("request stop strings are a list of text")
        if raw not in (0, 1) or isinstance(raw, bool):
            raise MalformedInputError("request raw flag is 0 or 1")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < -1:
            raise MalformedInputError("request seed is -1 (none) or an integer")
        for x in (mt, temp, top_k, top_p, rep):
            if isinstance(x, bool) or not isinstance(x, int):
                raise MalformedInputError("request params are integers")
        m, t, k, p, r = (int(x) for x in (mt, temp, top_k, top_p, rep))
        return cls(m, t, k, p, r, tuple(stop), None if seed == -1 else seed, raw == 1)

    # --- the sampler's view --------------------------------------------------------------
    @classmethod
    def from_sampling(cls, p: SamplingParams, *, raw: bool = False) -> RequestParams:
        """The signed form of ``p`` (fractions rounded to millionths)."""
        return cls(
            p.max_tokens,
            _ppm(p.temperature),
            p.top_k,
            max(1, _ppm(p.top_p)),
            max(1, _ppm(p.repetition_penalty)),
            tuple(p.stop),
            p.seed,
            raw,
        )

    def sampling(self, seed: int) -> SamplingParams:
        """The sampler's parameters for an answer drawn with ``seed``."""
        return SamplingParams(
            max_tokens=self.max_tokens,
            temperature=self.temperature_ppm / PPM,
            top_k=self.top_k,
            top_p=self.top_p_ppm / PPM,
            repetition_penalty=self.repetition_penalty_ppm / PPM,
            seed=seed,
            stop=self.stop,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature_ppm / PPM,
            "top_k": self.top_k,
            "top_p": self.top_p_ppm / PPM,
            "repetition_penalty": self.repetition_penalty_ppm / PPM,
            "stop": list(self.stop),
            "seed": self.seed,
            "raw": self.raw,
        }


def params_from_json(data: object) -> RequestParams:
    """The inverse of :meth:`RequestParams.to_json` (what an answer's ``funai.params``
    shows); raises MalformedInputError."""
    if not isinstance(data, dict):
        raise MalformedInputError("request params are a JSON object")
    try:
        stop = data.get("stop") or []
        return RequestParams(
            data["max_tokens"],
            _ppm(float(data["temperature"])),
            data["top_k"],
            _ppm(float(data["top_p"])),
            _ppm(float(data["repetition_penalty"])),
            tuple(stop),
            data.get("seed"),
            data.get("raw", False),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise MalformedInputError(f"request params: {exc}") from None


def inference_seed(network_id: bytes, user_txid: bytes, params: RequestParams) -> int:
    """Rule ``inference-seed`` (see the module docstring)."""
    if params.seed is not None:
        return params.seed
    return int.from_bytes(tagged_hash(b"FAI2/seed", network_id + user_txid)[:8], "big")
