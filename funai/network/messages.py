"""Protocol messages and the message registry.

A payload is the CBOR array ``[type, body]`` where ``type`` is a short text name and
``body`` a CBOR map with text keys. Every message class declares its ``TYPE`` and how to
convert to and from a body; :func:`register` adds a class to a :class:`Registry`. Later
layers (inference blocks, inference transactions, votes) define their own classes and
register them in :data:`REGISTRY` (or a node's own registry) without touching this module;
the node ignores types it does not know, so old and new nodes can talk.

Inventory items are ``[kind, id]`` pairs; the kinds here are ``"block"`` and ``"tx"``, and
other layers add their own (see :class:`funai.network.manager.InvKind`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

import cbor2

from funai.network.errors import ProtocolError

__all__ = [
    "REGISTRY",
    "Addr",
    "Auth",
    "BlockMsg",
    "GetAddr",
    "GetData",
    "GetHeaders",
    "Headers",
    "Hello",
    "Inv",
    "MempoolReq",
    "Message",
    "NotFound",
    "Ping",
    "Pong",
    "Registry",
    "Reject",
    "TxMsg",
    "decode_payload",
    "encode_payload",
    "peek_type",
    "register",
]

MAX_INV = 50_000
MAX_HEADERS = 2_000
MAX_LOCATOR = 101
MAX_ADDRS = 1_000
#: Unknown message types larger than this are returned without decoding their body.
MAX_UNKNOWN_DECODE = 4096


def _want(cond: bool, msg_type: str, what: str) -> None:
    if not cond:
        raise ProtocolError("malformed-message", f"{msg_type}: {what}")


class Message:
    """Base class: a dataclass with ``TYPE`` whose fields are the body's keys."""

    TYPE: ClassVar[str] = ""
    #: The largest payload of this type an honest peer sends; a larger one is refused
    #: before its body is decoded (``oversized-message``). Other layers' types keep the
    #: frame limit unless they set their own.
    MAX_SIZE: ClassVar[int] = 1 << 32

    def to_body(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Message:
        return cls(**body)

    @classmethod
    def check_fields(cls, body: dict[str, Any], spec: dict[str, type | tuple[type, ...]]) -> None:
        _want(set(body) >= set(spec), cls.TYPE, f"needs fields {sorted(spec)}")
        for name, kind in spec.items():
            value = body[name]
            ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is int)
            _want(ok, cls.TYPE, f"field {name!r} has the wrong type")


M = TypeVar("M", bound=type[Message])


class Registry:
    """Message type name -> class."""

    def __init__(self) -> None:
        self.classes: dict[str, type[Message]] = {}

    def register(self, cls: M) -> M:
        if not cls.TYPE or cls.TYPE in self.classes:
            raise ValueError(f"message type {cls.TYPE!r} is empty or already registered")
        self.classes[cls.TYPE] = cls
        return cls

    def decode(self, payload: bytes) -> Message | tuple[str, Any]:
        """The message, or ``(type, body)`` for a type this registry does not know.

        The type is read before the body: a payload larger than its type's ``MAX_SIZE`` is
        refused, and the body of an unknown type larger than :data:`MAX_UNKNOWN_DECODE`
        bytes is never decoded (``(type, None)``), so neither costs a large decode.
        """
        name = peek_type(payload)
        if name is None and len(payload) > MAX_UNKNOWN_DECODE:
            # every honest payload starts [type, ...] with a short type name
            raise ProtocolError("malformed-payload", "a payload is [type, {body}]")
        if name is not None:
            cls = self.classes.get(name)
            if cls is not None and len(payload) > cls.MAX_SIZE:
                raise ProtocolError(
                    "oversized-message", f"{name}: {len(payload)} > {cls.MAX_SIZE} bytes"
                )
            if cls is None and len(payload) > MAX_UNKNOWN_DECODE:
                return name, None
        try:
            value = cbor2.loads(payload)
        except Exception as exc:  # cbor2 raises many kinds on garbage
            raise ProtocolError("malformed-payload", str(exc)[:200]) from None
        if not (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], dict)
            and all(isinstance(k, str) for k in value[1])
        ):
            raise ProtocolError("malformed-payload", "a payload is [type, {body}]")
        msg_type, body = value
        cls = self.classes.get(msg_type)
        if cls is None:
            return msg_type, body
        try:
            return cls.from_body(body)
        except ProtocolError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise ProtocolError("malformed-message", f"{msg_type}: {exc}") from None


def peek_type(payload: bytes) -> str | None:
    """The type name of a ``[type, body]`` payload read from its first bytes (no decoding
    of the body), or None when the payload does not start that way."""
    if len(payload) < 2 or payload[0] != 0x82:
        return None
    head = payload[1]
    if 0x60 <= head <= 0x77:
        start, length = 2, head - 0x60
    elif head == 0x78 and len(payload) >= 3:
        start, length = 3, payload[2]
    elif head == 0x79 and len(payload) >= 4:
        start, length = 4, int.from_bytes(payload[2:4], "big")
    else:
        return None
    if len(payload) < start + length:
        return None
    try:
        return payload[start : start + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


REGISTRY = Registry()
register: Callable[[M], M] = REGISTRY.register


def encode_payload(msg: Message) -> bytes:
    return cbor2.dumps([msg.TYPE, msg.to_body()])


def decode_payload(payload: bytes, registry: Registry = REGISTRY) -> Message | tuple[str, Any]:
    return registry.decode(payload)


def _hash_list(items: Any, msg_type: str, limit: int) -> list[bytes]:
    _want(isinstance(items, list) and len(items) <= limit, msg_type, f"at most {limit} hashes")
    for h in items:
        _want(isinstance(h, bytes) and len(h) == 32, msg_type, "hashes are 32 bytes")
    return list(items)


# --- handshake ----------------------------------------------------------------------------


@register
@dataclass
class Hello(Message):
    """First message each side sends."""

    TYPE: ClassVar[str] = "hello"
    MAX_SIZE: ClassVar[int] = 4096
    version: int
    network: str
    genesis: bytes
    height: int
    services: int
    key: bytes
    nonce: bytes
    listen: int
    agent: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Hello:
        cls.check_fields(
            body,
            {
                "version": int,
                "network": str,
                "genesis": bytes,
                "height": int,
                "services": int,
                "key": bytes,
                "nonce": bytes,
                "listen": int,
                "agent": str,
            },
        )
        _want(len(body["key"]) == 32 and len(body["nonce"]) == 32, cls.TYPE, "key/nonce size")
        _want(0 <= body["listen"] < 65536, cls.TYPE, "listen port")
        return cls(**{f.name: body[f.name] for f in fields(cls)})


@register
@dataclass
class Auth(Message):
    """Signature of the other side's nonce with the node key."""

    TYPE: ClassVar[str] = "auth"
    MAX_SIZE: ClassVar[int] = 1024
    sig: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Auth:
        cls.check_fields(body, {"sig": bytes})
        return cls(body["sig"])


@register
@dataclass
class Reject(Message):
    """Why the sender is closing the connection (informative)."""

    TYPE: ClassVar[str] = "reject"
    MAX_SIZE: ClassVar[int] = 1024
    reason: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Reject:
        cls.check_fields(body, {"reason": str})
        return cls(body["reason"][:200])


# --- liveness and addresses -----------------------------------------------------------------


@register
@dataclass
class Ping(Message):
    TYPE: ClassVar[str] = "ping"
    MAX_SIZE: ClassVar[int] = 256
    nonce: int

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Ping:
        cls.check_fields(body, {"nonce": int})
        return cls(body["nonce"])


@register
@dataclass
class Pong(Message):
    TYPE: ClassVar[str] = "pong"
    MAX_SIZE: ClassVar[int] = 256
    nonce: int

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Pong:
        cls.check_fields(body, {"nonce": int})
        return cls(body["nonce"])


@register
@dataclass
class GetAddr(Message):
    TYPE: ClassVar[str] = "getaddr"
    MAX_SIZE: ClassVar[int] = 256

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> GetAddr:
        return cls()


@register
@dataclass
class Addr(Message):
    """Listening addresses ``host:port`` of known peers."""

    TYPE: ClassVar[str] = "addr"
    MAX_SIZE: ClassVar[int] = 128 * 1024
    addrs: list[str]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Addr:
        cls.check_fields(body, {"addrs": list})
        addrs = body["addrs"]
        _want(len(addrs) <= MAX_ADDRS, cls.TYPE, f"at most {MAX_ADDRS} addresses")
        _want(all(isinstance(a, str) and len(a) < 100 for a in addrs), cls.TYPE, "bad address")
        return cls(list(addrs))


# --- inventory ------------------------------------------------------------------------------


def _inv_items(body: dict[str, Any], msg_type: str) -> list[tuple[str, bytes]]:
    _want(isinstance(body.get("items"), list), msg_type, "needs items")
    items = body["items"]
    _want(len(items) <= MAX_INV, msg_type, f"at most {MAX_INV} items")
    out = []
    for item in items:
        _want(
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], bytes)
            and len(item[1]) == 32,
            msg_type,
            "an item is [kind, 32-byte id]",
        )
        out.append((item[0], item[1]))
    return out


@dataclass
class _InvLike(Message):
    MAX_SIZE: ClassVar[int] = 4 * 1024 * 1024
    items: list[tuple[str, bytes]]

    def to_body(self) -> dict[str, Any]:
        return {"items": [[k, h] for k, h in self.items]}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Message:
        return cls(_inv_items(body, cls.TYPE))


@register
@dataclass
class Inv(_InvLike):
    """ "I have these objects"."""

    TYPE: ClassVar[str] = "inv"


@register
@dataclass
class GetData(_InvLike):
    """ "Send me these objects"."""

    TYPE: ClassVar[str] = "getdata"


@register
@dataclass
class NotFound(_InvLike):
    """Requested objects the sender does not have."""

    TYPE: ClassVar[str] = "notfound"


@register
@dataclass
class MempoolReq(Message):
    """Ask for an ``inv`` of the peer's whole mempool."""

    TYPE: ClassVar[str] = "mempool"
    MAX_SIZE: ClassVar[int] = 256

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> MempoolReq:
        return cls()


# --- chain ----------------------------------------------------------------------------------


@register
@dataclass
class GetHeaders(Message):
    """Headers after the first locator hash on the receiver's active chain."""

    TYPE: ClassVar[str] = "getheaders"
    MAX_SIZE: ClassVar[int] = 8 * 1024
    locator: list[bytes]
    stop: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> GetHeaders:
        cls.check_fields(body, {"locator": list, "stop": bytes})
        _want(len(body["stop"]) == 32, cls.TYPE, "stop is 32 bytes")
        return cls(_hash_list(body["locator"], cls.TYPE, MAX_LOCATOR), body["stop"])


@register
@dataclass
class Headers(Message):
    """Up to 2000 consecutive raw 80-byte headers."""

    TYPE: ClassVar[str] = "headers"
    MAX_SIZE: ClassVar[int] = 256 * 1024
    headers: list[bytes]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Headers:
        cls.check_fields(body, {"headers": list})
        hs = body["headers"]
        _want(len(hs) <= MAX_HEADERS, cls.TYPE, f"at most {MAX_HEADERS} headers")
        _want(all(isinstance(h, bytes) and len(h) == 80 for h in hs), cls.TYPE, "80-byte headers")
        return cls(list(hs))


@register
@dataclass
class BlockMsg(Message):
    """A serialized block (deterministic CBOR, see docs/ledger.md)."""

    TYPE: ClassVar[str] = "block"
    data: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> BlockMsg:
        cls.check_fields(body, {"data": bytes})
        return cls(body["data"])


@register
@dataclass
class TxMsg(Message):
    """A serialized transaction."""

    TYPE: ClassVar[str] = "tx"
    MAX_SIZE: ClassVar[int] = 2 * 1024 * 1024
    data: bytes

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> TxMsg:
        cls.check_fields(body, {"data": bytes})
        return cls(body["data"])
