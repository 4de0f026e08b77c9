"""Anchoring in L1, confirmation after k blocks, and secure reclamation of content."""

from __future__ import annotations

from pathlib import Path

from funai.hashing import sha256
from funai.layer2.anchoring import Anchor, AnchorTracker, find_anchors
from funai.layer2.pegs import find_pegins, pegin_output
from funai.layer2.reclamation import ContentStore
from funai.layer2.transactions import InferenceContent
from funai.ledger.tx import Transaction, TxOut
from funai.testing.cluster import data_tx


def test_anchor_format() -> None:
    a = Anchor(7, sha256(b"l2 block"))
    out = a.output()
    assert len(out.payload) == 45 <= 80
    assert Anchor.parse(out.payload) == a
    assert find_anchors([Transaction(1, (), (out,))]) == [a]
    assert find_anchors([data_tx([out.payload[:-1]])]) == []  # malformed: ignored


def test_confirmation_after_k_and_reorg() -> None:
    finalized = {sha256(b"b0"), sha256(b"b1")}
    tracker = AnchorTracker(3, finalized.__contains__)
    b0 = sha256(b"b0")
    assert tracker.connect(10, [Transaction(1, (), (Anchor(0, b0).output(),))]) == []
    unknown = sha256(b"not finalized")
    tracker.connect(11, [Transaction(1, (), (Anchor(1, unknown).output(),))])
    assert tracker.anchor_height(unknown) is None
    assert not tracker.confirmed(b0)
    assert tracker.connect(12, []) == [b0]  # 3 confirmations: 10, 11, 12
    assert tracker.confirmed(b0)
    tracker.disconnect(12)
    assert not tracker.confirmed(b0)
    tracker.disconnect(11)
    tracker.disconnect(10)  # the anchor's own block leaves the chain
    assert tracker.anchor_height(b0) is None


def test_pegin_outputs() -> None:
    pool = (1, b"p" * 20)
    acct = b"a" * 20
    tx = Transaction(1, (), (TxOut(1, 500, pool[1]), pegin_output(acct), TxOut(1, 9, b"x" * 20)))
    pegs = find_pegins(tx, pool)
    assert [(p.index, p.amount, p.l2_account) for p in pegs] == [(0, 500, acct)]
    assert find_pegins(Transaction(1, (), (TxOut(1, 500, pool[1]),)), pool) == []


def test_reclamation_erases_bytes_from_db_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "content.sqlite"
    store = ContentStore(path)
    marker = "SECRET-PROMPT-7f3a9c"
    answer = "SECRET-ANSWER-b41e02"
    keep = "KEEP-CONTENT-55d1"
    block, other = sha256(b"block"), sha256(b"other")
    for i in range(20):
        store.put(sha256(b"t%d" % i), InferenceContent(f"{marker}{i}" * 30, answer * 30), block)
    store.put(sha256(b"keep"), InferenceContent(keep, keep), other)
    wal = Path(str(path) + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert marker.encode() in raw
    assert answer.encode() in raw
    assert store.reclaim(block) == 20
    assert store.count() == 1
    assert store.get(sha256(b"t0")) is None
    db_bytes = path.read_bytes()
    wal_bytes = wal.read_bytes() if wal.exists() else b""
    for needle in (marker.encode(), answer.encode()):
        assert needle not in db_bytes
        assert needle not in wal_bytes
    assert keep.encode() in db_bytes + wal_bytes
    store.close()
    # and after reopening nothing comes back
    again = ContentStore(path)
    assert again.get(sha256(b"keep")) == InferenceContent(keep, keep)
    assert again.count() == 1
    again.close()
