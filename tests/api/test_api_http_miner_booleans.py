"""``/v1/miner`` takes real JSON booleans only.

Before the fix ``{"enabled": "false"}`` turned the miner on (the string was read as true).
Now anything but ``true`` or ``false`` is a 400 and the miner is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.apinode import ApiNode, running_plain_node

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with running_plain_node(tmp_path_factory.mktemp("miner")) as n:
        yield n


@pytest.mark.parametrize("value", ["false", "true", "0", 0, 1, None, [], {}, "", 1.0])
def test_non_boolean_is_refused_and_changes_nothing(node: ApiNode, value: Any) -> None:
    r = node.post("/miner", {"enabled": value})
    assert r.status_code == 400, r.text
    assert "true or false" in r.json()["error"]
    assert node.get("/status")["mining"] is False


def test_missing_field_is_refused(node: ApiNode) -> None:
    assert node.post("/miner", {}).status_code == 400


def test_real_booleans_work(node: ApiNode) -> None:
    r = node.post("/miner", {"enabled": False})
    assert r.status_code == 200
    assert r.json() == {"mining": False}
    assert node.get("/status")["mining"] is False
