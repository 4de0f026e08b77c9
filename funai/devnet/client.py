"""Talking to the nodes of a running devnet over their HTTP APIs, as a user would.

:class:`DevnetClient` knows each node's API URL and data directory (for its API cookie, which
the wallet routes and every state-changing node route need) and polls with a deadline. The
devnet story (:mod:`funai.devnet.story`), ``funai devnet --l2`` (:mod:`funai.devnet.ready`)
and the multi-process tests (:mod:`funai.testing.devnet`) drive devnets through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from funai.api.guard import STATE_CHANGING
from funai.api.wallet_routes import read_cookie
from funai.ledger.params import get_params

__all__ = ["DevnetClient", "StoryError"]


class StoryError(RuntimeError):
    """The devnet did not reach a step in time (the message says which and where to look)."""


class DevnetClient:
    def __init__(self, endpoints: list[dict[str, Any]], network: str, deadline: float) -> None:
        self.nodes = {e["name"]: e for e in endpoints}
        self.network = network
        self.deadline = deadline
        self.client = httpx.Client(timeout=120)

    def url(self, name: str, path: str) -> str:
        return str(self.nodes[name]["api"]) + path

    def auth(self, name: str) -> dict[str, str]:
        netdir = Path(self.nodes[name]["datadir"]) / get_params(self.network).name
        return {"Authorization": f"Bearer {read_cookie(netdir)}"}

    def get(self, name: str, path: str, *, auth: bool = False) -> Any:
        r = self.client.get(self.url(name, path), headers=self.auth(name) if auth else None)
        r.raise_for_status()
        return r.json()

    def headers_for(self, name: str, path: str, auth: bool = False) -> dict[str, str] | None:
        """The cookie for the wallet routes (``auth``) and every state-changing node route
        (docs/api.md); httpx's ``json=`` sends ``Content-Type: application/json``."""
        if auth or "/v1" + path in STATE_CHANGING:
            return self.auth(name)
        return None

    def post(self, name: str, path: str, body: dict[str, Any], *, auth: bool = False) -> Any:
        r = self.client.post(
            self.url(name, path), json=body, headers=self.headers_for(name, path, auth)
        )
        if r.status_code >= 400:
            raise StoryError(f"{name} {path} answered {r.status_code}: {r.text}")
        return r.json()

    def wait(self, what: str, check: Callable[[], Any], poll: float = 0.5) -> Any:
        while True:
            try:
                got = check()
            except (httpx.HTTPError, KeyError, ValueError):
                got = None
            if got:
                return got
            if time.monotonic() > self.deadline:
                raise StoryError(f"the devnet did not reach: {what}")
            time.sleep(poll)
