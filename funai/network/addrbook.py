"""The address book, manual bans and discouragement.

The address book and the *manual* bans (``funai ban add``, ``POST /v1/bans/add``) are saved
as JSON in the node's network directory (``peers.json``); bans expire. Discouragement is
what misbehaviour earns, as in Bitcoin Core since 0.20: it is kept in memory only (bounded,
it expires, a restart forgets it) and is never applied to loopback addresses. Bans that an
older node saved automatically (the ``"bans"`` key) are not loaded.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["AddrBook", "AddrInfo", "parse_hostport"]

MAX_ADDRS = 2_000
#: Discouraged hosts and keys remembered at most (the oldest are forgotten first).
MAX_DISCOURAGED = 50_000
#: Addresses shared by every process of the machine: never discouraged or banned
#: automatically (a devnet's nodes all connect from them).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


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
        #: manual bans: host or "key:<hex>" -> banned until (unix time); saved
        self.bans: dict[str, float] = {}
        self.ban_reasons: dict[str, str] = {}
        #: discouraged hosts and keys -> until (unix time), with the reason; memory only
        self.discouraged: dict[str, tuple[float, str]] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text())
                for addr, info in data.get("addrs", {}).items():
                    self.addrs[addr] = AddrInfo(**info)
                manual = data.get("manual_bans", {})
                self.bans = {k: float(v["until"]) for k, v in manual.items()}
                self.ban_reasons = {k: str(v.get("reason", "")) for k, v in manual.items()}
                if "bans" in data:
                    self.dirty = True  # drop the old automatic bans from the file
            except (ValueError, TypeError, OSError, KeyError, AttributeError):
                self.addrs, self.bans, self.ban_reasons = {}, {}, {}

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        data = {
            "addrs": {a: asdict(i) for a, i in self.addrs.items()},
            "manual_bans": {
                w: {"until": u, "reason": self.ban_reasons.get(w, "")} for w, u in self.bans.items()
            },
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
            if a not in exclude and i.next_try <= now and not self.is_refused(parse_hostport(a)[0])
        ]
        random.shuffle(out)
        return out

    # --- bans (manual, saved) and discouragement (misbehaviour, memory only) ---------------

    def ban(self, who: str, seconds: float, reason: str) -> None:
        """A manual ban of a host or ``key:<hex>`` for ``seconds`` (saved, it expires)."""
        self.bans[who] = time.time() + seconds
        self.ban_reasons[who] = reason
        self.dirty = True

    def unban(self, who: str) -> bool:
        found = self.bans.pop(who, None) is not None
        self.ban_reasons.pop(who, None)
        found = self.discouraged.pop(who, None) is not None or found
        self.dirty = True
        return found

    def clear_bans(self) -> int:
        """Lifts every manual ban and discouragement; returns how many there were."""
        n = len(self.bans) + len(self.discouraged)
        self.bans.clear()
        self.ban_reasons.clear()
        self.discouraged.clear()
        self.dirty = True
        return n

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

    def discourage(self, who: str, seconds: float, reason: str) -> bool:
        """Discourages a host or ``key:<hex>`` (memory only); loopback hosts never are.
        Returns whether it was recorded."""
        if who in LOOPBACK_HOSTS:
            return False
        self.discouraged.pop(who, None)
        self.discouraged[who] = (time.time() + seconds, reason)
        while len(self.discouraged) > MAX_DISCOURAGED:
            del self.discouraged[next(iter(self.discouraged))]
        return True

    def is_discouraged(self, who: str) -> bool:
        item = self.discouraged.get(who)
        if item is None:
            return False
        if item[0] <= time.time():
            del self.discouraged[who]
            return False
        return True

    def is_refused(self, who: str) -> bool:
        """Banned by hand or discouraged."""
        return self.is_banned(who) or self.is_discouraged(who)

    def ban_list(self) -> list[dict[str, object]]:
        now = time.time()
        out: list[dict[str, object]] = [
            {"who": w, "until": u, "reason": self.ban_reasons.get(w, ""), "manual": True}
            for w, u in sorted(self.bans.items())
            if u > now
        ]
        out += [
            {"who": w, "until": u, "reason": r, "manual": False}
            for w, (u, r) in sorted(self.discouraged.items())
            if u > now
        ]
        return out
