"""``funai devnet --l2`` made ready to use, as anvil's, Hardhat's or Clarinet's devnet.

:func:`prepare_dev_l2` runs before the nodes start: it wipes the devnet's node directories
(a devnet starts from genesis every time), writes the developer accounts' wallets
(:mod:`funai.devnet.accounts`; account 0 is the miner's wallet, so it holds the
coinbases) and picks the API ports. :func:`bring_up` then drives the running devnet through
the nodes' HTTP APIs until a request can be served end to end:

1. every node accepts the well-known API key, paying from developer account 1;
2. once the miner's coinbases mature, it pays each inference node 5 FAI on L1 (they register,
   bond and bid on their own from then on, so the L2 chain grows by itself), pays the other
   developer accounts on L1 and pegs FAI into every developer account's L2 balance;
3. it waits for the inference nodes' registration and bond, the first L2 block and the peg-ins;
4. it sends one OpenAI request with the API key to **every** node (those that do not execute
   the model route it to an executor) and returns once each answered.

While the devnet runs, :class:`Keeper` tops up an inference node's L1 wallet from the miner
when its bids and fees have used it up, so the L2 chain keeps growing.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from funai.devnet.accounts import (
    DEV_API_KEY,
    DEV_API_KEY_ACCOUNT,
    DevAccount,
    dev_accounts,
    install_api_key,
    write_wallet,
)
from funai.devnet.client import DevnetClient, StoryError
from funai.devnet.launcher import NodeSpec
from funai.layer2.params import network_l2_params
from funai.layer2.pegs import pegin_output
from funai.ledger.params import get_params
from funai.ledger.tx import COIN

__all__ = [
    "DEV_L1_FUNDS",
    "DEV_L2_FUNDS",
    "EXECUTOR_FUNDS",
    "Keeper",
    "bring_up",
    "check_ports",
    "prepare_dev_l2",
]

#: What ``funai devnet --l2`` gives each executor (L1), developer account (L1, from 1 on) and
#: developer account's L2 balance (peg-in).
EXECUTOR_FUNDS = 5 * COIN
DEV_L1_FUNDS = 2 * COIN
DEV_L2_FUNDS = 1 * COIN

Say = Callable[[str], None]


def check_ports(host: str, base: int, count: int) -> None:
    """Raises RuntimeError when one of the API ports ``base..base+count-1`` is taken (a
    socket listens there). Connections of a devnet just stopped, left in TIME_WAIT, do not
    count: the nodes' servers bind with SO_REUSEADDR too, so a devnet can be restarted at
    once."""
    for port in range(base, base + count):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                raise RuntimeError(
                    f"port {port} on {host} is in use (another devnet?): stop it, or pass "
                    "--api-port 0 (free ports) or another first port"
                ) from None


def prepare_dev_l2(
    workdir: Path, specs: list[NodeSpec], network: str, api_port: int
) -> list[DevAccount]:
    """Fresh node directories, the developer wallets (account 0 as the miner's wallet) and
    the API ports (``api_port`` for the first node, then one more each; 0: free ports)."""
    params = get_params(network)
    accounts = dev_accounts(network)
    for spec in specs:
        shutil.rmtree(workdir / spec.name, ignore_errors=True)
    shutil.rmtree(workdir / "accounts", ignore_errors=True)
    for acct in accounts:
        write_wallet(workdir / "accounts" / f"account{acct.index}.json", acct, network)
    write_wallet(workdir / specs[0].name / params.name / "wallet.json", accounts[0], network)
    if api_port:
        check_ports("127.0.0.1", api_port, len(specs))
        for k, spec in enumerate(specs):
            spec.settings["api_listen"] = f"127.0.0.1:{api_port + k}"
    return accounts


def _probe(client: httpx.Client, api: str, model: str) -> tuple[bool, str]:
    try:
        r = client.post(
            f"{api}/chat/completions",
            json={
                "model": model,
                "messages": [{"role": "user", "content": "Say OK."}],
                "max_tokens": 2,
                "temperature": 0,
            },
            headers={"Authorization": f"Bearer {DEV_API_KEY}"},
        )
    except httpx.HTTPError as exc:
        return False, str(exc)
    if r.status_code != 200:
        return False, f"{r.status_code} {r.text[:200]}"
    try:
        ok = r.json()["funai"]["inference_txid"] is not None
    except (ValueError, KeyError, TypeError):
        ok = False
    return ok, "" if ok else f"no inference transaction in {r.text[:200]}"


def bring_up(
    workdir: Path,
    endpoints: list[dict[str, Any]],
    specs: list[NodeSpec],
    accounts: list[DevAccount],
    model_name: str,
    *,
    network: str = "devnet",
    timeout: float = 600.0,
    say: Say | None = None,
    alive: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Funds, waits and probes (see the module docstring); returns what it did. ``alive``
    is called while waiting (it raises when a node process died)."""
    tell: Say = say or (lambda line: None)
    params = network_l2_params(network)
    if params is None:
        raise StoryError(f"{network} has no inference layer parameters")
    started = time.monotonic()
    net = DevnetClient(endpoints, network, started + timeout)
    l1 = get_params(network)
    miner = specs[0].name
    executors = [s.name for s in specs if s.settings.get("inference")]
    key_wallet = workdir / "accounts" / f"account{DEV_API_KEY_ACCOUNT}.json"
    for e in endpoints:
        install_api_key(Path(e["datadir"]) / l1.name, key_wallet)

    def wait(what: str, check: Callable[[], Any]) -> Any:
        def checked() -> Any:
            if alive is not None:
                alive()
            return check()

        return net.wait(what, checked)

    try:
        others = [a for a in accounts if a.index != 0]
        need = len(executors) * EXECUTOR_FUNDS + len(others) * DEV_L1_FUNDS
        need += len(accounts) * DEV_L2_FUNDS + COIN
        tell(f"waiting for the miner's coinbases to mature ({need / COIN:g} FAI to hand out)")
        wait(
            "spendable coins in the miner's wallet",
            lambda: net.get(miner, "/wallet", auth=True)["balance"]["spendable"] >= need,
        )

        def pay(path: str, body: dict[str, Any]) -> None:
            """Pays once the miner's wallet can (its change confirms between payments)."""

            def paid() -> bool:
                try:
                    net.post(miner, path, body, auth=True)
                except StoryError as exc:
                    if "insufficient" in str(exc):
                        return False
                    raise
                return True

            wait(f"the miner's wallet able to pay {body}", paid)

        for name in executors:
            address = net.get(name, "/wallet", auth=True)["addresses"][0]
            pay("/wallet/send", {"to": address, "amount": EXECUTOR_FUNDS})
        for acct in others:
            pay("/wallet/send", {"to": acct.address, "amount": DEV_L1_FUNDS})
        pool_kind, pool = params.genesis_pool()
        for acct in accounts:
            peg = pegin_output(bytes.fromhex(acct.l2_account))
            pay(
                "/wallet/pay",
                {
                    "outputs": [
                        {"kind": pool_kind, "value": DEV_L2_FUNDS, "payload": pool.hex()},
                        {"kind": peg.kind, "value": 0, "payload": peg.payload.hex()},
                    ]
                },
            )
        tell(
            f"funded: {EXECUTOR_FUNDS / COIN:g} FAI to each inference node, "
            f"{DEV_L1_FUNDS / COIN:g} FAI on L1 to accounts 1-{len(accounts) - 1}, "
            f"{DEV_L2_FUNDS / COIN:g} FAI pegged into every account's L2 balance"
        )
        wait(
            "the inference nodes registered and bonded",
            lambda: all(
                (st := net.get(n, "/l2/status"))["registered"] is not None
                and st["bond"] >= params.min_bond
                for n in executors
            ),
        )
        tell("the inference nodes registered, bonded and bid for every L2 block")
        key_account = accounts[DEV_API_KEY_ACCOUNT].l2_account
        wait(
            "the first L2 block and the peg-ins credited on every node",
            lambda: all(
                net.get(e["name"], "/l2/status")["height"] >= 0
                and net.get(e["name"], f"/l2/accounts/{key_account}")["balance"] > 0
                for e in endpoints
            ),
        )
        probes: dict[str, str] = {}
        with httpx.Client(timeout=120) as client:
            for e in endpoints:
                why = ""

                def served(e: dict[str, Any] = e) -> bool:
                    nonlocal why
                    ok, why = _probe(client, str(e["api"]), model_name)
                    return ok

                try:
                    wait(f"an answer through {e['name']}", served)
                except StoryError as exc:
                    raise StoryError(f"{exc} (last answer: {why})") from None
                probes[e["name"]] = "ok"
        return {
            "l1_height": net.get(miner, "/status")["l1_height"],
            "l2_height": net.get(endpoints[1]["name"], "/l2/status")["height"],
            "probes": probes,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        net.client.close()


#: An inference node whose spendable L1 coins fall below this is topped up by the miner
#: (its bids and fees use them up; the miner earns far more than they spend).
TOP_UP_BELOW = 2 * COIN
TOP_UP_EVERY = 30.0


class Keeper:
    """Keeps the inference nodes' L1 wallets funded from the miner's coinbases, so they bid
    for every L2 block as long as the devnet runs. :meth:`tick` is called from the devnet's
    main loop; failures are retried at the next tick."""

    def __init__(
        self, endpoints: list[dict[str, Any]], specs: list[NodeSpec], network: str
    ) -> None:
        self.net = DevnetClient(endpoints, network, float("inf"))
        self.net.client.timeout = httpx.Timeout(10.0)
        self.miner = specs[0].name
        self.executors = [s.name for s in specs if s.settings.get("inference")]
        self.last: dict[str, float] = {}
        self.next_check = 0.0
        self.topped_up = 0

    def tick(self) -> None:
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + 5.0
        for name in self.executors:
            if now - self.last.get(name, -TOP_UP_EVERY) < TOP_UP_EVERY:
                continue
            try:
                wallet = self.net.get(name, "/wallet", auth=True)
                if wallet["balance"]["spendable"] >= TOP_UP_BELOW:
                    continue
                self.net.post(
                    self.miner,
                    "/wallet/send",
                    {"to": wallet["addresses"][0], "amount": EXECUTOR_FUNDS},
                    auth=True,
                )
            except (httpx.HTTPError, StoryError, KeyError, ValueError):
                continue
            self.last[name] = now
            self.topped_up += 1

    def close(self) -> None:
        self.net.client.close()
