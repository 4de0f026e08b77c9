"""The address book and ban list, persisted as JSON in the node's network directory."""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["AddrBook", "AddrInfo", "parse_hostport"]

MAX_ADDRS = 2_000


def parse_hostport(text: str, default_port: int | None = None) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``; raises ValueError."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        if default_port is None:
            raise ValueError(f"{text!r} is not host:port")
        return text.strip(), default_port
    host = host.strip("[]")
    p = int(port)
    if not host or not 0 <= p < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return host, p


@dataclass
class AddrInfo:
    last_seen: float = 0.0
    last_try: float = 0.0
    failures: int = 0
    next_try: float = 0.0
    source: str = ""


class AddrBook:
    """Known listening addresses (with reconnect backoff) and banned hosts and keys."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.addrs: dict[str, AddrInfo] = {}
        self.bans: dict[str, float] = {}  # host or "key:<hex>" -> banned until (unix time)
        self.ban_reasons: dict[str, str] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text())
                for addr, info in data.get("addrs", {}).items():
                    self.addrs[addr] = AddrInfo(**info)
                self.bans = {k: float(v) for k, v in data.get("bans", {}).items()}
                self.ban_reasons = dict(data.get("ban_reasons", {}))
            except (ValueError, TypeError, OSError):
                self.addrs, self.bans = {}, {}

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        data = {
            "addrs": {a: asdict(i) for a, i in self.addrs.items()},
            "bans": self.bans,
            "ban_reasons": self.ban_reasons,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
        self.dirty = False

    # --- addresses --------------------------------------------------------------------------

    def add(self, addr: str, source: str = "", seen: bool = False) -> None:
        try:
            parse_hostport(addr)
        except ValueError:
            return
        info = self.addrs.get(addr)
        if info is None:
            if len(self.addrs) >= MAX_ADDRS:
                return
            info = self.addrs[addr] = AddrInfo(source=source)
        if seen:
            info.last_seen = time.time()
        self.dirty = True

    def connected(self, addr: str) -> None:
        info = self.addrs.setdefault(addr, AddrInfo())
        info.failures = 0
        info.next_try = 0.0
        info.last_seen = time.time()
        self.dirty = True

    def failed(self, addr: str, base: float = 0.5, cap: float = 60.0) -> float:
        """Records a failed attempt; returns the backoff (seconds) before the next try."""
        info = self.addrs.setdefault(addr, AddrInfo())
        info.failures += 1
        info.last_try = time.time()
        delay: float = min(cap, base * 2.0 ** min(info.failures, 16)) * random.uniform(0.8, 1.2)
        info.next_try = info.last_try + delay
        self.dirty = True
        return delay

    def ready(self, addr: str) -> bool:
        info = self.addrs.get(addr)
        return info is None or info.next_try <= time.time()

    def candidates(self, exclude: set[str]) -> list[str]:
        now = time.time()
        out = [
            a
            for a, i in self.addrs.items()
            if a not in exclude and i.next_try <= now and not self.is_banned(parse_hostport(a)[0])
        ]
        random.shuffle(out)
        return out

    # --- bans -----------------------------------------------------------------------------

    def ban(self, who: str, seconds: float, reason: str) -> None:
        self.bans[who] = time.time() + seconds
        self.ban_reasons[who] = reason
        self.dirty = True

    def unban(self, who: str) -> bool:
        found = self.bans.pop(who, None) is not None
        self.ban_reasons.pop(who, None)
        self.dirty = True
        return found

    def is_banned(self, who: str) -> bool:
        until = self.bans.get(who)
        if until is None:
            return False
        if until <= time.time():
            del self.bans[who]
            self.ban_reasons.pop(who, None)
            self.dirty = True
            return False
        return True

    def ban_list(self) -> list[dict[str, object]]:
        now = time.time()
        return [
            {"who": w, "until": u, "reason": self.ban_reasons.get(w, "")}
            for w, u in sorted(self.bans.items())
            if u > now
        ]
