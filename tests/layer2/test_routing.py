"""Model routing (funai/layer2/routing.py): signed adverts, their rules, the route table and
what an L2 node routes to (bonded executors, active models, never itself)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from funai import _core
from funai.errors import MalformedInputError
from funai.layer2.errors import L2Error
from funai.layer2.messages import L2AdMsg
from funai.layer2.routing import AD_TTL, MAX_FUTURE, ModelOffer, RouteTable, ServiceAd
from funai.layer2.service import Judge
from funai.ledger.tx import COIN
from funai.network.messages import decode_payload, encode_payload
from funai.testing.cluster import MODEL, MODEL_B, Cluster, acct, fake_judge, good_answer, skey

NID = _core.sha256(b"routing test network")
NOW = 1_800_000_000


def ad(name: str, offers: list[tuple[bytes, str, int]], when: int = NOW) -> ServiceAd:
    unsigned = ServiceAd(
        _core.schnorr_public_key(skey(name)),
        f"http://127.0.0.1:1/{name}/v1",
        tuple(ModelOffer(*o) for o in offers),
        when,
    )
    return unsigned.signed(skey(name), NID)


def test_encoding_roundtrip_and_gossip_message() -> None:
    a = ad("exec", [(MODEL, "smollm2", 100), (MODEL_B, "other", 7)])
    assert ServiceAd.deserialize(a.serialize()) == a
    wire = decode_payload(encode_payload(L2AdMsg.make(a)))
    assert isinstance(wire, L2AdMsg)
    assert wire.parse() == a
    assert wire.id() == a.id()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda v: v[:4], "5 fields"),
        (lambda v: [v[0][:31], *v[1:]], "32 bytes"),
        (lambda v: [v[0], "ftp://x", *v[2:]], "URL"),
        (lambda v: [v[0], v[1], [], *v[3:]], "offers 1 to"),
        (lambda v: [v[0], v[1], [v[2][0], v[2][0]], *v[3:]], "twice"),
        (lambda v: [v[0], v[1], [[v[2][0][0], "", 1]], *v[3:]], "short name"),
        (lambda v: [v[0], v[1], [[v[2][0][0], "m", -1]], *v[3:]], "price"),
        (lambda v: [v[0], v[1], [[v[2][0][0], "m"]], *v[3:]], "model offer"),
    ],
)
def test_malformed_adverts_refused(change: object, why: str) -> None:
    from funai.ledger.encoding import decode, encode

    v = decode(ad("exec", [(MODEL, "m", 1)]).serialize())
    assert isinstance(v, list)
    with pytest.raises(MalformedInputError, match=why):
        ServiceAd.deserialize(encode(change(v)))  # type: ignore[operator]


def test_advert_rules() -> None:
    table = RouteTable(NID)
    good = ad("exec", [(MODEL, "m", 5)])
    forged = ServiceAd(
        good.executor_key, good.api_url, (ModelOffer(MODEL, "m", 1),), NOW, good.signature
    )
    with pytest.raises(L2Error, match="ad-bad-signature"):
        table.offer(forged, NOW)
    other_net = ServiceAd(good.executor_key, good.api_url, good.offers, NOW).signed(
        skey("exec"), _core.sha256(b"another network")
    )
    with pytest.raises(L2Error, match="ad-bad-signature"):
        table.offer(other_net, NOW)
    with pytest.raises(L2Error, match="ad-stale"):
        table.offer(ad("exec", [(MODEL, "m", 5)], NOW - AD_TTL - 1), NOW)
    with pytest.raises(L2Error, match="ad-future"):
        table.offer(ad("exec", [(MODEL, "m", 5)], NOW + MAX_FUTURE + 1), NOW)
    assert table.ads == {}  # nothing refused was kept
    table.offer(good, NOW)
    assert table.holds(good.id())
    with pytest.raises(L2Error, match="ad-replayed"):
        table.offer(good, NOW + 1)
    with pytest.raises(L2Error, match="ad-replayed"):
        table.offer(ad("exec", [(MODEL_B, "b", 1)], NOW - 5), NOW)
    assert table.ads[good.executor_key] == good
    newer = ad("exec", [(MODEL_B, "b", 1)], NOW + 10)
    table.offer(newer, NOW + 10)
    assert table.ads[good.executor_key] == newer  # the newest advert replaces the older
    assert not table.holds(good.id())
    assert table.routes(MODEL, NOW + 10) == []
    # adverts expire
    assert table.routes(MODEL_B, NOW + 10 + AD_TTL + 1) == []
    assert table.ads == {}


def test_routes_cheapest_first_and_filtered() -> None:
    table = RouteTable(NID)
    for name, price, when in [("a", 9, NOW), ("b", 3, NOW), ("c", 3, NOW + 1), ("d", 1, NOW)]:
        table.offer(ad(name, [(MODEL, "smollm2", price)], when), NOW + 1)
    table.offer(ad("e", [(MODEL_B, "other", 1)]), NOW + 1)
    keys = {n: _core.schnorr_public_key(skey(n)) for n in "abcde"}
    got = [r.ad.executor_key for r in table.routes("smollm2", NOW + 1)]
    assert got == [keys["d"], keys["c"], keys["b"], keys["a"]]  # price, then newest
    assert [r.ad.executor_key for r in table.routes(MODEL, NOW + 1)] == got
    assert [r.ad.executor_key for r in table.routes(MODEL.hex(), NOW + 1)] == got
    assert [r.ad.executor_key for r in table.routes("other", NOW + 1)] == [keys["e"]]
    assert table.routes("nope", NOW + 1) == []
    assert table.routes("smollm2", NOW + 1, exclude=keys["d"])[0].ad.executor_key == keys["c"]
    only_a = table.routes("smollm2", NOW + 1, lambda key, mid: key == keys["a"])
    assert [r.ad.executor_key for r in only_a] == [keys["a"]]
    assert set(table.models(NOW + 1)) == {MODEL, MODEL_B}


def test_node_routes_only_to_bonded_executors_of_active_models(tmp_path: Path) -> None:
    now = int(time.time())  # the nodes check adverts against their clock
    judges: dict[str, Judge] = {f"v{i}": fake_judge for i in range(5)}
    cluster = Cluster(tmp_path, judges, {"ia": good_answer, "ib": good_answer})
    ia, ib, v0 = cluster.nodes["ia"], cluster.nodes["ib"], cluster.nodes["v0"]
    # an executor advertises only what it serves: MODEL_B is dropped from its offers
    sent = ia.advertise("http://127.0.0.1:9/v1", [ModelOffer(MODEL, "m", 5)], now)
    assert [o.model_id for o in sent.offers] == [MODEL]
    with pytest.raises(MalformedInputError):
        ia.advertise("http://127.0.0.1:9/v1", [ModelOffer(MODEL_B, "b", 5)], now + 1)
    ib.models.add(MODEL_B)  # ib also has MODEL_B, which is not active on the layer
    ib.advertise(
        "http://127.0.0.1:8/v1", [ModelOffer(MODEL, "m", 2), ModelOffer(MODEL_B, "b", 1)], now
    )
    for node in cluster.nodes.values():
        with node.state.atomic():
            node.state.set_bond(acct("ia"), 10 * COIN)
    cluster.pump()  # the adverts reach every node through the wire encoding
    # rule ad-unbonded: an executor without a bond is not even kept (a flood of throwaway
    # keys cannot fill the table); ia's bond covers min_bond, ib's advert was refused
    assert set(v0.routes.ads) == {ia.key}
    got = v0.receive(L2AdMsg.make(ib.routes.ads[ib.key]))
    assert (got.rule, got.relay) == ("ad-unbonded", False)  # kept aside, not relayed
    routes = v0.route(MODEL, now)
    assert [r.ad.executor_key for r in routes] == [ia.key]
    for node in cluster.nodes.values():
        with node.state.atomic():
            node.state.set_bond(acct("ib"), 10 * COIN)
    # ib's advert, kept aside, counts once its bond is there (no need to wait for the next)
    assert [r.ad.executor_key for r in v0.route(MODEL, now + 1)] == [ib.key, ia.key]  # cheaper
    assert v0.route(MODEL_B, now + 1) == []  # advertised, but not an active model
    assert [r.ad.executor_key for r in ia.route(MODEL, now + 1)] == [ib.key]  # never itself
