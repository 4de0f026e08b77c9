"""SQLite connections configured for crash-safe consensus storage.

* ``journal_mode=WAL``: readers never block the writer; a crash leaves either the whole of a
  committed transaction or none of it.
* ``synchronous=FULL`` (the default here): the WAL is fsynced at every commit, so a block
  acknowledged as connected survives power loss, not only a killed process. (``NORMAL`` in
  WAL mode is crash-consistent but may lose the last commits on power loss; it is offered
  for throw-away test chains only.)
* Every consensus change runs inside one :func:`transaction` (``BEGIN IMMEDIATE`` ...
  ``COMMIT``); on an exception it rolls back and changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["connect", "transaction"]


def connect(
    path: Path, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000
) -> sqlite3.Connection:
    """Opens (creating if needed) a database with the settings above, in autocommit mode."""
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"unsupported synchronous mode {synchronous!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise RuntimeError(f"could not enable WAL on {path} (got {mode})")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` if the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
