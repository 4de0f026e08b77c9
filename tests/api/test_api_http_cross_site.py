"""Cross-site requests: state-changing node routes need the cookie and application/json.

Before the fix the node routes accepted JSON sent as ``text/plain`` without any
authentication, so any web page open on the same machine could call ``bans/clear`` or
``miner`` (a browser sends such a "simple" request cross-site without a preflight). Now
every state-changing node route answers 401 without ``Authorization: Bearer <api.cookie>``
and 415 unless the body is ``Content-Type: application/json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from funai.api.guard import STATE_CHANGING
from tests.api.apinode import ApiNode, running_plain_node

pytestmark = pytest.mark.slow

# A body each route would act on (kept harmless: no dialling out, no real change).
BODIES = {
    "/v1/peers/connect": '{"addr": "127.0.0.1:1"}',
    "/v1/peers/disconnect": '{"addr": "127.0.0.1:1"}',
    "/v1/bans/add": '{"who": "10.9.9.9", "seconds": 60}',
    "/v1/bans/remove": '{"who": "10.9.9.9"}',
    "/v1/bans/clear": "{}",
    "/v1/tx": '{"hex": "00"}',
    "/v1/generate": '{"blocks": 1}',
    "/v1/miner": '{"enabled": true}',
    "/v1/l2/tx": '{"hex": "00"}',
}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with running_plain_node(tmp_path_factory.mktemp("crosssite")) as n:
        yield n


def test_every_state_changing_route_is_listed() -> None:
    assert set(BODIES) == set(STATE_CHANGING)


@pytest.mark.parametrize("path", sorted(BODIES))
def test_simple_cross_site_request_is_refused(node: ApiNode, path: str) -> None:
    url = node.root + path
    # What a web page can send without a preflight: text/plain, no credentials.
    r = httpx.post(url, content=BODIES[path], headers={"content-type": "text/plain"}, timeout=30)
    assert r.status_code == 401, r.text
    assert "api.cookie" in r.json()["error"]
    r = httpx.post(url, content=BODIES[path], timeout=30)  # no content type at all
    assert r.status_code == 401
    # With the cookie, JSON sent under another content type is still refused.
    auth = {"authorization": f"Bearer {node.cookie}"}
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = httpx.post(url, content=BODIES[path], headers={**auth, "content-type": ctype})
        assert r.status_code == 415, (ctype, r.text)
    r = httpx.post(url, content=BODIES[path], headers={**auth, "content-type": "text/plain"})
    assert "application/json" in r.json()["error"]


def test_wrong_cookie_is_refused(node: ApiNode) -> None:
    r = httpx.post(
        node.api + "/bans/clear",
        json={},
        headers={"authorization": "Bearer " + "0" * 64},
        timeout=30,
    )
    assert r.status_code == 401


def test_nothing_changed_and_the_cookie_works(node: ApiNode, tmp_path: Path) -> None:
    assert node.get("/status")["mining"] is False
    assert node.get("/bans")["bans"] == []
    r = node.post("/bans/add", {"who": "10.9.9.9", "seconds": 60})
    assert r.status_code == 200, r.text
    assert [b["who"] for b in node.get("/bans")["bans"]] == ["10.9.9.9"]
    r = node.post("/bans/clear", {})
    assert r.json() == {"ok": True, "cleared": 1}
    # Reading needs no cookie.
    assert httpx.get(node.api + "/peers", timeout=30).status_code == 200
