"""Driving a devnet of real node processes over HTTP (tests/layer2/test_devnet_*.py).

:class:`Devnet` wraps :func:`~funai.devnet.launcher.start_devnet` and extends
:class:`~funai.devnet.story.DevnetClient` (GET/POST on a node by name, the wallet
routes with the node's API cookie): polling with a deadline also checks that the processes
are alive (a timeout names what was awaited and the tail of every node's log), funding from
the miner, peg-ins and following an inference transaction on every node. Faults: a node
started later (or again on its data directory), SIGKILL, a partition and its healing.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from funai.devnet.client import DevnetClient
from funai.devnet.launcher import NodeSpec, start_devnet, stop_devnet
from funai.inference.defaults import default_models_dir
from funai.layer2.params import L2Params, network_l2_params
from funai.layer2.pegs import pegin_output
from funai.ledger.params import get_params
from funai.ledger.tx import COIN

NETWORK = "devnet"


def model_cache() -> Path:
    """Where the tests keep models (as tests/api/apinode.py)."""
    return default_models_dir()


class DevnetTimeoutError(AssertionError):
    """The devnet did not reach a state in time."""


class Devnet(DevnetClient):
    """:class:`~funai.devnet.story.DevnetClient` (GET/POST by node name, the wallet
    routes with the node's cookie) plus the node processes: polling checks that they are
    alive and a timeout shows their logs."""

    def __init__(
        self,
        workdir: Path,
        procs: list[subprocess.Popen[bytes]],
        endpoints: list[dict[str, Any]],
        deadline: float,
    ) -> None:
        super().__init__(endpoints, NETWORK, deadline)
        self.workdir = workdir
        self.procs = procs
        params = network_l2_params(NETWORK)
        assert params is not None
        self.params: L2Params = params
        self.netname = get_params(NETWORK).name

    def netdir(self, name: str) -> Path:
        return Path(self.nodes[name]["datadir"]) / self.netname

    def post_raw(
        self, name: str, path: str, body: dict[str, Any], *, auth: bool = False
    ) -> httpx.Response:
        return self.client.post(
            self.url(name, path), json=body, headers=self.headers_for(name, path, auth)
        )

    def logs(self, lines: int = 15) -> str:
        out = []
        for name in self.nodes:
            path = self.netdir(name) / "stderr.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            out.append(f"--- {name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)

    def wait(self, what: str, check: Callable[[], Any], poll: float = 0.3) -> Any:
        """Polls ``check`` until it returns something truthy (HTTP errors count as not yet)."""
        while True:
            for proc, name in zip(self.procs, self.nodes, strict=True):
                assert proc.poll() is None, f"{name} exited ({proc.returncode})\n{self.logs()}"
            try:
                got = check()
            except (httpx.HTTPError, KeyError, ValueError, TypeError, StopIteration):
                got = None
            if got:
                return got
            if time.monotonic() > self.deadline:
                raise DevnetTimeoutError(f"the devnet did not reach: {what}\n{self.logs()}")
            time.sleep(poll)

    # --- the network's parts ------------------------------------------------------------
    def wallet(self, name: str) -> dict[str, Any]:
        got: dict[str, Any] = self.get(name, "/wallet", auth=True)
        return got

    def l2(self, name: str) -> dict[str, Any]:
        got: dict[str, Any] = self.get(name, "/l2/status")
        return got

    def account(self, name: str, account: str) -> dict[str, Any]:
        got: dict[str, Any] = self.get(name, f"/l2/accounts/{account}")
        return got

    def _miner_pays(self, amount: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The miner's wallet ``path`` request paying ``amount``, once its mature coins cover
        it. Change outputs are not spendable until mined, and a miner that also produces L2
        blocks spends coins of its own between the check and the request: a refusal for
        insufficient funds waits for the next coins and tries again. (A refusal as a mempool
        conflict is a failure: the node's own spends and the wallet API choose coins under
        one lock.)"""

        def pay() -> dict[str, Any] | None:
            if self.wallet("miner")["balance"]["spendable"] < amount + COIN // 10:
                return None
            r = self.post_raw("miner", path, body, auth=True)
            if r.status_code == 400 and r.json().get("code") == "insufficient_funds":
                return None
            assert r.status_code == 200, f"miner POST {path}: {r.status_code} {r.text}"
            got: dict[str, Any] = r.json()
            return got

        paid: dict[str, Any] = self.wait(f"the miner paid {amount} ({path})", pay)
        return paid

    def fund(self, amounts: dict[str, int]) -> None:
        """The miner pays ``amount`` to each node's L1 wallet."""
        for name, amount in amounts.items():
            address = self.wallet(name)["addresses"][0]
            self._miner_pays(amount, "/wallet/send", {"to": address, "amount": amount})

    def peg_in(self, account: str, amount: int) -> str:
        """The miner locks ``amount`` on L1 for the L2 ``account``; returns the L1 txid."""
        pool_kind, pool = self.params.genesis_pool()
        peg = pegin_output(bytes.fromhex(account))
        outputs = [
            {"kind": pool_kind, "value": amount, "payload": pool.hex()},
            {"kind": peg.kind, "value": 0, "payload": peg.payload.hex()},
        ]
        txid: str = self._miner_pays(amount, "/wallet/pay", {"outputs": outputs})["txid"]
        return txid

    def chat(self, name: str, model: str, prompt: str, max_tokens: int = 32) -> httpx.Response:
        return self.post_raw(
            name,
            "/chat/completions",
            {
                "model": model,
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_tokens,
                "temperature": 0,
            },
        )

    def tx_everywhere(self, txid: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Waits until every node's record of ``txid`` satisfies ``done``; returns them."""

        def check() -> dict[str, dict[str, Any]] | None:
            views = {}
            for name in self.nodes:
                st: dict[str, Any] = self.get(name, f"/l2/inference/{txid}")
                if not done(st):
                    return None
                views[name] = st
            return views

        got: dict[str, Any] = self.wait(f"{txid[:16]} settled on every node", check)
        return got

    def heights_at_least(self, height: int) -> None:
        self.wait(
            f"every node at L2 height >= {height}",
            lambda: all(self.l2(n)["height"] >= height for n in self.nodes),
        )

    def same_tip(self) -> tuple[str, str, int]:
        """Waits until every node has the same L2 tip and state root; returns (tip, root,
        height)."""

        def check() -> tuple[str, str, int] | None:
            views = {(st["tip"], st["state_root"], st["height"]) for st in map(self.l2, self.nodes)}
            return views.pop() if len(views) == 1 else None

        got: tuple[str, str, int] = self.wait("every node on the same L2 tip and state root", check)
        return got

    def same_state(self) -> str:
        def check() -> str | None:
            roots = {self.l2(n)["state_root"] for n in self.nodes}
            return roots.pop() if len(roots) == 1 else None

        got: str = self.wait("every node on the same L2 state root", check)
        return got

    # --- faults ---------------------------------------------------------------------------
    def start_node(self, spec: NodeSpec, connect: list[str]) -> None:
        """Starts one more node process (a new one, or ``spec.name`` again on its data
        directory after :meth:`kill`) and connects it to the nodes named in ``connect``."""
        assert spec.name not in self.nodes, f"{spec.name} is running"
        procs, endpoints = start_devnet(self.workdir, [spec], network=NETWORK, timeout=120.0)
        self.procs.append(procs[0])  # the list running_devnet stops
        self.nodes[spec.name] = endpoints[0]
        for other in connect:
            self.post(spec.name, "/peers/connect", {"addr": self.nodes[other]["p2p"]})
        self.wait(
            f"{spec.name} connected to {', '.join(connect)}",
            lambda: self.links(spec.name) >= {self.nodes[o]["p2p"] for o in connect},
        )

    def kill(self, name: str) -> None:
        """SIGKILL: the process ends at once, no shutdown; it leaves :attr:`nodes` (the
        others keep trying to reconnect to it, in vain) until started again."""
        k = list(self.nodes).index(name)
        proc = self.procs.pop(k)
        del self.nodes[name]
        proc.kill()
        proc.wait()

    def links(self, name: str) -> set[str]:
        """The listening addresses of ``name``'s connected peers."""
        return {p["listen"] for p in self.get(name, "/peers")["peers"] if p["listen"]}

    def partition(self, side: list[str]) -> None:
        """Cuts the nodes of ``side`` off from the others: both ends close the connection
        and forget the manual peer (run the nodes with ``discover = false``, or the address
        book dials them again)."""
        rest = [n for n in self.nodes if n not in side]
        for a in side:
            for b in rest:
                self.post(a, "/peers/disconnect", {"addr": self.nodes[b]["p2p"]})
                self.post(b, "/peers/disconnect", {"addr": self.nodes[a]["p2p"]})
        addrs = {n: self.nodes[n]["p2p"] for n in self.nodes}

        def split() -> bool:
            for a in side:
                if self.links(a) & {addrs[b] for b in rest}:
                    return False
            return all(not self.links(b) & {addrs[a] for a in side} for b in rest)

        self.wait(f"{', '.join(side)} cut off", split)

    def heal(self, side: list[str]) -> None:
        """Connects every node of ``side`` to every other node again."""
        rest = [n for n in self.nodes if n not in side]
        for a in side:
            for b in rest:
                self.post(a, "/peers/connect", {"addr": self.nodes[b]["p2p"]})
        self.wait(
            f"{', '.join(side)} connected again",
            lambda: all(self.links(a) >= {self.nodes[b]["p2p"] for b in rest} for a in side),
        )


@contextmanager
def running_devnet(
    workdir: Path, specs: list[NodeSpec], *, timeout: float = 300.0
) -> Iterator[Devnet]:
    """Starts ``specs`` on the devnet network; stops every process on exit, failure included."""
    start = time.monotonic()
    procs, endpoints = start_devnet(workdir, specs, network=NETWORK, timeout=120.0)
    net = Devnet(workdir, procs, endpoints, start + timeout)
    try:
        yield net
    finally:
        net.client.close()
        stop_devnet(procs)


def stream_chat(client: Any, model: str, prompt: str, max_tokens: int) -> tuple[str, Any, Any]:
    """One streamed chat completion through the official ``openai`` client (greedy, usage
    requested): the text, the ``funai`` extension object and the usage it ended with."""
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, ext, usage = "", None, None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        extra = chunk.model_extra or {}
        if extra.get("funai"):
            ext = extra["funai"]
        if chunk.usage is not None:
            usage = chunk.usage
    return text, ext, usage
