"""Node configuration: a TOML file (``<datadir>/<network>/node.toml`` by default).

```toml
network = "devnet"            # main | test | devnet | regtest

[p2p]
listen = "127.0.0.1:29633"    # port 0 picks a free port
peers = ["127.0.0.1:29643"]   # always kept connected
outbound = 8                  # outbound connection target (discovered addresses)
inbound = 32                  # inbound connection limit
discover = true               # learn and dial addresses from peers
ban_seconds = 86400
whitelist = []                # hosts never discouraged or disconnected for misbehaviour
block_timeout = 20.0          # seconds before a requested block is asked of another peer

[api]
listen = "127.0.0.1:29634"
public_url = ""               # advertised to peers (executors); default: the bound address
body_timeout = 30.0           # seconds a client may take to send a request body (408 after)

[roles]
miner = false
inference = false
verifier = false
models = []

[miner]
threads = 1
address = ""                  # payout; default: the node wallet's first address
interval = 0.0                # minimum seconds between mined blocks
backend = "auto"              # SHA-256d kernel; auto: the fastest, measured once per CPU

[l2]                          # the inference layer (devnet and regtest; see docs/layer2.md)
enabled = true
test_key = -1                 # 0-4: act as that well-known genesis test verifier (test nets)
bid = 10000000                # base units bid per sortition round (producers)
bond = 0                      # executor bond to keep posted; 0: the network's minimum
fee_rate = 1                  # base units per byte of the node's own L1 transactions
price_per_token = 100         # gas per token charged for API requests (executors)
advert_interval = 60.0        # seconds between an executor's model adverts to the network

[storage]
synchronous = "FULL"          # FULL (default) or NORMAL (throw-away test nodes)

[log]
level = "info"
json = true
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from funai.ledger.params import get_params
from funai.network.addrbook import parse_hostport

__all__ = ["DEFAULT_PORTS", "NodeConfig", "load_config"]

# (p2p, api) default ports per network.
DEFAULT_PORTS = {
    "main": (9633, 9634),
    "test": (19633, 19634),
    "devnet": (29633, 29634),
    "regtest": (39633, 39634),
}


@dataclass
class NodeConfig:
    network: str = "devnet"
    p2p_listen: str = ""
    peers: list[str] = field(default_factory=list)
    outbound: int = 8
    inbound: int = 32
    discover: bool = True
    ban_seconds: float = 86400.0
    whitelist: list[str] = field(default_factory=list)
    block_timeout: float = 20.0
    api_listen: str = ""
    api_public_url: str = ""
    api_body_timeout: float = 30.0
    miner: bool = False
    inference: bool = False
    verifier: bool = False
    models: list[str] = field(default_factory=list)
    miner_threads: int = 1
    miner_address: str = ""
    miner_interval: float = 0.0
    #: the proof-of-work kernel (``funai bench pow`` lists them); ``auto``: the fastest,
    #: measured once per CPU model and cached in ``<datadir>/pow-kernel.json``
    miner_backend: str = "auto"
    l2_enabled: bool = True
    l2_test_key: int = -1
    l2_bid: int = 10_000_000
    l2_bond: int = 0
    l2_fee_rate: int = 1
    price_per_token: int = 100
    l2_advert_interval: float = 60.0
    synchronous: str = "FULL"
    log_level: str = "info"
    log_json: bool = True

    def __post_init__(self) -> None:
        get_params(self.network)
        p2p, api = DEFAULT_PORTS[self.network]
        self.p2p_listen = self.p2p_listen or f"127.0.0.1:{p2p}"
        self.api_listen = self.api_listen or f"127.0.0.1:{api}"
        for addr in [self.p2p_listen, self.api_listen, *self.peers]:
            parse_hostport(addr)
        if self.synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("storage.synchronous must be FULL, NORMAL or EXTRA")
        if self.miner_threads < 0:
            raise ValueError("miner.threads must be >= 0")
        if not isinstance(self.miner_backend, str) or not self.miner_backend:
            raise ValueError("miner.backend must be a kernel name or auto")
        if not -1 <= self.l2_test_key <= 4:
            raise ValueError("l2.test_key must be -1 (none) or 0 to 4")
        if self.l2_test_key >= 0 and self.network not in ("devnet", "regtest"):
            raise ValueError("l2.test_key is for devnet and regtest only")
        for key, value in (
            ("bid", self.l2_bid),
            ("bond", self.l2_bond),
            ("fee_rate", self.l2_fee_rate),
            ("price_per_token", self.price_per_token),
        ):
            if value < 0:
                raise ValueError(f"l2.{key} must be >= 0")
        if not 1.0 <= self.l2_advert_interval <= 3600.0:
            raise ValueError("l2.advert_interval must be between 1 and 3600 seconds")
        if not 0.5 <= self.block_timeout <= 3600.0:
            raise ValueError("p2p.block_timeout must be between 0.5 and 3600 seconds")
        if not 0.1 <= self.api_body_timeout <= 3600.0:
            raise ValueError("api.body_timeout must be between 0.1 and 3600 seconds")
        if self.api_public_url and not self.api_public_url.startswith(("http://", "https://")):
            raise ValueError("api.public_url must be an http:// or https:// URL")

    def to_toml(self) -> str:
        doc: dict[str, Any] = {
            "network": self.network,
            "p2p": {
                "listen": self.p2p_listen,
                "peers": self.peers,
                "outbound": self.outbound,
                "inbound": self.inbound,
                "discover": self.discover,
                "ban_seconds": self.ban_seconds,
                "whitelist": self.whitelist,
                "block_timeout": self.block_timeout,
            },
            "api": {
                "listen": self.api_listen,
                "public_url": self.api_public_url,
                "body_timeout": self.api_body_timeout,
            },
            "roles": {
                "miner": self.miner,
                "inference": self.inference,
                "verifier": self.verifier,
                "models": self.models,
            },
            "miner": {
                "threads": self.miner_threads,
                "address": self.miner_address,
                "interval": self.miner_interval,
                "backend": self.miner_backend,
            },
            "l2": {
                "enabled": self.l2_enabled,
                "test_key": self.l2_test_key,
                "bid": self.l2_bid,
                "bond": self.l2_bond,
                "fee_rate": self.l2_fee_rate,
                "price_per_token": self.price_per_token,
                "advert_interval": self.l2_advert_interval,
            },
            "storage": {"synchronous": self.synchronous},
            "log": {"level": self.log_level, "json": self.log_json},
        }
        return tomli_w.dumps(doc)


_SECTIONS = {
    ("p2p", "listen"): "p2p_listen",
    ("p2p", "peers"): "peers",
    ("p2p", "outbound"): "outbound",
    ("p2p", "inbound"): "inbound",
    ("p2p", "discover"): "discover",
    ("p2p", "ban_seconds"): "ban_seconds",
    ("p2p", "whitelist"): "whitelist",
    ("p2p", "block_timeout"): "block_timeout",
    ("api", "listen"): "api_listen",
    ("api", "public_url"): "api_public_url",
    ("api", "body_timeout"): "api_body_timeout",
    ("roles", "miner"): "miner",
    ("roles", "inference"): "inference",
    ("roles", "verifier"): "verifier",
    ("roles", "models"): "models",
    ("miner", "threads"): "miner_threads",
    ("miner", "address"): "miner_address",
    ("miner", "interval"): "miner_interval",
    ("miner", "backend"): "miner_backend",
    ("l2", "enabled"): "l2_enabled",
    ("l2", "test_key"): "l2_test_key",
    ("l2", "bid"): "l2_bid",
    ("l2", "bond"): "l2_bond",
    ("l2", "fee_rate"): "l2_fee_rate",
    ("l2", "price_per_token"): "price_per_token",
    ("l2", "advert_interval"): "l2_advert_interval",
    ("storage", "synchronous"): "synchronous",
    ("log", "level"): "log_level",
    ("log", "json"): "log_json",
}


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> NodeConfig:
    """Reads ``path`` (if given), applies ``overrides`` (field name -> value, None skipped)."""
    values: dict[str, Any] = {}
    if path is not None:
        doc = tomllib.loads(path.read_text())
        for key, value in doc.items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    name = _SECTIONS.get((key, sub))
                    if name is None:
                        raise ValueError(f"{path}: unknown setting {key}.{sub}")
                    values[name] = v
            elif key == "network":
                values["network"] = value
            else:
                raise ValueError(f"{path}: unknown setting {key}")
    known = {f.name for f in fields(NodeConfig)}
    for name, value in (overrides or {}).items():
        if value is not None:
            if name not in known:
                raise ValueError(f"unknown setting {name}")
            values[name] = value
    return NodeConfig(**values)
