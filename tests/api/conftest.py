"""Fixtures of the API tests: one node process serving the default model per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.apinode import ApiNode, running_api_node


@pytest.fixture(scope="session")
def api_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    with running_api_node(tmp_path_factory.mktemp("apinode")) as node:
        yield node


@pytest.fixture(scope="session")
def model_name(api_node: ApiNode) -> str:
    return str(api_node.get("/models")["data"][0]["id"])
