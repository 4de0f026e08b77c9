"""Rule ``reclamation``: inference content is deleted once its block is confirmed (DESIGN 5).

The content store is its own SQLite database (``content.sqlite`` in WAL mode) with
``PRAGMA secure_delete = ON``: deleted rows' pages are overwritten with zeros. After the
delete, ``PRAGMA wal_checkpoint(TRUNCATE)`` copies the zeroed pages into the database and
truncates the WAL, so the old frames holding the content are gone from the ``-wal`` file
too. ``tests/layer2/test_reclamation.py`` reads both raw files to prove it.
"""

from __future__ import annotations

from pathlib import Path

from funai.errors import FunaiError
from funai.layer2.transactions import InferenceContent
from funai.ledger.encoding import decode, encode
from funai.storage.sqlite import connect, transaction

__all__ = ["ContentStore", "ReclamationError"]


class ReclamationError(FunaiError):
    """The content could not be securely removed (e.g. a reader held the WAL)."""


class ContentStore:
    """Inference content by txid, tagged with the L2 block that holds its hash."""

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.conn = connect(path, synchronous=synchronous)
        self.conn.execute("PRAGMA secure_delete = ON")
        if self.conn.execute("PRAGMA secure_delete").fetchone()[0] != 1:
            raise ReclamationError("SQLite secure_delete is unavailable")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS content (txid BLOB PRIMARY KEY, block BLOB, data BLOB)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS content_block ON content (block)")

    def close(self) -> None:
        self.conn.close()

    def put(self, txid: bytes, content: InferenceContent, block: bytes | None = None) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO content (txid, block, data) VALUES (?, ?, ?)",
                (txid, block, encode(content.to_cbor())),
            )

    def get(self, txid: bytes) -> InferenceContent | None:
        row = self.conn.execute("SELECT data FROM content WHERE txid = ?", (txid,)).fetchone()
        return None if row is None else InferenceContent.from_cbor(decode(bytes(row[0])))

    def assign(self, txids: list[bytes], block: bytes) -> None:
        """Marks the content of ``txids`` as held by L2 block ``block``."""
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE content SET block = ? WHERE txid = ?", [(block, t) for t in txids]
            )

    def reclaim(self, block: bytes) -> int:
        """Securely deletes the content of a confirmed block; returns the rows deleted."""
        with transaction(self.conn):
            n = self.conn.execute("DELETE FROM content WHERE block = ?", (block,)).rowcount
        busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise ReclamationError("WAL checkpoint blocked by a reader; retry")
        return int(n)

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM content").fetchone()[0])
