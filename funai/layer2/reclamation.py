"""Rule ``reclamation``: inference content is deleted once its block is final (confirmed on
L1, DESIGN 5), and rule ``content-expiry``: content whose transaction left the mempool
without reaching a final block (expired, evicted, or in a block that was reorganised away
and never came back) is deleted too, so nothing stays for good.

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
            "CREATE TABLE IF NOT EXISTS content ("
            "txid BLOB PRIMARY KEY, block BLOB, data BLOB, seen INTEGER NOT NULL DEFAULT 0)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS content_block ON content (block)")
        #: the L1 height new content is stamped with (for ``content-expiry``)
        self.l1_height = 0

    def close(self) -> None:
        self.conn.close()

    def put(self, txid: bytes, content: InferenceContent, block: bytes | None = None) -> None:
        """Keeps ``content`` (checked against its transaction by the caller); content
        already held stays as it is (a txid has one content)."""
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR IGNORE INTO content (txid, block, data, seen) VALUES (?, ?, ?, ?)",
                (txid, block, encode(content.to_cbor()), self.l1_height),
            )
            if block is not None:
                self.conn.execute("UPDATE content SET block = ? WHERE txid = ?", (block, txid))

    def has(self, txid: bytes) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM content WHERE txid = ?", (txid,)).fetchone()
            is not None
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

    def unassign(self, block: bytes) -> None:
        """``block`` left the canonical chain: its content is loose again (back in the
        mempool, or expiring)."""
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE content SET block = NULL, seen = ? WHERE block = ?", (self.l1_height, block)
            )

    def reclaim(self, block: bytes) -> int:
        """Securely deletes the content of a final block; returns the rows deleted."""
        with transaction(self.conn):
            n = self.conn.execute("DELETE FROM content WHERE block = ?", (block,)).rowcount
        self._checkpoint()
        return int(n)

    def delete(self, txids: list[bytes]) -> int:
        """Securely deletes the content of ``txids`` (rule ``content-expiry``)."""
        if not txids:
            return 0
        with transaction(self.conn):
            n = sum(
                self.conn.execute("DELETE FROM content WHERE txid = ?", (t,)).rowcount
                for t in txids
            )
        self._checkpoint()
        return int(n)

    def sweep(self, keep: set[bytes], seen_before: int) -> int:
        """Rule ``content-expiry``: securely deletes loose content (in no canonical block)
        stamped before L1 height ``seen_before`` whose txid is not in ``keep``."""
        rows = self.conn.execute(
            "SELECT txid FROM content WHERE block IS NULL AND seen < ?", (seen_before,)
        ).fetchall()
        return self.delete([bytes(t) for (t,) in rows if bytes(t) not in keep])

    def _checkpoint(self) -> None:
        busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise ReclamationError("WAL checkpoint blocked by a reader; retry")

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM content").fetchone()[0])
