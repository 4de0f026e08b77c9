"""The Python face of the Clarity VM: deploy, call, read-only calls, console expressions.

Example::

    from funai.clarity import ClarityVM, uint

    vm = ClarityVM()                       # in-memory store, simple deterministic chain
    vm.store.set_balance(DEPLOYER, 10**12)
    vm.deploy("counter", source, sender=DEPLOYER)
    res = vm.call(f"{DEPLOYER}.counter", "inc", uint(1), sender=DEPLOYER)
    assert res.result == "(ok u1)"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from funai import _core
from funai.clarity.chain import BlockInfo, ChainView, SimpleChain
from funai.clarity.errors import ClarityAnalysisError, ClarityRuntimeError, Diagnostic
from funai.clarity.principals import contract_principal
from funai.clarity.store import MemoryStore, StateStore, Write

__all__ = ["DEFAULT_SENDER", "Call", "CallBatch", "CallResult", "ClarityVM", "Deployment"]

#: A deterministic devnet principal used as the default sender in tools and tests.
DEFAULT_SENDER = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM"

COST_FIELDS = ("runtime", "read_count", "read_length", "write_count", "write_length")


@dataclass(frozen=True)
class CallResult:
    """The outcome of a transaction.

    ``result`` is the value in Clarity literal syntax (``(ok u100)``), or None when the
    call aborted (``error`` says why). ``committed``: the writes were applied (not for an
    ``err`` response, an abort, or a read-only call).
    """

    result: str | None
    committed: bool
    error: str | None = None
    events: list[dict[str, str]] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)

    @property
    def aborted(self) -> bool:
        """True when the call stopped with a runtime error or at a cost limit."""
        return self.result is None

    @property
    def is_ok(self) -> bool:
        """True for an ``(ok …)`` response."""
        return self.result is not None and self.result.startswith("(ok ")

    @property
    def is_err(self) -> bool:
        """True for an ``(err …)`` response."""
        return self.result is not None and self.result.startswith("(err ")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (result, events, committed, error, cost)."""
        return {
            "result": self.result,
            "events": self.events,
            "committed": self.committed,
            "error": self.error,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class Deployment:
    """A deployed contract: its id, its interface, and the deploy transaction's outcome."""

    contract_id: str
    interface: dict[str, Any]
    outcome: CallResult


class Call(NamedTuple):
    """One call of :meth:`ClarityVM.call_many` (any 4-tuple in this order will do)."""

    contract_id: str
    function: str
    args: Sequence[object] = ()
    sender: str = DEFAULT_SENDER


class CallBatch(Sequence[CallResult]):
    """The outcomes of :meth:`ClarityVM.call_many`, one per call in order, each turned into
    a :class:`CallResult` only when read. A call whose arguments did not check (or whose
    contract or function does not exist) ran nothing: its result is aborted, with the
    diagnostics in ``error``."""

    __slots__ = ("_raw", "_seen")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._seen: dict[int, CallResult] = {}

    def __len__(self) -> int:
        n: int = len(self._raw)
        return n

    @property
    def committed(self) -> int:
        """How many calls committed (their writes were applied)."""
        n: int = self._raw.committed
        return n

    @overload
    def __getitem__(self, index: int) -> CallResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[CallResult]: ...
    def __getitem__(self, index: int | slice) -> CallResult | list[CallResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError("call index out of range")
        seen = self._seen.get(i)
        if seen is None:
            raw = self._raw.outcome(i)
            if raw["errors"]:
                msg = "; ".join(str(d) for d in _diagnostics(raw["errors"]))
                seen = CallResult(None, False, error=f"call refused: {msg}")
            else:
                seen = _outcome(raw["outcome"])
            self._seen[i] = seen
        return seen

    def __iter__(self) -> Iterator[CallResult]:
        return (self[i] for i in range(len(self)))


class _Host:
    """Joins a state store and a chain view into the host object the Rust VM calls.

    ``at-block`` needs a chain with ``at_block(hash)`` (as :class:`SimpleChain` has) and a
    store with ``get_at(key, height)`` (:class:`HistoricalStore`); a store may say which
    blocks' state it kept with ``has_state_at(height)``. ``stacks-block-time`` needs a
    chain with ``block_time()``."""

    __slots__ = (
        "_chain_at_block",
        "_has_state_at",
        "block_height",
        "block_info",
        "block_time",
        "burn_block_height",
        "burn_block_info",
        "get",
        "get_at",
    )

    def __init__(self, store: StateStore, chain: ChainView) -> None:
        self.get = store.get
        self.block_height = chain.block_height
        self.burn_block_height = chain.burn_block_height
        self.block_info = chain.block_info
        self.burn_block_info = chain.burn_block_info
        self.block_time: Callable[[], int] = getattr(chain, "block_time", _no_block_time)
        self._chain_at_block: Callable[[bytes], tuple[int, int] | None] | None = getattr(
            chain, "at_block", None
        )
        get_at: Callable[[bytes, int], bytes | None] | None = getattr(store, "get_at", None)
        self._has_state_at: Callable[[int], bool] = getattr(
            store, "has_state_at", lambda _height: get_at is not None
        )
        self.get_at = get_at

    def at_block(self, block_hash: bytes) -> tuple[int, int] | None:
        """``(height, burn height)`` of a block of the chain whose state the store kept."""
        if self._chain_at_block is None:
            return None
        found = self._chain_at_block(block_hash)
        if found is None or not self._has_state_at(found[0]):
            return None
        return found


def _version(clarity_version: int) -> int:
    """A Clarity version this VM implements (1 to 4), else a ValueError."""
    if isinstance(clarity_version, bool) or clarity_version not in (1, 2, 3, 4):
        raise ValueError(f"clarity_version must be 1, 2, 3 or 4, not {clarity_version!r}")
    return clarity_version


def _no_block_time() -> int:
    raise TypeError("this chain view has no block_time() (stacks-block-time needs it)")


def _diagnostics(raw: list[tuple[int, int, str]]) -> list[Diagnostic]:
    return [Diagnostic(line, col, msg) for line, col, msg in raw]


_CALL_RESULT_FIELDS = frozenset(("result", "committed", "error", "events", "cost", "writes"))


def _outcome(raw: Mapping[str, Any]) -> CallResult:
    # The Rust side builds a fresh dict with exactly the fields (fresh lists and dicts too):
    # fill the frozen dataclass from it in one step instead of six frozen setattrs.
    if type(raw) is dict and raw.keys() == _CALL_RESULT_FIELDS:
        out: CallResult = object.__new__(CallResult)
        out.__dict__.update(raw)
        return out
    return CallResult(
        result=raw["result"],
        committed=bool(raw["committed"]),
        error=raw["error"],
        events=list(raw["events"]),
        cost=dict(raw["cost"]),
        writes=list(raw["writes"]),
    )


def literal(value: object) -> str:
    """Clarity literal text of a Python value: str passes through (it is Clarity source),
    bool becomes ``true``/``false``, bytes a buffer. Integers are ambiguous (int or uint):
    use :func:`uint` or :func:`int_`."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    raise TypeError(f"cannot pass {type(value).__name__} as a Clarity argument; use uint()/int_()")


class ClarityVM:
    """A Clarity VM bound to a state store and a chain view.

    ``store`` defaults to a fresh :class:`MemoryStore`, ``chain`` to a :class:`SimpleChain`.
    Writes reach the store only when a transaction commits. ``call_limit``/``block_limit``
    override the default cost limits (dicts with any of the cost fields).
    """

    def __init__(
        self,
        store: StateStore | None = None,
        chain: ChainView | None = None,
        *,
        mainnet: bool = False,
        call_limit: Mapping[str, int] | None = None,
        block_limit: Mapping[str, int] | None = None,
        core: _core.ClarityVm | None = None,
    ) -> None:
        self.store: Any = store if store is not None else MemoryStore()
        self.chain: Any = chain if chain is not None else SimpleChain()
        # ``core``: a VM (analysed-contract cache, limits, block budget) to share with other
        # ClarityVMs over the same store, e.g. one per transaction of a chain; give it
        # ``validate_cache = True`` when the store can be rolled back.
        self._vm = core if core is not None else _core.ClarityVm(mainnet)
        if call_limit is not None:
            self._vm.call_limit = dict(call_limit)
        if block_limit is not None:
            self._vm.block_limit = dict(block_limit)
        self._host = _Host(self.store, self.chain)

    @property
    def mainnet(self) -> bool:
        return self._vm.mainnet

    @property
    def call_limit(self) -> dict[str, int]:
        return self._vm.call_limit

    @property
    def block_limit(self) -> dict[str, int]:
        return self._vm.block_limit

    @property
    def block_used(self) -> dict[str, int]:
        """Cost used in the current block."""
        return self._vm.block_used

    def new_block(self) -> None:
        """Starts a new block: the per-block budget is full again."""
        self._vm.new_block()

    def advance(self, blocks: int = 1, burn_blocks: int = 0) -> None:
        """Ends the current block ``blocks`` times, then moves the ledger chain on by
        ``burn_blocks``: each ended block's state is kept for ``at-block`` when the store
        keeps history (:meth:`MemoryStore.end_block`), the chain moves on
        (:meth:`SimpleChain.advance`) and a new block budget starts."""
        if blocks < 0 or burn_blocks < 0:
            raise ValueError("blocks and burn_blocks must be >= 0")
        move = getattr(self.chain, "advance", None)
        if move is None:
            raise TypeError(f"{type(self.chain).__name__} cannot be moved on")
        end = getattr(self.store, "end_block", None)
        for _ in range(blocks):
            if end is not None:
                end(self.chain.block_height())
            move(1, 0)
        if burn_blocks:
            move(0, burn_blocks)
        self.new_block()

    def clear_cache(self) -> None:
        """Drops cached contracts (call after rolling the store back)."""
        self._vm.clear_cache()

    def check(
        self,
        source: str,
        *,
        name: str = "contract",
        sender: str = DEFAULT_SENDER,
        clarity_version: int = 2,
    ) -> dict[str, Any]:
        """Type-checks Clarity ``clarity_version`` (1 to 4) code without deploying; returns
        the interface or raises :class:`ClarityAnalysisError` with line:col diagnostics."""
        raw: Any = self._vm.check(
            self._host, contract_principal(sender, name), source, _version(clarity_version)
        )
        if raw["errors"]:
            raise ClarityAnalysisError(_diagnostics(raw["errors"]))
        interface: dict[str, Any] = raw["interface"]
        return interface

    def deploy(
        self,
        name: str,
        source: str,
        *,
        sender: str = DEFAULT_SENDER,
        clarity_version: int = 2,
    ) -> Deployment:
        """Deploys ``source`` as ``sender.name``.

        ``clarity_version`` 1 deploys Clarity 1 code (what mainnet contracts deployed before
        Stacks 2.1 are): the builtins and keywords Clarity 2 added are ordinary names in it,
        and an imported trait takes its own name rather than its ``use-trait`` alias.
        ``clarity_version`` 3 deploys Clarity 3 code (``stacks-block-height``,
        ``tenure-height``, ``get-stacks-block-info?``, ``get-tenure-info?``; no
        ``block-height`` or ``get-block-info?``); docs/clarity.md, "Clarity versions".

        Raises :class:`ClarityAnalysisError` (line:col diagnostics) when it does not check,
        :class:`ClarityRuntimeError` when its top-level evaluation aborts.
        """
        raw: Any = self._vm.deploy(self._host, name, source, sender, _version(clarity_version))
        if raw["errors"]:
            raise ClarityAnalysisError(_diagnostics(raw["errors"]))
        outcome = _outcome(raw["outcome"])
        if not outcome.committed:
            raise ClarityRuntimeError(f"deploy of {name} failed: {outcome.error or outcome.result}")
        self.store.apply(outcome.writes)
        return Deployment(raw["interface"]["contract"], raw["interface"], outcome)

    def interface(self, contract_id: str) -> dict[str, Any] | None:
        """The interface of a deployed contract (None if there is none)."""
        result: dict[str, Any] | None = self._vm.interface(self._host, contract_id)
        return result

    def call(
        self, contract_id: str, function: str, *args: object, sender: str = DEFAULT_SENDER
    ) -> CallResult:
        """Calls a public function as ``sender``; its writes are applied only on ``ok``.

        Arguments are Clarity literals (``"u100"``, ``"'ST…"``, ``"(list 1 2)"``) or values
        :func:`literal` converts.
        """
        # (the body of _run and _finish, inlined: this is the hot path of every transaction)
        texts = [a if type(a) is str else literal(a) for a in args]
        raw: Any = self._vm.call(self._host, contract_id, function, texts, sender, False)
        if raw["errors"]:
            raise ClarityAnalysisError(_diagnostics(raw["errors"]))
        outcome = _outcome(raw["outcome"])
        if outcome.committed and outcome.writes:
            self.store.apply(outcome.writes)
        return outcome

    def call_many(self, calls: Iterable[tuple[str, str, Sequence[object], str]]) -> CallBatch:
        """Runs public-function calls ``(contract_id, function, args, sender)`` (or
        :class:`Call`) in order, as separate transactions, in one crossing into the VM.

        The outcomes, costs and final state are those of calling :meth:`call` for each in
        turn: each call sees the writes of the committed calls before it. The batch's writes
        reach the store in one ``apply`` at the end (the last value of each key), and only if
        the whole batch ran: a store or chain that raises leaves the store untouched. A call
        refused before running (bad arguments, no such function) does not stop the others.
        """
        batch = calls if type(calls) is list else list(calls)
        # (arguments that are not str go through literal(); a call of another shape raises
        # TypeError before anything runs)
        raw: Any = self._vm.call_batch(self._host, batch, literal)
        writes = raw.writes()
        if writes:
            self.store.apply(writes)
        return CallBatch(raw)

    def read_only(
        self, contract_id: str, function: str, *args: object, sender: str = DEFAULT_SENDER
    ) -> CallResult:
        """Calls a read-only function; nothing is ever written."""
        return self._run(contract_id, function, args, sender, read_only=True)

    def _run(
        self,
        contract_id: str,
        function: str,
        args: tuple[object, ...],
        sender: str,
        read_only: bool,
    ) -> CallResult:
        texts = [a if type(a) is str else literal(a) for a in args]
        raw: Any = self._vm.call(self._host, contract_id, function, texts, sender, read_only)
        return self._finish(raw)

    def eval(
        self, expr: str, *, sender: str = DEFAULT_SENDER, read_only: bool = False
    ) -> CallResult:
        """Evaluates one expression as a transaction by ``sender`` (``.name`` is the sender's
        contract ``name``), e.g. ``(contract-call? .token transfer u10 tx-sender 'ST… none)``.
        Committed unless it aborts or returns ``err``."""
        raw: Any = self._vm.eval(self._host, expr, sender, read_only)
        return self._finish(raw)

    def _finish(self, raw: Mapping[str, Any]) -> CallResult:
        if raw["errors"]:
            raise ClarityAnalysisError(_diagnostics(raw["errors"]))
        outcome = _outcome(raw["outcome"])
        if outcome.committed and outcome.writes:
            self.store.apply(outcome.writes)
        return outcome

    def balance(self, principal: str) -> int:
        """FAI balance (base units) of a principal, read from the store."""
        raw = self.store.get(_core.clarity_balance_key(principal))
        return 0 if raw is None else (_core.clarity_decode_uint(raw) or 0)


def uint(n: int) -> str:
    """Clarity uint literal."""
    if n < 0 or n >= 1 << 128:
        raise ValueError("uint out of range")
    return f"u{n}"


def int_(n: int) -> str:
    """Clarity int literal."""
    if not -(1 << 127) <= n < (1 << 127):
        raise ValueError("int out of range")
    return str(n)


def principal(p: str) -> str:
    """Clarity principal literal (adds the leading quote)."""
    return p if p.startswith("'") else "'" + p


def ascii_(s: str) -> str:
    """Clarity string-ascii literal."""
    if not s.isascii():
        raise ValueError("not ASCII")
    escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


__all__ += ["BlockInfo", "ascii_", "int_", "literal", "principal", "uint"]
