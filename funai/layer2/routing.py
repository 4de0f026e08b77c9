"""Model routing: which executors serve which models (DESIGN 5, "Multi-model").

An executor advertises the models it serves in a signed :class:`ServiceAd`, gossiped to every
node (message ``l2ad``); each node keeps the newest advert of each executor in a
:class:`RouteTable` and sends a request for a model it does not serve itself only to an
executor that advertises that model (``funai.api.forwarding``). A node without the model
never executes it.

Encoding (deterministic CBOR)::

    ad = [executor_key(32), api_url, [[model_id(32), name, price_per_token], ...], time, sig(64)]

``sig`` is BIP340 by ``executor_key`` (the executor's L2 key, the one that signs its
receipts) over ``tagged_hash("FAI2/ad", encode([network_id, ad without sig]))``.

Rules (not consensus: they decide what a node routes to and relays):

* ``ad-bad-signature``: the signature does not verify;
* ``ad-stale``: older than ``ttl`` seconds (an executor re-advertises every
  ``[l2] advert_interval`` seconds); ``ad-future``: more than ``MAX_FUTURE`` seconds ahead
  of this node's clock;
* ``ad-replayed``: not newer than the advert already held for that executor.

An advert is only a claim: routing also requires that the executor's bond covers
``min_bond`` and that the model is active (:meth:`RouteTable.routes` takes that check), and
every answer comes back with the executor's receipt, which the forwarding node verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from funai import _core
from funai.errors import MalformedInputError
from funai.hashing import sha256
from funai.layer2.errors import L2Error
from funai.ledger.encoding import CborValue, decode, encode
from funai.ledger.tx import MAX_MONEY, tagged_hash

__all__ = ["AD_TTL", "ModelOffer", "Route", "RouteTable", "ServiceAd"]

#: Seconds an advert stays valid.
AD_TTL = 600
#: Seconds an advert may be ahead of the receiving node's clock.
MAX_FUTURE = 120
MAX_OFFERS = 16
MAX_URL = 256
MAX_NAME = 128
MAX_AD_SIZE = 8192


@dataclass(frozen=True, slots=True)
class ModelOffer:
    """One model an executor serves and its price (base units per prompt or output token)."""

    model_id: bytes
    name: str
    price_per_token: int

    def to_cbor(self) -> list[CborValue]:
        return [self.model_id, self.name, self.price_per_token]


@dataclass(frozen=True, slots=True)
class ServiceAd:
    """An executor's signed advert of the models it serves and where its API is."""

    executor_key: bytes
    api_url: str
    offers: tuple[ModelOffer, ...]
    time: int
    signature: bytes = bytes(64)

    def __post_init__(self) -> None:
        if len(self.executor_key) != 32 or len(self.signature) != 64:
            raise MalformedInputError("an advert's key is 32 bytes, its signature 64")
        if not self.api_url.startswith(("http://", "https://")) or len(self.api_url) > MAX_URL:
            raise MalformedInputError("an advert's api_url is an http(s) URL of <= 256 chars")
        if not 0 < len(self.offers) <= MAX_OFFERS:
            raise MalformedInputError(f"an advert offers 1 to {MAX_OFFERS} models")
        ids = [o.model_id for o in self.offers]
        if len(set(ids)) != len(ids):
            raise MalformedInputError("an advert lists a model twice")
        for o in self.offers:
            if len(o.model_id) != 32 or not 0 < len(o.name) <= MAX_NAME:
                raise MalformedInputError("a model offer is a 32-byte id and a short name")
            if not 0 <= o.price_per_token <= MAX_MONEY:
                raise MalformedInputError("a model offer's price is out of range")
        if not 0 <= self.time < 2**63:
            raise MalformedInputError("an advert's time is out of range")

    def _unsigned(self) -> list[CborValue]:
        return [self.executor_key, self.api_url, [o.to_cbor() for o in self.offers], self.time]

    def sighash(self, network_id: bytes) -> bytes:
        return tagged_hash(b"FAI2/ad", encode([network_id, self._unsigned()]))

    def serialize(self) -> bytes:
        return encode([*self._unsigned(), self.signature])

    @classmethod
    def deserialize(cls, data: bytes) -> ServiceAd:
        v = decode(data, max_size=MAX_AD_SIZE)
        if not isinstance(v, list) or len(v) != 5:
            raise MalformedInputError("an advert has 5 fields")
        key, url, offers, when, sig = v
        if not (
            isinstance(key, bytes)
            and isinstance(url, str)
            and isinstance(offers, list)
            and isinstance(when, int)
            and isinstance(sig, bytes)
        ):
            raise MalformedInputError("malformed advert fields")
        parsed = []
        for o in offers:
            if not (
                isinstance(o, list)
                and len(o) == 3
                and isinstance(o[0], bytes)
                and isinstance(o[1], str)
                and isinstance(o[2], int)
            ):
                raise MalformedInputError("a model offer is [model_id, name, price_per_token]")
            parsed.append(ModelOffer(o[0], o[1], o[2]))
        return cls(key, url, tuple(parsed), when, sig)

    def id(self) -> bytes:
        """The inventory id of this advert (``SHA-256`` of its encoding)."""
        return sha256(self.serialize())

    def signed(self, sk: bytes, network_id: bytes) -> ServiceAd:
        """This advert signed by ``sk`` (whose x-only key must be ``executor_key``)."""
        sig = _core.schnorr_sign(sk, self.sighash(network_id), None)
        return ServiceAd(self.executor_key, self.api_url, self.offers, self.time, sig)

    def verify(self, network_id: bytes) -> None:
        """Rule ``ad-bad-signature``."""
        if not _core.schnorr_verify(self.executor_key, self.sighash(network_id), self.signature):
            raise L2Error("ad-bad-signature", self.executor_key.hex())


@dataclass(frozen=True, slots=True)
class Route:
    """Where to send a request for one model: the executor's advert and its offer."""

    ad: ServiceAd
    offer: ModelOffer


class RouteTable:
    """The newest valid advert of each executor (bounded, expiring)."""

    def __init__(self, network_id: bytes, *, ttl: int = AD_TTL, max_ads: int = 10_000) -> None:
        self.network_id = network_id
        self.ttl = ttl
        self.max_ads = max_ads
        self.ads: dict[bytes, ServiceAd] = {}

    def offer(self, ad: ServiceAd, now: int) -> None:
        """Takes ``ad`` if it is valid and newer than the one held (raises L2Error)."""
        if ad.time < now - self.ttl:
            raise L2Error("ad-stale", f"{now - ad.time} s old")
        if ad.time > now + MAX_FUTURE:
            raise L2Error("ad-future", f"{ad.time - now} s ahead")
        held = self.ads.get(ad.executor_key)
        if held is not None and held.time >= ad.time:
            raise L2Error("ad-replayed", "not newer than the advert held")
        ad.verify(self.network_id)
        self.expire(now)
        if held is None and len(self.ads) >= self.max_ads:
            raise L2Error("ad-table-full", f"{self.max_ads} executors known")
        self.ads[ad.executor_key] = ad

    def holds(self, ad_id: bytes) -> bool:
        return any(ad.id() == ad_id for ad in self.ads.values())

    def expire(self, now: int) -> None:
        for key in [k for k, ad in self.ads.items() if ad.time < now - self.ttl]:
            del self.ads[key]

    def routes(
        self,
        model: str | bytes,
        now: int,
        eligible: Callable[[bytes, bytes], bool] = lambda key, model_id: True,
        *,
        exclude: bytes | None = None,
    ) -> list[Route]:
        """The executors that advertise ``model`` (a 32-byte id, its hex or a name), cheapest
        first, then the most recently advertised; ``eligible(executor_key, model_id)`` is the
        on-chain check (bonded executor, active model); ``exclude`` is this node's own key."""
        self.expire(now)
        found = []
        for ad in self.ads.values():
            if ad.executor_key == exclude:
                continue
            for o in ad.offers:
                if model in (o.model_id, o.model_id.hex(), o.name) and eligible(
                    ad.executor_key, o.model_id
                ):
                    found.append(Route(ad, o))
        found.sort(key=lambda r: (r.offer.price_per_token, -r.ad.time, r.ad.executor_key))
        return found

    def models(self, now: int) -> dict[bytes, list[Route]]:
        """Every advertised model id and the routes to it (unfiltered)."""
        self.expire(now)
        out: dict[bytes, list[Route]] = {}
        for ad in self.ads.values():
            for o in ad.offers:
                out.setdefault(o.model_id, []).append(Route(ad, o))
        return out
