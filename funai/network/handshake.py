"""The handshake: both sides send ``hello``, then ``auth`` (a signature of the other's nonce).

``hello`` carries the protocol version, network name, genesis hash, best height, service
bits, the Ed25519 node key, a fresh 32-byte nonce, the listening port and a user agent.
A side checks the other's ``hello`` (version, network, genesis, not itself), then answers
with ``auth``: ``Ed25519(node key, "FAI/handshake" | genesis | their nonce | my key)``. The
connection is up when both signatures verify, which proves each side holds its node key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import IntFlag

from funai import _core
from funai.network.errors import HandshakeError
from funai.network.messages import Auth, Hello

__all__ = [
    "MIN_PROTOCOL_VERSION",
    "PROTOCOL_VERSION",
    "LocalIdentity",
    "Services",
    "auth_message",
    "check_hello",
    "make_auth",
    "verify_auth",
]

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
HANDSHAKE_TIMEOUT = 10.0
_DOMAIN = b"FAI/handshake"


class Services(IntFlag):
    """Service bits a node announces."""

    NETWORK = 1  # full node: serves blocks, headers and transactions
    MINER = 2
    INFERENCE = 4
    VERIFIER = 8


@dataclass
class LocalIdentity:
    """What this node says about itself in ``hello``."""

    network: str
    genesis: bytes
    secret_key: bytes
    public_key: bytes
    services: int
    listen: int
    agent: str = "funai/0.1.0"

    @classmethod
    def generate(
        cls, network: str, genesis: bytes, services: int = 1, listen: int = 0
    ) -> LocalIdentity:
        sk, pk = _core.ed25519_keygen()
        return cls(network, genesis, sk, pk, services, listen)

    def hello(self, height: int) -> Hello:
        return Hello(
            version=PROTOCOL_VERSION,
            network=self.network,
            genesis=self.genesis,
            height=height,
            services=self.services,
            key=self.public_key,
            nonce=secrets.token_bytes(32),
            listen=self.listen,
            agent=self.agent,
        )


def check_hello(hello: Hello, local: LocalIdentity) -> None:
    """Raises :class:`HandshakeError` if we cannot talk to the sender of ``hello``."""
    if hello.version < MIN_PROTOCOL_VERSION:
        raise HandshakeError("old-version", f"protocol {hello.version} < {MIN_PROTOCOL_VERSION}")
    if hello.network != local.network:
        raise HandshakeError("wrong-network", f"{hello.network!r}, we are {local.network!r}")
    if hello.genesis != local.genesis:
        raise HandshakeError("wrong-genesis", hello.genesis[::-1].hex())
    if hello.key == local.public_key:
        raise HandshakeError("self-connection")
    if hello.height < 0:
        raise HandshakeError("bad-height", str(hello.height), score=100)


def auth_message(genesis: bytes, nonce: bytes, signer_key: bytes) -> bytes:
    return _DOMAIN + genesis + nonce + signer_key


def make_auth(local: LocalIdentity, their_hello: Hello) -> Auth:
    msg = auth_message(local.genesis, their_hello.nonce, local.public_key)
    return Auth(_core.ed25519_sign(local.secret_key, msg))


def verify_auth(auth: Auth, their_hello: Hello, my_hello: Hello, genesis: bytes) -> None:
    """Raises ``HandshakeError("bad-signature")`` unless ``auth`` signs our nonce."""
    msg = auth_message(genesis, my_hello.nonce, their_hello.key)
    ok = len(auth.sig) == 64 and _core.ed25519_verify(their_hello.key, msg, auth.sig)
    if not ok:
        raise HandshakeError("bad-signature", "node key signature does not verify", score=100)
